"""Cleaning: raw exports (strings, calendar dates) to typed tables in study days.

Every value cleaning changes and every row it removes is written to the
cleaning log with file, row, subject, column, old value, new value and the rule
that fired; anything it cannot repair is a RawDataError naming file, row,
column and value. Calendar dates and columns outside the contract do not leave
this step: the cleaned tables carry study days (day 0 = enrollment).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..errors import RawDataError, user_errors_exit
from ..outputs import write_csv, write_json
from . import contract
from .contract import TABLES, Table
from .keys import row_codes
from .rawio import read_raw_table
from .units import LAB_NAMES, LAB_UNITS
from .visits import Visit, nominal_visit, visits_from_config

SUBJECT_COLUMNS = ("subject_id", "arm", "sex", "age_years", "etiology", "child_pugh_score", "weight_kg",
                   "last_contact_day", "source_row")
LOG_COLUMNS = ["file", "row", "subject_id", "column", "old_value", "new_value", "rule"]

#: What each rule of the cleaning log means; the report and the data dictionary show it.
RULES = {
    "utf8_bom_removed": "a UTF-8 byte-order mark at the start of the file was removed",
    "extra_column_ignored": "a column outside the contract was kept out of the analysis",
    "date_format_from_config": "dates were parsed with the format configured for the file",
    "blank_row_removed": "an empty line was removed",
    "line_endings_normalised": "lines ending in two or more carriage returns before the line feed were read as "
                               "one line each (line numbers unchanged)",
    "record_after_last_contact": "a record (not an event) dated after the subject's last_contact_date was "
                                 "kept: the subject was seen after the follow-up of subjects.csv ends",
    "record_before_enrollment": "a record dated before the subject's enrollment (labs and ascites: before the "
                                "baseline window) was kept; no analysis reads it",
    "code_normalised": "an event or lab test code matched a known code only after Unicode normalisation (NFKC), "
                       "case folding and removing spaces; the known code is used",
    "code_kept_as_cohorts_own": "an event code or lab test the contract does not know (nor a slip or another name "
                                "of a known one) was kept as the cohort's own; only an analysis config names reads it",
    "table_has_no_rows": "the file has a header and no records: an empty table",
    "whitespace_stripped": "leading or trailing spaces were removed",
    "missing_code": "a missing-value code was read as missing",
    "arm_label_recoded": "an arm label matched a configured label only after case folding",
    "sex_recoded": "a sex code was recoded to M/F by config",
    "censored_value_bound": "a censored lab value (<x or >x) was kept as its bound and flagged",
    "unit_converted": "a lab value was converted to the canonical unit of its test",
    "lab_value_missing_row_removed": "a lab row without a value was removed",
    "duplicate_row_removed": "an exact duplicate of an earlier row was removed",
    "visit_label_disagrees_with_date": "the CRF visit label does not match the visit window of the "
                                       "sample date; the date governs",
}


@dataclass
class CleaningLog:
    """Collects log entries as column arrays; one frame at the end."""

    parts: list[pd.DataFrame] = field(default_factory=list)

    def add(self, file: str, rows, subjects, column: str, old, new, rule: str) -> None:
        rows = np.asarray(rows)
        if len(rows) == 0:
            return
        assert rule in RULES, rule
        self.parts.append(pd.DataFrame({
            "file": file, "row": rows.astype(str), "subject_id": np.asarray(subjects, dtype=object),
            "column": column, "old_value": np.asarray(old, dtype=object).astype(str),
            "new_value": np.asarray(new, dtype=object).astype(str), "rule": rule}))

    def add_file(self, file: str, column: str, old: str, new: str, rule: str) -> None:
        """An entry about a whole file or column (row and subject empty)."""
        self.add(file, np.array([""]), [""], column, [old], [new], rule)

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=LOG_COLUMNS)
        log = pd.concat(self.parts, ignore_index=True)
        order = pd.to_numeric(log["row"], errors="coerce").fillna(0)
        log = log.assign(_row=order).sort_values(["file", "_row", "column", "rule"], kind="stable")
        return log.drop(columns="_row").reset_index(drop=True)[LOG_COLUMNS]


@dataclass
class CleanCohort:
    tables: dict[str, pd.DataFrame]   # cleaned tables of the tables present
    absent: list[str]                 # optional tables not in the raw folder
    log: pd.DataFrame


def _fail(table: Table, frame: pd.DataFrame, mask, column: str, problem: str, written: pd.Series | None = None):
    """Raise for the first row where ``mask`` holds, naming its value as ``written`` holds it (as the
    raw file wrote it, where the frame holds it converted), else as the frame does."""
    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        i = int(np.flatnonzero(mask)[0])
        raise RawDataError(table.file, int(frame["source_row"].iat[i]), column,
                           (frame[column] if written is None else written).iat[i], problem)


def _map_unique(series: pd.Series, func) -> tuple[pd.Series, np.ndarray]:
    """``func`` applied to each distinct value once, and where it changed the value:
    on a column of millions of rows and few distinct values, the work and the new
    strings are per distinct value, not per row."""
    codes, uniques = pd.factorize(series, sort=False, use_na_sentinel=False)
    mapped = np.array([func(u) for u in uniques], dtype=object)
    changed = np.array([m != u for m, u in zip(mapped, uniques)], dtype=bool)
    if not len(uniques):
        return pd.Series([], index=series.index, dtype=object), np.zeros(0, dtype=bool)
    return pd.Series(mapped[codes], index=series.index, dtype=object), changed[codes]


def _apply_to_unique(series: pd.Series, func) -> pd.Series:
    return _map_unique(series, func)[0]


def _log_changes(log, table, frame, column, old, new, rule, where=None):
    changed = (old != new).to_numpy() if where is None else np.asarray(where, dtype=bool)
    if changed.any():
        log.add(table.file, frame["source_row"].to_numpy()[changed],
                frame["subject_id"].to_numpy()[changed], column,
                old.to_numpy()[changed], new.to_numpy()[changed], rule)


def _log_rows(log, table, frame, column, where, old, new, rule):
    """Log the rows ``where`` selects; ``old`` and ``new`` (functions of those rows) format only them:
    formatting a 6M-row column to log a few of its rows took seconds at 100k subjects."""
    where = np.asarray(where, dtype=bool)
    if where.any():
        rows = frame[where]
        _log_changes(log, table, rows, column, old(rows), new(rows), rule, where=np.ones(len(rows), dtype=bool))


def _strip_and_missing(table: Table, frame: pd.DataFrame, missing_codes: set[str],
                       log: CleaningLog) -> pd.DataFrame:
    """Strip spaces in every cell, then read missing codes as empty where allowed."""
    for column in table.columns:
        old = frame[column.name]
        new, changed = _map_unique(old, str.strip)
        if column.kind == contract.DATE and changed.any():
            # A patient's calendar date leaves cleaning nowhere, not even in the log: digits masked.
            masked = [v.str.replace(r"\d", "#", regex=True) for v in (old[changed], new[changed])]
            _log_changes(log, table, frame[changed], column.name, *masked, "whitespace_stripped",
                         where=np.ones(int(changed.sum()), dtype=bool))
        else:
            _log_changes(log, table, frame, column.name, old, new, "whitespace_stripped", where=changed)
        frame[column.name] = new
    # Empty lines (every cell empty) are not records.
    blank = np.logical_and.reduce([frame[c.name].to_numpy() == "" for c in table.columns])
    if blank.any():
        log.add(table.file, frame["source_row"].to_numpy()[blank], [""] * int(blank.sum()), "",
                [""] * int(blank.sum()), [""] * int(blank.sum()), "blank_row_removed")
        frame = frame[~blank].reset_index(drop=True)
    for column in table.columns:
        values = frame[column.name]
        if column.kind in (contract.ID, contract.CODE):
            # Codes are never missing codes: 'NA' in labs.test is sodium.
            _fail(table, frame, values == "", column.name, "a value is required here")
            continue
        if not column.missing_allowed:
            _fail(table, frame, values.isin(missing_codes), column.name, "a value is required here")
        if column.kind == contract.LAB_VALUE:  # lab rows without a value are removed later
            continue
        coded = values.isin(missing_codes).to_numpy() & (values != "").to_numpy()
        if coded.any():
            _log_changes(log, table, frame, column.name, values, pd.Series("", index=values.index),
                         "missing_code", where=coded)
            frame[column.name] = values.where(~coded, "")
    return frame


def _parse_numbers(table: Table, frame: pd.DataFrame, column: str, whole: bool = False,
                   written: pd.Series | None = None) -> pd.Series:
    """Numbers from text; empty is missing; anything else unparseable is an error, naming the value as
    ``written`` in the file when the text parsed is part of it (the bound of ``<5``)."""
    text = frame[column]
    codes, uniques = pd.factorize(text, sort=False, use_na_sentinel=False)  # parse each distinct text once
    parsed = pd.to_numeric(pd.Series(uniques, dtype=object).where(lambda u: u != "", None),
                           errors="coerce").astype(float).to_numpy()
    numbers = pd.Series(parsed[codes] if len(uniques) else [], index=text.index, dtype=float)
    # 1e-400 is not 0: a number too small for a float is as wrong as one too large (1e400).
    underflow = np.array([p == 0 and re.match(r"\s*[-+]?[0.]*[1-9]", u) is not None for p, u in zip(parsed, uniques)],
                         dtype=bool)
    bad = ((numbers.isna() & (text != "")) | np.isinf(numbers.fillna(0))).to_numpy()
    shown = frame if written is None else frame.assign(**{column: written})
    if bad.any():
        _fail(table, shown, bad, column, "not a finite number" + _number_hint(shown[column].to_numpy()[bad][0]))
    if underflow.any():
        _fail(table, shown, underflow[codes], column, "too small to be stored as a number (it would be read as 0): "
              "check the value")
    if whole:
        _fail(table, frame, numbers.notna() & (numbers % 1 != 0), column, "not a whole number")
    return numbers


#: What exports write for a missing number besides the configured codes (compared case-folded).
MISSING_LOOKALIKES = {"n/a", "na", "nd", "null", "none", "missing", "-", "--", "?", "n.a.", "not done"}


def _number_hint(value: str) -> str:
    """Why a number may not parse, when it shows."""
    if re.fullmatch(r"[-+]?\d+([,.' \u00a0\u202f_]\d+)+", value) and not re.fullmatch(r"[-+]?\d+\.\d+", value):
        return " (a decimal comma or a thousands separator? write a decimal point and no separators: 1234.5)"
    if value[:2] in ("<=", ">=") or value[:1] in ("\u2264", "\u2265"):
        return " (a censored value is written <x or >x)"
    if value.casefold() in MISSING_LOOKALIKES:
        return " (a missing value? write one of cohort.missing_codes, or add this code to them in cohort.yaml)"
    return _invisible_character_hint(value)


def _invisible_character_hint(value: str) -> str:
    """A no-break or thin space looks like a space on screen, and no number holds one (the
    other invisible characters are refused when the file is read, rawio._check_invisible)."""
    odd = next((c for c in value if c != " " and unicodedata.category(c) == "Zs"), None)
    if odd is None:
        return ""
    return f" (it holds U+{ord(odd):04X} {unicodedata.name(odd).lower()}, which shows as a space: delete it)"


def _parse_dates(table: Table, frame: pd.DataFrame, column: str, format_name: str) -> pd.Series:
    text = frame[column]
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for fmt in contract.DATE_FORMATS[format_name]:
        todo = parsed.isna()
        parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    unparsed = parsed.isna()
    if unparsed.any():  # only the few that failed are tried again, one by one
        wrong = unparsed.to_numpy().copy()
        wrong[wrong] = ~_in_format(text[unparsed], format_name).to_numpy(dtype=bool)
        hint = _date_hint(text[wrong].iat[0], table) if wrong.any() else ""
        _fail(table, frame, wrong, column, f"not a date in the format {format_name} configured for {table.file}{hint}")
    today = pd.Timestamp(datetime.date.today())
    _fail(table, frame, unparsed | (parsed.dt.normalize() > today), column,
          f"in the format, but out of the range of usable dates ({contract.FIRST_USABLE_DATE} to today, "
          f"{today:%Y-%m-%d})")
    _fail(table, frame, parsed < pd.Timestamp(contract.FIRST_USABLE_DATE), column,
          f"a placeholder date: before {contract.FIRST_USABLE_DATE}, out of the range of usable dates")
    return parsed.dt.normalize()


def _date_hint(value: str, table: Table) -> str:
    """Why a date may not parse, when it shows: another of the contract's formats, or a spreadsheet's
    serial day number (41484 is 2013-07-29 in Excel)."""
    other = next((name for name in contract.DATE_FORMATS if _in_format(pd.Series([value]), name).iat[0]), None)
    if other is not None:
        return (f" (it is in the format {other}: write the file's dates in one format, the one "
                f"date_formats.{table.name} in cohort.yaml names)")
    if re.fullmatch(r"\d{5}(\.\d+)?", value):
        return " (a spreadsheet's serial day number? export the column formatted as dates)"
    for fmt, hint in (("%m/%d/%Y", "month and day swapped?"), ("%y-%m-%d", "a two-digit year? write it in full"),
                      ("%d/%m/%y", "a two-digit year? write it in full")):
        try:
            datetime.datetime.strptime(value, fmt)
            return f" ({hint})"
        except ValueError:
            pass
    return ""


def _in_format(text: pd.Series, format_name: str) -> pd.Series:
    """Whether each text is a calendar date in the format, whatever its year: 9999-12-31 is
    (pandas' dates end in 2262, so it parses as missing)."""
    def valid(value: str) -> bool:
        for fmt in contract.DATE_FORMATS[format_name]:
            try:
                datetime.datetime.strptime(value, fmt)
                return True
            except ValueError:
                pass
        return False
    return _apply_to_unique(text, valid).astype(bool)


def _format_numbers(numbers: pd.Series) -> pd.Series:
    return _apply_to_unique(numbers, lambda x: f"{x:.10g}")


def _parse_typed_columns(table: Table, frame: pd.DataFrame) -> None:
    for column in table.columns:
        if column.kind in (contract.NUMBER, contract.INTEGER):
            frame[column.name] = _parse_numbers(table, frame, column.name,
                                                whole=column.kind == contract.INTEGER)


def _map_codes(table, frame, column, mapping: dict[str, str], log, rule, what) -> pd.Series:
    """Map raw codes by config: exact match first, then case-insensitive (logged)."""
    exact = frame[column].map(mapping)
    folded = {unicodedata.normalize("NFKC", k).strip().casefold(): v for k, v in mapping.items()}
    loose = frame[column].str.casefold().map(folded)
    _fail(table, frame, exact.isna() & loose.isna(), column,
          f"{what} is not mapped in config (known: {', '.join(sorted(mapping))})")
    if rule is not None:
        _log_changes(log, table, frame, column, frame[column], loose, rule, where=exact.isna())
    return exact.fillna(loose)


def _code_key(code: str) -> str:
    """A code as compared with the known ones: NFKC (full-width ``ＤＥＡＴＨ`` is DEATH), no spaces, case folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", code)).casefold()


def _letters(code: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", code)).casefold()


def _synonyms(known) -> dict[str, str]:
    """Other names of the known codes, by their letters: the contract's and the lab tests' readable names."""
    names = {code: [*contract.CODE_SYNONYMS.get(code, ()), LAB_NAMES.get(code, code)] for code in known}
    return {_letters(name): code for code, spellings in names.items() for name in spellings}


def _near_miss(code: str, known: str) -> bool:
    """Not the known code, but a slip of it: equal without punctuation (``T-BIL``), or, for codes
    of five letters or more, one letter added, dropped, changed or swapped (``DEATHS``, ``DAETH``).
    Short codes are left alone: ``ALP`` is a test of its own, not a slip of ``ALT``."""
    a, b = _letters(code), known.casefold()
    if a == b:
        return True
    if min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _normalise_codes(table, frame, column, known, log) -> None:
    """Known codes matched whatever their case and spacing (``death`` is DEATH: logged); a near-miss
    or another name of a known code is an error, never silently a code of the cohort's own; a code of
    the cohort's own is named once in the log."""
    by_key = {_code_key(code): code for code in known}

    def resolve(value: str) -> str:
        return value if value in known else by_key.get(_code_key(value), value)
    new, changed = _map_unique(frame[column], resolve)
    _log_changes(log, table, frame, column, frame[column], new, "code_normalised", where=changed)
    frame[column] = new
    codes, synonyms = pd.Series(pd.unique(new)), _synonyms(known)
    unknown = codes[~codes.isin(known)]
    counts = new.value_counts() if len(unknown) else None  # one pass over the rows, only when needed
    for code in unknown:
        match = next((k for k in known if _near_miss(code, k)), None)
        if match is not None:
            _fail(table, frame, new == code, column,
                  f"not a known code, but close to {match!r}: write {match!r}, or a code of the cohort's own "
                  "that is not a slip of a known one")
        if _letters(code) in synonyms:
            match = synonyms[_letters(code)]
            _fail(table, frame, new == code, column,
                  f"not a known code, but another name of {match!r}: write {match!r} (a code of the cohort's own "
                  "is kept, and no analysis reads it)")
        rows = int(counts[code])
        log.add_file(table.file, column, code, f"kept ({rows} row{'' if rows == 1 else 's'})",
                     "code_kept_as_cohorts_own")


def _refuse_derived_test(table: Table, frame: pd.DataFrame) -> None:
    """A raw test named as the score the datasets derive (``MELD``, ``meld``, ``M.E.L.D``) is an error:
    its rows would sit beside the derived ones under one name, and no reader could tell them apart."""
    named = [code for code in pd.unique(frame["test"])
             if isinstance(code, str) and _letters(code) == _letters(contract.DERIVED_TEST)]
    if named:
        _fail(table, frame, frame["test"] == named[0], "test",
              f"{contract.DERIVED_TEST!r} is the score the analysis derives from TBIL, INR and CREA: leave the "
              "raw score out of labs.csv, or give it a code of the cohort's own (e.g. MELD_RAW)")


def _validate(table: Table, frame: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    """pandera checks, reported as the first failing file/row/column/value."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.dropna(subset=["index"]).sort_values("index", kind="stable")
        if cases.empty:
            raise
        first = cases.iloc[0]
        row = int(frame["source_row"].iat[int(first["index"])])
        value = first["failure_case"]  # a parsed number is shown as written, 200 not np.float64(200.0)
        raise RawDataError(table.file, row, str(first["column"]),
                           f"{value:.10g}" if isinstance(value, float) else value,
                           f"fails the check {first['check']}") from None


def _bounds_schema(table: Table, frame: pd.DataFrame) -> pa.DataFrameSchema:
    columns = {}
    for column in table.columns:
        checks = []
        if column.bounds is not None and column.kind in (contract.NUMBER, contract.INTEGER):
            checks.append(pa.Check.in_range(*column.bounds))
        if column.allowed is not None:
            checks.append(pa.Check.isin(column.allowed))
        if checks and column.name in frame:
            columns[column.name] = pa.Column(checks=checks, nullable=True)
    return pa.DataFrameSchema(columns)


def _subject_key(subject: str) -> str:
    """A subject_id as a spreadsheet may have mangled it: case, spaces and leading zeros aside."""
    return _code_key(subject).lstrip("0")


def _subject_hint(subject: str, known) -> str:
    """The subject of subjects.csv an unknown subject_id is likely meant to be (``1`` for ``001``)."""
    same = sorted(k for k in known if _subject_key(k) == _subject_key(subject))
    return f" (subjects.csv has {same[0]!r}: leading zeros, case and spaces count)" if same else ""


def _clean_subjects(table, frame, cohort, log) -> tuple[pd.DataFrame, pd.Series]:
    dup = frame["subject_id"].duplicated().to_numpy()
    _fail(table, frame, dup, "subject_id", "duplicate subject: subject_id must be unique")
    keys = frame["subject_id"].map(_subject_key)
    twin = keys.duplicated().to_numpy()
    if twin.any():
        first = frame["subject_id"][keys == keys[twin].iat[0]].iat[0]
        _fail(table, frame, twin, "subject_id", f"the same subject as {first!r} (differs only in leading zeros, "
              "case or spaces)? subject_id must be unique")
    arm_map = {label: arm for arm, spec in cohort["arms"].items() for label in spec["raw_labels"]}
    sex_map = {code: sex for sex, codes in cohort["sex_codes"].items() for code in codes}
    frame["arm"] = _map_codes(table, frame, "arm", arm_map, log, "arm_label_recoded", "arm label")
    sex = _map_codes(table, frame, "sex", sex_map, log, None, "sex code")
    _log_changes(log, table, frame, "sex", frame["sex"], sex, "sex_recoded")
    frame["sex"] = sex
    _parse_typed_columns(table, frame)
    fmt = cohort["date_formats"].get("subjects", "YYYY-MM-DD")
    enrolled = _parse_dates(table, frame, "enrollment_date", fmt)
    last = _parse_dates(table, frame, "last_contact_date", fmt)
    frame["last_contact_day"] = (last - enrolled).dt.days
    _fail(table, frame, frame["last_contact_day"] < 0, "last_contact_date",
          "last contact is before enrollment")
    _validate(table, frame, _bounds_schema(table, frame))
    for arm, spec in cohort["arms"].items():
        if not (frame["arm"] == arm).any():
            raise RawDataError(table.file, None, "arm", ", ".join(spec["raw_labels"]),
                               f"no subject in the {arm} arm: a comparison needs subjects in both arms")
    enrollment = pd.Series(enrolled.to_numpy(), index=frame["subject_id"].to_numpy())
    return frame[list(SUBJECT_COLUMNS)], enrollment


def _study_days(table, frame, column, fmt, enrollment) -> pd.Series:
    dates = _parse_dates(table, frame, column, fmt)
    return (dates - frame["subject_id"].map(enrollment)).dt.days.astype("int64")


def _clean_lab_values(table, frame, missing_codes, log) -> pd.DataFrame:
    value = frame["value"]
    missing = value.isin(missing_codes).to_numpy()
    if missing.any():
        _log_changes(log, table, frame, "value", value, pd.Series("", index=value.index),
                     "lab_value_missing_row_removed", where=missing)
        frame = _kept(frame, ~missing)
        value = frame["value"]
    sign = _apply_to_unique(value, lambda v: v[:1] if v[:1] in ("<", ">") else "")
    censored = (sign != "").to_numpy()
    frame["censored"] = sign
    bound = _apply_to_unique(value, lambda v: v[1:].strip() if v[:1] in ("<", ">") else v)
    numbers = _parse_numbers(table, pd.DataFrame({"source_row": frame["source_row"], "value": bound}), "value",
                             written=value)
    _fail(table, frame, numbers < 0, "value", "a lab value cannot be negative")
    if censored.any():
        _log_changes(log, table, frame[censored], "value", value[censored], _format_numbers(numbers[censored]),
                     "censored_value_bound", where=np.ones(int(censored.sum()), dtype=bool))
    raw_value, frame["value"] = value, numbers
    # Units: each known test to its canonical unit; other tests keep theirs. Decided once per
    # distinct (test, unit) pair, then spread to the rows.
    raw_unit = frame["unit"]
    test_codes, tests = pd.factorize(frame["test"], sort=False, use_na_sentinel=False)
    unit_codes, units = pd.factorize(raw_unit, sort=False, use_na_sentinel=False)
    pair_codes, pairs = pd.factorize(test_codes * max(len(units), 1) + unit_codes, sort=False)
    pair_factor, pair_unit = np.ones(len(pairs)), np.empty(len(pairs), dtype=object)
    for i, pair in enumerate(pairs):
        test, unit = tests[pair // len(units)], units[pair % len(units)]
        canonical, accepted = LAB_UNITS.get(test, (unit, {unit: 1.0}))
        pair_factor[i], pair_unit[i] = accepted.get(unit, np.nan), canonical
        if np.isnan(pair_factor[i]):
            mu = ("; it is written with the Greek letter mu (U+03BC), not the micro sign µ (U+00B5)"
                  if "\u03bc" in str(unit) else _unit_hint(str(unit), accepted))
            _fail(table, frame, pair_codes == i, "unit",
                  f"unknown unit for {test} (accepted: {', '.join(repr(u) for u in accepted)}){mu}")
    factors = pd.Series(pair_factor[pair_codes], index=frame.index)
    frame["unit"] = pair_unit[pair_codes]
    converted = (factors != 1.0).to_numpy()
    if converted.any():
        rows = frame[converted]
        old = _format_numbers(rows["value"]) + " " + raw_unit[converted]
        # Rounded to 6 decimals so that 3.14 g/dL is 31.4 g/L, not 31.400000000000002.
        frame["value"] = (frame["value"] * factors).round(6)
        _fail(table, frame, ~np.isfinite(frame["value"].to_numpy()), "value",
              "converted to the canonical unit it is not a finite number (overflow): check the value and unit",
              written=raw_value)
        new = _format_numbers(frame.loc[converted, "value"]) + " " + rows["unit"]
        _log_changes(log, table, rows, "value", old, new, "unit_converted",
                     where=np.ones(int(converted.sum()), dtype=bool))
    return frame


def _unit_hint(unit: str, accepted: dict) -> str:
    """An accepted unit written in another case or spacing (``mg/dl``): units are exact, name the spelling."""
    if not unit:
        return "; the unit is empty: write it"
    same = [u for u in accepted if re.sub(r"\s+", "", u).casefold() == re.sub(r"\s+", "", unit).casefold()]
    return f"; units are exact: write {same[0]!r}" if same else ""


def _remove_duplicates(table, frame, columns, log) -> pd.DataFrame:
    """Rows equal in ``columns`` to an earlier row are removed, each logged with the row it repeats."""
    key = row_codes(frame, columns)
    involved = pd.Series(key).duplicated(keep=False).to_numpy()
    if not involved.any():
        return frame
    key = pd.Series(key[involved])
    dup = key.duplicated(keep="first").to_numpy()
    source_rows = frame["source_row"].to_numpy()
    first_row = pd.Series(source_rows[involved]).groupby(key, sort=False).transform("first").to_numpy()[dup]
    rows = np.flatnonzero(involved)[dup]
    log.add(table.file, source_rows[rows], frame["subject_id"].to_numpy()[rows],
            "", np.array([f"duplicate of row {r}" for r in first_row], dtype=object),
            np.full(len(rows), "(removed)"), "duplicate_row_removed")
    keep = np.ones(len(frame), dtype=bool)
    keep[rows] = False
    return _kept(frame, keep)


def _kept(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows where ``keep``, renumbered from 0: one copy of the table, not two (``take``
    makes a new frame, not a view, so it can be renumbered in place)."""
    frame = frame.take(np.flatnonzero(keep))
    frame.reset_index(drop=True, inplace=True)
    return frame


def _check_visit_labels(table, frame, visits: list[Visit], log) -> None:
    labels = _apply_to_unique(frame["visit"], str.upper)
    derived = pd.Series(nominal_visit(frame["study_day"].to_numpy(), visits), index=frame.index)
    # Any label that is not the date's visit disagrees, an unknown label included.
    disagree = ((labels != "") & (labels != _apply_to_unique(derived, str.upper))).to_numpy()
    if disagree.any():
        rows = frame[disagree]
        new = (derived[disagree].where(derived[disagree] != "", "(outside every window)")
               + " (day " + rows["study_day"].astype(str) + ")")
        _log_changes(log, table, rows, "visit", rows["visit"], new, "visit_label_disagrees_with_date",
                     where=np.ones(len(rows), dtype=bool))


def _death_days(table: Table, frame: pd.DataFrame) -> pd.Series:
    """Study day of each subject's DEATH: one per subject (the earlier of two deaths would
    otherwise win silently)."""
    deaths = frame[frame["event"] == contract.DEATH]
    second = deaths["subject_id"].duplicated() & ~deaths.duplicated(["subject_id", "study_day"])
    _fail(table, deaths, second.to_numpy(), table.date_columns[0],
          "a second DEATH of the subject, on another day: a subject dies once")
    return deaths.groupby("subject_id")["study_day"].min()


def _check_after_last_contact(table: Table, frame: pd.DataFrame, subjects: pd.DataFrame, log) -> None:
    """One rule for every table, a record after the subject's last contact is never silent: an
    event (an outcome, which follow-up ends at) is an error, as is one before enrollment or contact
    after a DEATH; a record of another table is kept and logged (a trial may measure a subject
    after the follow-up of its endpoint ends: ACTG 175's week-96 CD4 after progression)."""
    column = table.date_columns[0]
    last = frame["subject_id"].map(subjects.set_index("subject_id")["last_contact_day"])
    after = (frame["study_day"] > last).to_numpy()
    if table.name != "events":
        _log_rows(log, table, frame, column, after, lambda rows: rows["study_day"].astype(str).radd("day "),
                  lambda rows: last[after].astype(str).radd("last contact day "), "record_after_last_contact")
        return
    _fail(table, frame, frame["study_day"] < 0, column, "event before enrollment")
    _fail(table, frame, after, column, "event after the subject's last_contact_date in subjects.csv")
    _fail(table, frame, (frame["event"] == contract.DEATH) & (frame["study_day"] < last), column,
          "DEATH before the subject's last_contact_date in subjects.csv: no contact after death")


def _check_before_enrollment(table: Table, frame: pd.DataFrame, baseline_first_day: int, log) -> None:
    """Records before enrollment, one rule for every table: an event (see _check_after_last_contact) or an
    infusion is an error; an adverse event or paracentesis (counted from day 0), or a lab or ascites record
    before the baseline window, is kept and logged: no analysis reads it."""
    column = table.date_columns[0]
    if table.name == "infusions":
        _fail(table, frame, frame["study_day"] < 0, column, "an infusion before the subject's enrollment_date in "
              "subjects.csv: cells are given on or after enrollment")
    if table.name in ("events", "infusions"):
        return
    first = baseline_first_day if table.name in ("labs", "ascites") else 0
    before = (frame["study_day"] < first).to_numpy()
    _log_rows(log, table, frame, column, before, lambda rows: rows["study_day"].astype(str).radd("day "),
              lambda rows: pd.Series(f"first day read {first}", index=rows.index), "record_before_enrollment")


def _log_file_facts(table: Table, facts: dict, fmt: str, log: CleaningLog) -> None:
    """File-level notes of reading a raw file: what was removed, ignored or read by config."""
    if facts["bom"]:
        log.add_file(table.file, "", "UTF-8 BOM", "", "utf8_bom_removed")
    if facts["doubled_cr"]:
        log.add_file(table.file, "", f"\\r\\r\\n ({facts['doubled_cr']} lines)", "\\n", "line_endings_normalised")
    for column in facts["extra_columns"]:
        log.add_file(table.file, column, "(extra column)", "(ignored)", "extra_column_ignored")
    if fmt != "YYYY-MM-DD":
        for column in table.date_columns:
            log.add_file(table.file, column, fmt, "study day", "date_format_from_config")


def _check_history(table: Table, frame: pd.DataFrame, subjects: pd.DataFrame, death_day, log):
    """A subject's records tell one story: nothing after death or last contact, no cells for the
    control arm. Returns the death days (events.csv is cleaned first)."""
    column = table.date_columns[0]
    if table.name == "events":
        death_day = _death_days(table, frame)
        _fail(table, frame, (frame["event"] != contract.DEATH) & (frame["study_day"] > frame["subject_id"].map(death_day)),
              column, "event dated after the subject's DEATH")
    else:
        _fail(table, frame, frame["study_day"] > frame["subject_id"].map(death_day), column,
              "dated after the subject's DEATH in events.csv")
    _check_after_last_contact(table, frame, subjects, log)
    if table.name == "infusions":
        arm = frame["subject_id"].map(subjects.set_index("subject_id")["arm"])
        _fail(table, frame, arm == "control", "subject_id",
              "an infusion of a control-arm subject (subjects.csv): the control arm is not given cells")
    return death_day


def clean_cohort(raw_dir: Path, cohort: dict, visits: list[Visit]) -> CleanCohort:
    """Read and clean every contract table in ``raw_dir``."""
    raw_dir = Path(raw_dir)
    log = CleaningLog()
    missing_codes = set(cohort["missing_codes"])
    raw, absent = {}, []
    for name, table in TABLES.items():
        path = raw_dir / table.file
        if not path.exists():
            if table.required:
                raise RawDataError(table.file, None, None, str(path), "required table is missing")
            absent.append(name)
            continue
        frame, facts = read_raw_table(path, table)
        _log_file_facts(table, facts, cohort["date_formats"].get(name, "YYYY-MM-DD"), log)
        raw[name] = _strip_and_missing(table, frame, missing_codes, log)
        if raw[name].empty:
            if name == "subjects":
                raise RawDataError(table.file, None, None, "", "no subjects: the table has no records")
            log.add_file(table.file, "", "(header only)", "0 rows", "table_has_no_rows")

    subjects, enrollment = _clean_subjects(TABLES["subjects"], raw["subjects"], cohort, log)
    cleaned = {"subjects": subjects}
    known_subjects = set(subjects["subject_id"])
    death_day = None  # events come first: no record of a subject is dated after their death
    for name in sorted((n for n in raw if n != "subjects"), key=lambda n: n != "events"):
        frame = raw.pop(name)  # no second reference: a large table's copies are freed as cleaning goes
        table = TABLES[name]
        unknown = ~frame["subject_id"].isin(known_subjects)
        _fail(table, frame, unknown, "subject_id", "subject is not in subjects.csv"
              + (_subject_hint(frame["subject_id"][unknown].iat[0], known_subjects) if unknown.any() else ""))
        date_column = table.date_columns[0]
        if name in ("events", "labs"):
            _normalise_codes(table, frame, table.columns[1 if name == "events" else 3].name,
                             contract.EVENT_CODES if name == "events" else tuple(LAB_UNITS), log)
        if name == "labs":
            _refuse_derived_test(table, frame)
        frame["study_day"] = _study_days(table, frame, date_column, cohort["date_formats"].get(name, "YYYY-MM-DD"),
                                         enrollment)
        death_day = _check_history(table, frame, subjects, death_day, log)
        _check_before_enrollment(table, frame, visits[0].first_day, log)
        if name == "labs":
            frame = _clean_lab_values(table, frame, missing_codes, log)
        else:
            _parse_typed_columns(table, frame)
        _validate(table, frame, _bounds_schema(table, frame))
        # The CRF visit label is not part of a lab record's identity: the date is.
        identity = [c for c in cleaned_columns(table) if c not in ("visit", "source_row")]
        frame = _remove_duplicates(table, frame, identity, log)
        if name == "labs":
            _check_visit_labels(table, frame, visits, log)
        cleaned[name] = frame[cleaned_columns(table)]
    for name in absent:
        cleaned[name] = pd.DataFrame(columns=cleaned_columns(TABLES[name]))
    return CleanCohort({name: cleaned[name] for name in TABLES}, absent, log.frame())


def cleaned_columns(table: Table) -> list[str]:
    """Columns of a cleaned table: dates become ``study_day``; lab values gain ``censored``."""
    if table.name == "subjects":
        return list(SUBJECT_COLUMNS)
    columns = ["subject_id", "study_day"] + [c.name for c in table.columns
                                             if c.kind != contract.DATE and c.name != "subject_id"]
    if table.name == "labs":
        columns.append("censored")
    return [*columns, "source_row"]


@user_errors_exit
def write_clean_cohort(raw_dir: Path | str, cohort: dict, visits_cfg: dict, out_dir: Path | str,
                       log_path: Path | str, summary_path: Path | str) -> None:
    """Step `clean`: cleaned tables, the cleaning log and a summary of both."""
    result = clean_cohort(Path(raw_dir), cohort, visits_from_config(visits_cfg))
    for name in TABLES:
        write_csv(result.tables[name], Path(out_dir) / f"{name}.csv")
    write_csv(result.log, log_path)
    counts = result.log["rule"].value_counts().sort_index()
    write_json({"absent_optional_tables": result.absent,
                "rows_cleaned": {name: int(len(t)) for name, t in sorted(result.tables.items())},
                "cleaning_log_entries": int(len(result.log)),
                "cleaning_log_rules": {rule: int(n) for rule, n in counts.items()}}, summary_path)
