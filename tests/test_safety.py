"""Safety tables on hand-made cases: AEs by SOC and PT at the worst grade, exposure, the listing of
deaths and serious events, and what each collection holds. Every expected number is worked out here."""

import json

import pandas as pd
import pytest

from msc_ascites.analysis.safety import (UNMAPPED, ae_summary, coded_events, collection, exposure, lab_grades,
                                         lab_shifts, listing, listing_summary, load_lab_grades, load_term_map, normalised_term,
                                         shift_report, term_map, write_safety)
from msc_ascites.errors import UserError
from conftest import ROOT

ARMS = {"treatment": {"label": "MSC"}, "control": {"label": "SMT"}}
TERMS = term_map({"terms": {
    "Abdominal pain": {"soc": "Gastrointestinal disorders", "synonyms": ["abdominal pain", "belly ache"]},
    "Nausea": {"soc": "Gastrointestinal disorders", "synonyms": []},
    "Pyrexia": {"soc": "General disorders", "synonyms": ["fever"]},
    "Hepatic encephalopathy": {"soc": "Nervous system disorders", "synonyms": ["HE"], "outcome_event": "HE"},
}}, "hand-made map")


def subjects() -> pd.DataFrame:
    """Treatment t1-t4 (t1-t3 infused on days 2, 0, 5; t4 not infused), control c1-c3; t2 died on day 40."""
    return pd.DataFrame({
        "subject_id": ["t1", "t2", "t3", "t4", "c1", "c2", "c3"],
        "arm": ["treatment"] * 4 + ["control"] * 3,
        "infusion_day": [2, 0, 5, None, None, None, None],
        "death_day": [None, 40, None, None, None, None, None],
        "last_contact_day": [700, 40, 730, 720, 710, 705, 690]})


def aes() -> pd.DataFrame:
    rows = [  # subject, day, raw term, grade, serious, related
        ("t1", 3, "Fever", 1, "N", "possible"),
        ("t1", 10, "  FEVER ", 3, "Y", "probable"),   # same PT again, worse: t1 counts once, at grade 3
        ("t1", 12, "belly-ache", 2, "N", "unlikely"),
        ("t2", 1, "fever", 2, "N", "not related"),
        ("t3", 6, "nausea", 1, "N", "definite"),
        ("t4", 20, "itchy elbow", 1, "N", "possible"),   # not in the map
        ("c1", 30, "abdominal pain", 4, "N", "not related"),
        ("c2", 50, "Nausea", 1, "N", "unlikely"),
        ("c3", 800, "fever", 1, "N", "unlikely"),        # after the 730-day horizon
    ]
    frame = pd.DataFrame(rows, columns=["subject_id", "study_day", "term", "grade", "serious", "related"])
    frame.insert(1, "arm", frame["subject_id"].map(subjects().set_index("subject_id")["arm"]))
    return frame


@pytest.fixture()
def table_and_notes():
    table, notes = ae_summary(coded_events(aes(), subjects(), TERMS), subjects(), 730, ARMS)
    return table.set_index(["level", "soc", "pt"]), notes


def test_raw_terms_match_ignoring_case_spaces_and_hyphens():
    assert normalised_term("  Puncture-site   PAIN ") == "puncture site pain"
    assert TERMS.code("Belly-Ache") == ("Abdominal pain", "Gastrointestinal disorders")
    assert TERMS.code("pyrexia") == ("Pyrexia", "General disorders")  # the PT's own name
    assert TERMS.code(" itchy elbow ") == ("itchy elbow", UNMAPPED)


def test_rows_are_any_then_socs_by_frequency_with_unmapped_last(table_and_notes):
    table, _ = table_and_notes
    # Patients: GI t1 t3 c1 c2 = 4; General t1 t2 = 2 (c3's fever is after day 730); unmapped t4 = 1.
    # Within GI: abdominal pain t1 c1 = 2 and nausea t3 c2 = 2 tie: by name.
    assert list(table.index) == [
        ("any", "", "Any adverse event"),
        ("soc", "Gastrointestinal disorders", ""), ("pt", "Gastrointestinal disorders", "Abdominal pain"),
        ("pt", "Gastrointestinal disorders", "Nausea"),
        ("soc", "General disorders", ""), ("pt", "General disorders", "Pyrexia"),
        ("soc", UNMAPPED, ""), ("pt", UNMAPPED, "itchy elbow")]


