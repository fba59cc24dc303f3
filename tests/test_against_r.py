"""Statistics against R 4.2.2 with survival 3.5.3 on R's own published data sets.

tests/r_reference/reference.R wrote the data (survival::lung, aml, mgus2) and the
expected values (reference_values.json, printed in reference_output.txt). R is a
validation tool, not part of the set-up: the committed numbers are what these
tests read.
"""

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from msc_ascites import comparisons as cmp
from msc_ascites import survival as surv

HERE = Path(__file__).parent / "r_reference"
R = json.loads((HERE / "reference_values.json").read_text())
LUNG = pd.read_csv(HERE / "data" / "lung.csv")
AML = pd.read_csv(HERE / "data" / "aml.csv")


def close(value, key, rel=1e-6):
    assert value == pytest.approx(R[key], rel=rel), key


@pytest.mark.parametrize("sex", [1, 2])
@pytest.mark.parametrize("t", [365, 730])
def test_kaplan_meier_greenwood_log_ci(sex, t):
    rows = LUNG[LUNG["sex"] == sex]
    at = surv.survival_at(surv.kaplan_meier(rows["time"], rows["status"]), t)
    key = f"lung.sex{sex}.t{t}"
    for name in ("surv", "std_err", "lower", "upper"):
        close(at[name], f"{key}.{name}")
    assert at["n_risk"] == R[f"{key}.n_risk"]


@pytest.mark.parametrize("sex", [1, 2])
def test_median_and_its_ci(sex):
    rows = LUNG[LUNG["sex"] == sex]
    got = surv.median_survival(surv.kaplan_meier(rows["time"], rows["status"]))
    assert (got["median"], got["lower"], got["upper"]) == (
        R[f"lung.sex{sex}.median"], R[f"lung.sex{sex}.median_lower"], R[f"lung.sex{sex}.median_upper"])


@pytest.mark.parametrize("sex", [1, 2])
def test_rmst(sex):
    rows = LUNG[LUNG["sex"] == sex]
    got = surv.rmst(surv.kaplan_meier(rows["time"], rows["status"]), 730)
    close(got["rmst"], f"lung.sex{sex}.rmst730")
    close(got["std_err"], f"lung.sex{sex}.rmst730_se")


def test_logrank_lung_and_aml():
    got = surv.logrank(LUNG["time"], LUNG["status"], LUNG["sex"])
    close(got["chi2"], "lung.logrank.chisq")
    close(got["p"], "lung.logrank.p")
    got = surv.logrank(AML["time"], AML["status"], AML["x"])
    close(got["chi2"], "aml.logrank.chisq")


def test_cox_efron():
    frame = LUNG.assign(female=(LUNG["sex"] == 2).astype(int))
    got = surv.cox_hazard_ratio(frame, "time", "status", ["female"])
    female = got["covariates"]["female"]
    close(female["coef"], "lung.cox.coef", rel=1e-5)
    close(female["hr"], "lung.cox.hr", rel=1e-5)
    close(female["se"], "lung.cox.se", rel=1e-4)
    close(female["lower"], "lung.cox.lower", rel=1e-4)
    close(female["upper"], "lung.cox.upper", rel=1e-4)
    close(female["p"], "lung.cox.p", rel=1e-3)
    close(got["lr_chi2"], "lung.cox.lr_chisq", rel=1e-5)


def close_or_na(value, key):
    """R's NA and NaN are null in the JSON; ours are NaN."""
    if R[key] is None:
        assert math.isnan(value), key
    else:
        close(value, key)


@pytest.mark.parametrize("t", [60, 120, 240, 424, 500])
def test_aalen_johansen_mgus2_with_standard_error(t):
    """424 is the last follow-up; 500 is past it (R's extend = TRUE)."""
    mg = pd.read_csv(HERE / "data" / "mgus2_cr.csv")
    for cause, name in ((1, "pcm"), (2, "death")):
        got = surv.cumulative_incidence(mg["etime"], mg["event"], cause, [t]).iloc[0]
        key = f"mgus2.cif_{name}.t{t}"
        close(got["cif"], key)
        for column in ("std_err", "lower", "upper"):
            close(got[column], f"{key}.{column}")
        assert got["n_risk"] == R[f"{key}.n_risk"]


