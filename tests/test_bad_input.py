"""The bad-input matrix: corruptions of the mini cohort (tests/data/mini_cohort), each run
through the package calls of the `ingest` and `clean` rules.

Each case is one corruption of one raw file and what must happen:

- ``error``: the step exits with status 1 and the one-line message names the file, the row
  (line in the raw file, read off the fixture by hand), the column and the value; no cleaned
  table, cleaning log or temporary file is left behind;
- ``warning``: the build goes on and the cleaning log has an entry of ``rule`` for ``row``;
- ``same``: the corruption is read as the contract allows and the cleaned tables are
  byte-identical to those of the untouched mini cohort.

CASES is the one list: docs/bad_input_matrix.md is generated from it (``python
tests/test_bad_input.py`` rewrites it) and a test fails when the two differ. A few of the
cases also run through real Snakemake builds (test_snakemake_stops_on_bad_input).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest

from msc_ascites.data.cleaning import RULES, write_clean_cohort
from msc_ascites.errors import RawDataError
from msc_ascites.data.rawio import write_inventory
from msc_ascites.settings import load_config
from workflow_runs import MINI_COHORT as MINI
from workflow_runs import snakemake

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "bad_input_matrix.md"


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    what: str                          # the corruption, for the doc
    corrupt: Callable[[bytes], bytes | None]  # new bytes of the file; None deletes it
    outcome: str                       # error, warning or same
    row: int | None = None             # error: line named; warning: line of the log entry (None: file-level)
    column: str | None = None
    value: object = None
    words: str = ""                    # part of the error's message
    rule: str | None = None            # warning: the cleaning-log rule


def replace(old: str, new: str, count: int = 1) -> Callable[[bytes], bytes]:
    def corrupt(data: bytes) -> bytes:
        assert old.encode() in data, old
        return data.replace(old.encode(), new.encode(), count)
    return corrupt


def append(line: str) -> Callable[[bytes], bytes]:
    return lambda data: data + line.encode() + b"\n"


def header_only(data: bytes) -> bytes:
    return data.split(b"\n", 1)[0] + b"\n"


def error(id, file, what, corrupt, row, column, value, words) -> Case:
    return Case(id, file, what, corrupt, "error", row, column, value, words)


def warning(id, file, what, corrupt, rule, row=None, column="") -> Case:
    return Case(id, file, what, corrupt, "warning", row, column, rule=rule)


EVENTS_HEADER = "subject_id,event,event_date\n"
SUBJECTS_HEADER = ("subject_id,arm,enrollment_date,sex,age_years,last_contact_date,etiology,child_pugh_score,"
                   "weight_kg,crf_version")
BIG = "9" * 10_000_000

# Rows are lines of the fixture files: subjects.csv 2-5 are 001-004; labs.csv 19 is 003's W4
# albumin (31.0 g/L); events.csv 3 is 002's death on 2013-06-01.
CASES = [
    # Whole files: encoding, separators, structure.
    error("empty_file", "events.csv", "0 bytes", lambda d: b"", 1, None, "", "file is empty"),
    error("missing_required_table", "events.csv", "file deleted", lambda d: None, None, None,
          "<raw>/events.csv", "required table is missing"),
    error("header_only_subjects", "subjects.csv", "header line only", header_only, None, None, "",
          "no subjects"),
    warning("header_only_events", "events.csv", "header line only", header_only, "table_has_no_rows"),
    error("missing_required_column", "subjects.csv", "`age_years` renamed `age`", replace("age_years", "age"),
          1, "age_years", SUBJECTS_HEADER.replace("age_years", "age"), "required column 'age_years' is missing"),
    error("missing_required_column_labs", "labs.csv", "`unit` column dropped",
          lambda d: b"\n".join(line.rsplit(b",", 1)[0] for line in d.split(b"\n")), 1, "unit",
          "subject_id,sample_date,visit,test,value", "required column 'unit' is missing"),
    error("repeated_column", "events.csv", "header `subject_id,event,event_date,event`",
          replace("event_date", "event_date,event"), 1, "event", "event", "column appears twice"),
    warning("extra_column", "events.csv", "a column `note` added",
            lambda d: d.replace(b"\n", b",x\n").replace(b"event_date,x", b"event_date,note"),
            "extra_column_ignored", column="note"),
    error("semicolon_delimiter", "events.csv", "`;` between all fields", lambda d: d.replace(b",", b";"), 1, None,
          "subject_id;event;event_date", "separated by ';'"),
    error("semicolon_in_one_row", "events.csv", "`;` between the fields of row 2",
          replace("002,HE,2012-09-01", "002;HE;2012-09-01"), 2, None, "002;HE;2012-09-01",
          "the header has 3 fields, this row 1"),
    error("short_row", "labs.csv", "row 4 lacks its last two fields", replace("BL,INR,1.5,\n", "BL,INR\n"), 4, None,
          "001,08/01/2012,BL,INR", "the header has 6 fields, this row 4"),
    error("long_row", "labs.csv", "row 4 has an extra field", replace("BL,INR,1.5,\n", "BL,INR,1.5,,x\n"), 4, None,
          "001,08/01/2012,BL,INR,1.5,,x", "the header has 6 fields, this row 7"),
    error("unclosed_quote", "events.csv", "an opening quote in row 2 closed in row 4 (rows merge)",
          lambda d: replace("002,HE,", '002,"HE,')(replace("003,SBP,2013-01-10", '003,SBP",2013-01-10')(d)), 2,
          None, "HE,2012-09-01\n002,DEATH,2013-06-01\n003,SBP", "line break"),
    error("quoted_line_break", "adverse_events.csv", "a quoted term with a line break in it",
          replace("fever", '"fe\nver"'), 2, None, "fe\nver", "line break"),
    warning("utf8_bom", "events.csv", "UTF-8 byte-order mark", lambda d: b"\xef\xbb\xbf" + d, "utf8_bom_removed"),
    error("latin1_bytes", "events.csv", "Latin-1 `É` in row 3",
          lambda d: (EVENTS_HEADER + "002,HE,2012-09-01\n003,É,2013-01-10\n").encode("latin-1"), 3, None,
          "c9 2c 32 30", "not valid UTF-8"),
    error("utf16", "events.csv", "UTF-16 with its byte-order mark",
          lambda d: d.decode().encode("utf-16"), 1, None, "ff fe 73 00", "not valid UTF-8"),
    error("nul_byte", "events.csv", "a NUL byte inside row 2", replace("002,HE", "002,H\0E"), 2, None,
          "002,H\0E,2012-09-01", "NUL byte"),
    Case("crlf", "subjects.csv", "`\\r\\n` line endings", lambda d: d.replace(b"\n", b"\r\n"), "same"),
    error("cr_only", "events.csv", "bare `\\r` line endings", lambda d: d.replace(b"\n", b"\r"), 1, None,
          "subject_id,event,event_date\r002,HE,2012-09-01\r002,DEATH,2013", "bare carriage return"),
    warning("blank_line", "events.csv", "an empty line after row 2", replace("2012-09-01\n", "2012-09-01\n\n"),
            "blank_row_removed", 3),
    # Identifiers and codes.
    error("duplicate_subject", "subjects.csv", "subject 004 relabelled 001", replace("004,msc", "001,msc"), 5,
          "subject_id", "001", "duplicate subject"),
    error("duplicated_subject_row", "subjects.csv", "row 2 repeated at the end",
          append("001,MSC,2012-01-10,M,45,2014-01-20,HBV,9,62.5,v1"), 6, "subject_id", "001", "duplicate subject"),
    error("missing_subject_id", "events.csv", "empty subject_id", replace("002,HE,", ",HE,"), 2, "subject_id", "",
          "value is required"),
    error("unmapped_arm", "subjects.csv", "arm `placebo`", replace("003,SMT", "003,placebo"), 4, "arm", "placebo",
          "not mapped in config"),
    warning("arm_case", "subjects.csv", "arm `smt` for `SMT`", replace("003,SMT", "003,smt"), "arm_label_recoded", 4,
            "arm"),
    error("unmapped_sex", "subjects.csv", "sex `X`", replace(",F,60,", ",X,60,"), 4, "sex", "X",
          "sex code is not mapped"),
    error("lab_unknown_subject", "labs.csv", "a lab of subject 099", replace("004,01/04/2012,BL,ALB", "099,01/04/2012,BL,ALB"),
          20, "subject_id", "099", "not in subjects.csv"),
    error("event_unknown_subject", "events.csv", "an event of subject 005", replace("003,SBP,2013-01-10", "005,SBP,2013-01-10"),
          4, "subject_id", "005", "not in subjects.csv"),
    # A date that does not parse, in each date column of every table.
    error("bad_date_enrollment", "subjects.csv", "enrollment_date `2012-13-05`", replace("2012-03-05", "2012-13-05"),
          4, "enrollment_date", "2012-13-05", "not a date in the format YYYY-MM-DD"),
    error("bad_date_last_contact", "subjects.csv", "last_contact_date `2014-01-32`", replace("2014-01-20", "2014-01-32"),
          2, "last_contact_date", "2014-01-32", "not a date in the format YYYY-MM-DD"),
    error("bad_date_labs", "labs.csv", "sample_date `31/02/2012`", replace("15/12/2012,W48,TBIL", "31/02/2012,W48,TBIL"),
          7, "sample_date", "31/02/2012", "not a date in the format DD/MM/YYYY"),
    error("bad_date_events", "events.csv", "event_date `01/09/2012` (not the configured format)",
          replace("2012-09-01", "01/09/2012"), 2, "event_date", "01/09/2012", "not a date in the format YYYY-MM-DD"),
    error("bad_date_ascites", "ascites.csv", "assessment_date `14.12.2012`", replace("2012-12-14", "14.12.2012"),
          3, "assessment_date", "14.12.2012", "not a date"),
    error("bad_date_paracentesis", "paracentesis.csv", "procedure_date `2012-08-`", replace("2012-08-01", "2012-08-"),
          3, "procedure_date", "2012-08-", "not a date"),
    error("bad_date_adverse_events", "adverse_events.csv", "onset_date `yesterday`", replace("2012-01-11", "yesterday"),
          2, "onset_date", "yesterday", "not a date"),
    error("bad_date_infusions", "infusions.csv", "infusion_date `2012-04-02T10:00`",
          replace("2012-04-02", "2012-04-02T10:00"), 3, "infusion_date", "2012-04-02T10:00", "not a date"),
    # Dates that parse but contradict each other.
    error("last_contact_before_enrollment", "subjects.csv", "last contact 2011-03-10, enrolled 2012-03-05",
          replace("2014-03-10", "2011-03-10"), 4, "last_contact_date", "2011-03-10", "before enrollment"),
    error("event_before_enrollment", "events.csv", "SBP on 2011-01-10, enrolled 2012-03-05",
          replace("003,SBP,2013-01-10", "003,SBP,2011-01-10"), 4, "event_date", "2011-01-10", "before enrollment"),
    error("event_after_last_contact", "events.csv", "SBP on 2015-05-02, last contact 2014-03-10",
          replace("003,SBP,2013-05-02", "003,SBP,2015-05-02"), 5, "event_date", "2015-05-02", "after the subject's"),
    error("lab_after_death", "labs.csv", "a lab of 002 on 05/08/2013, dead on 2013-06-01",
          replace("002,05/01/2013,W36", "002,05/08/2013,W36"), 15, "sample_date", "05/08/2013",
          "dated after the subject's DEATH"),
    error("event_after_death", "events.csv", "SBP of 002 on 2013-04-01, dead on 2013-03-01",
          lambda d: replace("002,DEATH,2013-06-01", "002,DEATH,2013-03-01")(d) + b"002,SBP,2013-04-01\n", 7,
          "event_date", "2013-04-01", "event dated after the subject's DEATH"),
    error("paracentesis_after_death", "paracentesis.csv", "a paracentesis of 002 on 2013-07-01, dead on 2013-06-01",
          replace("002,2012-08-01", "002,2013-07-01"), 3, "procedure_date", "2013-07-01", "dated after the subject's DEATH"),
    # Numbers.
    error("negative_age", "subjects.csv", "age `-3`", replace(",38,", ",-3,"), 5, "age_years", "-3", "in_range(0, 120)"),
    error("absurd_age", "subjects.csv", "age `200`", replace(",45,", ",200,"), 2, "age_years", "200", "in_range(0, 120)"),
    error("missing_age", "subjects.csv", "age `NA`", replace(",52,", ",NA,"), 3, "age_years", "NA", "value is required"),
    error("nan_string", "subjects.csv", "age `NaN`", replace(",45,", ",NaN,"), 2, "age_years", "NaN", "not a finite number"),
    error("child_pugh_out_of_range", "subjects.csv", "Child-Pugh `3`", replace(",9,62.5", ",3,62.5"), 2,
          "child_pugh_score", "3", "in_range(5, 15)"),
    error("non_numeric_lab", "labs.csv", "value `thirty`", replace("ALB,31.0,g/L", "ALB,thirty,g/L"), 19, "value",
          "thirty", "not a finite number"),
    error("comma_decimal", "labs.csv", 'value `"31,0"`', replace("ALB,31.0,g/L", 'ALB,"31,0",g/L'), 19, "value",
          "31,0", "not a finite number"),
    error("inf_string", "labs.csv", "value `inf`", replace("ALB,31.0,g/L", "ALB,inf,g/L"), 19, "value", "inf",
          "not a finite number"),
    error("overflow", "labs.csv", "value `1e400`", replace("ALB,31.0,g/L", "ALB,1e400,g/L"), 19, "value", "1e400",
          "not a finite number"),
    error("negative_lab", "labs.csv", "value `-31.0`", replace("ALB,31.0,g/L", "ALB,-31.0,g/L"), 19, "value", "-31.0",
          "cannot be negative"),
    error("cell_10mb", "labs.csv", "a value of 10 MB of digits", replace("ALB,31.0,g/L", f"ALB,{BIG},g/L"), 19,
          "value", BIG, "not a finite number"),
    error("unknown_unit", "labs.csv", "TBIL in `mmol/L`", replace("TBIL,2.0,mg/dL", "TBIL,2.0,mmol/L"), 15, "unit",
          "mmol/L", "unknown unit for TBIL"),
    error("fractional_grade", "ascites.csv", "ascites grade `2.5`", replace("2012-01-09,3,", "2012-01-09,2.5,"), 2,
          "grade", "2.5", "not a whole number"),
    error("grade_out_of_range", "ascites.csv", "ascites grade `7`", replace("2012-01-09,3,", "2012-01-09,7,"), 2,
          "grade", "7", "in_range(0, 3)"),
    error("ae_grade_out_of_range", "adverse_events.csv", "CTCAE grade `6`", replace("fever,1,", "fever,6,"), 2,
          "grade", "6", "in_range(1, 5)"),
    error("ae_serious_flag", "adverse_events.csv", "serious `maybe`", replace("1,N,possible", "1,maybe,possible"), 2,
          "serious", "maybe", "isin"),
    error("negative_cells", "infusions.csv", "cells_per_kg `-1`", replace("1000000", "-1"), 2, "cells_per_kg", "-1",
          "in_range(0, 10000000000.0)"),
    # Repairs the contract allows, each logged.
    warning("duplicated_lab_row", "labs.csv", "row 3 repeated at the end", append("001,08/01/2012,BL,TBIL,51.3,umol/L"),
            "duplicate_row_removed", 22),
    warning("duplicated_event_row", "events.csv", "row 4 repeated at the end", append("003,SBP,2013-01-10"),
            "duplicate_row_removed", 7),
    warning("lab_value_missing", "labs.csv", "value `N/A`", replace("ALB,31.0,g/L", "ALB,N/A,g/L"),
            "lab_value_missing_row_removed", 19, "value"),
    warning("missing_code_optional", "paracentesis.csv", "volume `ND`", replace("5.0", "ND"), "missing_code", 2,
            "volume_l"),
    warning("spaces_around_value", "labs.csv", "value ` 31.0 `", replace("ALB,31.0,g/L", "ALB, 31.0 ,g/L"),
            "whitespace_stripped", 19, "value"),
    warning("spaces_around_date", "subjects.csv", "enrollment date ` 2012-01-10 ` (logged with digits masked)",
            replace("001,MSC,2012-01-10", "001,MSC, 2012-01-10 "), "whitespace_stripped", 2, "enrollment_date"),
    warning("censored_value", "labs.csv", "value `>31.0`", replace("ALB,31.0,g/L", "ALB,>31.0,g/L"),
            "censored_value_bound", 19, "value"),
    warning("other_unit", "labs.csv", "albumin `3.1 g/dL`", replace("ALB,31.0,g/L", "ALB,3.1,g/dL"), "unit_converted",
            19, "value"),
    warning("visit_label_wrong", "labs.csv", "visit `W12` on day 28", replace("02/04/2012,W4", "02/04/2012,W12"),
            "visit_label_disagrees_with_date", 19, "visit"),
]


def run_steps(raw: Path, results: Path) -> None:
    """What the `ingest` and `clean` rules run (workflow/scripts/ingest.py, clean.py), with the
    configuration as workflow/rules/common.smk builds it (the raw folder's cohort.yaml merged)."""
    config = load_config(ROOT / "config.yaml", raw_dir=str(raw))
    write_inventory(raw, results / "ingest" / "raw_inventory.json")
    write_clean_cohort(raw, config["cohort"], config["visits"], results / "clean", results / "cleaning_log.csv",
                       results / "clean" / "summary.json")


def corrupted_copy(case: Case, raw: Path) -> Path:
    shutil.copytree(MINI, raw)
    new = case.corrupt((raw / case.file).read_bytes())
    if new is None:
        (raw / case.file).unlink()
    else:
        (raw / case.file).write_bytes(new)
    return raw


def expected_message(case: Case, raw: Path) -> str:
    """The start of the one-line message: file, row, column and value, then the problem."""
    value = case.value.replace("<raw>", str(raw)) if isinstance(case.value, str) else case.value
    where = str(RawDataError(case.file, case.row, case.column, value, ""))
    return f"error: {where}"


@pytest.fixture(scope="module")
def untouched(tmp_path_factory) -> dict[str, bytes]:
    results = tmp_path_factory.mktemp("untouched") / "results"
    run_steps(MINI, results)
    return {p.name: p.read_bytes() for p in sorted((results / "clean").glob("*.csv"))}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, tmp_path, capsys, untouched):
    raw = corrupted_copy(case, tmp_path / "raw")
    results = tmp_path / "results"
    if case.outcome == "error":
        with pytest.raises(SystemExit) as stop:
            run_steps(raw, results)
        assert stop.value.code == 1
        message = capsys.readouterr().err
        assert message.startswith(expected_message(case, raw)), message[:500]
        assert case.words in message and "Traceback" not in message
        assert message.count("\n") == 1  # one line, whatever the value holds
        left = [p for p in results.rglob("*") if p.is_file()]
        assert all(p.name == "raw_inventory.json" for p in left), left  # the ingest step may have succeeded
        return
    run_steps(raw, results)
    if case.outcome == "same":
        assert {p.name: p.read_bytes() for p in sorted((results / "clean").glob("*.csv"))} == untouched
        return
    log = pd.read_csv(results / "cleaning_log.csv", dtype=str, keep_default_na=False)
    row = "" if case.row is None else str(case.row)
    hits = log[(log["file"] == case.file) & (log["row"] == row) & (log["rule"] == case.rule)]
    assert case.column in set(hits["column"]), log.tail(10)


