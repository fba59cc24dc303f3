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
_FORMULA_FIRST = frozenset(FORMULA_STARTS)


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
    """The frame with its text cells and column names neutralised; numbers untouched. Each
    distinct value is looked at once (a cleaned labs table has millions of rows, few values). The
    columns are the frame's own, not copies (a copy of the 100k-subject labs is gigabytes); a changed
    column is a new array in the new frame, the caller's frame is left as it was."""
    out = frame.set_axis([neutralised(c) if isinstance(c, str) else c for c in frame.columns], axis=1,
                         copy=False)
    for i, dtype in enumerate(frame.dtypes):
        if dtype != object and not isinstance(dtype, (pd.CategoricalDtype, pd.StringDtype)):
            continue
        values = pd.unique(frame.iloc[:, i].to_numpy(dtype=object))
        # The first character first: most of millions of values (the source rows) start with a digit.
        risky = {v: safe for v in values
                 if isinstance(v, str) and v[:1] in _FORMULA_FIRST and (safe := neutralised(v)) != v}
        if risky:
            out.isetitem(i, frame.iloc[:, i].astype(object).replace(risky))
    return out


def write_csv(frame: pd.DataFrame, path: Path | str) -> None:
    """Every CSV of the results goes through here: safe to open in a spreadsheet."""
    with atomic_path(path) as tmp:
        _neutralised_frame(frame).to_csv(tmp, index=False, lineterminator="\n")


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


def read_csv(path: Path | str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a results table back; identifiers and codes stay strings. With ``columns``, only those of
    them the file has (the caller checks for what it needs): at 100k subjects a job that reads four
    columns of datasets/labs.csv need not parse its 448 MB whole."""
    return pd.read_csv(path, dtype={"subject_id": str, "test": str, "visit": str, "event": str,
                                    "censored": str, "source_rows": str, "unit": str},
                       keep_default_na=False, na_values=[""],
                       usecols=None if columns is None else lambda column: column in columns)


def ard_values(path: Path | str) -> dict:
    """The analysis-results table's (results/ard.csv) values by address, as numbers again: 39 an
    integer, 47.69 a float (the file holds each float's shortest round-trip text, so the number is
    the one computed). The scorecard and the report read their numbers through here."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=["address", "value"])
    return {address: _as_number(text) for address, text in zip(table["address"], table["value"])}


def _as_number(text: str):
    try:
        return int(text)
    except ValueError:
        return float(text)

