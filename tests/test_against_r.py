"""Statistics against R 4.2.2 (survival 3.5.3, MASS, sandwich, quantreg) on R's own data sets.

tests/r_reference/reference.R wrote the data (survival::lung, aml, mgus2, veteran, pbcseq;
MASS::birthwt, quine, Insurance) and the expected values (reference_values.json, printed in
reference_output.txt), with every iterative R fit run to convergence. Tolerance: 1e-6
relative everywhere, or 1e-9 absolute for values near zero (``near``). R is a validation
tool, not part of the set-up: the committed numbers are what these tests read.
"""

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from msc_ascites.stats import adjustment as adj
from msc_ascites.stats import comparisons as cmp
from msc_ascites.stats import robustness as rob
from msc_ascites.stats import survival as surv
from msc_ascites.analysis.baseline import kruskal_wallis
from msc_ascites.stats.imputation import rubin

HERE = Path(__file__).parent / "r_reference"
R = json.loads((HERE / "reference_values.json").read_text())
LUNG = pd.read_csv(HERE / "data" / "lung.csv")
AML = pd.read_csv(HERE / "data" / "aml.csv")


def close(value, key):
    assert value == pytest.approx(R[key], rel=1e-6), key


def near(value, key):
    """1e-6 relative, or 1e-9 absolute for R values near zero (a shift estimate of ~1e-5)."""
    assert value == pytest.approx(R[key], rel=1e-6, abs=1e-9), key


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


VETERAN = pd.read_csv(HERE / "data" / "veteran.csv")
LUNG_ECOG = LUNG.dropna(subset=["ph.ecog"]).assign(female=lambda d: (d["sex"] == 2).astype(int))


def check_cox(got: dict, name: str, key: str):
    row = got["covariates"][name]
    for ours, theirs in (("coef", "coef"), ("hr", "hr"), ("se", "se"), ("lower", "lower"), ("upper", "upper"),
                         ("p", "p")):
        close(row[ours], f"{key}.{theirs}")
    for test in ("lr", "wald", "score"):
        close(got[f"{test}_chi2"], f"{key}.{test}_chisq")
        close(got[f"{test}_p"], f"{key}.{test}_p")


def test_cox_efron_lung():
    frame = LUNG.assign(female=(LUNG["sex"] == 2).astype(int))
    check_cox(surv.cox_hazard_ratio(frame, "time", "status", ["female"]), "female", "lung.cox")


def test_cox_efron_veteran_the_issue_example():
    """137 patients, 128 deaths: lifelines' default precision gave HR 1.0178560, R 1.0179009."""
    got = surv.cox_hazard_ratio(VETERAN, "time", "status", ["trt"])
    check_cox(got, "trt", "veteran.cox")
    assert (got["n"], got["events"]) == (137, 128)


def test_cox_adjusted_lung():
    got = surv.cox_hazard_ratio(LUNG_ECOG, "time", "status", ["female", "age", "ph.ecog"])
    check_cox(got, "female", "lung.cox_adjusted")
    via_adjustment = adj.hazard_ratio(LUNG_ECOG["time"], LUNG_ECOG["status"], LUNG_ECOG["female"],
                                      LUNG_ECOG[["age", "ph.ecog"]])
    for ours, theirs in (("estimate", "hr"), ("lower", "lower"), ("upper", "upper"), ("p", "p"),
                         ("log_estimate", "coef"), ("se", "se")):
        close(via_adjustment[ours], f"lung.cox_adjusted.{theirs}")


def test_iptw_propensity_weights_and_weighted_cox_robust_se():
    weights = adj.propensity_weights(LUNG_ECOG["female"], LUNG_ECOG[["age", "ph.ecog"]])
    for row in (1, 2, len(LUNG_ECOG)):
        close(weights[row - 1], f"lung.iptw.weight.row{row}")
    got = adj.hazard_ratio(LUNG_ECOG["time"], LUNG_ECOG["status"], LUNG_ECOG["female"], None, weights)
    for ours, theirs in (("log_estimate", "coef"), ("se", "robust_se"), ("p", "p"), ("lower", "lower"),
                         ("upper", "upper")):
        close(got[ours], f"lung.cox_iptw.{theirs}")