def test_each_patient_counted_once_at_the_worst_grade(table_and_notes):
    table, _ = table_and_notes
    pyrexia = table.loc[("pt", "General disorders", "Pyrexia")]
    # t1 (grades 1 and 3: worst 3) and t2 (grade 2), of N = 4 treatment patients.
    assert pyrexia[["treatment_patients", "treatment_grade_1_2", "treatment_grade_3", "treatment_grade_4"]].tolist() \
        == [2, 1, 1, 0]
    assert pyrexia["treatment_percent"] == pytest.approx(50.0)
    any_ae = table.loc[("any", "", "Any adverse event")]
    # Treatment: t1 worst 3, t2 2, t3 1, t4 1; control: c1 4, c2 1 (c3 outside the window).
    assert any_ae[["treatment_patients", "treatment_grade_1_2", "treatment_grade_3"]].tolist() == [4, 3, 1]
    assert any_ae[["control_patients", "control_grade_1_2", "control_grade_4", "total_patients"]].tolist() \
        == [2, 1, 1, 6]
    assert any_ae["control_percent"] == pytest.approx(200 / 3)


def test_related_patients_and_onset_from_the_first_infusion(table_and_notes):
    table, _ = table_and_notes
    pyrexia = table.loc[("pt", "General disorders", "Pyrexia")]
    # Related: t1 (possible, probable); t2's is not related. Onset: t1 day 3 - infusion day 2 = 1,
    # t2 day 1 - 0 = 1.
    assert pyrexia[["treatment_related", "treatment_onset_median", "treatment_onset_min"]].tolist() == [1, 1.0, 1]
    any_ae = table.loc[("any", "", "Any adverse event")]
    # First onsets: t1 1, t2 1, t3 6 - 5 = 1, t4 (not infused) 20 from day 0: median 1, range 1-20.
    assert any_ae[["treatment_onset_median", "treatment_onset_min", "treatment_onset_max"]].tolist() == [1.0, 1, 20]
    # Control from day 0: c1 30, c2 50.
    assert any_ae[["control_onset_median", "control_onset_min", "control_onset_max"]].tolist() == [40.0, 30, 50]
    assert any_ae[["treatment_related", "control_related"]].tolist() == [3, 0]  # t1, t3, t4


def test_notes_name_unmapped_terms_and_events_outside_the_window(table_and_notes):
    _, notes = table_and_notes
    assert notes["unmapped_terms"] == ["itchy elbow"]
    assert (notes["n"], notes["events"], notes["outside_window"]) == ({"treatment": 4, "control": 3}, 8, 1)


def test_a_synonym_under_two_terms_is_an_error():
    with pytest.raises(UserError, match=r"map.yaml: synonym ' FEVER' is under both 'Pyrexia' and 'Febrile'"):
        term_map({"terms": {"Pyrexia": {"soc": "General", "synonyms": ["fever"]},
                            "Febrile": {"soc": "General", "synonyms": [" FEVER"]}}}, "map.yaml")
    with pytest.raises(UserError, match="term 'Nausea': needs 'soc'"):
        term_map({"terms": {"Nausea": {"synonyms": []}}}, "map.yaml")


def test_the_project_map_covers_the_reconstructed_cohorts_terms():
    terms = load_term_map(ROOT / "resources" / "safety" / "ae_terms.yaml")
    raw = pd.read_csv(ROOT / "resources" / "raw" / "adverse_events.csv")["term"]
    assert sorted({terms.code(t)[1] for t in raw}) == ["Gastrointestinal disorders",
                                                     "General disorders and administration site conditions"]


