"""Bad input that gave silently wrong data, weak messages or spreadsheet formulas (issue 16,
classes 1, 4 and 5), run through the package calls of the `ingest` and `clean` rules on the
mini cohort (tests/data/mini_cohort), each with its exact message or cleaning-log rule.

CASES here are a second list beside tests/test_bad_input.py's: docs/bad_input_matrix.md carries
them as its own section (``python tests/test_bad_input_data.py`` rewrites it), and a test fails
when the two differ.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from msc_ascites.analysis.baseline import table_one
from msc_ascites.errors import ConfigError, NotEstimable, RawDataError
from msc_ascites.outputs import neutralised, write_csv
from msc_ascites.stats.comparisons import rate_ratio
from msc_ascites.stats.survival import cox_hazard_ratio, fit_cox
from test_bad_input import DOC, MINI, Case, append, corrupted_copy, error, replace, run_steps, warning

TODAY = datetime.date.today().isoformat()
RANGE = f"in the format, but out of the range of usable dates (1901-01-01 to today, {TODAY})"
PLACEHOLDER = "a placeholder date: before 1901-01-01, out of the range of usable dates"
LONE_CR = ("a lone carriage return (\\r) inside the line (character {}): remove it, or re-export with \\n or "
           "\\r\\n line endings")
CLOSE = "not a known code, but close to {0!r}: write {0!r}, or a code of the cohort's own that is not a slip of a known one"
FORMULA = "=cmd|' /C calc'!A0"


def cr_in_line(data: bytes) -> bytes:
    return data.replace(b"CREA,88.42", b"CREA,88\r.42")


def lines(data: bytes, endings: list[bytes]) -> bytes:
    """The file with its line endings taken in turn from ``endings``."""
    rows = data.rstrip(b"\n").split(b"\n")
    return b"".join(row + endings[i % len(endings)] for i, row in enumerate(rows))


def extra_column(name: str):
    def corrupt(data: bytes) -> bytes:
        header, *rows = data.rstrip(b"\n").split(b"\n")
        return b"\n".join([header + b"," + name.encode(), *(row + b",x" for row in rows)]) + b"\n"
    return corrupt


def repeated_header(data: bytes) -> bytes:
    rows = data.split(b"\n")
    return b"\n".join(rows[:3] + [rows[0]] + rows[3:])


def trailing_comma_row_2(data: bytes) -> bytes:
    rows = data.split(b"\n")
    return b"\n".join([rows[0], rows[1] + b",", *rows[2:]])


INVISIBLE = "holds an invisible character, U+{:04X} ({}), at character {} of the line: remove it"
SYNONYM = ("not a known code, but another name of {0!r}: write {0!r} (a code of the cohort's own is kept, and no "
           "analysis reads it)")
NOT_NUMBER = "not a finite number (a decimal comma or a thousands separator? write a decimal point and no separators: 1234.5)"
REPEATED = "the header line again: two exports joined? Keep one header, at the top"
EVENTS_LINE_4 = "003,SBP,2013-01-10"

# ``words`` is the whole problem: the message is compared in full.
CASES = [
    # Class 1: codes matched whatever their case and spacing; near-misses named.
    warning("event_code_lower_case", "events.csv", "`death` for `DEATH`", replace("DEATH", "death"),
            "code_normalised", 3, "event"),
    warning("event_code_spaced", "events.csv", "`S B P` for `SBP`", replace("003,SBP", "003,S B P"),
            "code_normalised", 4, "event"),
    warning("lab_code_lower_case", "labs.csv", "`alb` for `ALB` (then converted from g/dL)",
            replace("BL,ALB,3.0", "BL,alb,3.0"), "code_normalised", 2, "test"),
    warning("lab_code_mixed_case", "labs.csv", "`Tbil` for `TBIL`", replace("BL,TBIL,51.3", "BL,Tbil,51.3"),
            "code_normalised", 3, "test"),
    error("event_code_near_miss", "events.csv", "`DEATHS` for `DEATH`", replace("DEATH", "DEATHS"), 3, "event",
          "DEATHS", CLOSE.format("DEATH")),
    error("event_code_swapped_letters", "events.csv", "`DAETH` for `DEATH`", replace("DEATH", "DAETH"), 3,
          "event", "DAETH", CLOSE.format("DEATH")),
    error("lab_code_punctuated", "labs.csv", "`T-BIL` for `TBIL`", replace("BL,TBIL,51.3", "BL,T-BIL,51.3"), 3,
          "test", "T-BIL", CLOSE.format("TBIL")),
    # Class 1: contradictory histories, one rule for all tables.
    error("two_deaths", "events.csv", "a second DEATH of 002, on 2013-05-01", append("002,DEATH,2013-05-01"), 7,
          "event_date", "2013-05-01", "a second DEATH of the subject, on another day: a subject dies once"),
    error("contact_after_death", "events.csv", "002 dead on 2013-05-01, last contact 2013-06-01",
          replace("002,DEATH,2013-06-01", "002,DEATH,2013-05-01"), 3, "event_date", "2013-05-01",
          "DEATH before the subject's last_contact_date in subjects.csv: no contact after death"),
    warning("lab_after_last_contact", "labs.csv", "a lab of 001 after its last contact",
            append("001,01/02/2014,,ALB,30.0,g/L"),
            "record_after_last_contact", 22, "sample_date"),
    warning("ascites_after_last_contact", "ascites.csv", "an assessment of 003 after its last contact",
            append("003,2014-04-01,1,300"),
            "record_after_last_contact", 8, "assessment_date"),
    warning("ae_after_last_contact", "adverse_events.csv", "an adverse event of 001 after its last contact",
            append("001,2014-02-01,fever,1,N,possible"),
            "record_after_last_contact", 4, "onset_date"),
    error("sbp_after_last_contact", "events.csv", "an SBP of 003 after its last contact",
          append("003,SBP,2014-04-01"), 7, "event_date", "2014-04-01",
          "event after the subject's last_contact_date in subjects.csv"),
    error("infusion_control_arm", "infusions.csv", "an infusion of 003 (arm SMT)",
          append("003,2012-03-06,1000000"), 4, "subject_id", "003",
          "an infusion of a control-arm subject (subjects.csv): the control arm is not given cells"),
    error("placeholder_date_event", "events.csv", "event_date `1900-01-01`", replace("2013-01-10", "1900-01-01"),
          4, "event_date", "1900-01-01", PLACEHOLDER),
    error("placeholder_date_enrollment", "subjects.csv", "enrollment_date `1900-01-01`",
          replace("2012-01-10", "1900-01-01"), 2, "enrollment_date", "1900-01-01", PLACEHOLDER),
    error("future_date_lab", "labs.csv", "sample_date `01/01/2099`", replace("15/12/2012,W48,ALB,35.0",
          "01/01/2099,W48,ALB,35.0"), 6, "sample_date", "01/01/2099", RANGE),
    # Class 1: numbers and arms.
    error("conversion_overflow", "labs.csv", "TBIL `1e308` mg/dL (x 17.104 is infinite)",
          replace("2.0,mg/dL", "1e308,mg/dL"), 15, "value", "1e308",
          "converted to the canonical unit it is not a finite number (overflow): check the value and unit"),
    error("conversion_overflow_albumin", "labs.csv", "ALB `1e308` g/dL", replace("3.0,g/dL", "1e308,g/dL"), 2,
          "value", "1e308",
          "converted to the canonical unit it is not a finite number (overflow): check the value and unit"),
    error("empty_treatment_arm", "subjects.csv", "every subject in SMT",
          lambda d: d.replace(b"001,MSC", b"001,SMT").replace(b"004,msc", b"004,SMT"), None, "arm",
          "MSC, ABM-MSC", "no subject in the treatment arm: a comparison needs subjects in both arms"),
    # Class 4: messages that name what is wrong.
    error("tab_delimiter", "events.csv", "tabs between all fields", lambda d: d.replace(b",", b"\t"), 1, None,
          "subject_id\tevent\tevent_date",
          "header is separated by tabs ('\\t'): the contract requires comma-separated values"),
    error("lone_cr_in_line", "labs.csv", "a `\\r` inside row 5", cr_in_line, 5, None,
          "001,08/01/2012,BL,CREA,88\r.42,umol/L", LONE_CR.format(26)),
    error("lone_cr_in_header", "events.csv", "a `\\r` inside the header", replace("event,event", "event\r,event"),
          1, None, "subject_id,event\r,event_date", LONE_CR.format(17)),
    error("greek_mu", "labs.csv", "TBIL in `μmol/L` (Greek mu, U+03BC)", replace("51.3,umol/L", "51.3,\u03bcmol/L"), 3,
          "unit", "\u03bcmol/L", "unknown unit for TBIL (accepted: 'umol/L', 'µmol/L', 'mg/dL'); it is written "
          "with the Greek letter mu (U+03BC), not the micro sign µ (U+00B5)"),
    error("date_9999", "events.csv", "event_date `9999-12-31`", replace("2012-09-01", "9999-12-31"), 2,
          "event_date", "9999-12-31", RANGE),
    error("date_1600", "ascites.csv", "assessment_date `1600-01-01`", replace("2012-01-31", "1600-01-01"), 4,
          "assessment_date", "1600-01-01", RANGE),
    # Line endings: provenance exact (see test_source_row_exact_whatever_the_line_endings).
    warning("doubled_cr", "labs.csv", "`\\r\\r\\n` line endings", lambda d: d.replace(b"\n", b"\r\r\n"),
            "line_endings_normalised", None, ""),
    warning("mixed_endings", "events.csv", "`\\n`, `\\r\\n` and `\\r\\r\\n` in turn",
            lambda d: lines(d, [b"\n", b"\r\n", b"\r\r\n"]), "line_endings_normalised", None, ""),
    # Second set (issue 16, rerun): how real exports and careless users go wrong. Invisible characters.
    error("zero_width_space_in_id", "events.csv", "`003` + a zero-width space", replace(EVENTS_LINE_4, "003\u200b,SBP,2013-01-10"),
          4, None, "003\u200b,SBP,2013-01-10", INVISIBLE.format(0x200B, "zero-width space", 4)),
    error("zero_width_space_in_code", "events.csv", "`DEATH` + a zero-width space", replace("DEATH", "DEATH\u200b"), 3,
          None, "002,DEATH\u200b,2013-06-01", INVISIBLE.format(0x200B, "zero-width space", 10)),
    error("bom_inside_file", "events.csv", "a byte-order mark at the start of row 4",
          replace(EVENTS_LINE_4, "\ufeff" + EVENTS_LINE_4), 4, None, "\ufeff" + EVENTS_LINE_4,
          INVISIBLE.format(0xFEFF, "byte-order mark inside the file: two exports joined?", 1)),
    error("soft_hyphen_in_term", "adverse_events.csv", "a soft hyphen inside a term", replace("fever", "fe\u00adver"), 2,
          None, "001,2012-01-11,fe\u00adver,1,N,possible", INVISIBLE.format(0xAD, "soft hyphen", 18)),
    error("control_character_in_term", "adverse_events.csv", "`U+0093` in a term (a Windows-1252 quote read as Latin-1)",
          replace("fever", "fever\u0093"), 2, None, "001,2012-01-11,fever\u0093,1,N,possible",
          INVISIBLE.format(0x93, "a control character: text of another encoding?", 21)),
    # Headers and lines as spreadsheets and joined exports write them.
    error("spreadsheet_sep_line", "events.csv", "`sep=,` before the header", lambda d: b"sep=,\n" + d, 1, None, "sep=,",
          "a spreadsheet's separator line before the header: delete the line (the header must be the first line)"),
    error("header_case", "events.csv", "header `Subject_ID`", replace("subject_id", "Subject_ID"), 1, "subject_id",
          "Subject_ID,event,event_date", "required column 'subject_id' is missing (the header has 'Subject_ID': names "
          "are exact, write 'subject_id')"),
    error("header_spaced_name", "labs.csv", "header `sample date`", replace("sample_date", "sample date"), 1,
          "sample_date", "subject_id,sample date,visit,test,value,unit", "required column 'sample_date' is missing "
          "(the header has 'sample date': names are exact, write 'sample_date')"),
    error("repeated_header", "events.csv", "the header again as row 4", repeated_header, 4, None,
          "subject_id,event,event_date", REPEATED),
    error("two_exports_joined", "events.csv", "the whole file twice", lambda d: d + d, 7, None,
          "subject_id,event,event_date", REPEATED),
    error("line_of_spaces", "events.csv", "a line of three spaces at the end", lambda d: d + b"   \n", 7, None, "   ",
          "a line of only spaces: delete it (an empty line is no record)"),
    error("trailing_comma", "events.csv", "a comma at the end of row 2", trailing_comma_row_2, 2, None,
          "002,HE,2012-09-01,", "the header has 3 fields, this row 4 (a comma at the end of the line: delete it, or add "
          "it to the header too)"),
    warning("trailing_comma_everywhere", "events.csv", "a comma at the end of every line, the header's too",
            lambda d: d.replace(b"\n", b",\n"), "extra_column_ignored", None, ""),
    warning("bom_and_crlf", "subjects.csv", "a byte-order mark and `\\r\\n` line endings",
            lambda d: b"\xef\xbb\xbf" + d.replace(b"\n", b"\r\n"), "utf8_bom_removed", None, ""),
    # Dates and numbers as spreadsheets write them.
    error("excel_serial_date", "events.csv", "event_date `41153` (a spreadsheet's day number)",
          replace("2012-09-01", "41153"), 2, "event_date", "41153", "not a date in the format YYYY-MM-DD configured for "
          "events.csv (a spreadsheet's serial day number? export the column formatted as dates)"),
    error("date_with_time", "events.csv", "event_date `2012-09-01 00:00:00`", replace("2012-09-01", "2012-09-01 00:00:00"),
          2, "event_date", "2012-09-01 00:00:00", "not a date in the format YYYY-MM-DD configured for events.csv (it is "
          "in the format YYYY-MM-DD HH:MM[:SS]: write the file's dates in one format, the one date_formats.events in "
          "cohort.yaml names)"),
    error("date_other_format_one_row", "labs.csv", "one sample_date `2012-01-08` in a DD/MM/YYYY file",
          replace("001,08/01/2012,BL,ALB", "001,2012-01-08,BL,ALB"), 2, "sample_date", "2012-01-08",
          "not a date in the format DD/MM/YYYY configured for labs.csv (it is in the format YYYY-MM-DD: write the "
          "file's dates in one format, the one date_formats.labs in cohort.yaml names)"),
    error("date_month_day_swapped", "labs.csv", "sample_date `12/15/2012` (MM/DD) in a DD/MM/YYYY file",
          replace("15/12/2012,W48,ALB,35.0", "12/15/2012,W48,ALB,35.0"), 6, "sample_date", "12/15/2012",
          "not a date in the format DD/MM/YYYY configured for labs.csv (month and day swapped?)"),
    error("date_two_digit_year", "events.csv", "event_date `12-09-01`", replace("2012-09-01", "12-09-01"), 2, "event_date",
          "12-09-01", "not a date in the format YYYY-MM-DD configured for events.csv (a two-digit year? write it in full)"),
    error("decimal_comma_age", "subjects.csv", "age `\"45,5\"`", replace("M,45,", 'M,"45,5",'), 2, "age_years", "45,5",
          NOT_NUMBER),
    error("thousands_separator", "infusions.csv", "cells_per_kg `\"1,000,000\"`", replace("1000000", '"1,000,000"'), 2,
          "cells_per_kg", "1,000,000", NOT_NUMBER),
    error("thousands_space", "infusions.csv", "cells_per_kg `1 050 000`", replace("1050000", "1 050 000"), 3,
          "cells_per_kg", "1 050 000", NOT_NUMBER),
    error("lab_nbsp_in_number", "labs.csv", "value `31` + a no-break space + `.0`", replace("W4,ALB,31.0", "W4,ALB,31\u00a0.0"),
          19, "value", "31\u00a0.0", "not a finite number (it holds U+00A0 no-break space, which shows as a space: delete it)"),
    error("age_thin_space_in_number", "subjects.csv", "age `45` + a thin space + `.5`", replace("M,45,", "M,45\u2009.5,"),
          2, "age_years", "45\u2009.5", "not a finite number (it holds U+2009 thin space, which shows as a space: delete it)"),
    error("number_underflow", "labs.csv", "value `1e-400` (was read as 0 without a word)", replace("W4,ALB,31.0", "W4,ALB,1e-400"),
          19, "value", "1e-400", "too small to be stored as a number (it would be read as 0): check the value"),
    error("missing_as_null", "subjects.csv", "weight `NULL` (not a configured missing code)", replace("HBV,9,62.5", "HBV,9,NULL"),
          2, "weight_kg", "NULL", "not a finite number (a missing value? write one of cohort.missing_codes, or add "
          "this code to them in cohort.yaml)"),
    error("lab_le_sign", "labs.csv", "value `<=31` (named as written, not `=31`)", replace("W4,ALB,31.0", "W4,ALB,<=31"),
          19, "value", "<=31", "not a finite number (a censored value is written <x or >x)"),
    error("lab_unicode_le", "labs.csv", "value `\u226431`", replace("W4,ALB,31.0", "W4,ALB,\u226431"), 19, "value",
          "\u226431", "not a finite number (a censored value is written <x or >x)"),
    error("unit_lower_case", "labs.csv", "TBIL in `mg/dl`", replace("2.0,mg/dL", "2.0,mg/dl"), 15, "unit", "mg/dl",
          "unknown unit for TBIL (accepted: 'umol/L', 'µmol/L', 'mg/dL'); units are exact: write 'mg/dL'"),
    error("unit_empty", "labs.csv", "ALB without its unit", replace("W4,ALB,31.0,g/L", "W4,ALB,31.0,"), 19, "unit", "",
          "unknown unit for ALB (accepted: 'g/L', 'g/dL'); the unit is empty: write it"),
    # Codes: other spellings and other names of the known ones.
    warning("nbsp_around_code", "events.csv", "`Death` + a no-break space for `DEATH`", replace("DEATH", "Death\u00a0"),
            "code_normalised", 3, "event"),
    warning("full_width_code", "events.csv", "full-width `\uff24\uff25\uff21\uff34\uff28` for `DEATH`",
            replace("DEATH", "\uff24\uff25\uff21\uff34\uff28"), "code_normalised", 3, "event"),
    error("death_synonym", "events.csv", "`Died` for `DEATH` (was kept as a code of the cohort's own: no death)",
          replace("DEATH", "Died"), 3, "event", "Died", SYNONYM.format("DEATH")),
    error("death_synonym_deceased", "events.csv", "`deceased` for `DEATH`", replace("DEATH", "deceased"), 3, "event",
          "deceased", SYNONYM.format("DEATH")),
    error("lab_full_name", "labs.csv", "`Albumin` for `ALB` (was not analysed)", replace("W4,ALB,31.0", "W4,Albumin,31.0"),
          19, "test", "Albumin", SYNONYM.format("ALB")),
    error("lab_other_name", "labs.csv", "`Bilirubin` for `TBIL`", replace("BL,TBIL,51.3", "BL,Bilirubin,51.3"), 3, "test",
          "Bilirubin", SYNONYM.format("TBIL")),
    error("lab_named_meld", "labs.csv", "a raw `MELD` score among the labs (the datasets step then failed "
          "with a pandas error)", replace("W4,ALB,31.0", "W4,MELD,31.0"), 19, "test", "MELD",
          "'MELD' is the score the analysis derives from TBIL, INR and CREA: leave the raw score out of labs.csv, "
          "or give it a code of the cohort's own (e.g. MELD_RAW)"),
    warning("own_event_code", "events.csv", "`variceal bleeding`, a code the contract does not know (was kept without a word)",
            replace("002,HE", "002,variceal bleeding"), "code_kept_as_cohorts_own", None, "event"),
    # Subjects as spreadsheets mangle them.
    error("subject_leading_zeros_lost", "events.csv", "subject `3` for `003`", replace(EVENTS_LINE_4, "3,SBP,2013-01-10"),
          4, "subject_id", "3", "subject is not in subjects.csv (subjects.csv has '003': leading zeros, case and spaces "
          "count)"),
    error("subject_twin", "subjects.csv", "a subject `01` beside `001`", append("01,SMT,2012-03-05,F,60,2014-03-10,HBV,8,55,v2"),
          6, "subject_id", "01", "the same subject as '001' (differs only in leading zeros, case or spaces)? subject_id "
          "must be unique"),
    # Records before enrollment: one rule for every table.
    error("infusion_before_enrollment", "infusions.csv", "an infusion of 004 on 2012-03-01, enrolled 2012-04-01",
          replace("004,2012-04-02", "004,2012-03-01"), 3, "infusion_date", "2012-03-01",
          "an infusion before the subject's enrollment_date in subjects.csv: cells are given on or after enrollment"),
    warning("ae_before_enrollment", "adverse_events.csv", "an adverse event of 001 on 2012-01-01, enrolled 2012-01-10 "
            "(was left out of every count without a word)", replace("001,2012-01-11", "001,2012-01-01"),
            "record_before_enrollment", 2, "onset_date"),
    warning("paracentesis_before_enrollment", "paracentesis.csv", "a paracentesis of 002 on 2012-01-15, enrolled 2012-02-01",
            replace("002,2012-05-01", "002,2012-01-15"), "record_before_enrollment", 2, "procedure_date"),
    warning("lab_before_baseline_window", "labs.csv", "a lab of 001 a year before enrollment (before the 90-day lookback)",
            append("001,08/01/2011,,ALB,30.0,g/L"), "record_before_enrollment", 22, "sample_date"),
    # Class 5: formula text in what a user opens in a spreadsheet (test_formula_text_is_neutralised).
    warning("formula_header", "events.csv", f"an extra column named `{FORMULA}`", extra_column(FORMULA),
            "extra_column_ignored", None, "'" + FORMULA),
    Case("formula_term", "adverse_events.csv", "terms `=HYPERLINK(\"http://x\")` and `@SUM(1) <img ...>`",
         lambda d: d.replace(b"fever", b'"=HYPERLINK(""http://x"")"').replace(b",<img", b",@SUM(1) <img"),
         "neutralised"),
]


def message(case: Case, raw: Path) -> str:
    return f"error: {RawDataError(case.file, case.row, case.column, case.value, case.words)}\n"


@pytest.mark.parametrize("case", [c for c in CASES if c.outcome == "error"],
                         ids=[c.id for c in CASES if c.outcome == "error"])
def test_error(case, tmp_path, capsys):
    raw = corrupted_copy(case, tmp_path / "raw")
    with pytest.raises(SystemExit) as stop:
        run_steps(raw, tmp_path / "results")
    assert stop.value.code == 1
    assert capsys.readouterr().err == message(case, raw)
    assert not (tmp_path / "results" / "cleaning_log.csv").exists()


def _log(results: Path) -> pd.DataFrame:
    return pd.read_csv(results / "cleaning_log.csv", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("case", [c for c in CASES if c.outcome == "warning" and c.column is not None],
                         ids=[c.id for c in CASES if c.outcome == "warning" and c.column is not None])
def test_warning(case, tmp_path):
    run_steps(corrupted_copy(case, tmp_path / "raw"), tmp_path / "results")
    log = _log(tmp_path / "results")
    row = "" if case.row is None else str(case.row)
    hits = log[(log["file"] == case.file) & (log["row"] == row) & (log["rule"] == case.rule)]
    assert case.column in set(hits["column"]), log.tail(10)


def test_normalised_codes_are_analysed_as_the_known_code(tmp_path):
    """`death` is a death and `alb` an albumin converted from g/dL: the cleaned tables are the
    untouched cohort's, and the log says what was read as what."""
    untouched, results = tmp_path / "untouched", tmp_path / "results"
    run_steps(MINI, untouched)
    corrupt = [c for c in CASES if c.id in ("event_code_lower_case", "lab_code_lower_case")]
    raw = corrupted_copy(corrupt[0], tmp_path / "raw")
    (raw / "labs.csv").write_bytes(corrupt[1].corrupt((raw / "labs.csv").read_bytes()))
    run_steps(raw, results)
    for name in ("events.csv", "labs.csv"):
        assert (results / "clean" / name).read_bytes() == (untouched / "clean" / name).read_bytes()
    entries = _log(results).query("rule == 'code_normalised'")[["file", "row", "old_value", "new_value"]]
    assert entries.values.tolist() == [["events.csv", "3", "death", "DEATH"], ["labs.csv", "2", "alb", "ALB"]]


