"""The sensitivity grid's statistics, each against an answer that is not our code's.

R numbers come from R 4.2.2 with survival 3.5.3 and sandwich 3.0.2 (Debian
packages r-base-core, r-cran-survival, r-cran-sandwich); the R lines that
produce them are quoted beside each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from msc_ascites.stats import adjustment as adj
from msc_ascites.stats import robustness as rob
from msc_ascites.sensitivity import grid as sens
from msc_ascites.stats.imputation import filled_copies, impute_chained, imputed_values, rubin
from msc_ascites.errors import ConfigError, NotEstimable
from msc_ascites.settings import default_windows, load_config, resolved, settings_from_config

from conftest import ROOT

MTCARS = pd.DataFrame({  # R's mtcars: mpg, am (treated), vs (outcome), wt, hp
    "mpg": [21, 21, 22.8, 21.4, 18.7, 18.1, 14.3, 24.4, 22.8, 19.2, 17.8, 16.4, 17.3, 15.2, 10.4, 10.4, 14.7, 32.4,
            30.4, 33.9, 21.5, 15.5, 15.2, 13.3, 19.2, 27.3, 26, 30.4, 15.8, 19.7, 15, 21.4],
    "am": [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1],
    "vs": [0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1],
    "wt": [2.62, 2.875, 2.32, 3.215, 3.44, 3.46, 3.57, 3.19, 3.15, 3.44, 3.44, 4.07, 3.73, 3.78, 5.25, 5.424, 5.345,
           2.2, 1.615, 1.835, 2.465, 3.52, 3.435, 3.84, 3.845, 1.935, 2.14, 1.513, 3.17, 2.77, 3.57, 2.78],
    "hp": [110, 110, 93, 110, 175, 105, 245, 62, 95, 123, 123, 180, 180, 180, 205, 215, 230, 66, 52, 65, 97, 150, 150,
           245, 175, 66, 91, 113, 264, 175, 335, 109],
})


# Rubin's rules -------------------------------------------------------------------------------

def test_rubin_by_hand():
    # Estimates 1, 2, 3 with variance 0.5 each: W = 0.5, B = 1, T = 0.5 + (1 + 1/3) * 1 = 11/6,
    # r = (4/3) / 0.5 = 8/3, Rubin's df = (3 - 1) (1 + 3/8)^2 = 3.78125.
    pooled = rubin([1, 2, 3], [0.5, 0.5, 0.5])
    assert pooled["estimate"] == 2
    assert pooled["se"] == pytest.approx(np.sqrt(11 / 6))
    assert pooled["df"] == pytest.approx(3.78125)
    assert pooled["p"] == pytest.approx(2 * stats.t.sf(2 / np.sqrt(11 / 6), 3.78125))


def test_barnard_rubin_df_by_hand():
    # Same numbers, complete-data df 10: lambda = (4/3) / (11/6) = 8/11,
    # df_obs = (11/13) * 10 * (3/11) = 30/13, df = 1 / (1/3.78125 + 13/30).
    pooled = rubin([1, 2, 3], [0.5, 0.5, 0.5], complete_df=10)
    assert pooled["df"] == pytest.approx(1 / (1 / 3.78125 + 13 / 30))


def test_rubin_without_between_variance_is_the_complete_analysis():
    pooled = rubin([2.0, 2.0], [0.25, 0.25], complete_df=20)
    assert pooled["se"] == pytest.approx(0.5) and pooled["df"] == 20


def test_rubin_without_any_variance_is_not_estimable_not_nan():
    with pytest.raises(NotEstimable, match="no variance|none has a variance"):
        rubin([2.0, 2.0], [0.0, 0.0])
    with pytest.raises(NotEstimable, match="no residual degrees of freedom"):
        rubin([1.0, 2.0], [0.5, 0.5], complete_df=0)


def test_tipping_point_of_a_constant_outcome_says_why_it_is_not_estimable():
    subjects = pd.DataFrame({"subject_id": [f"{i:03d}" for i in range(6)], "arm": ["treatment"] * 3 + ["control"] * 3})
    rows = [(s, v, "MELD", 10.0) for s in subjects.subject_id for v in ("BL", "W48") if (s, v) != ("000", "W48")]
    labs = pd.DataFrame(rows, columns=["subject_id", "visit", "test", "value"])
    settings = {"week_label": "W48", "visit_labels": ["BL", "W48"], "level": 0.95,
                "imputation": {"m": 3, "iterations": 2, "seed": 1}}
    grid, out = sens._tipping_point(labs, subjects, settings, np.array([0.0, 1.0]))
    assert grid.empty and out == {"available": False,
                                  "reason": "every value is the same within each arm: Welch's t is not defined"}


# Multiple imputation ------------------------------------------------------------------------

def test_chained_imputation_fills_only_the_holes_with_observed_values_and_is_seeded():
    rng = np.random.default_rng(0)
    base = rng.normal(15, 3, 40)
    frame = pd.DataFrame({"treated": np.repeat([1, 0], 20), "BL": base, "W48": base - 2 + rng.normal(0, 1, 40)})
    frame.loc[[3, 7, 25], "W48"] = np.nan
    copies = impute_chained(frame, m=5, iterations=5, seed=1)
    again = impute_chained(frame, m=5, iterations=5, seed=1)
    observed = set(frame["W48"].dropna())
    for copy, same in zip(copies, again):
        pd.testing.assert_frame_equal(copy, same)
        assert copy.notna().all().all()
        pd.testing.assert_frame_equal(copy.drop(index=[3, 7, 25]), frame.drop(index=[3, 7, 25]).astype(float))
        assert set(copy.loc[[3, 7, 25], "W48"]) <= observed  # predictive mean matching: donors' values
    assert len({tuple(c.loc[[3, 7, 25], "W48"]) for c in copies}) > 1  # between-imputation variation


def test_imputation_recovers_a_known_mean_under_missing_at_random():
    # W48 = BL - 2 + noise; values are missing more often when BL is high (MAR). The
    # complete cases underestimate the mean; imputation from BL removes most of that bias
    # (not all: matching cannot impute beyond the largest observed value, van Buuren 2018, 3.4.3).
    rng = np.random.default_rng(3)
    n = 400
    bl = rng.normal(15, 3, n)
    w48 = bl - 2 + rng.normal(0, 1, n)
    frame = pd.DataFrame({"treated": rng.integers(0, 2, n), "BL": bl, "W48": w48})
    frame.loc[rng.random(n) < 1 / (1 + np.exp(-(bl - 16))), "W48"] = np.nan
    truth = w48.mean()
    imputed = np.mean([c["W48"].mean() for c in impute_chained(frame, m=10, iterations=5, seed=2)])
    assert abs(frame["W48"].mean() - truth) > 1
    assert abs(imputed - truth) < 0.25 * abs(frame["W48"].mean() - truth)


def _holes() -> pd.DataFrame:
    frame = pd.DataFrame({"treated": [1, 0, 1, 0, 1, 0], "BL": [1.0, 2, 3, 4, 5, 6],
                          "W48": [1.5, np.nan, 3.5, 4.0, np.nan, 6.5]},
                         index=pd.Index(list("abcdef"), name="subject_id"))
    return frame


def test_imputed_values_give_back_the_completed_copies_exactly(tmp_path):
    frame = _holes()
    copies = impute_chained(frame, m=3, iterations=2, seed=5)
    values = imputed_values(frame, copies)
    assert list(values.columns) == ["imputation", "subject_id", "variable", "value"] and len(values) == 3 * 2
    values.to_csv(tmp_path / "values.csv", index=False)
    read = pd.read_csv(tmp_path / "values.csv", dtype={"subject_id": str}, float_precision="round_trip")
    for copy, again in zip(copies, filled_copies(frame, read, 3), strict=True):
        pd.testing.assert_frame_equal(copy, again)
    complete = frame.fillna(0.0)  # nothing to fill: m copies of the data (as floats), as impute_chained makes
    assert all(c.equals(complete.astype(float)) for c in filled_copies(complete, values.iloc[:0], 3))


def test_imputations_of_other_data_or_another_m_are_refused():
    frame = _holes()
    values = imputed_values(frame, impute_chained(frame, m=2, iterations=2, seed=5))
    other = frame.copy()
    other.loc["c", "W48"] = np.nan
    with pytest.raises(ValueError, match="made from other data"):
        filled_copies(other, values, 2)
    with pytest.raises(ValueError, match="not 1 to 3"):
        filled_copies(frame, values, 3)


def _cohort_with_holes() -> tuple[dict, dict]:
    """30 patients, MELD at every visit with some holes, one patient without an age (so adjusted
    cells impute fewer rows than unadjusted ones), and the settings of config.yaml."""
    config = load_config(ROOT / "config.yaml")
    config["sensitivity"].update(covariates=["baseline_MELD", "age_years"],
                                 covariate_selection={"rule": "all", "min_smd": 0.1})
    settings = settings_from_config(config)
    rng = np.random.default_rng(11)
    ids = [f"{i:03d}" for i in range(30)]
    subjects = pd.DataFrame({"subject_id": ids, "arm": ["treatment", "control"] * 15,
                             "baseline_MELD": rng.normal(15, 3, 30).round(1),
                             "age_years": rng.integers(35, 70, 30).astype(float)})
    subjects.loc[4, "age_years"] = np.nan
    labs = pd.DataFrame([{"subject_id": s, "test": "MELD", "visit": v, "value": b - 0.4 * k + rng.normal(0, 1)}
                         for s, b in zip(ids, subjects["baseline_MELD"])
                         for k, v in enumerate(settings["visit_labels"])])
    later = labs.index[labs["visit"] != "BL"]
    labs = labs.drop(index=rng.choice(later, 25, replace=False))  # visits not made
    return {"subjects": subjects, "labs": labs, "ascites": None}, {**settings, "outcomes": ["MELD"]}


def test_cells_reading_the_imputation_step_give_the_numbers_of_imputing_themselves(tmp_path):
    data, settings = _cohort_with_holes()
    table = sens.imputation_table(data, "itt", settings)
    assert set(table["rows"]) == {"all", "with_covariates"}  # the patient without an age
    sens.write_csv(table, tmp_path / "imputations.csv")
    read = sens.read_imputations(tmp_path / "imputations.csv")
    for test in ("parametric", "nonparametric"):
        for adjustment in ("unadjusted", "multivariable", "iptw"):
            spec = {"family": "primary", "population": "itt", "missing": "multiple_imputation",
                    "window_days": "295-378", "test": test, "adjustment": adjustment}
            itself, from_step = sens.primary_cell(data, spec, settings), sens.primary_cell(data, spec, settings, read)
            assert itself == from_step and itself[0]["estimate"] is not None, (spec, itself[0]["note"])


def test_an_analysis_is_made_once_per_key_even_from_many_threads():
    import threading
    import time
    from msc_ascites.sensitivity.shared import once
    calls = []

    def compute(value):
        calls.append(value)
        time.sleep(0.05)
        return {"estimate": value}
    threads = [threading.Thread(target=once, args=(("test-once", 1), lambda: compute(1))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert once(("test-once", 1), lambda: compute(99)) == {"estimate": 1} and calls == [1]
    assert once(("test-once", 2), lambda: compute(2)) == {"estimate": 2} and calls == [1, 2]
    with pytest.raises(NotEstimable):
        once(("test-once", 3), lambda: (_ for _ in ()).throw(NotEstimable("no")))
    assert once(("test-once", 3), lambda: compute(3)) == {"estimate": 3}  # a failure is not remembered


# Effects ------------------------------------------------------------------------------------

def test_hodges_lehmann_matches_r_wilcox():
    # R: wilcox.test(x, y, conf.int = TRUE) -> difference in location 0.305, p-value 0.2544
    # (x, y: R's ?wilcox.test example, Hollander & Wolfe 1973, p. 69).
    x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    y = [1.15, 0.88, 0.90, 0.74, 1.21]
    result = adj.hodges_lehmann(x, y)
    assert result["estimate"] == pytest.approx(0.305)
    assert result["p"] == pytest.approx(0.254412254412254)
    assert result["lower"] < result["estimate"] < result["upper"]


def test_welch_difference_matches_scipy_welch():
    rng = np.random.default_rng(5)
    a, b = rng.normal(1, 1, 12), rng.normal(0, 2, 9)
    result = adj.welch_difference(a, b)
    assert result["p"] == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)


def _weights():
    return adj.propensity_weights(MTCARS["am"], MTCARS[["wt", "hp"]])


def test_stabilised_weights_match_r():
    # R: ps <- fitted(glm(am ~ wt + hp, binomial, mtcars)); ifelse(am == 1, mean(am)/ps, (1-mean(am))/(1-ps))[1:3]
    assert _weights()[:3] == pytest.approx([0.482289992987647, 1.003625322598129, 0.418710479603426], rel=1e-6)


def test_linear_effects_match_r():
    # R: lm(mpg ~ am + wt + hp, mtcars): am 2.08371013032329, SE 1.37642015230494
    ols = adj.linear_effect(MTCARS["mpg"], MTCARS["am"], MTCARS[["wt", "hp"]])
    assert ols["estimate"] == pytest.approx(2.08371013032329, rel=1e-8)
    assert ols["se"] == pytest.approx(1.37642015230494, rel=1e-8)
    # R: lm(mpg ~ am, weights = sw); sqrt(vcovHC(fit, type = "HC0")): 5.0399690706456, 1.95075421393989
    wls = adj.linear_effect(MTCARS["mpg"], MTCARS["am"], weights=_weights())
    assert wls["estimate"] == pytest.approx(5.0399690706456, rel=1e-6)
    assert wls["se"] == pytest.approx(1.95075421393989, rel=1e-6)


def test_median_regression_on_the_arm_alone_is_the_difference_in_medians():
    # Hand: medians 3 and 11 (odd group sizes, so unique): the arm coefficient is 3 - 11.
    result = adj.median_effect([1, 3, 8, 2, 9, 10, 15, 11, 4, 20], [1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    assert result["estimate"] == pytest.approx(3 - 11)


def test_median_regression_of_a_large_cohort_reaches_an_optimal_vertex_as_simplex_does(monkeypatch):
    """Above SIMPLEX_MAX_ROWS interior point (then crossover) solves the programme. Where the L1 optimum
    is unique (continuous columns) the exact vertex solved afterwards is the one dual simplex finds;
    where it is not (a binary arm: any point between two middle values is optimal), both are optimal
    vertices (the same sum of absolute residuals, 3 rows fitted exactly) but may be different ones."""
    rng = np.random.default_rng(4)
    n = adj.SIMPLEX_MAX_ROWS + 1
    for arm in (rng.normal(size=n), rng.integers(0, 2, n)):
        x = np.column_stack([np.ones(n), arm, rng.normal(size=n)])
        y = x @ [2.0, -1.0, 0.5] + rng.standard_t(3, n)
        monkeypatch.setattr(adj, "SIMPLEX_MAX_ROWS", n - 1)
        interior = adj._median_regression_fit(x, y)
        monkeypatch.setattr(adj, "SIMPLEX_MAX_ROWS", n)
        simplex = adj._median_regression_fit(x, y)
        loss = [np.abs(y - x @ beta).sum() for beta in (interior, simplex)]
        assert loss[0] == pytest.approx(loss[1], rel=1e-12)
        assert (np.abs(y - x @ interior) < 1e-9).sum() == 3
        if arm.dtype == float:
            np.testing.assert_allclose(interior, simplex, rtol=1e-10)


def test_median_regression_of_a_large_cohort_on_the_arm_alone_is_the_solvers_vertex(monkeypatch):
    """Above SIMPLEX_MAX_ROWS an intercept and the arm (weighted or not) are solved without the LP, as
    each arm's weighted median: the solver's vertex where the optimum is unique (continuous weights),
    an optimal vertex as the solver's where it is not (unit weights, even arms: the lower median)."""
    rng = np.random.default_rng(7)
    n = adj.SIMPLEX_MAX_ROWS + 4  # two arms of 2502: a median of unit weights is not unique
    arm = np.repeat([1.0, 0.0], n // 2)
    y = 3 + 2 * arm + rng.standard_t(3, n)
    for weights, unique in ((rng.uniform(0.5, 4, n), True), (np.ones(n), False)):
        x, response = np.column_stack([weights, weights * arm]), y * weights
        direct = adj._median_regression_fit(x, response)
        monkeypatch.setattr(adj, "_two_groups", lambda design: False)
        solved = adj._median_regression_fit(x, response)
        monkeypatch.undo()
        loss = [np.abs(response - x @ beta).sum() for beta in (direct, solved)]
        assert loss[0] == pytest.approx(loss[1], rel=1e-12)
        if unique:
            np.testing.assert_allclose(direct, solved, rtol=1e-12)
        else:  # the lower median of each arm, its 1251st smallest value
            control, treated = np.sort(y[arm == 0]), np.sort(y[arm == 1])
            assert direct[0] == control[n // 4 - 1] and direct.sum() == pytest.approx(treated[n // 4 - 1], rel=1e-15)
            assert control[n // 4 - 1] < control[n // 4]


def test_risk_ratios_match_r():
    # R: glm(vs ~ am, poisson, mtcars): exp(coef) 1.46153846076409, HC0 SE 0.395170380655606
    # (unit weights take the regression path)
    unadjusted_glm = adj.risk_ratio(MTCARS["vs"], MTCARS["am"], weights=np.ones(len(MTCARS)))
    assert unadjusted_glm["estimate"] == pytest.approx(1.46153846076409, rel=1e-6)
    assert unadjusted_glm["se"] == pytest.approx(0.395170380655606, rel=1e-6)
    # Katz: (7/13) / (7/19) = 19/13, the same point; SE sqrt(1/7 - 1/13 + 1/7 - 1/19).
    katz = adj.risk_ratio(MTCARS["vs"], MTCARS["am"])
    assert katz["estimate"] == pytest.approx(19 / 13)
    assert katz["se"] == pytest.approx(np.sqrt(1 / 7 - 1 / 13 + 1 / 7 - 1 / 19))
    # R: glm(vs ~ am + wt + hp, poisson): 0.363811215920361, HC0 SE 0.521558513623665
    adjusted = adj.risk_ratio(MTCARS["vs"], MTCARS["am"], MTCARS[["wt", "hp"]])
    assert adjusted["estimate"] == pytest.approx(0.363811215920361, rel=1e-5)
    assert adjusted["se"] == pytest.approx(0.521558513623665, rel=1e-5)
    # R: glm(vs ~ am, poisson, weights = sw): 0.825972861040802, HC0 SE 0.419217296700469
    weighted = adj.risk_ratio(MTCARS["vs"], MTCARS["am"], weights=_weights())
    assert weighted["estimate"] == pytest.approx(0.825972861040802, rel=1e-5)
    assert weighted["se"] == pytest.approx(0.419217296700469, rel=1e-5)


def _lung():
    pytest.importorskip("lifelines")
    from lifelines.datasets import load_lung
    lung = load_lung().dropna(subset=["time", "status", "sex", "age", "ph.ecog"]).reset_index(drop=True)
    return lung.assign(treated=(lung["sex"] == 2).astype(int), event=lung["status"])  # lifelines codes death 1 (R: 2)


def test_hazard_ratios_match_r_coxph():
    lung = _lung()
    assert len(lung) == 227
    # R: coxph(Surv(time, event) ~ treated + age + ph.ecog, lung): HR 0.575444556190492, SE 0.167739053787264
    adjusted = adj.hazard_ratio(lung["time"], lung["event"], lung["treated"], lung[["age", "ph.ecog"]])
    assert adjusted["estimate"] == pytest.approx(0.575444556190492, rel=1e-4)
    assert adjusted["se"] == pytest.approx(0.167739053787264, rel=1e-4)
    # R: coxph(..., weights = sw, robust = TRUE), sw from glm(treated ~ age + ph.ecog, binomial):
    # HR 0.607279776358145, robust SE 0.161309426210603
    weights = adj.propensity_weights(lung["treated"], lung[["age", "ph.ecog"]])
    weighted = adj.hazard_ratio(lung["time"], lung["event"], lung["treated"], weights=weights)
    assert weighted["estimate"] == pytest.approx(0.607279776358145, rel=1e-4)
    assert weighted["se"] == pytest.approx(0.161309426210603, rel=1e-3)


def test_standardised_differences_by_hand():
    # Treated x = 1, 2, 3 (mean 2, var 1); control 3, 4, 5 (mean 4, var 1): SMD (2 - 4) / 1 = -2.
    frame = pd.DataFrame({"x": [1, 2, 3, 3, 4, 5]})
    treated = [1, 1, 1, 0, 0, 0]
    assert adj.standardised_differences(treated, frame)["x"] == pytest.approx(-2)
    # Weights 1, 1, 2 on the treated: weighted mean (1 + 2 + 6) / 4 = 2.25; SD stays unweighted.
    weighted = adj.standardised_differences(treated, frame, [1, 1, 2, 1, 1, 1])
    assert weighted["x"] == pytest.approx(2.25 - 4)


def test_weighting_balances_the_covariates():
    smd = adj.standardised_differences(MTCARS["am"], MTCARS[["wt", "hp"]], _weights())
    raw = adj.standardised_differences(MTCARS["am"], MTCARS[["wt", "hp"]])
    assert abs(raw["wt"]) > 1 and all(abs(v) < abs(raw[k]) for k, v in smd.items())


# Robustness ---------------------------------------------------------------------------------

def test_fragility_index_against_fisher_in_r():
    # R: fisher.test on 18/39 vs 5/39 -> p 0.00245; 18/39 vs 8/39 -> 0.0297; 18/39 vs 9/39 -> 0.0559.
    # Walsh: change outcomes in the arm with fewer events until p >= 0.05: 4 patients.
    result = rob.fragility_index(18, 39, 5, 39)
    assert result["index"] == 4 and result["kind"] == "fragility" and result["arm_changed"] == "control"
    assert result["p"] == pytest.approx(0.00244923188795448) and result["p_after"] == pytest.approx(0.055935067069236)


def test_reverse_fragility_index_against_fisher_in_r():
    # R: 1/39 vs 6/39 -> p 0.108; 1/39 vs 7/39 -> 0.0564; 1/39 vs 8/39 -> 0.0286: 2 more events reach p < 0.05.
    result = rob.fragility_index(1, 39, 6, 39)
    assert result["index"] == 2 and result["kind"] == "reverse fragility"
    assert result["p_after"] == pytest.approx(0.0286386814034894)


def _walked_fragility(events_t, n_t, events_c, n_c, alpha=0.05):
    """The definition, literally: one patient at a time, scipy's Fisher test at every step."""
    significant = stats.fisher_exact([[events_t, n_t - events_t], [events_c, n_c - events_c]]).pvalue < alpha
    counts = {"treatment": [events_t, n_t], "control": [events_c, n_c]}
    fewer = "treatment" if events_t / n_t <= events_c / n_c else "control"
    arm = fewer if significant else ("control" if fewer == "treatment" else "treatment")
    for changed in range(1, counts[arm][1] - counts[arm][0] + 1):
        a = events_t + changed * (arm == "treatment")
        c = events_c + changed * (arm == "control")
        p = float(stats.fisher_exact([[a, n_t - a], [c, n_c - c]]).pvalue)
        if (p >= alpha) == significant:
            return changed, p
    return None, None


def test_screened_fragility_walk_finds_what_the_literal_walk_finds():
    """The walk screens a chunk of tables at once and runs scipy only where p may cross: the same
    index and p as scipy at every step, on 400 random tables (index up to about 100)."""
    rng = np.random.default_rng(20261203)
    for _ in range(400):
        n_t, n_c = (int(n) for n in rng.integers(1, 130, 2))
        events_t, events_c = int(rng.integers(0, n_t + 1)), int(rng.integers(0, n_c + 1))
        result = rob.fragility_index(events_t, n_t, events_c, n_c)
        assert (result["index"], result["p_after"]) == _walked_fragility(events_t, n_t, events_c, n_c)


def test_fisher_screen_equals_scipy():
    a, c = np.array([3, 10, 20, 0, 39]), np.array([9, 12, 2, 0, 1])
    screened = rob._fisher_p_screen(a, 39, c, 39)
    exact = [stats.fisher_exact([[x, 39 - x], [y, 39 - y]]).pvalue for x, y in zip(a, c)]
    assert screened == pytest.approx(exact, rel=1e-9)


def test_fisher_screen_of_large_tables_sums_only_where_probabilities_are_not_zero():
    """At thousands per arm most tables have probability 0 in floating point; the screen sums the
    others and still gives scipy's p, for balanced, lopsided and extreme tables."""
    a, c = np.array([2500, 2480, 2300, 40, 0, 5000, 10]), np.array([2500, 2600, 2700, 60, 3, 4990, 4000])
    screened = rob._fisher_p_screen(a, 5000, c, 5000)
    exact = [stats.fisher_exact([[x, 5000 - x], [y, 5000 - y]]).pvalue for x, y in zip(a, c)]
    assert screened[:-1] == pytest.approx(exact[:-1], rel=1e-9)
    assert screened[-1] == exact[-1] == 0.0  # 10 vs 4000 of 5000: below the smallest double


def test_e_values_of_vanderweele_and_ding():
    # VanderWeele & Ding, Ann Intern Med 2017: RR 3.9 (CI 1.8 to 8.7) -> E-values 7.26 and 3.0.
    result = rob.e_value(3.9, 1.8, 8.7)
    assert result["e_value"] == pytest.approx(3.9 + np.sqrt(3.9 * 2.9))
    assert round(result["e_value"], 2) == 7.26 and result["e_value_ci"] == pytest.approx(3.0)
    # Protective: RR 0.5 -> 1/0.5 = 2 -> 2 + sqrt(2); a CI across 1 -> 1.
    protective = rob.e_value(0.5, 0.2, 1.3)
    assert protective["e_value"] == pytest.approx(2 + np.sqrt(2)) and protective["e_value_ci"] == 1


def test_e_value_of_a_hazard_ratio_for_a_common_outcome():
    # HR 2 of a common outcome: RR ~ (1 - 0.5^sqrt(2)) / (1 - 0.5^sqrt(1/2)) = 1.6125 (VanderWeele 2020).
    result = rob.e_value(2.0, 1.5, 2.7, kind="hr", common=True)
    rr = (1 - 0.5 ** np.sqrt(2)) / (1 - 0.5 ** np.sqrt(0.5))
    assert result["as_risk_ratio"] == pytest.approx(rr) and round(rr, 4) == 1.6125
    assert result["e_value"] == pytest.approx(rr + np.sqrt(rr * (rr - 1)))
    assert rob.e_value(2.0, 1.5, 2.7, kind="hr")["as_risk_ratio"] == 2.0  # rare outcome: HR taken as RR


def test_tipping_point_grid_moves_the_estimate_by_the_shift_times_the_missing_share():
    # One "imputation", 2 of 4 treated values missing: a treatment shift s moves the
    # treated mean, and so the difference, by s * 2/4 (hand).
    value = np.array([10.0, 12, 14, 16, 11, 13, 15, 17])
    treated = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    missing = np.array([0, 0, 1, 1, 0, 0, 0, 0], dtype=float)
    rows = rob.tipping_point_grid([(value, treated, missing)], np.array([0.0, 4.0]),
                                  lambda t, c: adj.welch_difference(t, c), lambda e, v: rubin(e, v))
    grid = {(r["shift_treatment"], r["shift_control"]): r["estimate"] for r in rows}
    assert grid[(0.0, 0.0)] == pytest.approx(-1.0)
    assert grid[(4.0, 0.0)] == pytest.approx(-1.0 + 4 * 2 / 4)
    assert grid[(0.0, 4.0)] == pytest.approx(-1.0)  # no control value is missing


# Cells --------------------------------------------------------------------------------------

def _subjects():
    return pd.DataFrame({
        "subject_id": ["a", "b", "c", "d", "e"], "arm": ["treatment", "treatment", "treatment", "control", "control"],
        "n_infusions": [1, 0, 1, 0, 0], "last_contact_day": [700, 700, 100, 700, 200],
        "death_day": [np.nan, np.nan, np.nan, np.nan, 150.0], "withdrawal_day": [np.nan] * 5})


def test_per_protocol_keeps_the_infused_and_followed_and_the_dead():
    # b was never infused, c left at day 100 (before the window opening at day 295);
    # e died at day 150: a death is an outcome, not a deviation.
    chosen = sens.select_population(_subjects(), "per_protocol", 295, 1)
    assert list(chosen["subject_id"]) == ["a", "d", "e"]
    assert len(sens.select_population(_subjects(), "itt", 295, 1)) == 5


def test_per_protocol_without_infusion_records_is_not_estimable():
    with pytest.raises(sens.NotEstimable, match="infusions.csv"):
        sens.select_population(_subjects().drop(columns="n_infusions"), "per_protocol", 295, 1)


def test_every_cell_of_the_default_grid_on_the_mini_cohort_gives_rows_not_crashes(tmp_path):
    """The tiny fixture (2 patients an arm) cannot support most estimates: each must say why."""
    from msc_ascites.data.datasets import write_datasets
    from msc_ascites.data.cleaning import write_clean_cohort
    config = load_config(ROOT / "config.yaml", raw_dir=str(ROOT / "tests" / "data" / "mini_cohort"))
    # Three covariates the mini cohort has, all adjusted for: the cells' own failures are the subject here
    # (the selection of imbalanced covariates has its own tests below).
    config["sensitivity"].update(covariates=["baseline_MELD", "child_pugh_score", "age_years"],
                                 covariate_selection={"rule": "all", "min_smd": 0.1})
    write_clean_cohort(config["raw_dir"], config["cohort"], config["visits"], tmp_path, tmp_path / "log.csv",
                       tmp_path / "summary.json")
    write_datasets(tmp_path, tmp_path / "summary.json", config["visits"], "MELD", tmp_path / "datasets")
    settings = settings_from_config(config)
    data = {name: pd.read_csv(tmp_path / "datasets" / f"{name}.csv", dtype={"subject_id": str})
            for name in ("subjects", "labs", "ascites")}
    # The mini cohort (2 patients an arm, no PTA) supports one estimate, unadjusted albumin after
    # LOCF. Every other cell must say exactly which NotEstimable stopped it: any other error (a
    # bug caught as a ValueError) would give another note and fail here.
    few, no_pta = "fewer than 2 patients in an arm", "no PTA values in this cohort"
    expected = {("locf", "unadjusted", "ascites_disappearance"): "no events in an arm: the risk ratio is not estimable",
                ("locf", "unadjusted", "primary_ALB"): ""}
    for endpoint in ("ascites_disappearance", "primary_ALB", "primary_MELD", "primary_TBIL"):
        expected[("multiple_imputation", "unadjusted", endpoint)] = \
            "cannot impute baseline_MELD: fewer than 2 observed values"
    got = {}
    for missing in config["sensitivity"]["missing"]:
        for adjustment in config["sensitivity"]["adjustments"]:
            spec = {"family": "primary", "population": "itt", "missing": missing, "window_days": "295-378",
                    "test": "parametric", "adjustment": adjustment}
            for row in sens.primary_cell(data, spec, settings):
                key = (missing, adjustment, row["endpoint"])
                got[key] = row["note"]
                default = no_pta if row["endpoint"] == "primary_PTA" else few
                assert row["note"] == expected.get(key, default), (key, row["note"])
                assert (row["estimate"] is None) == bool(row["note"]), (key, row)
    assert len(got) == 3 * 3 * 5
    rows = sens.survival_cell(data["subjects"], {"family": "survival", "population": "itt",
                                                 "adjustment": "iptw", "transplant": "censor",
                                                 "horizon_days": 730}, settings)
    assert [(row["estimate"], row["note"]) for row in rows] == [(None, few)]


def _visit_config(week: int, window: list[int]) -> dict:
    return {"visits": {"scheduled": [{"week": week, "label": "V", "window_days": window}]},
            "analysis": {"primary_week": week, "horizon_days": 730},
            "endpoints": {"liver_function": {"tests": [], "log_scale": []}},
            "sensitivity": {"covariates": [], "outcomes": []}}


def test_default_windows_derive_from_the_primary_visit():
    # Hua's week 48, target day 336 in [295, 378]: the windows config.yaml used to list.
    assert default_windows(_visit_config(48, [295, 378])) == [[315, 357], [295, 378], [295, 420]]
    # Week 52, target day 364 in [300, 420]: half of each side (rounded up), then 56 days past 420.
    assert default_windows(_visit_config(52, [300, 420])) == [[332, 392], [300, 420], [300, 476]]
    # A window already as narrow as it gets is listed once.
    assert default_windows(_visit_config(1, [6, 8])) == [[6, 8], [6, 9]]


def test_old_window_key_is_read_with_a_deprecation_note():
    config = _visit_config(48, [295, 378])
    config["sensitivity"]["week48_windows"] = [[300, 370]]
    got, notes = resolved(config)
    assert got["sensitivity"]["primary_windows"] == [[300, 370]] and "week48_windows" not in got["sensitivity"]
    assert notes == ["config key sensitivity.week48_windows is deprecated; call it sensitivity.primary_windows"]


@pytest.mark.parametrize("change, message", [
    (lambda c: c["sensitivity"].update(primary_windows=[[295, 378], [340, 378]]),
     "sensitivity.primary_windows[1]: window [340, 378] must contain the target day 336"),
    (lambda c: c["visits"]["scheduled"][0].update(window_days=[100, 200]),
     "visits.scheduled[0].window_days: window [100, 200] must contain the target day 336"),
    (lambda c: c["analysis"].update(primary_week=52),
     "analysis.primary_week: 52 is not the week of a visit in visits.scheduled (weeks 48)"),
    (lambda c: c["sensitivity"].update(covariates=["age_years", "bmi"]),
     "sensitivity.covariates[1]: 'bmi' is not a column"),
    (lambda c: c["sensitivity"].update(outcomes=["MELD", "alb"]),
     "sensitivity.outcomes[1]: 'alb' is not a lab test code; the contract's code is 'ALB'"),
    (lambda c: c["analysis"].update(landmark_days=[365, 0]),
     "analysis.landmark_days[1]: 0 must be a positive number of days"),
    (lambda c: c["sensitivity"].update(primary_windows=[], week48_windows=[]),
     "sensitivity.week48_windows and sensitivity.primary_windows: give only"),
], ids=["window_without_target", "visit_window_without_target", "primary_week_not_scheduled",
        "unknown_covariate", "near_miss_outcome", "landmark_not_positive", "old_and_new_key"])
def test_cross_field_config_errors_name_the_key_and_value(change, message):
    config = _visit_config(48, [295, 378])
    change(config)
    with pytest.raises(ConfigError) as error:
        resolved(config)
    assert str(error.value).startswith(message), str(error.value)


def test_a_cohort_may_analyse_lab_tests_of_its_own():
    """The contract keeps unknown test codes (ACTG 175's CD4): they are outcomes like any other."""
    config = _visit_config(48, [295, 378])
    config["sensitivity"].update(outcomes=["CD4"], covariates=["age_years", "baseline_CD4"])
    resolved(config)


# Adjustment covariates: those imbalanced at baseline ---------------------------------------

def _two_arms(**columns) -> pd.DataFrame:
    return pd.DataFrame({"arm": ["treatment"] * 4 + ["control"] * 4, **columns})


def test_only_covariates_imbalanced_at_baseline_are_adjusted_for():
    from msc_ascites.sensitivity.grid import available_covariates, baseline_imbalance
    subjects = _two_arms(balanced=[1, 2, 3, 4, 1, 2, 3, 4], shifted=[3, 4, 5, 6, 1, 2, 3, 4],
                         missing=[None] * 8)
    smd = baseline_imbalance(subjects, ["balanced", "shifted"])
    assert smd["balanced"] == 0 and smd["shifted"] == pytest.approx(2 / np.sqrt(5 / 3))
    names = ["balanced", "shifted", "missing"]
    assert available_covariates(subjects, names, {"rule": "imbalanced", "min_smd": 0.1}) == (["shifted"], ["missing"])
    assert available_covariates(subjects, names, {"rule": "all", "min_smd": 0.1}) == (["balanced", "shifted"],
                                                                                        ["missing"])


def test_effective_sample_size_is_kish():
    from msc_ascites.sensitivity.grid import effective_sample_size
    assert effective_sample_size([1, 1, 1, 1]) == 4
    assert effective_sample_size([1, 1, 2]) == pytest.approx(16 / 6)


def test_balance_lists_every_candidate_and_the_weights_cost():
    from msc_ascites.sensitivity.grid import balance
    rng = np.random.default_rng(1)
    subjects = pd.DataFrame({"arm": ["treatment"] * 20 + ["control"] * 20,
                             "shifted": np.r_[rng.normal(1, 1, 20), rng.normal(0, 1, 20)],
                             "balanced": np.tile([1.0, 2.0], 20)})
    settings = {"covariates": ["shifted", "balanced"], "covariate_selection": {"rule": "imbalanced", "min_smd": 0.1},
                "populations": ["itt"], "week_first_day": 295, "min_infusions": 1}
    table = balance(subjects, settings)
    assert table["covariate"].tolist() == ["shifted", "balanced"] and table["adjusted"].tolist() == [True, False]
    row = table.iloc[0]
    assert abs(row["smd_weighted"]) < abs(row["smd_unweighted"])
    assert 0 < row["ess_treatment"] < 20 and 0 < row["ess_control"] < 20 and row["weight_min"] < 1 < row["weight_max"]


def test_a_choice_with_no_estimable_cell_is_kept_with_why():
    """The 365-day horizon of a cohort with no deaths in the first year: said, not dropped."""
    axes = {axis: "" for axis in sens.AXES}
    rows = [{**axes, "family": "survival", "horizon_days": horizon, "endpoint": "death", "estimate": estimate,
             "p": p, "note": note}
            for horizon, estimate, p, note in [(365, np.nan, np.nan, "no events: the hazard ratio is not estimable"),
                                               (365, np.nan, np.nan, "no events: the hazard ratio is not estimable"),
                                               (730, 0.16, 0.09, ""), (730, 0.2, 0.04, "")]]
    found = {row["value"]: row for row in sens._by_axis(pd.DataFrame(rows), 0.05, ("death",))
             if row["axis"] == "horizon_days"}
    assert found[365] | {} == {"axis": "horizon_days", "value": 365, "endpoint": "death", "cells": 0, "median": None,
                               "significant": 0, "not_estimable": 2,
                               "why": "no events: the hazard ratio is not estimable"}
    assert (found[730]["cells"], found[730]["median"], found[730]["significant"]) == (2, pytest.approx(0.18), 1)


def test_the_fingerprint_hashes_rows_as_pandas_does():
    import hashlib
    frame = pd.DataFrame({"y": [1.5, np.nan, 3.0], "treated": [1, 0, 1], "subject_id": ["011", "012", "x"],
                          "grade": [0.0, 2.0, 1.0]}, index=[7, 3, 5])
    digest = hashlib.sha256()
    for part in (frame, frame.iloc[:2]):
        ordered = part[sorted(part.columns)].reset_index(drop=True)
        digest.update(",".join(ordered.columns).encode("utf-8"))
        digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
    assert sens.data_fingerprint([frame, frame.iloc[:2]]) == digest.hexdigest()


def test_cells_of_identical_data_are_one_analysis_and_their_axis_changes_nothing():
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0], "treated": [1, 0, 1]})
    same = sens.data_fingerprint([frame[["treated", "y"]]])
    assert sens.data_fingerprint([frame]) == same != sens.data_fingerprint([frame.assign(y=[1.0, 2.0, 3.5])])
    assert sens.data_fingerprint([frame, frame]) != same  # m imputations are pooled: not the single data set
    axes = {axis: None for axis in sens.AXES}
    cells = pd.DataFrame([{**axes, "family": "primary", "population": "itt", "missing": "complete_case",
                           "test": "parametric", "adjustment": "unadjusted", "window_days": window,
                           "endpoint": "primary_MELD", "primary": window == "295-378", "data_sha256": digest}
                          for window, digest in [("295-378", "a"), ("315-357", "a"), ("295-420", "a")]])
    primary = "itt/complete_case/295-378/parametric/unadjusted"
    assert list(sens.same_analysis_as(cells)) == ["", primary, primary]
    assert sens.identical_data_axes(cells) == ["window_days"]
    cells.loc[2, "data_sha256"] = "b"  # the wider window holds one more value
    assert sens.identical_data_axes(cells) == [] and list(sens.same_analysis_as(cells))[2] == ""


def test_a_choice_that_reverses_the_primary_conclusion_in_all_its_cells_is_a_flip():
    cells = pd.DataFrame({axis: None for axis in sens.AXES} | {
        "adjustment": ["unadjusted", "unadjusted", "multivariable", "multivariable", "iptw", "iptw"],
        "p": [0.09, 0.2, 0.01, 0.03, 0.04, 0.3]}, index=range(6))
    flips = sens._flips(cells, cells.iloc[0], 0.05)
    assert flips == [{"axis": "adjustment", "value": "multivariable", "cells": 2, "significant": True}]
    assert sens._flips(cells, None, 0.05) == []
