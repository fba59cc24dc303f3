"""One pre-specified answer per question: each comparison's test chosen by config, the others
supplementary; survival told one way (the profile-likelihood interval and likelihood-ratio test of the
Cox hazard ratio and the RMST difference with its CI, against R: tests/r_reference/survival_profile.R,
its output survival_profile_values.json); the E-value's rare-outcome rule."""

import json
from pathlib import Path

import pandas as pd
import pytest

from msc_ascites.analysis.endpoints import chosen_test, compute, survival
from msc_ascites.errors import ConfigError
from msc_ascites.products import ENDPOINTS, TESTS
from msc_ascites.report.render import supplementary_tests
from msc_ascites.settings import check_config
from msc_ascites.stats import adjustment as adj
from msc_ascites.stats import survival as surv
from msc_ascites.stats.robustness import e_value

HERE = Path(__file__).parent / "r_reference"
R = json.loads((HERE / "survival_profile_values.json").read_text())


def _data(name: str) -> tuple[pd.DataFrame, str, float]:
    frame = pd.read_csv(HERE / "data" / f"{name}.csv")
    column, tau = {"lung": ("female", 730), "veteran": ("test", 365), "aml": ("maintained", 40)}[name]
    frame[column] = {"lung": frame.get("sex", 0) == 2, "veteran": frame.get("trt", 0) == 2,
                     "aml": frame.get("x", "") == "Maintained"}[name]
    frame[column] = frame[column].astype(int)
    return frame, column, tau


@pytest.mark.parametrize("level", [0.95, 0.9])
@pytest.mark.parametrize("name", ["lung", "veteran", "aml"])
def test_profile_interval_and_lr_test_as_r(name, level):
    frame, column, _ = _data(name)
    got = surv.cox_hazard_ratio(frame, "time", "status", [column], level)
    key = f"{name}.profile{round(level * 100)}."
    profile = got["covariates"][column]["profile"]
    assert profile["lower"] == pytest.approx(R[key + "lower"], rel=1e-6)
    assert profile["upper"] == pytest.approx(R[key + "upper"], rel=1e-6)
    assert got["lr_p"] == pytest.approx(R[key + "lr_p"], rel=1e-6)
    assert got["covariates"][column]["p"] == pytest.approx(R[key + "wald_p"], rel=1e-6)


@pytest.mark.parametrize("name", ["lung", "veteran", "aml"])
def test_the_grids_unadjusted_hazard_ratio_is_told_as_the_survival_endpoint(name):
    """The grid's unadjusted cell gives the profile-likelihood interval and likelihood-ratio p that the
    survival section gives (R: survival_profile.R), so Table 16 and the survival text agree."""
    frame, column, _ = _data(name)
    got = adj.hazard_ratio(frame["time"], frame["status"], frame[column])
    key = f"{name}.profile95."
    assert [got["lower"], got["upper"], got["p"], got["wald_p"]] == pytest.approx(
        [R[key + "lower"], R[key + "upper"], R[key + "lr_p"], R[key + "wald_p"]], rel=1e-6)
    assert "profile-likelihood" in got["method"]


@pytest.mark.parametrize("name", ["lung", "veteran", "aml"])
def test_rmst_difference_as_r(name):
    frame, column, tau = _data(name)
    arms = [surv.rmst(surv.kaplan_meier(rows["time"], rows["status"]), tau)
            for _, rows in sorted(frame.groupby(column), reverse=True)]
    got = surv.rmst_difference(*arms)
    for field, value in (("estimate", "difference"), ("std_err", "se"), ("lower", "lower"), ("upper", "upper"),
                         ("p", "p")):
        assert got[field] == pytest.approx(R[f"{name}.rmst{tau}.{value}"], rel=1e-6), field


def test_profile_interval_of_few_events_is_wider_above_than_wald():
    """1 vs 6 deaths: the log-likelihood is skewed, so the profile interval is not symmetric on the
    log scale as the Wald one is; both contain the estimate."""
    frame = pd.DataFrame({"time": [30, *[800] * 38, 50, 120, 200, 300, 400, 500, *[800] * 33],
                          "status": [1, *[0] * 38, *[1] * 6, *[0] * 33], "arm": [1] * 39 + [0] * 39})
    got = surv.cox_hazard_ratio(frame, "time", "status", ["arm"])["covariates"]["arm"]
    profile = got["profile"]
    assert profile["lower"] < got["hr"] < profile["upper"]
    assert profile["upper"] < got["upper"] and profile["lower"] < got["lower"]