#: Cases also run through whole Snakemake builds: a structural fault stopping `ingest`, bad values
#: stopping `clean` (one the cleaning of one table finds, one across tables), a 10 MB cell.
SNAKEMAKE_CASES = ["semicolon_delimiter", "non_numeric_lab", "lab_after_death", "cell_10mb"]


@pytest.mark.parametrize("case", [c for c in CASES if c.id in SNAKEMAKE_CASES], ids=SNAKEMAKE_CASES)
def test_snakemake_stops_on_bad_input(case, tmp_path):
    raw = corrupted_copy(case, tmp_path / "raw")
    run = snakemake(tmp_path / "work", raw)
    assert run.returncode != 0
    message = expected_message(case, raw)
    assert message in run.stderr and case.words in run.stderr, run.stderr[-3000:]
    results = tmp_path / "work" / "results"
    # What does not depend on the raw data (paper_consistency.csv) may be built; nothing from cleaning
    # on, and no temporary file.
    left = [str(p.relative_to(results)) for p in results.rglob("*") if p.is_file()] if results.exists() else []
    assert not [name for name in left if name.startswith(("clean/", "datasets/", "endpoints/"))
                or name in ("cleaning_log.csv", "report.html", "report.pdf") or Path(name).name.startswith(".")], left


def test_cases_are_distinct_and_use_known_rules():
    assert len({c.id for c in CASES}) == len(CASES) >= 40
    assert set(SNAKEMAKE_CASES) <= {c.id for c in CASES if c.outcome == "error"}
    assert {c.outcome for c in CASES} == {"error", "warning", "same"}
    assert all(c.rule in RULES for c in CASES if c.outcome == "warning")


