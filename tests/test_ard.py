"""The analysis-results table (results/ard.csv) and the check that the report prints no number it
does not hold: the table's rows on hand-made results, the check on hand-made HTML and SVG (where it
must find the orphan planted), and on the reports of the reconstructed and the mini cohort."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from msc_ascites.audit.printed import orphans, printed_numbers, report_orphans
from msc_ascites.outputs import ard_values, write_csv
from msc_ascites.report.ard import (ard_table, endpoint_address, endpoint_rows, from_ard, json_address, table1_rows,
                                    table_address, table_rows)


def test_endpoint_numbers_keep_the_scorecard_addresses_and_counts_stay_counts():
    result = {"available": True, "n": {"treatment": 39, "control": 38},
              "inputs": {"subjects": {"treatment": ["001"]}, "missing": 3},
              "results": {"fisher_exact": {"p": 0.0472, "odds_ratio": 5.44},
                          "risk_difference": {"method": "Newcombe hybrid score", "estimate": 0.18},
                          "treatment": {"events": 9, "percent": 23.08, "flag": True}}}
    rows = {row["address"]: row for row in endpoint_rows("ascites_resolution", "r.json", result, "itt")}
    assert set(rows) == {"ascites_resolution:@n.treatment", "ascites_resolution:@n.control",
                         "ascites_resolution:fisher_exact.p", "ascites_resolution:fisher_exact.odds_ratio",
                         "ascites_resolution:risk_difference.estimate", "ascites_resolution:treatment.events",
                         "ascites_resolution:treatment.percent"}  # no subjects, no flag, nothing under inputs
    assert rows["ascites_resolution:@n.control"] | {} == {
        "address": "ascites_resolution:@n.control", "endpoint": "ascites_resolution", "population": "itt",
        "group": "control", "statistic": "n", "value": 38, "method": "n", "source": "r.json"}
    assert isinstance(rows["ascites_resolution:treatment.events"]["value"], int)
    assert rows["ascites_resolution:fisher_exact.p"]["method"] == "fisher_exact"
    assert rows["ascites_resolution:risk_difference.estimate"]["method"] == "Newcombe hybrid score"
    assert rows["ascites_resolution:treatment.percent"]["group"] == "treatment"


def test_a_table_gives_each_number_of_a_cell_and_no_identifier():
    table = pd.DataFrame({"subject_id": ["005"], "arm": ["treatment"], "day": [513], "limit": ["LLN 35 g/L"],
                          "outcome": ["died, day 513"], "grade": [float("nan")]})
    rows = {row["address"]: row for row in table_rows("safety_listing", "l.csv", table)}
    assert set(rows) == {"safety_listing:0:day", "safety_listing:0:limit.0", "safety_listing:0:outcome.0"}
    assert {row["group"] for row in rows.values()} == {"treatment"} and rows["safety_listing:0:limit.0"]["value"] == 35


def test_table1_numbers_are_named_by_the_summary_their_row_states():
    table = pd.DataFrame({"variable": ["n", "Total bilirubin, umol/L, median [Q1,Q3]"], "level": ["", ""],
                          "Missing": ["", "0"], "Cells": ["39", "58.20 [37.60,96.90]"],
                          "SMT": ["39", "55.2 [36.1,85.95]"],
                          "SMD": ["", "-0.160"], "p": ["", "0.532"], "test": ["", "Mann-Whitney U"]})
    rows = {row["address"]: row for row in table1_rows("t.csv", table, {"Cells": "treatment", "SMT": "control"})}
    stats = {address: (row["group"], row["statistic"], row["value"]) for address, row in rows.items()}
    assert stats["table1:n:Cells.0"] == ("treatment", "n", 39)
    assert stats["table1:Total bilirubin, umol/L, median [Q1,Q3]:SMT.2"] == ("control", "Q3", 85.95)
    assert stats["table1:Total bilirubin, umol/L, median [Q1,Q3]:SMD.0"] == ("both arms", "SMD", -0.16)
    assert rows["table1:Total bilirubin, umol/L, median [Q1,Q3]:p.0"]["method"] == "Mann-Whitney U"


def test_the_report_prints_the_numbers_of_the_analysis_results_table(tmp_path):
    """A number the report prints is the table's, written and read back exactly (a count stays a count,
    a float its every digit); what the table lacks stops the report; words and identifiers stay."""
    result = {"available": True, "n": {"treatment": 39},
              "results": {"fisher_exact": {"p": 0.047213649368709945, "method": "Fisher"}, "deaths": [1, 2]}}
    write_csv(ard_table(endpoint_rows("ascites", "a.json", result, "itt")), tmp_path / "ard.csv")
    values = ard_values(tmp_path / "ard.csv")
    assert from_ard(result, values, endpoint_address("ascites")) == result
    assert isinstance(values["ascites:@n.treatment"], int)
    values["ascites:fisher_exact.p"] = 0.5  # the table, not the endpoint's file, decides
    assert from_ard(result, values, endpoint_address("ascites"))["results"]["fisher_exact"] == {"p": 0.5, "method": "Fisher"}
    del values["ascites:deaths.1"]
    with pytest.raises(KeyError, match="ascites:deaths.1"):
        from_ard(result, values, endpoint_address("ascites"))
    flow = {"arms": [{"enrolled": 39}]}
    assert from_ard(flow, {"patient_flow:arms.0.enrolled": 38}, json_address("patient_flow")) == {"arms": [{"enrolled": 38}]}
    balance = [{"covariate": "albumin", "smd": 0.36, "subject_id": 7}]
    assert from_ard(balance, {"balance:0:smd": 0.3}, table_address("balance")) == [
        {"covariate": "albumin", "smd": 0.3, "subject_id": 7}]


def test_printed_numbers_are_read_as_a_reader_reads_them():
    numbers = [n for n, _ in printed_numbers("(-22.1 to 6.1), Gr 1-2, W48, p <0.001, 10⁹/L, v 2.3.3, 45 %")]
    assert numbers == ["-22.1", "6.1", "1", "2", "45"]


ARD = pd.DataFrame({"address": ["meld:primary.treatment.mean", "ascites_resolution:treatment.proportion", "x:n"],
                    "value": ["14.408710049889278", "0.23076923076923078", "39"]})


def test_the_check_finds_the_one_number_the_table_does_not_hold():
    html = ("<html><head><style>p { margin: 12px }</style></head><body>"
            "<p>MELD 14.41 in 39 patients; resolved 23.1 %; p <0.001; W48 visit day <b>84</b>.</p>"
            '<p><span class="prov">[trace 5447054a]</span> <span class="mono">99211e7</span> '
            '<span class="citation">VanderWeele &amp; Ding 2017</span></p>'
            '<table class="log"><tr><td>labs.csv</td><td>240</td></tr></table></body></html>')
    found = orphans(ARD, html, [])
    assert len(found) == 1 and found[0].startswith("report: 84 (")
    assert orphans(ARD, html.replace("<b>84</b>", "<b>39</b>"), []) == []


def test_the_check_reads_figure_labels_but_not_axis_ticks(tmp_path):
    svg = tmp_path / "km.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"><g id="xtick_1"><text>64</text></g>'
                   "<g id=\"text_1\"><text>At risk 39</text><text>HR 0.92</text></g></svg>")
    assert [line.split(" (")[0] for line in orphans(ARD, "<p></p>", [svg])] == ["km.svg: 0.92"]


def check_every_printed_number_is_held(results):
    assert report_orphans(results) == []
    ard = pd.read_csv(results / "ard.csv", dtype=str, keep_default_na=False)
    assert len(ard) > 100 and not ard["address"].duplicated().any() and (ard["value"] != "").all()


def test_every_number_the_reconstructed_report_prints_is_in_the_analysis_results_table(reconstructed_project):
    check_every_printed_number_is_held(reconstructed_project / "results")


def test_every_number_the_mini_cohort_report_prints_is_in_the_analysis_results_table(mini_build):
    check_every_printed_number_is_held(mini_build[1])


def test_the_scorecard_compares_the_numbers_of_the_analysis_results_table(reconstructed_project):
    results = reconstructed_project / "results"
    ard = pd.read_csv(results / "ard.csv", dtype=str, keep_default_na=False).set_index("address")["value"]
    card = pd.read_csv(results / "scorecard.csv", dtype=str, keep_default_na=False)
    assert len(card) > 20
    for row in card.to_dict("records"):
        assert float(ard[row["address"]]) == pytest.approx(float(row["reproduced"]), rel=1e-12), row["figure"]
        assert float(ard[f"published:{row['figure']}"]) == float(row["reported"].lstrip("<").rstrip("%"))
    survival = json.loads((results / "endpoints" / "survival.json").read_text())["results"]
    assert float(ard["survival:logrank.p"]) == survival["logrank"]["p"]
