"""MELD score (UNOS formula), from labs in their canonical units.

MELD = 3.78 ln(bilirubin mg/dL) + 11.2 ln(INR) + 9.57 ln(creatinine mg/dL) + 6.43,
with each value below 1.0 set to 1.0 and creatinine capped at 4.0 mg/dL
(Kamath 2001; UNOS policy). The score is left unrounded, as the paper reports
it to two decimals. MELD-Na (Kim 2008) adds sodium, bounded to 125-137 mmol/L.
"""

from __future__ import annotations

import numpy as np

from .units import BILIRUBIN_UMOL_PER_MG_DL, CREATININE_UMOL_PER_MG_DL

CREATININE_CAP_MG_DL = 4.0
SODIUM_BOUNDS_MMOL_L = (125.0, 137.0)
#: The UNOS coefficients of ln(bilirubin mg/dL), ln(INR) and ln(creatinine mg/dL), and the constant:
#: the score, its definition in the report and the analysis-results table all read them here.
COEFFICIENTS = {"bilirubin": 3.78, "inr": 11.2, "creatinine": 9.57, "constant": 6.43}
#: MELD-Na's sodium terms: MELD + a (137 - Na) - b MELD (137 - Na).
SODIUM_COEFFICIENTS = {"sodium": 1.32, "sodium_x_meld": 0.033}
#: The formulas as the methods print them.
FORMULA = (f"{COEFFICIENTS['bilirubin']} ln(bilirubin mg/dL) + {COEFFICIENTS['inr']} ln(INR) + "
           f"{COEFFICIENTS['creatinine']} ln(creatinine mg/dL) + {COEFFICIENTS['constant']}")
SODIUM_FORMULA = (f"{SODIUM_COEFFICIENTS['sodium']} (137 - Na) - {SODIUM_COEFFICIENTS['sodium_x_meld']} MELD "
                  f"(137 - Na), Na bounded to {SODIUM_BOUNDS_MMOL_L[0]:g}-{SODIUM_BOUNDS_MMOL_L[1]:g}")


def meld(bilirubin_umol_l, inr, creatinine_umol_l):
    """MELD from bilirubin and creatinine in umol/L and INR; NaN where any is missing."""
    bili = np.maximum(np.asarray(bilirubin_umol_l, dtype=float) / BILIRUBIN_UMOL_PER_MG_DL, 1.0)
    inr = np.maximum(np.asarray(inr, dtype=float), 1.0)
    crea = np.asarray(creatinine_umol_l, dtype=float) / CREATININE_UMOL_PER_MG_DL
    crea = np.clip(crea, 1.0, CREATININE_CAP_MG_DL)
    c = COEFFICIENTS
    return c["bilirubin"] * np.log(bili) + c["inr"] * np.log(inr) + c["creatinine"] * np.log(crea) + c["constant"]


def meld_na(bilirubin_umol_l, inr, creatinine_umol_l, sodium_mmol_l):
    """MELD-Na = MELD + 1.32 (137 - Na) - 0.033 MELD (137 - Na), Na bounded to 125-137."""
    score = meld(bilirubin_umol_l, inr, creatinine_umol_l)
    na = np.clip(np.asarray(sodium_mmol_l, dtype=float), *SODIUM_BOUNDS_MMOL_L)
    c = SODIUM_COEFFICIENTS
    return score + c["sodium"] * (137.0 - na) - c["sodium_x_meld"] * score * (137.0 - na)
