"""Statistics against independent answers: hand calculation and published worked examples.

Sources are named at each test. R-computed references on published data sets
(survival::lung, aml, mgus2, veteran, pbcseq; MASS::birthwt, quine, Insurance) are in
tests/test_against_r.py.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from msc_ascites.stats import adjustment as adj
from msc_ascites.stats import comparisons as cmp
from msc_ascites.stats import survival as surv
from msc_ascites.errors import NotEstimable

# Student (1908) sleep data, as R's datasets::sleep: extra sleep (hours) on two drugs, 10 patients.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_paired_t_sleep():
    # R documentation ?t.test, sleep example: t = -4.0621, df = 9, p-value = 0.002833,
    # mean difference -1.58 (group 1 - group 2). Our change is after - before = 2 - 1.
    got = cmp.paired_tests(SLEEP_1, SLEEP_2)
    assert got["paired_t"]["t"] == pytest.approx(4.0621, abs=1e-4)
    assert got["paired_t"]["df"] == 9
    assert got["paired_t"]["p"] == pytest.approx(0.002833, abs=1e-6)
    assert got["mean_change"] == pytest.approx(1.58)


def test_welch_and_student_sleep():
    # R ?t.test: t.test(extra ~ group, data = sleep): Welch t = -1.8608, df = 17.776, p = 0.07939.
    # Student (var.equal = TRUE): t = -1.8608, df = 18, p = 0.07919 (pooled SD equals Welch's
    # standard error when n1 = n2).
    got = cmp.two_sample_tests(SLEEP_1, SLEEP_2)
    assert got["welch_t"]["t"] == pytest.approx(-1.8608, abs=1e-4)
    assert got["welch_t"]["df"] == pytest.approx(17.776, abs=1e-3)
    assert got["welch_t"]["p"] == pytest.approx(0.07939, abs=1e-5)
    assert got["student_t"]["df"] == 18
    assert got["student_t"]["p"] == pytest.approx(0.07919, abs=1e-5)


def test_wilcoxon_signed_rank_hollander_wolfe():
    # Hollander & Wolfe (1973) p. 29, R ?wilcox.test: depression scores before (x) and after (y);
    # V = 40, one-sided p = 0.01953, so two-sided exact p = 0.03906.
    x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    got = cmp.paired_tests(y, x)  # change = x - y, as R's wilcox.test(x, y, paired = TRUE)
    assert got["wilcoxon"]["method"] == "exact"
    assert got["wilcoxon"]["p"] == pytest.approx(0.03906, abs=1e-5)


def test_mann_whitney_hollander_wolfe():
    # Hollander & Wolfe (1973) p. 69, R ?wilcox.test: W = 35, one-sided p = 0.1272;
    # two-sided exact p = 0.2544.
    x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    y = [1.15, 0.88, 0.90, 0.74, 1.21]
    got = cmp.two_sample_tests(x, y)["mann_whitney"]
    assert got["W"] == 35
    assert got["p"] == pytest.approx(0.2544, abs=1e-4)


def test_fisher_tea_tasting():
    # Fisher's lady tasting tea, R ?fisher.test: two-sided p = 0.4857, conditional MLE
    # odds ratio 6.408309, 95 % CI lower limit 0.2117329. (R finds the upper limit, about 622,
    # with uniroot's default tolerance; test_against_r.py compares it on uniroot's scale.)
    got = cmp.proportions(3, 4, 1, 4)["fisher_exact"]
    assert got["p"] == pytest.approx(0.4857, abs=1e-4)
    assert got["odds_ratio"] == pytest.approx(6.408309, rel=1e-5)
    assert got["lower"] == pytest.approx(0.2117329, rel=1e-4)


@pytest.mark.parametrize("key, counts", [("t9_39_2_39", (9, 39, 2, 39)), ("t1_39_6_39", (1, 39, 6, 39)),
                                         ("birthwt", None)])
def test_katz_risk_ratio_as_r(key, counts):
    """tests/r_reference/risk_ratio.R: Katz's log interval on MASS::birthwt (low by smoke) and two tables."""
    expected = json.loads((Path(__file__).parent / "r_reference" / "risk_ratio_values.json").read_text())
    if counts is None:
        b = pd.read_csv(Path(__file__).parent / "r_reference" / "data" / "birthwt.csv")
        counts = (b.low[b.smoke == 1].sum(), (b.smoke == 1).sum(), b.low[b.smoke == 0].sum(), (b.smoke == 0).sum())
    got = cmp.proportions(*(int(c) for c in counts))["risk_ratio"]
    assert [got["estimate"], got["lower"], got["upper"]] == pytest.approx(
        [expected[f"{key}.{k}"] for k in ("rr", "lower", "upper")], rel=1e-9)