def test_aalen_johansen_before_any_event_has_no_interval():
    mg = pd.read_csv(HERE / "data" / "mgus2_cr.csv")
    got = surv.cumulative_incidence(mg["etime"], mg["event"], 1, [0]).iloc[0]
    assert (got["cif"], got["std_err"], got["n_risk"]) == (0.0, 0.0, len(mg))
    assert math.isnan(got["lower"]) and math.isnan(got["upper"])


@pytest.mark.parametrize("key,rows,times", [
    ("lung.sex1.landmark", LUNG[LUNG["sex"] == 1], (1100, 2000)),
    ("aml.nonmaintained.landmark", AML[AML["x"] == "Nonmaintained"], (40, 45, 60))])
def test_kaplan_meier_landmark_past_follow_up_and_at_zero(key, rows, times):
    table = surv.kaplan_meier(rows["time"], rows["status"])
    for t in times:
        at = surv.survival_at(table, t)
        for name in ("surv", "std_err", "lower", "upper"):
            close_or_na(at[name], f"{key}.t{t}.{name}")
        assert at["n_risk"] == R[f"{key}.t{t}.n_risk"]


def on_uniroot_scale(odds_ratio: float) -> float:
    """R's fisher.test finds the odds ratio and its limits with uniroot on (0, 1): the value
    itself below 1, its reciprocal above. Its default tolerance, .Machine$double.eps^0.25
    = 1.22e-4, applies on that scale, so that is where we compare."""
    return odds_ratio if odds_ratio <= 1 else 1 / odds_ratio


@pytest.mark.parametrize("counts", ["9_30_2_37", "1_38_6_33", "3_1_1_3"])
def test_fisher_conditional_odds_ratio(counts):
    a, b, c, d = map(int, counts.split("_"))
    got = cmp.proportions(a, a + b, c, c + d)["fisher_exact"]
    close(got["p"], f"fisher.{counts}.p", rel=1e-9)
    for ours, theirs in (("odds_ratio", "or"), ("lower", "lower"), ("upper", "upper")):
        assert on_uniroot_scale(got[ours]) == pytest.approx(on_uniroot_scale(R[f"fisher.{counts}.{theirs}"]),
                                                            abs=1.3e-4), theirs


def test_chi_square_9_vs_2():
    got = cmp.proportions(9, 39, 2, 39)
    close(got["chi_square"]["p"], "chisq.9_30_2_37.p")
    close(got["chi_square_yates"]["p"], "chisq_yates.9_30_2_37.p")


def test_mann_whitney_and_welch_with_ties():
    male, female = LUNG.loc[LUNG["sex"] == 1, "age"], LUNG.loc[LUNG["sex"] == 2, "age"]
    got = cmp.two_sample_tests(male, female)
    assert got["mann_whitney"]["W"] == R["lung.age_by_sex.wilcox.W"]
    close(got["mann_whitney"]["p"], "lung.age_by_sex.wilcox.p")
    close(got["welch_t"]["t"], "lung.age_by_sex.welch.t")
    close(got["welch_t"]["df"], "lung.age_by_sex.welch.df")
    close(got["welch_t"]["p"], "lung.age_by_sex.welch.p")


def test_rate_ratios():
    rates = pd.read_csv(HERE / "data" / "rates.csv")
    got = cmp.rate_ratio(rates["count"], rates["pyears"], rates["arm"])
    close(got["poisson"]["ratio"], "rates.poisson.rr")
    # Within R's IRLS convergence (glm epsilon 1e-8 on the deviance).
    close(got["poisson"]["lower"], "rates.poisson.lower", rel=1e-5)
    close(got["poisson"]["upper"], "rates.poisson.upper", rel=1e-5)
    close(got["poisson"]["p"], "rates.poisson.p", rel=1e-4)  # the 3e-6 in the SE, amplified by the tail
    close(got["negative_binomial"]["ratio"], "rates.nb.rr", rel=1e-3)
    close(got["negative_binomial"]["theta"], "rates.nb.theta", rel=1e-2)
