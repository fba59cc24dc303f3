"""Gray's test and the numbers under a curve, against R (tests/r_reference/figs.R: cmprsk::cuminc,
summary.survfit) and hand counts."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from msc_ascites.errors import NotEstimable
from msc_ascites.stats import survival as surv
from msc_ascites.stats.competing import event_counts, gray_test, risk_table

HERE = Path(__file__).parent / "r_reference"
R = json.loads((HERE / "figs_values.json").read_text())
DATA = {"mgus2": ("mgus2_cr.csv", "etime", "event", "sex"), "pbc": ("pbc_cr.csv", "time", "status", "trt"),
        "ties": ("ties_cr.csv", "time", "status", "group")}
MONTHS_IN_DAYS = [m * 365.25 / 12 for m in (0, 6, 12, 18, 24)]


@pytest.mark.parametrize("name, cause, rho", [("mgus2", 1, 0), ("mgus2", 2, 0), ("mgus2", 1, 1), ("mgus2", 2, 1),
                                              ("pbc", 1, 0), ("pbc", 2, 0), ("ties", 1, 0), ("ties", 2, 0)])
def test_gray_test_equals_cmprsk(name, cause, rho):
    file, time, status, group = DATA[name]
    data = pd.read_csv(HERE / "data" / file)
    got = gray_test(data[time], data[status], data[group], cause, rho)
    key = f"{name}.rho{rho}.cause{cause}"
    assert got["statistic"] == pytest.approx(R[f"{key}.stat"], rel=1e-6)
    assert got["p"] == pytest.approx(R[f"{key}.p"], rel=1e-6)
    assert got["df"] == R[f"{key}.df"]


def test_gray_test_does_not_depend_on_the_order_of_rows_or_group_labels():
    data = pd.read_csv(HERE / "data" / "ties_cr.csv")
    shuffled = data.sample(frac=1, random_state=3)
    relabelled = shuffled["group"].map({"a": "z", "b": "y", "c": "x"})
    assert gray_test(shuffled["time"], shuffled["status"], relabelled)["statistic"] == pytest.approx(
        R["ties.rho0.cause1.stat"], rel=1e-6)


def test_gray_test_not_estimable_where_cmprsk_gives_its_sentinel():
    assert (R["singular.rho0.cause1.stat"], R["singular.rho0.cause1.p"]) == (-1, 1)
    with pytest.raises(NotEstimable, match="no variance"):
        gray_test([5, 6, 1, 2], [1, 0, 2, 2], ["a", "a", "b", "b"])
    assert gray_test([5, 6, 1, 2], [1, 0, 2, 2], ["a", "a", "b", "b"], cause=2)["statistic"] == pytest.approx(
        R["singular.rho0.cause2.stat"], rel=1e-6)


def test_gray_test_not_estimable_without_two_groups_or_events():
    with pytest.raises(NotEstimable, match="two groups"):
        gray_test([1, 2], [1, 0], ["a", "a"])
    with pytest.raises(NotEstimable, match="no event"):
        gray_test([1, 2], [2, 0], ["a", "b"])


@pytest.mark.parametrize("sex", [1, 2])
def test_risk_table_equals_summary_survfit(sex):
    lung = pd.read_csv(HERE / "data" / "lung.csv")
    rows = lung[lung["sex"] == sex]
    expected = {column: [int(v) for v in R[f"lung.sex{sex}.{column}"].split()]
                for column in ("n_risk", "events", "censored")}
    for steps in (event_counts(rows["time"], rows["status"]), surv.kaplan_meier(rows["time"], rows["status"])):
        table = risk_table(steps, MONTHS_IN_DAYS)
        assert list(table["at_risk"]) == expected["n_risk"]
        assert list(table["events"]) == expected["events"]
        assert list(table["censored"]) == expected["censored"]


def test_risk_table_by_hand_with_competing_events():
    # 6 patients: event day 2, competing day 3, censored day 3, event day 5, censored 8, competing 9.
    steps = event_counts([2, 3, 3, 5, 8, 9], [1, 2, 0, 1, 0, 2])
    table = risk_table(steps, [0, 3, 3.5, 10])
    assert table.to_dict("list") == {"day": [0, 3, 3.5, 10], "at_risk": [6, 5, 3, 0], "events": [0, 1, 1, 2],
                                     "competing": [0, 0, 1, 2], "censored": [0, 0, 1, 2]}
    assert np.all(table[["at_risk", "events", "competing", "censored"]].sum(axis=1) == 6)


def test_complications_endpoint_gives_gray_test_and_curves_stepping_at_events(config):
    from test_endpoints import datasets_of, run
    data = datasets_of(config["raw_dir"], config)
    result, table = run("complications", data, config)
    horizon = config["analysis"]["horizon_days"]
    tte = data["time_to_event"]
    for event, found in result["results"].items():
        if not found.get("available", True):
            continue
        rows = tte[tte["endpoint"] == event].copy()
        rows.loc[rows["day"] > horizon, ["status", "day"]] = [0, horizon]   # within the horizon
        if (rows["status"] == 1).any():
            expected = gray_test(rows["day"], rows["status"], rows["arm"])
            assert found["gray_test"]["p"] == pytest.approx(expected["p"], rel=1e-12)
        else:
            assert found["gray_test"] == {"available": False, "reason": "no event of cause 1: Gray's test is not defined"}
        curve = table[table["event"] == event]
        for arm in ("treatment", "control"):
            days = set(tte.loc[(tte["endpoint"] == event) & (tte["arm"] == arm) & (tte["status"] != 0), "day"])
            assert days <= set(curve.loc[curve["arm"] == arm, "time"])    # a step at each event day
    assert {"lower", "upper"} <= set(table.columns)


def test_survival_endpoint_gives_the_risk_difference_of_death(config):
    from test_endpoints import datasets_of, run
    result, _ = run("survival", datasets_of(config["raw_dir"], config), config)
    r = result["results"]
    # Mini cohort: no treatment death among 2, one control death among 2 within the horizon.
    assert (r["treatment"]["deaths_within_horizon"], r["control"]["deaths_within_horizon"]) == (0, 1)
    assert r["risk_difference"]["estimate"] == pytest.approx(-0.5)
    assert r["risk_difference"]["lower"] < -0.5 < r["risk_difference"]["upper"]
