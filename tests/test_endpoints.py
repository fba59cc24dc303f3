"""Endpoints on the mini cohort, and "not available" where the cohort lacks what one needs."""

import pandas as pd
import pytest

from msc_ascites.data.cleaning import clean_cohort
from msc_ascites.analysis.endpoints import NotAvailable, compute, lookup
from msc_ascites.products import ENDPOINTS, endpoint_inputs
from msc_ascites.data.datasets import EventRoles, build_datasets
from msc_ascites.data.visits import visits_from_config


def datasets_of(raw_dir, config):
    visits = visits_from_config(config["visits"])
    cleaned = clean_cohort(raw_dir, config["cohort"], visits)
    return build_datasets(cleaned.tables, cleaned.absent, visits, roles(config))


def run(name, data, config):
    """The endpoint from only the datasets its registry entry says it reads (its job's inputs)."""
    reads = {dataset: frame for dataset, frame in data.items() if dataset in ENDPOINTS[name].reads}
    return compute(name, reads, config["analysis"], config["endpoints"][name])


def arm_sizes(node) -> list[int]:
    """Every ``n`` given for an arm anywhere in a result (``{"treatment": {"n": ...}, ...}``)."""
    if isinstance(node, list):
        return [n for item in node for n in arm_sizes(item)]
    if not isinstance(node, dict):
        return []
    found = [node[arm]["n"] for arm in ("treatment", "control")
             if isinstance(node.get(arm), dict) and isinstance(node[arm].get("n"), int)]
    return found + [n for value in node.values() for n in arm_sizes(value)]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_every_endpoint_computes_on_the_mini_cohort(config, name):
    # Every registered endpoint, not a hand list: a definition in words, the configured
    # parameters as given, per-arm numbers from the 2 + 2 patients, and rows in its table.
    result, table = run(name, datasets_of(config["raw_dir"], config), config)
    assert isinstance(result["definition"], str) and len(result["definition"]) > 40
    spec = config["endpoints"][name]
    assert {key: result["parameters"][key] for key in spec} == spec
    sizes = arm_sizes(result["results"])
    if name != "adverse_events":  # counts patients by arm without per-arm n dicts
        assert sizes and set(sizes) <= {0, 1, 2} and max(sizes) >= 1, sizes
    else:
        assert result["results"]["n"] == {"treatment": 2, "control": 2}
    assert isinstance(table, pd.DataFrame) and len(table) > 0


def test_ascites_resolution_counts(config):
    # Baseline grades: 001 3, 002 2, 003 2, 004 3; week 48: 001 grade 0 (resolved), 003 grade 1,
    # 002 and 004 not assessed (not resolved). Treatment 1/2, control 0/2.
    result, _ = run("ascites_resolution", datasets_of(config["raw_dir"], config), config)
    assert lookup(result, "treatment.events") == 1 and lookup(result, "treatment.n") == 2
    assert lookup(result, "control.events") == 0
    assert result["inputs"]["missing_week_assessment"] == ["002", "004"]


def test_survival_mini(config):
    result, _ = run("survival", datasets_of(config["raw_dir"], config), config)
    # One control death (002, day 486) among 2: S(730) = 0.5; no treatment death.
    assert lookup(result, "control.at_horizon.surv") == 0.5
    assert lookup(result, "treatment.at_horizon.surv") == 1.0
    # Landmarks default to the horizon: the same estimate, with its day.
    assert result["results"]["control"]["landmarks"] == [
        {"day": 730, **{k: v for k, v in lookup(result, "control.at_horizon").items() if k not in ("time", "percent")}}]
    assert lookup(result, "control.deaths_total") == 1 and lookup(result, "treatment.deaths_total") == 0


def test_landmarks_cover_the_whole_follow_up(config):
    analysis = {**config["analysis"], "landmark_days": [100, 485, 486, 5000]}
    data = datasets_of(config["raw_dir"], config)
    result, _ = compute("survival", data, analysis, config["endpoints"]["survival"])
    control = result["results"]["control"]["landmarks"]
    # 002 dies on day 486: S = 1 up to day 485, 0.5 from day 486 on, also past the last follow-up.
    assert [(m["day"], m["surv"], m["n_event"]) for m in control] == [(100, 1.0, 0), (485, 1.0, 0),
                                                                       (486, 0.5, 1), (5000, 0.5, 1)]
    assert control[-1]["n_risk"] == 0
    complications, _ = compute("complications", data, analysis, config["endpoints"]["complications"])
    for event, found in complications["results"].items():
        if found.get("available", True):
            for arm in ("treatment", "control"):
                marks = found[arm]["landmarks"]
                assert [m["day"] for m in marks] == [100, 485, 486, 5000]
                assert found[arm]["events_total"] >= found[arm]["events_within_horizon"]
                assert all(0 <= m["cif"] <= 1 and m["std_err"] >= 0 for m in marks)


