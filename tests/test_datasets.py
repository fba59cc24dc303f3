"""Analysis datasets built from the cleaned mini cohort; expectations read off the fixture."""

import pandas as pd
import pytest

from msc_ascites.data.cleaning import clean_cohort
from msc_ascites.data.datasets import EventRoles, analysis_labs, build_datasets
from msc_ascites.data.visits import visits_from_config


def roles(config):
    return EventRoles.from_config(config["analysis"], config["endpoints"]["complications"]["events"])


@pytest.fixture
def datasets(config):
    visits = visits_from_config(config["visits"])
    cleaned = clean_cohort(config["raw_dir"], config["cohort"], visits)
    return build_datasets(cleaned.tables, cleaned.absent, visits, roles(config))


def test_week48_value_is_closest_to_day_336(datasets):
    labs = datasets["labs"]
    alb = labs[(labs["subject_id"] == "001") & (labs["test"] == "ALB")].set_index("visit")
    # Day 340 (4 from 336) beats day 315 (21 from 336); baseline 3.0 g/dL = 30 g/L.
    assert alb.loc["W48", ["study_day", "value", "baseline", "change"]].tolist() == [340, 35.0, 30.0, 5.0]


def test_meld_derived_per_visit_with_its_source_rows(datasets):
    labs = datasets["labs"]
    meld = labs[(labs["subject_id"] == "001") & (labs["test"] == "MELD")].set_index("visit")
    # Baseline: bilirubin 51.3 umol/L, INR 1.5, creatinine 1 mg/dL -> 15.123081 (tests/test_meld.py).
    assert meld.loc["BL", "value"] == pytest.approx(15.123081, abs=1e-5)
    assert meld.loc["BL", "source_rows"] == "3;4;5"
    # Week 48: bilirubin 34.2 umol/L = 1.99953 mg/dL, INR 1.3, creatinine <50 umol/L -> set to 1:
    # 3.78 * 0.692912 + 11.2 * 0.262364 + 6.43 = 2.619208 + 2.938480 + 6.43 = 11.987688
    assert meld.loc["W48", "value"] == pytest.approx(11.987688, abs=1e-5)


def test_labs_read_as_categoricals_give_the_same_table(config):
    """write_datasets reads the cleaned labs' texts as Categoricals; the analysis labs are the same."""
    visits = visits_from_config(config["visits"])
    tables = clean_cohort(config["raw_dir"], config["cohort"], visits).tables
    labs, subjects = tables["labs"], tables["subjects"]
    coded = labs.astype({column: "category" for column in ("subject_id", "test", "unit")})
    pd.testing.assert_frame_equal(analysis_labs(coded, subjects, visits), analysis_labs(labs.copy(), subjects, visits))


def test_subject_level(datasets):
    adsl = datasets["subjects"].set_index("subject_id")
    assert adsl.loc["002", ["death", "death_day"]].tolist() == [1, 486]
    assert adsl.loc["001", ["n_infusions", "infusion_day", "cells_per_kg"]].tolist() == [1, 0, 1e6]
    assert adsl.loc["004", "infusion_day"] == 1
    assert adsl.loc["002", "baseline_ALB"] == 28.0   # the ND row on day -2 is gone; day -7 is used


def test_time_to_event_with_competing_death(datasets):
    tte = datasets["time_to_event"].set_index(["endpoint", "subject_id"])
    assert tte.loc[("DEATH", "002"), ["day", "status", "source_file", "source_row"]].tolist() == \
        [486, 1, "events.csv", 3]
    assert tte.loc[("DEATH", "001"), ["day", "status", "source_file"]].tolist() == [741, 0, "subjects.csv"]
    # 002 died (day 486) without HRS: competing risk, status 2.
    assert tte.loc[("HRS", "002"), ["day", "status"]].tolist() == [486, 2]
    # 003: first of two SBP episodes (days 311 and 423).
    assert tte.loc[("SBP", "003"), ["day", "status", "source_row"]].tolist() == [311, 1, 4]
    assert tte.loc[("PARACENTESIS", "002"), ["day", "status"]].tolist() == [90, 1]


def test_no_paracentesis_endpoint_without_its_table(mini_copy, config):
    (mini_copy / "paracentesis.csv").unlink()
    visits = visits_from_config(config["visits"])
    cleaned = clean_cohort(mini_copy, config["cohort"], visits)
    built = build_datasets(cleaned.tables, cleaned.absent, visits, roles(config))
    assert "PARACENTESIS" not in set(built["time_to_event"]["endpoint"])


def test_ascites_at_visits(datasets):
    asc = datasets["ascites"].set_index(["subject_id", "visit"])
    assert asc.loc[("001", "BL"), "grade"] == 3 and asc.loc[("001", "W48"), "grade"] == 0
    # 003's day-333 assessment (2013-02-01) is in the W48 window.
    assert asc.loc[("003", "W48"), ["study_day", "grade"]].tolist() == [333, 1]


def test_event_roles_come_from_config_only(config):
    """Only the configured codes get ADTTE rows; no competing event, no competing columns."""
    visits = visits_from_config(config["visits"])
    cleaned = clean_cohort(config["raw_dir"], config["cohort"], visits)
    built = build_datasets(cleaned.tables, cleaned.absent, visits, EventRoles("DEATH", (), ("SBP",)))
    assert set(built["time_to_event"]["endpoint"]) == {"DEATH", "SBP", "PARACENTESIS"}
    assert "transplant_day" not in built["subjects"] and built["subjects"]["competing_day"].isna().all()


@pytest.mark.parametrize("key, value, message", [
    ("competing_events", ["transplant"], r"analysis.competing_events\[0\]: 'transplant' is not an event code; "
                                          r"the contract's code is 'TRANSPLANT'"),
    ("competing_events", ["DEATH"], r"analysis.competing_events\[0\]: 'DEATH' is analysis.death_event"),
    ("death_event", "Death", r"analysis.death_event: 'Death' is not an event code")])
def test_event_role_errors_name_the_key(config, key, value, message):
    from msc_ascites.errors import ConfigError
    from msc_ascites.settings import check_config
    with pytest.raises(ConfigError, match=message):
        check_config({**config, "analysis": {**config["analysis"], key: value}})
