"""Writing results: deterministic bytes, and never a half-written file.

Each writer writes to a temporary file beside the target and renames it into
place, so an interrupted job leaves either the old file or none (and a hidden
temporary file, removed when the job is rerun).
"""

from __future__ import annotations

import glob
import json
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd


#: The time stamp written wherever a library insists on one (fonts subset into the
#: PDF): 1980-01-01, the earliest a zip file can hold. Same inputs, same bytes.
FIXED_EPOCH = "315532800"


@contextmanager
def fixed_timestamps():
    """Make libraries that honour SOURCE_DATE_EPOCH (fontTools, matplotlib) stamp a fixed time."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = FIXED_EPOCH
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: Path | str):
    """Yield a temporary path; on success it replaces ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A job killed while writing (SIGKILL runs no clean-up) leaves its temporary file; the rerun
    # of that job, the only writer of ``path``, removes it.
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are for everyone who may read them
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: First characters that make a spreadsheet read a cell as a formula (and tab / CR, which some
#: programs strip before looking).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it: a leading ``'`` before a formula
    character (OWASP's CSV-injection advice). A number written as text (``-1.5``) stays as it is."""
    if not text.startswith(FORMULA_STARTS):
        return text
    try:
        float(text)
        return text
    except ValueError:
        return "'" + text


def _neutralised_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its text cells and column names neutralised; numbers untouched. Only cells
    whose first character could start a formula are looked at, each distinct one once (a cleaned
    labs table has millions of rows, and its millions of distinct source rows start with a digit).
    The columns are the frame's own, not copies (a copy of the 100k-subject labs is gigabytes); a
    changed column is a new array in the new frame, the caller's frame is left as it was."""
    out = frame.set_axis([neutralised(c) if isinstance(c, str) else c for c in frame.columns], axis=1,
                         copy=False)
    for i, dtype in enumerate(frame.dtypes):
        if dtype != object and not isinstance(dtype, (pd.CategoricalDtype, pd.StringDtype)):
            continue
        cells = frame.iloc[:, i].to_numpy(dtype=object)
        candidates = cells[np.isin(cells.astype("U1"), FORMULA_STARTS)]  # each cell's first character
        risky = {v: safe for v in pd.unique(candidates)
                 if isinstance(v, str) and (safe := neutralised(v)) != v}
        if risky:
            out.isetitem(i, frame.iloc[:, i].astype(object).replace(risky))
    return out


#: Rows formatted at a time by `_write_plain_csv`: its memory is this many rows' text.
CSV_ROWS_PER_CHUNK = 200_000


def _cell_texts(values: np.ndarray) -> list[str]:
    """A column's cells as pandas' to_csv writes them: a float as numpy prints it (repr), missing
    as "", any other object as str."""
    kind = values.dtype.kind
    if kind in "iu":
        return values.astype(str).tolist()
    if kind == "b":
        return np.where(values, "True", "False").tolist()
    if kind == "f":
        text = values.astype(str)
        text[np.isnan(values)] = ""
        return text.tolist()
    cells = values.copy()
    cells[pd.isna(values)] = ""
    return [c if type(c) is str else str(c) for c in cells.tolist()]


def _column_texts(values: np.ndarray) -> list[str]:
    """`_cell_texts`, each distinct value formatted once when few are distinct (arms, visits, study
    days, lab values of one decimal)."""
    if len(values) > 1000 and values.dtype.kind in "iufO" and not _equal_values_print_apart(values):
        codes, distinct = pd.factorize(values)  # a missing value gets code -1: the "" appended
        if 4 * len(distinct) < len(values):
            return np.array(_cell_texts(np.asarray(distinct)) + [""], dtype=object)[codes].tolist()
    return _cell_texts(values)


def _equal_values_print_apart(values: np.ndarray) -> bool:
    """-0.0 beside 0.0, or objects other than text (1, 1.0 and True are one to factorize)."""
    if values.dtype.kind == "f":
        return bool(np.any((values == 0) & np.signbit(values)))
    return values.dtype.kind == "O" and pd.api.types.infer_dtype(values, skipna=True) != "string"


def _write_plain_csv(frame: pd.DataFrame, path: Path) -> bool:
    """Write ``frame`` as ``to_csv(index=False, lineterminator="\\n")`` does, byte for byte, in
    under half its time (at 100k subjects the analysis labs, 6.6M rows, took 20 s); False, ``path``
    then to be overwritten, for what it does not handle: fewer than two columns, a column that is
    not int, float, bool or object, a name or cell the csv module would quote (one holding a comma,
    a quote or a line end: each chunk's text must have exactly one comma per column gap and one
    line end per row, and no quote or carriage return)."""
    names = list(frame.columns)
    header = ",".join(map(str, names)) + "\n"
    if len(names) < 2 or not all(isinstance(n, str) for n in names) or not _unquoted(header, 1, len(names)) or \
            any(not isinstance(t, np.dtype) or t.kind not in "iubfO" for t in frame.dtypes):
        return False
    arrays = [frame.iloc[:, i].to_numpy() for i in range(frame.shape[1])]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(header)
        for start in range(0, len(frame), CSV_ROWS_PER_CHUNK):
            columns = [_column_texts(a[start:start + CSV_ROWS_PER_CHUNK]) for a in arrays]
            text = "\n".join(map(",".join, zip(*columns))) + "\n"
            if not _unquoted(text, len(columns[0]), len(names)):
                return False
            handle.write(text)
    return True


def _unquoted(text: str, rows: int, columns: int) -> bool:
    """Whether no cell of these CSV lines needs quotes: as many commas and line ends as the cells
    alone give, and no quote or carriage return."""
    return (text.count(",") == rows * (columns - 1) and text.count("\n") == rows and '"' not in text
            and "\r" not in text)


def write_csv(frame: pd.DataFrame, path: Path | str) -> None:
    """Every CSV of the results goes through here: safe to open in a spreadsheet, the bytes those of
    pandas' to_csv (written faster where `_write_plain_csv` can)."""
    with atomic_path(path) as tmp:
        safe = _neutralised_frame(frame)
        if not _write_plain_csv(safe, tmp):
            safe.to_csv(tmp, index=False, lineterminator="\n")


def plain(value):
    """JSON-ready copy: numpy scalars to Python, NaN and infinities to null."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(data, path: Path | str) -> None:
    text = json.dumps(plain(data), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")


def write_text(text: str, path: Path | str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


#: Rows parsed at a time by `read_csv` when it keeps only some: its memory is this many rows' cells.
CSV_ROWS_PER_READ = 500_000


def read_csv(path: Path | str, columns: list[str] | None = None, categorical: tuple[str, ...] = (),
             where: tuple[str, tuple] | None = None) -> pd.DataFrame:
    """Read a results table back; identifiers and codes stay strings. With ``columns``, only those of
    them the file has (the caller checks for what it needs): at 100k subjects a job that reads four
    columns of datasets/labs.csv need not parse its 448 MB whole. The ``categorical`` text columns are
    pandas Categoricals of those strings: millions of rows of few distinct texts are then codes, not
    millions of strings (clean/labs.csv at 100k subjects: peak 1.0 GB read as strings, 0.75 GB so).
    With ``where`` (a column and its values), only those rows, read a chunk at a time and numbered
    from 0: the others are never all in memory."""
    text = {"subject_id": str, "test": str, "visit": str, "event": str, "censored": str, "source_rows": str,
            "unit": str}
    options = dict(dtype=text | dict.fromkeys(categorical, "category"), keep_default_na=False, na_values=[""],
                   usecols=None if columns is None else lambda column: column in columns)
    if where is None:
        return pd.read_csv(path, **options)
    column, values = where
    with pd.read_csv(path, chunksize=CSV_ROWS_PER_READ, **options) as chunks:
        kept = [chunk[chunk[column].isin(values)] for chunk in chunks]
    return pd.concat(kept, ignore_index=True) if kept else pd.read_csv(path, nrows=0, **options)


def ard_values(path: Path | str) -> dict:
    """The analysis-results table's (results/ard.csv) values by address, as numbers again: 39 an
    integer, 47.69 a float (the file holds each float's shortest round-trip text, so the number is
    the one computed). The scorecard and the report read their numbers through here."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=["address", "value"])
    return {address: parsed_number(text) for address, text in zip(table["address"], table["value"])}


def parsed_number(text: str):
    """A number written as text, as it was: 39 an integer, 47.69 or 1e-05 a float."""
    try:
        return int(text)
    except ValueError:
        return float(text)