def test_exposure_of_the_treated_arm_and_not_applicable_for_control():
    infusions = pd.DataFrame({"subject_id": ["t1", "t1", "t2", "t3"], "arm": ["treatment"] * 4,
                              "study_day": [2, 30, 0, 5], "cells_per_kg": [1e6, 2e6, 3e6, 4e6]})
    table = exposure(infusions, subjects(), ARMS).set_index(["arm", "statistic"])
    assert table.loc[("treatment", "infused"), ["n", "percent"]].tolist() == [3, 75.0]
    # Infusions per patient 2, 1, 1: median 1, range 1-2.
    assert table.loc[("treatment", "infusions_per_patient"), ["median", "min", "max"]].tolist() == [1.0, 1.0, 2.0]
    # Cells 1, 2, 3, 4 (10^6/kg): type-7 quartiles 1.75 and 3.25 (R: quantile(1:4, c(.25, .75))).
    assert table.loc[("treatment", "cells_per_kg_1e6"), ["median", "q1", "q3", "min", "max"]].tolist() \
        == [2.5, 1.75, 3.25, 1.0, 4.0]
    # First infusion days 2, 0, 5: median 2, quartiles 1 and 3.5.
    assert table.loc[("treatment", "days_to_first_infusion"), ["median", "q1", "q3"]].tolist() == [2.0, 1.0, 3.5]
    assert not table.loc["control", "applicable"].any() and table.loc["treatment", "applicable"].all()


GRADES = lab_grades({"tests": {"ALB": {"term": "Hypoalbuminemia", "direction": "low", "limit": "LLN 35 g/L",
                                         "bounds": [35, 30, 20]},
                                 "CREA": {"term": "Creatinine increased", "direction": "high", "bounds": [106, 159]}}},
                     "hand-made grades")


def test_lab_grades_at_the_bounds():
    values = pd.Series([36.0, 35.0, 34.9, 30.0, 29.9, 19.0, None])
    # "low": grade g from value < bound g; on the bound itself the grade below.
    assert GRADES["ALB"].grade(values).tolist()[:6] == [0, 0, 1, 1, 2, 3]
    assert pd.isna(GRADES["ALB"].grade(values).iloc[6])
    assert GRADES["CREA"].grade(pd.Series([106.0, 106.1, 160.0])).tolist() == [0, 1, 2]


def test_lab_grade_bounds_must_worsen():
    with pytest.raises(UserError, match=r"g.yaml: test 'ALB': bounds \[30, 35\] must fall from grade 1 up"):
        lab_grades({"tests": {"ALB": {"direction": "low", "bounds": [30, 35]}}}, "g.yaml")
    with pytest.raises(UserError, match="test 'NA': needs direction low or high"):
        lab_grades({"tests": {"NA": {"direction": "down", "bounds": [135]}}}, "g.yaml")


def test_shift_from_baseline_grade_to_the_worst_after_it():
    people = pd.DataFrame({"subject_id": ["t1", "t2", "c1"], "arm": ["treatment", "treatment", "control"],
                           "baseline_ALB": [36.0, 25.0, None]})
    labs = pd.DataFrame({"subject_id": ["t1", "t1", "t1", "c1", "c1"], "test": ["ALB"] * 5,
                         "study_day": [10, 50, 900, 20, 0], "value": [33.0, 28.0, 10.0, 19.0, 15.0]})
    shifts = lab_shifts(labs, people, GRADES, ARMS, 730)
    cells = shifts[shifts["patients"] > 0]
    # t1: baseline 36 (grade 0), worst of 33, 28 (day 900 is past the horizon) is grade 2; t2: grade 2,
    # nothing after; c1: no baseline, day 20's 19 is grade 3 (day 0 is not after baseline).
    assert cells[["arm", "baseline", "worst", "patients"]].values.tolist() == [
        ["treatment", "0", "2", 1], ["treatment", "2", "missing", 1], ["control", "missing", "3", 1]]
    assert len(shifts) == 2 * 5 * 5  # CREA has no baseline column: no table; ALB 5 x 5 per arm
    table = shift_report(shifts, ARMS)[0]
    assert table["grades"] == ["0", "1", "2", "3", "missing"]
    assert table["rows"] == [
        {"baseline": "0", "treatment": [0, 0, 1, 0, 0], "control": [0, 0, 0, 0, 0]},
        {"baseline": "2", "treatment": [0, 0, 0, 0, 1], "control": [0, 0, 0, 0, 0]},
        {"baseline": "missing", "treatment": [0, 0, 0, 0, 0], "control": [0, 0, 0, 1, 0]}]