def _subjects(deaths_treatment: list[int], deaths_control: list[int], n: int = 20) -> pd.DataFrame:
    rows = []
    for arm, deaths in (("treatment", deaths_treatment), ("control", deaths_control)):
        for i in range(n):
            dead = i < len(deaths)
            rows.append({"subject_id": f"{arm[0]}{i:02d}", "arm": arm, "death_day": deaths[i] if dead else None,
                         "last_contact_day": deaths[i] if dead else 800, "transplant_day": None})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("primary_test", ENDPOINTS["survival"].tests)
def test_the_configured_test_is_the_one_answer(primary_test, monkeypatch):
    from msc_ascites.analysis import endpoints
    monkeypatch.setattr(endpoints, "death_times", lambda subjects, transplant, horizon: _death_times(subjects))
    result, _ = survival(_subjects([100], [50, 120, 200, 300, 400]), 730, "censor", True, 0.95,
                         primary_test=primary_test)
    r = result["results"]
    chosen = chosen_test(r, "survival", primary_test)
    p = {"logrank": r["logrank"]["p"], "cox_likelihood_ratio": r["cox"]["lr_p"], "cox_wald": r["cox"]["wald_p"]}
    assert chosen["p"] == p[primary_test] and chosen["name"] == TESTS[primary_test].name
    assert {o["test"]: o["p"] for o in chosen["supplementary"]} == {k: v for k, v in p.items() if k != primary_test}
    interval = ("wald_lower", "wald_upper") if primary_test == "cox_wald" else ("profile_lower", "profile_upper")
    assert (r["cox"]["lower"], r["cox"]["upper"]) == tuple(r["cox"][k] for k in interval)
    assert r["rmst_difference"]["lower"] < r["rmst_difference"]["estimate"] < r["rmst_difference"]["upper"]
    assert r["both_arms"]["at_horizon"]["surv"] == pytest.approx(34 / 40)


def _death_times(subjects: pd.DataFrame) -> pd.DataFrame:
    dead = subjects["death_day"].notna()
    return pd.DataFrame({"subject_id": subjects["subject_id"], "arm": subjects["arm"],
                         "day": subjects["death_day"].where(dead, subjects["last_contact_day"]).astype(float),
                         "event": dead.astype(int)})


def test_e_value_of_a_rare_outcome_takes_the_hazard_ratio_as_a_risk_ratio():
    """VanderWeele & Ding (2017): E = RR + sqrt(RR (RR - 1)) with RR = 1 / HR for HR < 1; the
    common-outcome conversion only when over 15 % have the outcome. HR 0.16: 1/0.16 = 6.25,
    6.25 + sqrt(6.25 * 5.25) = 11.978..."""
    rare = e_value(0.16, 0.02, 0.98, kind="hr", common=False)
    assert rare["e_value"] == pytest.approx(6.25 + (6.25 * 5.25) ** 0.5, rel=1e-12)
    assert rare["e_value_ci"] == pytest.approx(1 / 0.98 + ((1 / 0.98) * (1 / 0.98 - 1)) ** 0.5, rel=1e-12)
    common = e_value(0.16, 0.02, 0.98, kind="hr", common=True)
    assert common["e_value"] < rare["e_value"]


def test_each_comparison_names_its_test_and_keeps_the_others_as_supplementary(config):
    """Mini cohort: a lab test's between-arm comparison, MELD's, each complication's: the configured
    test is the answer (its p from the same comparison), the endpoint's other tests are listed."""
    from test_endpoints import datasets_of
    data = datasets_of(config["raw_dir"], config)
    spec = {**config["endpoints"]["liver_function"], "primary_test": "welch_t"}
    result, _ = compute("liver_function", data, config["analysis"], spec)
    for test, node in result["results"].items():
        chosen = node["primary"]["primary_test"]
        assert chosen["address"] == f"{test}.primary.between.welch_t.p"
        computed = {t: (node["primary"] if t == "ancova" else node["primary"]["between"]).get(t) or {}
                    for t in ENDPOINTS["liver_function"].tests}
        assert chosen["p"] == computed["welch_t"].get("p")
        assert {o["test"]: o["p"] for o in chosen["supplementary"]} == {
            t: c["p"] for t, c in computed.items() if t != "welch_t" and c.get("p") is not None}
    rows = supplementary_tests({"liver_function": {**result, "available": True}})
    assert [row["comparison"] for row in rows] == [node["name"] for node in result["results"].values()]


