"""MELD against hand calculation (UNOS formula, Kamath 2001; Kim 2008 for MELD-Na)."""

import math

import pytest

from msc_ascites.data.meld import meld, meld_na
from msc_ascites.data.units import BILIRUBIN_UMOL_PER_MG_DL as BILI, CREATININE_UMOL_PER_MG_DL as CREA


def test_meld_all_two():
    # Bilirubin 2 mg/dL, INR 2, creatinine 2 mg/dL:
    # (3.78 + 11.2 + 9.57) ln 2 + 6.43 = 24.55 * 0.69314718 + 6.43 = 23.446763
    assert meld(2 * BILI, 2.0, 2 * CREA) == pytest.approx(23.446763, abs=1e-6)


def test_values_below_one_are_set_to_one():
    # Bilirubin 0.5 mg/dL, INR 0.9, creatinine 0.7 mg/dL all become 1.0: ln 1 = 0, MELD = 6.43.
    assert meld(0.5 * BILI, 0.9, 0.7 * CREA) == pytest.approx(6.43)


def test_creatinine_capped_at_four():
    # Creatinine 5 mg/dL counts as 4: 9.57 * 1.38629436 = 13.266837; + 6.43 = 19.696837.
    assert meld(1 * BILI, 1.0, 5 * CREA) == pytest.approx(19.696837, abs=1e-6)


def test_typical_decompensated_patient():
    # Bilirubin 51.3 umol/L = 2.99930 mg/dL, INR 1.5, creatinine 1 mg/dL:
    # 3.78 ln 2.99930 = 4.151873; 11.2 ln 1.5 = 4.541208; total 15.123081.
    assert meld(51.3, 1.5, CREA) == pytest.approx(15.123081, abs=1e-5)


def test_missing_component_gives_nan():
    assert math.isnan(meld(float("nan"), 1.5, 80.0))


def test_meld_na():
    # MELD 23.446763 with Na 130: 23.446763 + 1.32*7 - 0.033*7*23.446763
    # = 23.446763 + 9.24 - 5.416202 = 27.270561
    assert meld_na(2 * BILI, 2.0, 2 * CREA, 130) == pytest.approx(27.270561, abs=1e-6)
    # Sodium is bounded to 125-137: 120 counts as 125, 140 as 137 (no change).
    assert meld_na(2 * BILI, 2.0, 2 * CREA, 140) == pytest.approx(23.446763, abs=1e-6)
    assert meld_na(2 * BILI, 2.0, 2 * CREA, 120) == pytest.approx(meld_na(2 * BILI, 2.0, 2 * CREA, 125))