def test_a_cohort_code_of_its_own_is_kept(tmp_path):
    """ALP is alkaline phosphatase, not a slip of ALT: short codes are never near-misses. Each code
    of the cohort's own is named once in the log (it used to be kept without a word)."""
    raw = corrupted_copy(warning("alp", "labs.csv", "", replace("BL,ALT,<5,U/L", "BL,ALP,90,U/L"), ""),
                         tmp_path / "raw")
    run_steps(raw, tmp_path / "results")
    labs = pd.read_csv(tmp_path / "results" / "clean" / "labs.csv", dtype=str)
    log = _log(tmp_path / "results")
    assert "ALP" in set(labs["test"]) and "code_normalised" not in set(log["rule"])
    kept = log.query("rule == 'code_kept_as_cohorts_own'")[["file", "column", "old_value", "new_value"]]
    assert kept.values.tolist() == [["labs.csv", "test", "ALP", "kept (1 row)"], ["labs.csv", "test", "XYZ", "kept (1 row)"]]


@pytest.mark.parametrize("endings", [[b"\n"], [b"\r\n"], [b"\r\r\n"], [b"\n", b"\r\n", b"\r\r\n", b"\r\n"]],
                         ids=["lf", "crlf", "cr-cr-lf", "mixed"])
def test_source_row_exact_whatever_the_line_endings(endings, tmp_path):
    """Every raw file rewritten with these line endings: the cleaned tables, source_row
    included, are the untouched cohort's, and the log differs only by the line-ending notes."""
    run_steps(MINI, tmp_path / "untouched")
    raw = corrupted_copy(warning("x", "labs.csv", "", lambda d: d, ""), tmp_path / "raw")
    for path in raw.glob("*.csv"):
        path.write_bytes(lines(path.read_bytes(), endings))
    run_steps(raw, tmp_path / "results")
    for path in sorted((tmp_path / "untouched" / "clean").glob("*.csv")):
        assert (tmp_path / "results" / "clean" / path.name).read_bytes() == path.read_bytes(), path.name
    log, before = _log(tmp_path / "results"), _log(tmp_path / "untouched")
    notes = log["rule"] == "line_endings_normalised"
    assert log[~notes].reset_index(drop=True).equals(before)
    assert notes.sum() == (len(list(raw.glob("*.csv"))) if b"\r\r\n" in endings else 0)