def test_risk_ratio_of_an_arm_without_events_says_why():
    got = cmp.proportions(0, 20, 5, 21)["risk_ratio"]
    assert got["estimate"] is None and "not estimable" in got["reason"]


def test_wilson_interval_newcombe():
    # Newcombe (1998a, Stat Med 17:857) Table I, 81/263: score interval 0.2553 to 0.3662.
    low, high = cmp.wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


@pytest.mark.parametrize("a, m, b, n, lower, upper", [
    # Newcombe (1998b, Stat Med 17:873) Table II, method 10 (hybrid score):
    (56, 70, 48, 80, 0.0524, 0.3339),   # example (a): 0.8 - 0.6
    (9, 10, 3, 10, 0.1705, 0.8090),     # example (b): 0.9 - 0.3
])
def test_newcombe_risk_difference(a, m, b, n, lower, upper):
    got = cmp.proportions(a, m, b, n)["risk_difference"]
    assert (round(got["lower"], 4), round(got["upper"], 4)) == (lower, upper)


def test_chi_square_and_yates_hand():
    # 2x2 table [[9, 30], [2, 37]]: expected counts 5.5, 33.5 in each row. Pearson
    # chi2 = sum (O-E)^2/E = 3.5^2 (2/5.5 + 2/33.5) = 12.25 * 0.423338 = 5.185889;
    # Yates: (|O-E| - 0.5)^2 = 9, chi2 = 9 * 0.423338 = 3.810041.
    got = cmp.proportions(9, 39, 2, 39)
    assert got["chi_square"]["chi2"] == pytest.approx(5.185889, abs=1e-6)
    assert got["chi_square_yates"]["chi2"] == pytest.approx(3.810041, abs=1e-6)


def test_fisher_hand():
    # Hypergeometric, 11 events among 78, 39 per arm: P(X = k) = C(39,k) C(39,11-k) / C(78,11).
    # Two-sided p sums the tables no more likely than X = 9: k in {0,1,2,9,10,11}.
    from math import comb
    prob = [comb(39, k) * comb(39, 11 - k) / comb(78, 11) for k in range(12)]
    expected = sum(p for p in prob if p <= prob[9] * (1 + 1e-7))
    assert cmp.proportions(9, 39, 2, 39)["fisher_exact"]["p"] == pytest.approx(expected, rel=1e-9)
    assert round(expected, 4) == 0.0472