def test_logrank_veteran():
    got = surv.logrank(VETERAN["time"], VETERAN["status"], VETERAN["trt"])
    close(got["chi2"], "veteran.logrank.chisq")
    close(got["p"], "veteran.logrank.p")


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


@pytest.mark.parametrize("counts", ["9_30_2_37", "1_38_6_33", "3_1_1_3"])
def test_fisher_conditional_odds_ratio(counts):
    """R's values come from fisher.test with its uniroot tolerance tightened to 1e-13 (its
    default, 1.2e-4, leaves the odds ratio and limits imprecise at the 1e-5 level)."""
    a, b, c, d = map(int, counts.split("_"))
    got = cmp.proportions(a, a + b, c, c + d)["fisher_exact"]
    # The p is a finite hypergeometric sum, no root finding: it agrees with R far below 1e-6.
    assert got["p"] == pytest.approx(R[f"fisher.{counts}.p"], rel=1e-9), counts
    for ours, theirs in (("odds_ratio", "or"), ("lower", "lower"), ("upper", "upper")):
        close(got[ours], f"fisher.{counts}.{theirs}")


@pytest.mark.parametrize("counts", ["9_39_2_39", "0_20_5_21"])
def test_wilson_and_newcombe(counts):
    a, n1, c, n0 = map(int, counts.split("_"))
    got = cmp.proportions(a, n1, c, n0)
    for arm, (events, n) in (("t", (a, n1)), ("c", (c, n0))):
        lower, upper = cmp.wilson_interval(events, n)
        near(lower, f"wilson.{counts}.{arm}.lower")
        near(upper, f"wilson.{counts}.{arm}.upper")
    near(got["risk_difference"]["lower"], f"wilson.{counts}.newcombe.lower")
    near(got["risk_difference"]["upper"], f"wilson.{counts}.newcombe.upper")


def test_chi_square_9_vs_2():
    got = cmp.proportions(9, 39, 2, 39)
    close(got["chi_square"]["p"], "chisq.9_30_2_37.p")
    close(got["chi_square_yates"]["p"], "chisq_yates.9_30_2_37.p")
    close(got["chi_square"]["chi2"], "chisq.9_30_2_37.statistic")
    close(got["chi_square_yates"]["chi2"], "chisq_yates.9_30_2_37.statistic")


def test_mann_whitney_and_welch_with_ties():
    male, female = LUNG.loc[LUNG["sex"] == 1, "age"], LUNG.loc[LUNG["sex"] == 2, "age"]
    got = cmp.two_sample_tests(male, female)
    assert got["mann_whitney"]["W"] == R["lung.age_by_sex.wilcox.W"]
    close(got["mann_whitney"]["p"], "lung.age_by_sex.wilcox.p")
    close(got["welch_t"]["t"], "lung.age_by_sex.welch.t")
    close(got["welch_t"]["df"], "lung.age_by_sex.welch.df")
    close(got["welch_t"]["p"], "lung.age_by_sex.welch.p")


@pytest.mark.parametrize("name,exposure", [("rates", "pyears"), ("quine", "exposure"), ("insurance", "exposure")])
def test_poisson_and_negative_binomial_rate_ratios(name, exposure):
    """R: glm(poisson) and MASS::glm.nb with their convergence criteria tightened."""
    data = pd.read_csv(HERE / "data" / f"{name}.csv")
    got = cmp.rate_ratio(data["count"], data[exposure], data["arm"])
    for model, key in (("poisson", "poisson"), ("negative_binomial", "nb")):
        close(got[model]["ratio"], f"{name}.{key}.rr")
        for part in ("lower", "upper", "p"):
            close(got[model][part], f"{name}.{key}.{part}")
    close(got["negative_binomial"]["theta"], f"{name}.nb.theta")


PBC = pd.read_csv(HERE / "data" / "pbcseq_albumin.csv")


def test_signed_rank_approximate_and_paired_t():
    got = cmp.paired_tests(PBC["albumin0"], PBC["albumin1"])
    assert got["wilcoxon"]["V"] == R["pbc.signrank.approx.V"]
    close(got["wilcoxon"]["p"], "pbc.signrank.approx.p")
    assert got["wilcoxon"]["method"] == "normal approximation, continuity corrected"
    close(got["paired_t"]["t"], "pbc.paired_t.t")
    assert got["paired_t"]["df"] == R["pbc.paired_t.df"]
    close(got["paired_t"]["p"], "pbc.paired_t.p")
    close(got["paired_t"]["ci"][0], "pbc.paired_t.lower")
    close(got["paired_t"]["ci"][1], "pbc.paired_t.upper")