def test_the_project_lab_grades_load():
    grades = load_lab_grades(ROOT / "resources" / "safety" / "lab_grades.yaml")
    assert set(grades) == {"ALB", "TBIL", "CREA", "INR", "NA", "ALT", "AST", "PLT"}
    assert grades["NA"].grade(pd.Series([129.0, 124.0, 119.0])).tolist() == [2, 3, 4]


def events() -> pd.DataFrame:
    return pd.DataFrame({"subject_id": ["t2", "t2", "c1", "c2"], "study_day": [10, 40, 5, 9],
                         "event": ["HE", "DEATH", "TRANSPLANT", "HE"], "source_row": [2, 3, 4, 5]})


def test_listing_holds_deaths_complications_and_serious_or_severe_aes():
    coded = coded_events(aes(), subjects(), TERMS)
    rows = listing(events(), coded, subjects(), "DEATH", ["DEATH", "HE"], ARMS)
    # Treatment first: t1's serious grade-3 fever; t2's HE then death. Control: c1's grade-4 pain
    # (not serious, severe), c2's HE. c1's transplant is not a safety event.
    assert rows[["subject_id", "day", "event", "grade", "serious", "outcome"]].values.tolist() == [
        ["t1", 10, "Pyrexia (General disorders)", "3", "Y", "alive, last contact day 700"],
        ["t2", 10, "HE", "", "", "died, day 40"],
        ["t2", 40, "DEATH", "", "", "fatal"],
        ["c1", 30, "Abdominal pain (Gastrointestinal disorders)", "4", "N", "alive, last contact day 710"],
        ["c2", 9, "HE", "", "", "alive, last contact day 705"]]


def test_a_long_listing_is_counted_by_event_and_arm():
    rows = listing(events(), coded_events(aes(), subjects(), TERMS), subjects(), "DEATH", ["DEATH", "HE"], ARMS)
    summary = {(r["source"], r["event"]): r for r in listing_summary(rows, ARMS)}
    # HE: t2 (treatment) and c2 (control), one episode each; DEATH: t2.
    assert summary[("events.csv", "HE")] == {"source": "events.csv", "event": "HE", "treatment_events": 1,
                                             "treatment_patients": 1, "control_events": 1, "control_patients": 1}
    assert summary[("events.csv", "DEATH")]["treatment_events"] == 1
    assert len(summary) == 4  # DEATH, HE and the two AE terms


def test_collection_counts_what_each_table_holds():
    coded = coded_events(aes(), subjects(), TERMS)
    held = collection(events(), coded, TERMS, ["DEATH", "HE"])
    assert (held["ae_events"], held["ae_patients"], held["serious"], held["grade_3_plus"]) == (9, 7, 1, 2)
    assert held["outcomes"] == [{"code": "DEATH", "events": 1, "patients": 1, "as_adverse_events": 0},
                                {"code": "HE", "events": 2, "patients": 2, "as_adverse_events": 0}]
    with_he = pd.concat([aes(), aes().iloc[[0]].assign(term="hepatic encephalopathy")], ignore_index=True)
    held = collection(events(), coded_events(with_he, subjects(), TERMS), TERMS, ["DEATH", "HE"])
    assert held["outcomes"][1]["as_adverse_events"] == 1