# Kaplan-Meier, log-rank, RMST and Aalen-Johansen by hand on tiny data.
def test_kaplan_meier_greenwood_hand():
    # aml, maintained arm (Miller 1981): 9, 13, 13+, 18, 23, 28+, 31, 34, 45+, 48, 161+.
    time = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161]
    event = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0]
    table = surv.kaplan_meier(time, event)
    at = surv.survival_at(table, 23)
    # S(23) = 10/11 * 9/10 * 7/8 * 6/7 = 0.613636
    assert at["surv"] == pytest.approx(0.613636, abs=1e-6)
    # Greenwood: 1/(11*10) + 1/(10*9) + 1/(8*7) + 1/(7*6) = 0.0618687; SE = S sqrt(.) = 0.152632
    assert at["std_err"] == pytest.approx(0.152632, abs=1e-6)
    # log CI: sqrt(0.06186868) = 0.24873416; 1.95996398 * 0.24873416 = 0.48751005;
    # lower = 0.613636 * exp(-0.48751005) = 0.613636 * 0.614154 = 0.376867;
    # upper = 0.613636 * exp(0.48751005) = 0.613636 * 1.628257 = 0.999158 (below 1, not truncated).
    assert at["lower"] == pytest.approx(0.376867, abs=1e-6)
    assert at["upper"] == pytest.approx(0.999158, abs=1e-6)
    assert surv.survival_at(table, 9)["upper"] == pytest.approx(1.0)  # 0.909 exp(1.96 * 0.0953) > 1
    assert surv.survival_at(table, 8)["surv"] == 1.0


def test_median_hand():
    # Same data: S drops to 0.490909 at day 31 (0.613636 * 4/5), the first value <= 0.5.
    time = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161]
    event = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0]
    assert surv.median_survival(surv.kaplan_meier(time, event))["median"] == 31


def test_logrank_hand():
    # A dies at 1 and 2, B at 3 and 4. At t=1: n=4, n_A=2, E=0.5, V=0.25; t=2: n=3, n_A=1,
    # E=1/3, V=2/9; later n_A=0. O_A = 2, E_A = 5/6, V = 17/36;
    # chi2 = (7/6)^2 / (17/36) = 49/17 = 2.882353, p = P(chi2_1 > 2.882353) = 0.089555.
    got = surv.logrank([1, 2, 3, 4], [1, 1, 1, 1], ["A", "A", "B", "B"])
    assert got["chi2"] == pytest.approx(49 / 17)
    assert got["p"] == pytest.approx(0.089555, abs=1e-6)


def test_rmst_hand():
    # Deaths at 1, 2, 3, 4 among 4: S = 1, .75, .5, .25 on [0,1), [1,2), [2,3), [3,4).
    # RMST to 3 = 1 + .75 + .5 = 2.25.
    table = surv.kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])
    assert surv.rmst(table, 3)["rmst"] == pytest.approx(2.25)
    # Areas from each death to 3: A1 = 1.25, A2 = 0.5, A3 = 0; SE^2 = 1.25^2/(4*3) + 0.5^2/(3*2)
    # = 0.130208 + 0.041667 = 0.171875.
    assert surv.rmst(table, 3)["std_err"] == pytest.approx(np.sqrt(0.171875))


def test_aalen_johansen_hand():
    # Cause 1 at t=1, cause 2 at t=2, cause 1 at t=3, censored at 4; n = 4.
    # CIF1(1) = 1 * 1/4 = .25; S(2-) = .75; S(3-) = .75 * 2/3 = .5; CIF1(3) = .25 + .5 * 1/2 = .5.
    # CIF2(2) = .75 * 1/3 = .25.
    got = surv.cumulative_incidence([1, 2, 3, 4], [1, 2, 1, 0], cause=1, times=[0.5, 1, 2, 3, 10])
    assert got["cif"].tolist() == pytest.approx([0, 0.25, 0.25, 0.5, 0.5])
    assert surv.cumulative_incidence([1, 2, 3, 4], [1, 2, 1, 0], cause=2, times=[3])["cif"].item() == \
        pytest.approx(0.25)


def test_t_test_from_published_summary():
    # MELD at week 48 from the abstract: 14.41 +- 3.39 vs 16.50 +- 3.17, 39 per arm.
    # Pooled SD = sqrt((11.4921 + 10.0489)/2) = sqrt(10.7705) = 3.281844;
    # SE = 3.281844 * sqrt(2/39) = 3.281844 * 0.2264554 = 0.743191; t = -2.09 / 0.743191 = -2.812197.
    got = cmp.t_test_from_summary(14.41, 3.39, 39, 16.50, 3.17, 39)
    assert got["student_t"]["t"] == pytest.approx(-2.812197, abs=2e-6)
    assert round(got["student_t"]["p"], 4) == 0.0063