def test_doubled_cr_note_counts_the_lines(tmp_path):
    run_steps(corrupted_copy(CASES[[c.id for c in CASES].index("doubled_cr")], tmp_path / "raw"),
              tmp_path / "results")
    note = _log(tmp_path / "results").query("rule == 'line_endings_normalised'")
    assert note[["file", "row", "old_value", "new_value"]].values.tolist() == [
        ["labs.csv", "", "\\r\\r\\n (21 lines)", "\\n"]]


@pytest.mark.parametrize("key,cohort,expected", [
    ("arm_label_under_both_arms", {"arms": {"control": {"raw_labels": ["SMT", "control", "MSC"]}}},
     "cohort.arms.control.raw_labels: 'MSC' is also listed under 'treatment'; a raw arm label must map to one "
     "value (cohort.yaml of the raw folder, merged over config.yaml)"),
    ("arm_label_under_both_arms_case", {"arms": {"treatment": {"raw_labels": ["MSC", "smt"]}}},
     "cohort.arms.control.raw_labels: 'SMT' is also listed under 'treatment'; a raw arm label must map to one "
     "value (cohort.yaml of the raw folder, merged over config.yaml)"),
    ("sex_code_under_both_sexes", {"sex_codes": {"F": ["F", "female", "2", "M"]}},
     "cohort.sex_codes.F: 'M' is also listed under 'M'; a raw sex code must map to one value (cohort.yaml of "
     "the raw folder, merged over config.yaml)"),
    ("arm_label_under_both_arms_spaced", {"arms": {"control": {"raw_labels": ["SMT", "MSC\u00a0"]}}},
     "cohort.arms.control.raw_labels: 'MSC\\xa0' is also listed under 'treatment'; a raw arm label must map to one "
     "value (cohort.yaml of the raw folder, merged over config.yaml)"),
    ("sex_code_number_under_both", {"sex_codes": {"M": ["M", "male", "1", "2"]}},
     "cohort.sex_codes.F: '2' is also listed under 'M'; a raw sex code must map to one value (cohort.yaml of "
     "the raw folder, merged over config.yaml)"),
])
def test_mapping_that_is_not_a_function_is_a_config_error(key, cohort, expected, tmp_path):
    raw = corrupted_copy(warning(key, "events.csv", "", lambda d: d, ""), tmp_path / "raw")
    settings = yaml.safe_load((raw / "cohort.yaml").read_text(encoding="utf-8"))
    (raw / "cohort.yaml").write_text(yaml.safe_dump({**settings, **cohort}), encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        run_steps(raw, tmp_path / "results")
    assert str(exc.value) == expected


def test_formula_text_is_neutralised(tmp_path):
    """Header and cells starting with = + - @ reach the CSVs with a leading quote; the PDF's HTML
    is not touched here."""
    raw = corrupted_copy(next(c for c in CASES if c.id == "formula_header"), tmp_path / "raw")
    (raw / "adverse_events.csv").write_bytes(
        next(c for c in CASES if c.id == "formula_term").corrupt((raw / "adverse_events.csv").read_bytes()))
    run_steps(raw, tmp_path / "results")
    log = _log(tmp_path / "results")
    assert "'" + FORMULA in set(log["column"]) and FORMULA not in set(log["column"])
    terms = pd.read_csv(tmp_path / "results" / "clean" / "adverse_events.csv", dtype=str)["term"].tolist()
    assert terms == ["'=HYPERLINK(\"http://x\")", "'@SUM(1) <img src=\"http://example.invalid/x.png\">"]


def test_writing_a_table_leaves_the_callers_frame_as_it_was(tmp_path):
    from msc_ascites.outputs import write_csv
    frame = pd.DataFrame({"=name": ["=1+1", "ok"], "value": [1.5, 2.0]})
    write_csv(frame, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == "'=name,value\n'=1+1,1.5\nok,2.0\n"
    assert list(frame.columns) == ["=name", "value"] and frame["=name"].tolist() == ["=1+1", "ok"]


@pytest.mark.parametrize("text,written", [("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"),
                                          ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("-1.5", "-1.5"),
                                          ("+3", "+3"), ("-inf", "-inf"), ("a=b", "a=b"), ("", "")])
def test_neutralised(text, written):
    assert neutralised(text) == written


def test_numbers_stay_numbers(tmp_path):
    frame = pd.DataFrame({"-x": [-1.5, 2.0], "n": [-3, 4], "text": ["-1.5", "-a"], "=h": ["ok", "+b"]})
    write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == "'-x,n,text,'=h\n-1.5,-3,-1.5,ok\n2.0,4,'-a,'+b\n"


def test_cox_not_estimable_when_an_arm_has_no_events():
    """One control patient and no events in it: no finite hazard ratio (it printed 1111152.26)."""
    time, event = np.array([5.0, 8, 12, 20, 30]), np.array([1, 1, 0, 1, 0])
    arm = np.array([1, 1, 1, 1, 0])
    why = ("not estimable, because at every event time the subjects with the event have the largest value of "
           "covariate 1 among those at risk (e.g. no events in one arm): the hazard ratio is infinite "
           "(monotone likelihood)")
    with pytest.raises(NotEstimable) as exc:
        fit_cox(time, event, arm)
    assert str(exc.value) == why
    result = cox_hazard_ratio(pd.DataFrame({"day": time, "status": event, "age": [70.0, 65, 60, 55, 40]}),
                              "day", "status", ["age"])
    assert result == {"available": False, "reason": why}


def test_cox_not_estimable_separated_continuous_covariate():
    time, event = np.array([1.0, 2, 3, 4, 5, 6]), np.array([1, 1, 1, 0, 1, 0])
    with pytest.raises(NotEstimable, match="smallest value of covariate 2"):
        fit_cox(time, event, np.column_stack([[0, 1, 0, 1, 0, 1], [1.0, 2, 3, 4, 5, 6]]))


@pytest.mark.parametrize("counts,arm", [([0, 0, 0, 0], "treatment"), ([2, 1, 0, 0], "control")],
                         ids=["no-procedures", "none-in-control"])
def test_rate_ratio_not_estimable_when_an_arm_has_no_events(counts, arm):
    """No paracentesis at all ended the paracentesis step in statsmodels' ValueError (a NaN deviance);
    none in one arm put the ratio at 0 or infinity."""
    why = f"not estimable, because the {arm} arm has no events: the rate ratio is 0 or infinite"
    result = rate_ratio(counts, [1.0, 2.0, 1.5, 1.0], [1, 1, 0, 0])
    assert result == {"poisson": {"available": False, "reason": why},
                      "negative_binomial": {"available": False, "reason": why}}


def test_table_one_prints_a_dash_not_nan():
    """One value in an arm (no SD), an arm without values, constant values (no SMD): Table 1 printed
    'nan' in the report; now the report's dash."""
    adsl = pd.DataFrame({"arm": ["treatment", "treatment", "control", "control"],
                         "age_years": [40.0, 50.0, 60.0, np.nan], "weight_kg": [70.0, 70.0, 70.0, 70.0],
                         "baseline_INR": [1.2, 1.3, np.nan, np.nan]})
    arms = {"treatment": {"label": "T"}, "control": {"label": "C"}}
    flat, _ = table_one(adsl, arms, ["age_years", "weight_kg", "baseline_INR"], [], [])
    cells = flat.astype(str).to_numpy().ravel().tolist()
    assert not any("nan" in cell for cell in cells if cell != "nan") and "60.00 (–)" in cells, cells


def test_cox_estimable_fits_as_before():
    time, event = np.array([1.0, 2, 3, 4, 5, 6]), np.array([1, 0, 1, 1, 0, 1])
    fit = fit_cox(time, event, np.array([0, 1, 1, 0, 1, 0]))
    assert np.isfinite(fit["coef"]).all() and abs(fit["coef"][0]) < 5


def render_section() -> str:
    lines_ = ["## Data, messages and spreadsheets (issue 16, classes 1, 4 and 5)", "",
              "Generated from `CASES` in `tests/test_bad_input_data.py` (`python tests/test_bad_input_data.py`);",
              "each error's message is compared in full. Beside them: a raw arm label or sex code listed under",
              "two values is a config error naming the key (`cohort.arms.<arm>.raw_labels`, `cohort.sex_codes.<sex>`);",
              "`source_row` is exact under `\\n`, `\\r\\n`, `\\r\\r\\n` and mixed endings; the Cox model is not",
              "estimable, and says why, when an arm has no events (monotone likelihood); an arm whose patients",
              "all die before the horizon gets its report (survival 0.0 there, its CI a dash; a TypeError before;",
              "tests/test_workflow.py::test_degenerate_cohort_gets_its_report).", "",
              "| Case | File | Input | What happens |", "|---|---|---|---|"]
    for c in CASES:
        if c.outcome == "error":
            where = ", ".join(x for x in (f"row {c.row}" if c.row else "", f"column `{c.column}`" if c.column else "")
                              if x)
            what = f"error{f' ({where})' if where else ''}: {c.words.replace(TODAY, 'today')}"
        elif c.outcome == "neutralised":
            what = "the text is written with a leading `'` in every CSV of the results"
        else:
            what = f"warning, cleaning-log rule `{c.rule}`" + (f" (row {c.row})" if c.row else "")
        lines_.append(f"| `{c.id}` | {c.file} | {c.what} | {what.replace('|', '/')} |")
    return "\n".join(lines_) + "\n"


def test_doc_section_matches_cases():
    text = DOC.read_text(encoding="utf-8")
    assert "\n" + render_section() in text, "run: python tests/test_bad_input_data.py"


if __name__ == "__main__":
    # The section is replaced in place: the sections after it (tests/test_bad_input_files.py's) stay.
    head, section = DOC.read_text(encoding="utf-8").split("\n## Data, messages and spreadsheets", 1)
    after = section.partition("\n## ")[2]
    DOC.write_text(head.rstrip("\n") + "\n\n" + render_section() + (f"\n## {after}" if after else ""),
                   encoding="utf-8")