def test_without_ae_and_infusion_tables_each_table_says_why(tmp_path):
    inputs = {"subjects": tmp_path / "subjects.csv", "events": tmp_path / "events.csv",
              "adverse_events": tmp_path / "adverse_events.csv", "infusions": tmp_path / "infusions.csv",
              "availability": tmp_path / "availability.json", "labs": tmp_path / "labs.csv",
              "ae_terms": ROOT / "resources" / "safety" / "ae_terms.yaml",
              "lab_grades": ROOT / "resources" / "safety" / "lab_grades.yaml"}
    subjects().drop(columns="infusion_day").to_csv(inputs["subjects"], index=False)
    events().to_csv(inputs["events"], index=False)
    absent = {"available": False, "reason": "adverse_events.csv is not in the raw data folder"}
    inputs["availability"].write_text(json.dumps({
        "adverse_events": absent, "infusions": {"available": False, "reason": "infusions.csv is not in the raw data folder"},
        "death": {"available": False, "reason": "not collected: registry"},
        "labs": {"available": False, "reason": "not collected: no lab values"}}))
    outputs = {name: tmp_path / f"out_{name}" for name in ("adverse_events", "exposure", "lab_shifts", "listing", "json")}
    write_safety(inputs, {"ae_terms": "a.yaml", "lab_grades": "b.yaml"}, ARMS, 730, "DEATH", ["HE"], outputs)
    report = json.loads(outputs["json"].read_text())
    assert report["adverse_events"] == absent
    assert report["exposure"]["reason"] == "infusions.csv is not in the raw data folder"
    assert report["lab_shifts"]["reason"] == "not collected: no lab values"
    assert pd.read_csv(outputs["adverse_events"]).to_dict("records") == [{"available": False, **{
        "reason": absent["reason"]}}]
    # Deaths were not collected: only HE is listed and counted, and no AE count is claimed.
    assert [r["event"] for r in report["listing"]["rows"]] == ["HE", "HE"]
    assert report["collection"] == {"outcomes": [{"code": "HE", "events": 2, "patients": 2,
                                                  "as_adverse_events": None}]}


# The patient flow (issue 15 item 10): its safety-related counts sit beside the tables above.

def test_patient_flow_counts_each_step_and_infusion_not_applicable_to_control():
    from msc_ascites.analysis.flow import patient_flow
    adsl = pd.DataFrame({"subject_id": ["t1", "t2", "c1", "c2"], "arm": ["treatment", "treatment", "control", "control"],
                         "death": [0, 1, 0, 0], "death_day": [None, 800, None, None],
                         "last_contact_day": [730, 800, 400, 730], "n_infusions": [1, 0, 0, 0],
                         "transplant": [0, 0, 1, 0], "withdrawal": [0, 0, 0, 1]})
    labs = pd.DataFrame({"subject_id": ["t1", "t1", "t2", "c1", "c2"], "test": ["MELD", "ALB", "MELD", "MELD", "ALB"],
                         "visit": ["BL", "W48", "BL", "BL", "W48"], "week": [0, 48, 0, 0, 48]})
    endpoints = {"meld": {"available": True, "results": {"primary": {"treatment": {"n": 1}, "control": {"n": 0}}}},
                 "survival": {"available": False, "reason": "not collected: registry"}}
    flow = patient_flow(adsl, labs, 48, 730, ARMS, ["BL", "W4", "W48"], endpoints)
    treatment, control = flow["arms"]
    assert flow["visits"] == ["BL", "W4", "W48"]
    # t1 infused; the control arm has no infusion: not applicable rather than 0.
    assert (treatment["infused"], treatment["infusion_applicable"]) == (1, True)
    assert (control["infused"], control["infusion_applicable"]) == (0, False)
    # Seen: BL t1 t2 | c1; W4 nobody; W48 t1 (ALB) | c2 (ALB).
    assert (treatment["at_visit"], control["at_visit"]) == ([2, 0, 1], [1, 0, 1])
    # t2 died on day 800 (after the horizon, so not within it); c1 transplanted, c2 withdrawn.
    assert [treatment[k] for k in ("died", "died_within_horizon", "transplanted", "withdrawn")] == [1, 0, 0, 0]
    assert [control[k] for k in ("died", "transplanted", "withdrawn")] == [0, 1, 1]
    assert flow["analysed"] == [
        {"endpoint": "meld", "what": "MELD at week 48", "treatment": 1, "control": 0},
        {"endpoint": "survival", "what": "Survival", "treatment": None, "control": None}]
