"""Analysis visits from study days, against hand-worked cases."""

import pandas as pd
import pytest

from msc_ascites.errors import ConfigError
from msc_ascites.data.visits import Visit, nominal_visit, select_visit_values, visits_from_config

CONFIG = {"baseline": {"label": "BL", "lookback_days": 30},
          "scheduled": [{"week": 4, "label": "W4", "window_days": [15, 42]},
                        {"week": 48, "label": "W48", "window_days": [295, 378]}]}
VISITS = visits_from_config(CONFIG)


def records(rows):
    frame = pd.DataFrame(rows, columns=["subject_id", "study_day", "value"])
    frame["source_row"] = range(2, len(frame) + 2)
    return frame


def select(rows):
    out = select_visit_values(records(rows), VISITS, by=["subject_id"], value="value")
    return {(r.subject_id, r.visit): (r.study_day, r.value) for r in out.itertuples()}


def test_baseline_is_last_value_on_or_before_day_zero():
    got = select([("a", -20, 1.0), ("a", -3, 2.0), ("a", 0, 3.0), ("a", 2, 9.0)])
    assert got[("a", "BL")] == (0, 3.0)


def test_baseline_lookback_limits_how_old():
    assert ("a", "BL") not in select([("a", -31, 1.0)])
    assert select([("a", -30, 1.0)])[("a", "BL")] == (-30, 1.0)


def test_week_value_is_closest_to_target_ties_to_earlier():
    # Target of week 48 is day 336: days 330 and 342 are both 6 days away; 330 wins.
    got = select([("a", 342, 2.0), ("a", 330, 1.0), ("a", 300, 0.5)])
    assert got[("a", "W48")] == (330, 1.0)
    # Day 337 (1 away) beats 330 (6 away).
    assert select([("a", 330, 1.0), ("a", 337, 5.0)])[("a", "W48")] == (337, 5.0)


def test_values_outside_every_window_are_not_used():
    got = select([("a", 100, 1.0), ("a", 379, 2.0)])
    assert got == {}


def test_same_day_values_are_averaged_and_all_rows_kept():
    out = select_visit_values(records([("a", 28, 1.0), ("a", 28, 2.0)]), VISITS, by=["subject_id"], value="value")
    row = out.iloc[0]
    assert (row["value"], row["n_records"], row["source_rows"]) == (1.5, 2, "2;3")


def test_nominal_visit():
    assert list(nominal_visit([-31, -30, 0, 14, 15, 42, 43, 336], VISITS)) == ["", "BL", "BL", "", "W4", "W4", "",
                                                                               "W48"]


def test_overlapping_windows_are_a_config_error():
    bad = {**CONFIG, "scheduled": [{"week": 4, "label": "W4", "window_days": [15, 60]},
                                   {"week": 8, "label": "W8", "window_days": [50, 70]}]}
    with pytest.raises(ConfigError, match="overlaps"):
        visits_from_config(bad)


def test_window_must_hold_target():
    with pytest.raises(ConfigError, match="target day 28"):
        visits_from_config({**CONFIG, "scheduled": [{"week": 4, "label": "W4", "window_days": [30, 40]}]})


def test_a_record_in_two_windows_is_an_error():
    overlapping = [*VISITS, Visit("X", 5, 35, 30, 40)]  # built by hand: visits_from_config refuses it
    with pytest.raises(ValueError, match="overlaps"):
        select_visit_values(records([("a", 35, 1.0)]), overlapping, by=["subject_id"], value="value")
