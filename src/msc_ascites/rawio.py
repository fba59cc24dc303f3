"""Reading one raw export: bytes to a table of strings, checked against the contract.

Everything is read as text (``007`` stays ``007``); parsing happens in cleaning,
where a bad cell can be named by file, row, column and value.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pandas as pd

from .contract import TABLES, Table
from .errors import RawDataError, user_errors_exit
from .outputs import write_json

UTF8_BOM = b"\xef\xbb\xbf"


def _decode(data: bytes, file: str) -> tuple[str, bool]:
    """UTF-8 text of a file and whether it started with a byte-order mark."""
    bom = data.startswith(UTF8_BOM)
    if bom:
        data = data[len(UTF8_BOM):]
    try:
        return data.decode("utf-8"), bom
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start:exc.start + 4]
        raise RawDataError(file, line, None, bad.hex(" "),
                           f"not valid UTF-8 (byte {exc.start}); re-export the file as UTF-8") from None


def _checked_header(text: str, table: Table) -> list[str]:
    """Column names of the header line, after the contract's structural checks."""
    file = table.file
    if not text.strip():
        raise RawDataError(file, 1, None, "", "file is empty: a header row is required")
    header_line = text.split("\n", 1)[0].rstrip("\r")
    header = [h.strip() for h in next(csv.reader([header_line]))]
    if len(header) == 1 and ";" in header_line:
        raise RawDataError(file, 1, None, header_line,
                           "header is separated by ';': the contract requires comma-separated values")
    seen = set()
    for name in header:
        if name in seen:
            raise RawDataError(file, 1, name, name, "column appears twice in the header")
        seen.add(name)
    for column in table.columns:
        if column.required and column.name not in seen:
            raise RawDataError(file, 1, column.name, header_line,
                               f"required column '{column.name}' is missing")
    return header


def inspect_raw_file(path: Path, table: Table) -> dict:
    """Facts about one raw export for the inventory, after the structural checks."""
    data = Path(path).read_bytes()
    text, bom = _decode(data, table.file)
    header = _checked_header(text, table)
    known = {c.name for c in table.columns}
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
            "data_lines": max(text.count("\n") - (0 if text.endswith("\n") else -1) - 1, 0),
            "columns": header, "extra_columns": [h for h in header if h not in known],
            "bom": bom}


def read_raw_table(path: Path, table: Table) -> tuple[pd.DataFrame, dict]:
    """Read ``path`` as strings, with ``source_row`` = line number of each row.

    Only the contract's columns are returned (absent optional ones as empty);
    the facts say which extra columns were left out and whether a byte-order
    mark was removed.
    """
    data = Path(path).read_bytes()
    text, bom = _decode(data, table.file)
    header = _checked_header(text, table)
    del text  # the parser reads the checked bytes: a large export is held once, not twice
    try:
        # As categories, each distinct string is one object however often it occurs: a
        # 6M-row labs.csv takes a tenth of the memory of one string object per cell.
        frame = pd.read_csv(io.BytesIO(data[len(UTF8_BOM):] if bom else data), encoding="utf-8",
                            dtype="category", keep_default_na=False, na_filter=False,
                            skip_blank_lines=False, header=0, names=header, engine="c")
    except pd.errors.ParserError as exc:
        raise RawDataError(table.file, None, None, "", f"cannot be parsed as CSV: {exc}") from None
    known = [c.name for c in table.columns if c.name in header]
    frame = frame[known].astype(object)
    for column in table.columns:
        if column.name not in frame:  # optional column absent: treat as all missing
            frame[column.name] = ""
    frame.insert(0, "source_row", pd.RangeIndex(2, len(frame) + 2))
    return frame, {"extra_columns": [h for h in header if h not in known], "bom": bom}


@user_errors_exit
def write_inventory(raw_dir: Path | str, inventory_path: Path | str) -> None:
    """Inventory of the raw exports: hash, size, lines and columns of each, or its absence."""
    files = {}
    for table in TABLES.values():
        path = Path(raw_dir) / table.file
        if path.exists():
            files[table.file] = {"present": True, **inspect_raw_file(path, table)}
        elif table.required:
            raise RawDataError(table.file, None, None, str(path), "required table is missing")
        else:
            files[table.file] = {"present": False}
    write_json({"files": files}, inventory_path)