def test_signed_rank_exact():
    rows = [int(r) - 1 for r in R["pbc.signrank.exact.rows"].split()]
    got = cmp.paired_tests(PBC["albumin0"].iloc[rows], PBC["albumin1"].iloc[rows])["wilcoxon"]
    assert (got["V"], got["method"]) == (R["pbc.signrank.exact.V"], "exact")
    close(got["p"], "pbc.signrank.exact.p")


def test_same_albumin_in_g_per_dl_and_g_per_l_gives_identical_p():
    """x10 after float conversion makes differences such as 0.9999999999999964 and
    1.0000000000000036; ranked at 7 significant digits they tie, as they do in g/dL."""
    in_dl = cmp.paired_tests(PBC["albumin0"], PBC["albumin1"])
    in_l = cmp.paired_tests(PBC["albumin0"] * 10, PBC["albumin1"] * 10)
    assert in_l["wilcoxon"] == in_dl["wilcoxon"]
    assert in_l["paired_t"]["p"] == pytest.approx(in_dl["paired_t"]["p"], rel=1e-12)
    treated = PBC["trt"] == 1
    by_arm_dl = cmp.two_sample_tests(PBC.loc[treated, "albumin0"], PBC.loc[~treated, "albumin0"])
    by_arm_l = cmp.two_sample_tests(PBC.loc[treated, "albumin0"] * 10, PBC.loc[~treated, "albumin0"] * 10)
    assert by_arm_l["mann_whitney"]["p"] == by_arm_dl["mann_whitney"]["p"]
    frame = PBC.assign(albumin_l=PBC["albumin0"] * 10, arm=PBC["trt"])
    assert kruskal_wallis(*(frame.loc[frame["arm"] == a, "albumin_l"] for a in (0, 1))) == \
        kruskal_wallis(*(frame.loc[frame["arm"] == a, "albumin0"] for a in (0, 1)))


@pytest.mark.parametrize("key,scale", [("pbc.ranksum.approx", 1), ("pbc.ranksum.approx_gl", 10)])
def test_hodges_lehmann_approximate_as_wilcox_test_conf_int(key, scale):
    treated = PBC["trt"] == 1
    got = adj.hodges_lehmann(PBC.loc[treated, "albumin0"] * scale, PBC.loc[~treated, "albumin0"] * scale)
    for name in ("estimate", "lower", "upper", "p"):
        near(got[name], f"{key}.{name}")


def test_hodges_lehmann_and_mann_whitney_exact():
    x = [float(v) for v in R["pbc.ranksum.exact.x"].split()]
    y = [float(v) for v in R["pbc.ranksum.exact.y"].split()]
    got = cmp.rank_sum_test(x, y, conf_int=True)
    assert (got["W"], got["method"]) == (R["pbc.ranksum.exact.W"], "exact")
    for name in ("estimate", "lower", "upper", "p"):
        close(got[name], f"pbc.ranksum.exact.{name}")
    close(adj.hodges_lehmann(x, y)["estimate"], "pbc.ranksum.exact.estimate")


def test_hodges_lehmann_lung_age_by_sex():
    got = adj.hodges_lehmann(LUNG.loc[LUNG["sex"] == 1, "age"], LUNG.loc[LUNG["sex"] == 2, "age"])
    for name in ("estimate", "lower", "upper", "p"):
        near(got[name], f"lung.age_by_sex.hl.{name}")


def test_student_and_welch_t():
    treated = PBC["trt"] == 1
    got = cmp.two_sample_tests(PBC.loc[treated, "albumin0"], PBC.loc[~treated, "albumin0"])
    for ours, theirs in (("student_t", "student"), ("welch_t", "welch")):
        close(got[ours]["t"], f"pbc.{theirs}.t")
        close(got[ours]["p"], f"pbc.{theirs}.p")
        close(got[ours]["ci"][0], f"pbc.{theirs}.lower")
        close(got[ours]["ci"][1], f"pbc.{theirs}.upper")
    close(got["welch_t"]["df"], "pbc.welch.df")


