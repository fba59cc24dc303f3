"""Reported versus reproduced, and the abstract's own arithmetic (hand-checked)."""

import pytest

from msc_ascites.analysis.scorecard import (load_published, matches, paper_consistency, possible_counts, round_half_up,
                                   scorecard)
from conftest import ROOT

PUBLISHED = load_published(ROOT / "resources" / "published" / "hua2020_abstract.yaml")


def test_round_half_up():
    # Python's round() rounds half to even on binary floats: round(0.0625, 3) = 0.062.
    assert round_half_up(0.0625, 3) == 0.063
    assert round_half_up(2.5, 0) == 3
    assert round_half_up(14.405, 2) == 14.41


def test_matches():
    assert matches("<0.05", 0.0499, 2) and not matches("<0.05", 0.05, 2)
    assert matches(0.047, 0.04718, 3) and not matches(0.047, 0.0475, 3)
    assert matches(97, 97.4359, 0) and not matches(0.49, 0.0491, 2)


@pytest.mark.parametrize("percent, counts", [(97, [38]), (85, [33]), (23, [9]), (5, [2]), (3, [1]), (15, [6]),
                                             (13, [5]), (8, [3])])
def test_possible_counts_out_of_39(percent, counts):
    # 100 k / 39 for k = 1..39: 2.56, 5.13, 7.69, 10.26, 12.82, 15.38, ..., 23.08, ..., 84.62, ..., 97.44.
    assert possible_counts(percent, 39, 0) == counts


def test_a_percentage_no_count_can_give():
    # Out of 39, one patient is 2.56 % and two are 5.13 %: nothing prints as 4 %.
    assert possible_counts(4, 39, 0) == []


@pytest.fixture(scope="module")
def consistency():
    return paper_consistency(PUBLISHED).set_index("check")


def test_meld_p_is_consistent_with_its_summary(consistency):
    row = consistency.loc["meld_p_from_summary"]
    assert row["consistent"] == "yes" and "Student 0.0063" in row["recomputed"]


def test_ascites_p_is_fishers(consistency):
    # 9/39 vs 2/39: Fisher 0.0472, chi-square 0.0228, Yates 0.0509 (tests/test_statistics.py).
    row = consistency.loc["ascites_p_which_test"]
    assert row["consistent"] == "yes"
    assert "reproduced by Fisher's exact only" in row["detail"]


def test_survival_p_is_flagged(consistency):
    row = consistency.loc["survival_p_from_percentages"]
    assert row["consistent"] == "no"
    assert "0.049 fits" in row["detail"]


def test_unreported_p_values_computed(consistency):
    # HRS 1/39 vs 6/39: Fisher p = 0.1080.
    assert consistency.loc["hrs_p_not_reported", "recomputed"] == "Fisher 0.1080"


def test_a_significant_unreported_p_keeps_its_explanation(consistency):
    # HRS as 23% vs 5%: 9/39 vs 2/39, Fisher p = 0.0472 (as ascites above): the detail must
    # still say which counts and test gave it, with the verdict at the end.
    import copy
    published = copy.deepcopy(PUBLISHED)
    for fig in published["figures"]:
        if fig["id"] in ("hrs_treatment_pct", "hrs_control_pct"):
            fig["value"] = 23 if "treatment" in fig["id"] else 5
    row = paper_consistency(published).set_index("check").loc["hrs_p_not_reported"]
    assert row["recomputed"] == "Fisher 0.0472"
    assert row["detail"] == ("9/39 vs 2/39: the abstract gives no p; Fisher's exact test gives 0.0472, "
                             "significant at 0.05")
    assert consistency.loc["hrs_p_not_reported", "detail"] == (
        "1/39 vs 6/39: the abstract gives no p; Fisher's exact test gives 0.1080, not significant at 0.05")


def test_scorecard_statuses(consistency):
    """The reproduced numbers are the analysis-results table's (the ones the report prints); the
    endpoint results say only whether each endpoint was computed."""
    results = {"meld": {"available": True, "results": {}}, "survival": {"available": True, "results": {}},
               "complications": {"available": False, "reason": "no events table"}}
    values = {"meld:primary.treatment.mean": 14.4087, "survival:logrank.p": 0.0491}
    card = scorecard(PUBLISHED, results, consistency.reset_index(), values).set_index("figure")
    assert card.loc["meld_week48_treatment_mean", ["status", "reproduced_rounded"]].tolist() == ["match", "14.41"]
    assert card.loc["survival_2y_p", "status"] == "mismatch (paper inconsistent)"
    assert card.loc["hrs_treatment_pct", ["status", "note"]].tolist() == ["not available", "no events table"]
    assert card.loc["meld_week48_control_sd", "status"] == "not available"


@pytest.mark.parametrize("raw_dir, expected", [("resources/raw", {"scorecard", "paper_consistency"}),
                                               ("tests/data/mini_cohort", set())])
def test_scorecard_rules_exist_only_for_a_study_with_published_figures(raw_dir, expected):
    """The reconstructed cohort's study names its published figures; the mini cohort names no study."""
    import subprocess

    from workflow_runs import SMALL_GRID, SNAKEMAKE
    dry = subprocess.run([str(SNAKEMAKE), "-n", "--cores", "1", "--configfile", str(SMALL_GRID), "--config",
                          f"raw_dir={raw_dir}", "--directory", str(ROOT), "--list-rules"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert {"scorecard", "paper_consistency"} & set(dry.stdout.split()) == expected


def test_the_serious_adverse_events_line_says_what_it_compares(consistency):
    """Issue 15: "0 serious adverse events = match" beside 7 deaths must say which collection it counts."""
    results = {"adverse_events": {"available": True, "parameters": {"horizon_days": 730},
                                  "results": {}}}
    values = {"adverse_events:serious_events.treatment": 0, "adverse_events:serious_events.control": 0}
    card = scorecard(PUBLISHED, results, consistency.reset_index(), values).set_index("figure")
    row = card.loc["serious_adverse_events_control"]
    assert row["status"] == "match"
    assert row["note"] == ("compares the serious events of adverse_events.csv with onset from day 0 to day 730; the "
                           "deaths and complications of events.csv are disease outcomes, not in this count; the "
                           "report lists both")