def test_adverse_events_escape_nothing(config):
    result, table = run("adverse_events", datasets_of(config["raw_dir"], config), config)
    assert result["results"]["patients"] == {"treatment": 2, "control": 0}
    assert '<img src="http://example.invalid/x.png">' in set(table["level"])


@pytest.fixture
def sparse_cohort(mini_copy):
    """No ascites, paracentesis or AE table, and no creatinine or INR."""
    for name in ("ascites", "paracentesis", "adverse_events"):
        (mini_copy / f"{name}.csv").unlink()
    labs = (mini_copy / "labs.csv").read_text().splitlines()
    (mini_copy / "labs.csv").write_text("\n".join(l for l in labs if ",INR," not in l and ",CREA," not in l) + "\n")
    return mini_copy


def test_not_available_with_reason(sparse_cohort, config):
    data = datasets_of(sparse_cohort, config)
    with pytest.raises(NotAvailable, match="MELD needs total bilirubin, INR and creatinine"):
        run("meld", data, config)
    result, _ = run("liver_function", data, config)
    assert result["not_available"] == {"INR": "no INR values in this cohort", "CREA": "no CREA values in this cohort",
                                       "PTA": "no PTA values in this cohort", "PT": "no PT values in this cohort"}
    assert "ALB" in result["results"]
    with pytest.raises(NotAvailable, match="no ascites assessments"):
        run("ascites_resolution", data, config)


def test_endpoint_step_writes_not_available(sparse_cohort, config, tmp_path):
    """The workflow's step: JSON and CSV say 'not available' and why, for each missing table."""
    import json

    from msc_ascites.data.datasets import write_datasets
    from msc_ascites.analysis.endpoints import write_endpoint
    from msc_ascites.data.cleaning import write_clean_cohort
    write_clean_cohort(sparse_cohort, config["cohort"], config["visits"], tmp_path / "clean",
                       tmp_path / "log.csv", tmp_path / "clean" / "summary.json")
    write_datasets(tmp_path / "clean", tmp_path / "clean" / "summary.json", config["visits"], "MELD",
                   tmp_path / "datasets", roles(config))
    outcomes = {}
    for name in ENDPOINTS:
        write_endpoint(name, endpoint_inputs(name, tmp_path / "datasets"), config["analysis"], config["endpoints"][name],
                       tmp_path / f"{name}.json", tmp_path / f"{name}.csv")
        outcomes[name] = json.loads((tmp_path / f"{name}.json").read_text())
    unavailable = {name: r["reason"] for name, r in outcomes.items() if not r["available"]}
    assert unavailable == {
        "meld": "MELD needs total bilirubin, INR and creatinine at the same visit; this cohort has no visit with "
                "all three",
        "ascites_resolution": "ascites.csv is not in the raw data folder",
        "paracentesis": "paracentesis.csv is not in the raw data folder",
        "adverse_events": "adverse_events.csv is not in the raw data folder"}
    assert outcomes["survival"]["available"] and outcomes["complications"]["available"]
    assert pd.read_csv(tmp_path / "meld.csv")["available"].tolist() == [False]


def roles(config):
    return EventRoles.from_config(config["analysis"], config["endpoints"]["complications"]["events"])


def test_outcome_not_collected_makes_its_endpoint_not_available(config, tmp_path):
    """cohort.yaml's not_collected: survival says so, with the reason, rather than 100 % survival."""
    import json

    from msc_ascites.data.cleaning import write_clean_cohort
    from msc_ascites.data.datasets import write_datasets
    from msc_ascites.analysis.endpoints import write_endpoint
    write_clean_cohort(config["raw_dir"], config["cohort"], config["visits"], tmp_path / "clean",
                       tmp_path / "log.csv", tmp_path / "clean" / "summary.json")
    write_datasets(tmp_path / "clean", tmp_path / "clean" / "summary.json", config["visits"], "MELD",
                   tmp_path / "datasets", roles(config), {"death": "deaths not recorded in this data set"})
    write_endpoint("survival", endpoint_inputs("survival", tmp_path / "datasets"), config["analysis"], config["endpoints"]["survival"],
                   tmp_path / "survival.json", tmp_path / "survival.csv")
    result = json.loads((tmp_path / "survival.json").read_text())
    assert result == {"endpoint": "survival", "available": False,
                      "reason": "not collected: deaths not recorded in this data set"}


def test_cumulative_incidence_table_runs_to_the_last_follow_up(config):
    data = datasets_of(config["raw_dir"], config)
    _, table = run("complications", data, config)
    horizon = config["analysis"]["horizon_days"]
    assert table["time"].max() == data["time_to_event"]["day"].max() > horizon
    assert horizon in set(table["time"])
