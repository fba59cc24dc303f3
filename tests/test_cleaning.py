"""Cleaning by the raw data contract, on the hand-made mini cohort (tests/data/mini_cohort).

Expected values are read off the fixture files by hand: study days are date
differences (e.g. 2012-12-15 minus 2012-01-10 = 340 days), conversions are
g/dL x 10 and mg/dL x 17.104 (bilirubin).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from msc_ascites.data.cleaning import RULES, clean_cohort
from msc_ascites.errors import RawDataError
from msc_ascites.settings import merge
from msc_ascites.data.visits import visits_from_config


def run(raw_dir, config, **cohort_changes):
    cohort = merge(config["cohort"], cohort_changes)
    return clean_cohort(raw_dir, cohort, visits_from_config(config["visits"]))


@pytest.fixture
def cleaned(config):
    return run(config["raw_dir"], config)


def log_entry(result, file, row, rule):
    rows = result.log[(result.log["file"] == file) & (result.log["row"] == str(row))
                      & (result.log["rule"] == rule)]
    assert len(rows) == 1, f"expected one {rule} entry for {file}:{row}, got\n{result.log}"
    return rows.iloc[0]


def test_subject_ids_stay_strings(cleaned):
    assert list(cleaned.tables["subjects"]["subject_id"]) == ["001", "002", "003", "004"]


def test_arm_labels_mapped_case_insensitively_and_logged(cleaned):
    subjects = cleaned.tables["subjects"].set_index("subject_id")
    assert list(subjects["arm"]) == ["treatment", "control", "control", "treatment"]
    entry = log_entry(cleaned, "subjects.csv", 5, "arm_label_recoded")
    assert (entry["old_value"], entry["new_value"]) == ("msc", "treatment")
    # ' smt ' first loses its spaces, then is recoded.
    assert log_entry(cleaned, "subjects.csv", 3, "whitespace_stripped")["old_value"] == " smt "
    assert log_entry(cleaned, "subjects.csv", 3, "arm_label_recoded")["new_value"] == "control"


def test_sex_codes_by_config(cleaned):
    assert list(cleaned.tables["subjects"]["sex"]) == ["M", "F", "F", "M"]
    assert log_entry(cleaned, "subjects.csv", 3, "sex_recoded")["old_value"] == "female"
    assert log_entry(cleaned, "subjects.csv", 5, "sex_recoded")["old_value"] == "1"


def test_missing_code_logged_and_read_as_missing(cleaned):
    weight = cleaned.tables["subjects"].set_index("subject_id")["weight_kg"]
    assert weight.isna().tolist() == [False, True, False, False]
    assert log_entry(cleaned, "subjects.csv", 3, "missing_code")["old_value"] == "N/A"
    assert log_entry(cleaned, "ascites.csv", 4, "missing_code")["old_value"] == "."


def test_follow_up_in_study_days(cleaned):
    # 2014-01-20 - 2012-01-10 = 741 days; 2013-06-01 - 2012-02-01 = 486 days.
    assert cleaned.tables["subjects"]["last_contact_day"].tolist() == [741, 486, 735, 744]


def test_lab_dates_by_configured_format_are_study_days(cleaned):
    labs = cleaned.tables["labs"]
    # 15/12/2012 (DD/MM/YYYY from cohort.yaml) - 2012-01-10 = day 340.
    assert labs.loc[labs["source_row"] == 6, "study_day"].item() == 340
    entry = log_entry(cleaned, "labs.csv", "", "date_format_from_config")
    assert (entry["column"], entry["old_value"]) == ("sample_date", "DD/MM/YYYY")


def test_unit_conversion_to_canonical(cleaned):
    labs = cleaned.tables["labs"].set_index("source_row")
    assert labs.loc[2, ["value", "unit"]].tolist() == [30.0, "g/L"]            # 3.0 g/dL
    assert labs.loc[15, ["value", "unit"]].tolist() == [34.208, "umol/L"]      # 2.0 mg/dL x 17.104
    assert labs.loc[4, "unit"] == "1"                                         # INR, empty unit
    entry = log_entry(cleaned, "labs.csv", 2, "unit_converted")
    assert (entry["old_value"], entry["new_value"]) == ("3 g/dL", "30 g/L")


def test_censored_values_kept_as_bound_and_flagged(cleaned):
    labs = cleaned.tables["labs"].set_index("source_row")
    assert labs.loc[9, ["value", "censored"]].tolist() == [50.0, "<"]
    assert labs.loc[18, ["value", "censored"]].tolist() == [5.0, "<"]
    assert log_entry(cleaned, "labs.csv", 9, "censored_value_bound")["old_value"] == "<50"


def test_sodium_code_NA_is_not_a_missing_value(cleaned):
    labs = cleaned.tables["labs"]
    assert labs.loc[labs["source_row"] == 14, ["test", "value"]].values.tolist() == [["NA", 135.0]]


def test_lab_row_without_value_removed_and_logged(cleaned):
    assert 12 not in set(cleaned.tables["labs"]["source_row"])
    assert log_entry(cleaned, "labs.csv", 12, "lab_value_missing_row_removed")["old_value"] == "ND"


def test_exact_duplicate_removed_and_logged(cleaned):
    assert 10 not in set(cleaned.tables["labs"]["source_row"])
    assert log_entry(cleaned, "labs.csv", 10, "duplicate_row_removed")["old_value"] == "duplicate of row 6"


def test_visit_label_disagreeing_with_date_logged(cleaned):
    # Row 15 says W36 but 05/01/2013 is day 339 of subject 002: inside W48 (295-378).
    entry = log_entry(cleaned, "labs.csv", 15, "visit_label_disagrees_with_date")
    assert (entry["old_value"], entry["new_value"]) == ("W36", "W48 (day 339)")


def test_whitespace_in_codes_and_ids(cleaned):
    assert log_entry(cleaned, "labs.csv", 17, "whitespace_stripped")["old_value"] == " TBIL "
    assert log_entry(cleaned, "events.csv", 6, "whitespace_stripped")["old_value"] == "004 "
    assert "TBIL" in set(cleaned.tables["labs"]["test"])


def test_extra_column_reported(cleaned):
    entry = log_entry(cleaned, "subjects.csv", "", "extra_column_ignored")
    assert entry["column"] == "crf_version"
    assert "crf_version" not in cleaned.tables["subjects"]


def test_unknown_test_kept(cleaned):
    labs = cleaned.tables["labs"]
    assert labs.loc[labs["test"] == "XYZ", ["value", "unit"]].values.tolist() == [[7.0, "mystery"]]


def test_every_rule_is_described(cleaned):
    assert set(cleaned.log["rule"]) <= set(RULES)
    assert list(cleaned.log.columns) == ["file", "row", "subject_id", "column", "old_value", "new_value", "rule"]


def test_no_calendar_dates_leave_cleaning(cleaned):
    for name, table in cleaned.tables.items():
        assert not any("date" in column for column in table.columns), name
    assert not cleaned.log["old_value"].str.contains(r"\d{4}-\d{2}-\d{2}").any()


def test_optional_tables_absent(mini_copy, config):
    for name in ("ascites", "paracentesis", "adverse_events", "infusions"):
        (mini_copy / f"{name}.csv").unlink()
    result = run(mini_copy, config)
    assert sorted(result.absent) == ["adverse_events", "ascites", "infusions", "paracentesis"]
    assert result.tables["ascites"].empty and "study_day" in result.tables["ascites"]


def test_datetime_format(mini_copy, config):
    # Seconds are optional; the time of day does not change the study day.
    path = mini_copy / "events.csv"
    lines = path.read_text().splitlines()
    stamped = [lines[0]] + [line + (" 13:45" if i % 2 else " 08:00:30") for i, line in enumerate(lines[1:])]
    path.write_text("\n".join(stamped) + "\n")
    result = run(mini_copy, config, date_formats={"events": "YYYY-MM-DD HH:MM[:SS]"})
    assert result.tables["events"]["study_day"].tolist() == [213, 486, 311, 423, 730]
    with pytest.raises(RawDataError, match="format YYYY-MM-DD HH:MM"):
        run(mini_copy / ".." / "raw", config, date_formats={"events": "YYYY-MM-DD HH:MM[:SS]",
                                                             "subjects": "YYYY-MM-DD HH:MM[:SS]"})


def test_ymd_slash_format(mini_copy, config):
    text = (mini_copy / "paracentesis.csv").read_text().replace("-", "/")
    (mini_copy / "paracentesis.csv").write_text(text)
    result = run(mini_copy, config, date_formats={"paracentesis": "YYYY/MM/DD"})
    # 2012/05/01 - 2012-02-01 = 90 days.
    assert result.tables["paracentesis"]["study_day"].tolist()[0] == 90


def test_weight_of_a_child_is_kept(mini_copy, config):
    """The CGD trial (tests/public_cohorts.py) enrols children: 17.4 kg is a weight, not an error;
    a weight no person has is still one, naming file, row, column and value."""
    path = mini_copy / "subjects.csv"
    path.write_text(path.read_text().replace(",62.5,", ",17.4,"))
    assert run(mini_copy, config).tables["subjects"]["weight_kg"].tolist()[0] == 17.4
    path.write_text(path.read_text().replace(",17.4,", ",0.1,"))
    with pytest.raises(RawDataError, match=r"subjects.csv, row 2, column 'weight_kg', value '0.1': .*in_range"):
        run(mini_copy, config)


def test_row_codes_are_equal_exactly_where_rows_are_even_past_int64():
    """70 two-valued columns (2**70 possible rows: folded into an int64 without being factorized
    again, the first columns' codes would be shifted out and rows differing there would be one), a
    missing value among them, repeated rows: equal codes exactly where the rows are equal."""
    from msc_ascites.data.keys import row_codes
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({f"c{i}": rng.choice(["a", "b"], 400) for i in range(70)})
    frame = pd.concat([frame, frame.iloc[:50]], ignore_index=True)
    frame.loc[frame.index[::37], "c0"] = None
    rows = [tuple(r) for r in frame.itertuples(index=False)]
    first_of: dict = {}
    expected = [first_of.setdefault(r, i) for i, r in enumerate(rows)]
    codes = row_codes(frame, list(frame.columns))
    assert pd.factorize(codes)[0].tolist() == pd.factorize(np.array(expected))[0].tolist()


def test_sorted_row_codes_order_as_the_rows_sort_past_int64():
    """With sort, the keys order as the rows do column by column, where the key is factorized again too."""
    from msc_ascites.data.keys import row_codes
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({f"c{i:02d}": rng.choice(["a", "b", "c"], 300) for i in range(45)})
    codes = row_codes(frame, list(frame.columns), sort=True)
    rows = [tuple(r) for r in frame.itertuples(index=False)]
    assert sorted(range(len(rows)), key=lambda i: (codes[i], i)) == sorted(range(len(rows)), key=lambda i: (rows[i], i))