def test_a_test_the_endpoint_does_not_compute_is_refused_at_parse_time(config):
    bad = {**config, "endpoints": {**config["endpoints"],
                                   "meld": {"primary_test": "fisher_exact"}}}
    with pytest.raises(ConfigError, match=r"endpoints\.meld\.primary_test: 'fisher_exact' is not a test of this "
                                          r"endpoint; choose one of student_t, welch_t, mann_whitney, ancova"):
        check_config(bad)


def test_the_papers_choices_cell_runs_each_endpoints_pre_specified_test(config, tmp_path):
    """Fisher's exact test of the ascites risk ratio is the non-parametric cell's; a t-test the parametric one's."""
    from msc_ascites.sensitivity.grid import ROW, summarise
    from msc_ascites.settings import paper_tests, primary_spec
    tests = paper_tests(config)
    assert tests["ascites_disappearance"] == "nonparametric" and tests["primary_MELD"] == "parametric"
    primary = primary_spec(config)
    rows = [{**{column: None for column in ROW}, **{axis: str(value) for axis, value in primary.items()},
             "family": "primary", "test": test, "endpoint": endpoint, "estimand": "x"}
            for endpoint in ("ascites_disappearance", "primary_MELD") for test in ("parametric", "nonparametric")]
    for row in rows:
        row["transplant"] = row["horizon_days"] = None
    (tmp_path / "cell.json").write_text(json.dumps({"rows": rows}))
    table = summarise([tmp_path / "cell.json"], primary, tests)
    chosen = table[table["primary"]].set_index("endpoint")["test"].to_dict()
    assert chosen == {"ascites_disappearance": "nonparametric", "primary_MELD": "parametric"}


def test_estimands_list_only_the_endpoints_the_cohort_has(config):
    """Mini cohort: one row per available efficacy endpoint, strategies from the config; an endpoint
    that is not available (no labs) has no row, and adverse events (safety counts) never have one."""
    from msc_ascites.data.labels import endpoint_words
    from msc_ascites.products import ENDPOINTS
    from msc_ascites.report.estimands import departures, estimands
    from test_endpoints import datasets_of, run
    data = datasets_of(config["raw_dir"], config)
    endpoints = {name: {**run(name, data, config)[0], "available": True} for name in ENDPOINTS}
    endpoints["liver_function"] = {"available": False, "reason": "no labs"}
    rows = estimands(endpoints, config, endpoint_words(endpoints))
    names = endpoint_words(endpoints)
    assert [row["endpoint"] for row in rows] == [names[n] for n in ("meld", "survival", "ascites_resolution",
                                                                     "paracentesis", "complications")]
    survival = rows[1]
    assert ("TRANSPLANT", "hypothetical: censored at the event") in survival["intercurrent"]
    assert survival["measure"].endswith("; log-rank test")
    assert rows[0]["measure"] == "difference in means, treatment minus control; Student's t-test"
    assert rows[2]["measure"] == "risk difference, treatment minus control, with the risk ratio (Katz interval); Fisher's exact test"
    assert len(departures(config["sensitivity"])) == 7 and departures({"tests": ["parametric"]}) == []


def test_a_skewed_test_compared_on_the_log_scale_as_r():
    """Ratio of geometric means (t-tests on log values) and the ANCOVA of log value on log baseline,
    against R (tests/r_reference/log_scale.R) on pbcseq albumin by treatment arm."""
    from msc_ascites.analysis.endpoints import _between_arms
    expected = json.loads((HERE / "log_scale_values.json").read_text())
    data = pd.read_csv(HERE / "data" / "pbcseq_albumin.csv")
    at_week = pd.DataFrame({"arm": data["trt"].map({1: "treatment", 0: "control"}), "value": data["albumin1"],
                            "baseline": data["albumin0"]})
    between, adjusted = _between_arms(at_week, 0.95, log_scale=True)
    for name, key in (("student", "student_t"), ("welch", "welch_t")):
        assert between["ratio"] == pytest.approx(expected[f"{name}.ratio"], rel=1e-6)
        assert between[key]["ratio_ci"] == pytest.approx([expected[f"{name}.lower"], expected[f"{name}.upper"]],
                                                         rel=1e-6)
        assert between[key]["p"] == pytest.approx(expected[f"{name}.p"], rel=1e-6)
    assert [adjusted[k] for k in ("ratio", "ratio_lower", "ratio_upper", "p")] == pytest.approx(
        [expected[f"ancova.{k}"] for k in ("ratio", "lower", "upper", "p")], rel=1e-6)
    at_week.loc[0, "value"] = 0.0
    assert _between_arms(at_week, 0.95, log_scale=True)[0]["available"] is False