def render_doc() -> str:
    lines = [
        "# Bad-input matrix",
        "",
        "Corruptions of the mini cohort (`tests/data/mini_cohort`) and what the workflow does with each.",
        "Generated from `CASES` in `tests/test_bad_input.py` (`python tests/test_bad_input.py`); a test",
        "fails when this page and the list differ. Each case runs through the `ingest` and `clean` steps;",
        "a few also run through whole Snakemake builds.",
        "",
        "An **error** stops the build (exit status 1) with one line naming the file, the row (line in",
        "the raw file; the header is line 1), the column and the value; no cleaned table or cleaning",
        "log is left behind. A **warning** is a repair the contract allows: the build goes on and the",
        "cleaning log (`results/cleaning_log.csv`) has an entry with the rule named. **Same** means the",
        "input is read as the contract allows, with cleaned tables identical to the untouched cohort's.",
        "",
        "| Case | File | Input | What happens |",
        "|---|---|---|---|",
    ]
    for c in CASES:
        if c.outcome == "error":
            where = ", ".join(x for x in (f"row {c.row}" if c.row else "", f"column `{c.column}`" if c.column else "")
                              if x)
            what = f"error{f' ({where})' if where else ''}: {c.words}"
        elif c.outcome == "warning":
            what = f"warning, cleaning-log rule `{c.rule}`" + (f" (row {c.row})" if c.row else "")
        else:
            what = "same cleaned tables as the untouched files"
        lines.append(f"| `{c.id}` | {c.file} | {c.what} | {what.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def test_a_date_with_spaces_is_logged_without_its_digits(tmp_path):
    """The cleaning log is an output: a patient's calendar date must not reach it (README, data protection)."""
    case = next(c for c in CASES if c.id == "spaces_around_date")
    run_steps(corrupted_copy(case, tmp_path / "raw"), tmp_path / "results")
    log = pd.read_csv(tmp_path / "results" / "cleaning_log.csv", dtype=str, keep_default_na=False)
    entry = log[(log["rule"] == "whitespace_stripped") & (log["column"] == "enrollment_date")]
    assert entry[["old_value", "new_value"]].values.tolist() == [[" ####-##-## ", "####-##-##"]]


def test_doc_matches_cases():
    """This list's part of the page: up to the first section another test file generates."""
    own = DOC.read_text(encoding="utf-8").split("\n\n## ", 1)[0] + "\n"
    assert own == render_doc(), "run: python tests/test_bad_input.py"


if __name__ == "__main__":
    sections = DOC.read_text(encoding="utf-8").split("\n\n## ", 1)[1:]
    DOC.write_text(render_doc() + "".join("\n## " + s for s in sections), encoding="utf-8")