# Degenerate data: R's answer, or a stated "not estimable" with the reason -----------------

def test_cox_with_no_events_in_an_arm_is_not_estimable():
    frame = pd.DataFrame({"day": [1, 2, 3, 4, 5, 6], "event": [1, 1, 0, 0, 0, 0], "treated": [0, 0, 0, 1, 1, 1]})
    got = surv.cox_hazard_ratio(frame, "day", "event", ["treated"])
    assert got["available"] is False and "no events at one value of treated" in got["reason"]
    with pytest.raises(NotEstimable, match="no events in an arm"):
        adj.hazard_ratio(frame["day"], frame["event"], frame["treated"])
    with pytest.raises(NotEstimable, match="no events"):
        adj.hazard_ratio(frame["day"], [0] * 6, frame["treated"])


def test_logrank_with_no_events_in_an_arm_and_none_at_all():
    # R: survdiff(Surv(time, status) ~ g): chisq 5.347771891555, expected 1.128571 / 1.871429.
    time, group = [1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 1, 1, 2, 2, 2, 2]
    got = surv.logrank(time, [1, 1, 0, 1, 0, 0, 0, 0], group)
    assert got["chi2"] == pytest.approx(5.347771891555, rel=1e-12)
    assert got["expected"]["1"] == pytest.approx(1.1285714285714286, rel=1e-12)
    # R: no events at all gives chisq 0 with p NA.
    none = surv.logrank(time, [0] * 8, group)
    assert none["chi2"] == 0 and np.isnan(none["p"]) and "no events" in none["reason"]


def test_all_values_tied():
    # R: wilcox.test(c(1, 1, 1), c(1, 1)) gives p NaN; t.test stops ("essentially constant").
    got = cmp.two_sample_tests([1.0, 1.0, 1.0], [1.0, 1.0])
    assert got["mann_whitney"]["available"] is False
    assert got["student_t"]["available"] is False and got["welch_t"]["available"] is False
    with pytest.raises(NotEstimable, match="tied"):
        adj.hodges_lehmann([1.0, 1.0, 1.0], [1.0, 1.0])
    paired = cmp.paired_tests([2.0, 3.0, 4.0], [2.0, 3.0, 4.0])
    assert paired["wilcoxon"] is None and paired["paired_t"]["available"] is False
    with pytest.raises(NotEstimable, match="every paired difference is zero"):
        cmp.signed_rank_test([0.0, 0.0])


def test_one_patient_in_an_arm():
    # R: t.test stops ("not enough 'y' observations"); wilcox.test(c(1.2, 2.5, 3.1), 2) is
    # exact: W = 2, p = 1, estimate (median of differences) 0.5.
    assert cmp.two_sample_tests([1.2, 2.5, 3.1], [2.0])["available"] is False
    got = cmp.rank_sum_test([1.2, 2.5, 3.1], [2.0], conf_int=True)
    assert (got["W"], got["p"], got["method"]) == (2.0, 1.0, "exact")
    assert got["estimate"] == pytest.approx(0.5)


def test_perfect_separation_in_the_propensity_model():
    treated = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    with pytest.raises(NotEstimable, match="separates the arms perfectly"):
        adj.propensity_weights(treated, pd.DataFrame({"age": [40.0, 41, 42, 43, 50, 51, 52, 53]}))


def test_median_when_the_curve_reaches_zero():
    # survival::aml, Nonmaintained: S reaches 0 at 45. R: median 23, 0.95LCL 8, 0.95UCL NA.
    time = [5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
    event = [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
    got = surv.median_survival(surv.kaplan_meier(time, event))
    assert (got["median"], got["lower"], got["upper"]) == (23.0, 8.0, None)
    at = surv.survival_at(surv.kaplan_meier(time, event), 50)
    assert at["surv"] == 0 and np.isnan(at["std_err"]) and np.isnan(at["upper"]) and at["n_risk"] == 0