def test_kruskal_wallis_at_seven_digits():
    close(kruskal_wallis(*(PBC.loc[PBC["trt"] == a, "albumin0"] for a in (0, 1))), "pbc.kruskal.trt.p")
    stage = pd.read_csv(HERE / "data" / "pbcseq_stage.csv").dropna()
    close(kruskal_wallis(*(g["albumin0"] for _, g in stage.groupby("stage"))), "pbc.kruskal.stage.p")


BIRTHWT = pd.read_csv(HERE / "data" / "birthwt.csv")
BW_COVARIATES = BIRTHWT[["age", "lwt"]]


def check_effect(got: dict, key: str):
    for name in ("estimate", "se", "p", "lower", "upper"):
        close(got[name], f"{key}.{name}")


def birthwt_weights():
    return adj.propensity_weights(BIRTHWT["smoke"], BW_COVARIATES)


def test_birthwt_propensity_weights():
    weights = birthwt_weights()
    for row in (1, 2, len(BIRTHWT)):
        close(weights[row - 1], f"birthwt.iptw.weight.row{row}")


def test_ancova_lm():
    check_effect(adj.linear_effect(BIRTHWT["bwt"], BIRTHWT["smoke"], BW_COVARIATES), "birthwt.ancova")
    frame = PBC.rename(columns={"albumin1": "value", "albumin0": "baseline", "trt": "treated"})
    got = cmp.ancova(frame)
    for ours, theirs in (("effect", "effect"), ("p", "p"), ("lower", "lower"), ("upper", "upper")):
        close(got[ours], f"pbc.ancova.{theirs}")


def test_iptw_difference_in_means_weighted_lm_hc0():
    check_effect(adj.linear_effect(BIRTHWT["bwt"], BIRTHWT["smoke"], None, birthwt_weights()),
                 "birthwt.iptw_mean")


def test_modified_poisson_risk_ratio_sandwich_hc0():
    check_effect(adj.risk_ratio(BIRTHWT["low"], BIRTHWT["smoke"], BW_COVARIATES), "birthwt.rr_adjusted")
    check_effect(adj.risk_ratio(BIRTHWT["low"], BIRTHWT["smoke"], None, birthwt_weights()), "birthwt.rr_iptw")


def test_median_regression_rq_br_with_kernel_se():
    check_effect(adj.median_effect(BIRTHWT["bwt"], BIRTHWT["smoke"], BW_COVARIATES), "birthwt.rq_adjusted")
    check_effect(adj.median_effect(BIRTHWT["bwt"], BIRTHWT["smoke"], None, birthwt_weights()), "birthwt.rq_iptw")


def test_rubins_rules_by_hand_formulas():
    estimates = [float(v) for v in R["rubin.q"].split()]
    variances = [float(v) for v in R["rubin.u"].split()]
    got = rubin(estimates, variances)
    for name in ("estimate", "se", "df", "p", "lower"):
        close(got[name], f"rubin.{name}")
    small = rubin(estimates, variances, complete_df=30)
    close(small["df"], "rubin.df_br30")
    close(small["p"], "rubin.p_br30")
    close(small["upper"], "rubin.upper_br30")


def test_e_values_by_hand_formulas():
    rr = adj.risk_ratio(BIRTHWT["low"], BIRTHWT["smoke"], BW_COVARIATES)
    got = rob.e_value(rr["estimate"], rr["lower"], rr["upper"], kind="rr")
    close(got["e_value"], "evalue.rr")
    close(got["e_value_ci"], "evalue.rr_ci")
    hr = adj.hazard_ratio(LUNG_ECOG["time"], LUNG_ECOG["status"], LUNG_ECOG["female"], LUNG_ECOG[["age", "ph.ecog"]])
    for common, key in ((True, "hr_common"), (False, "hr_rare")):
        got = rob.e_value(hr["estimate"], hr["lower"], hr["upper"], kind="hr", common=common)
        close(got["e_value"], f"evalue.{key}")
        close(got["e_value_ci"], f"evalue.{key}_ci")


@pytest.mark.parametrize("counts", ["9_39_2_39", "1_39_6_39", "2_40_12_41"])
def test_fragility_index_by_enumeration(counts):
    got = rob.fragility_index(*map(int, counts.split("_")))
    assert got["index"] == R[f"fragility.{counts}.index"]
    close(got["p_after"], f"fragility.{counts}.p_after")
