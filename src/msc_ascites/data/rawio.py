"""Reading one raw export: bytes to a table of strings, checked against the contract.

Everything is read as text (``007`` stays ``007``); parsing happens in cleaning,
where a bad cell can be named by file, row, column and value.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import RawDataError, user_errors_exit
from ..outputs import write_json
from ..safe_files import present, read_bytes
from .contract import TABLES, Table

UTF8_BOM = b"\xef\xbb\xbf"


def _decode(data: bytes, file: str) -> tuple[str, bool]:
    """UTF-8 text of a file and whether it started with a byte-order mark."""
    bom = data.startswith(UTF8_BOM)
    if bom:
        data = data[len(UTF8_BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start:exc.start + 4]
        raise RawDataError(file, line, None, bad.hex(" "),
                           f"not valid UTF-8 (byte {exc.start}); re-export the file as UTF-8") from None
    nul = data.find(b"\0")
    if nul >= 0:  # a binary file, or UTF-16 without its byte-order mark
        start, end = data.rfind(b"\n", 0, nul) + 1, data.find(b"\n", nul)
        raise RawDataError(file, data.count(b"\n", 0, nul) + 1, None,
                           data[start:end if end >= 0 else len(data)].decode("utf-8"),
                           f"holds a NUL byte (byte {nul}): not a text file; re-export it as UTF-8 CSV")
    _check_invisible(text, file)
    return text, bom


#: Characters that do not show: a code, id or date holding one looks right and matches nothing.
INVISIBLE = {"\u200b": "zero-width space", "\u200c": "zero-width non-joiner", "\u200d": "zero-width joiner",
             "\u2060": "word joiner", "\u00ad": "soft hyphen",
             "\ufeff": "byte-order mark inside the file: two exports joined?"}
#: Control characters but tab and line endings (C0, DEL and C1): U+0093 is a Windows-1252 quote read as Latin-1.
_CONTROLS = "\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_INVISIBLE = re.compile("[" + "".join(INVISIBLE) + _CONTROLS + "]")


def _check_invisible(text: str, file: str) -> None:
    """An invisible character anywhere is an error naming it: ``005\u200b`` is no subject,
    ``DEATH\u200b`` no death, and neither shows in a spreadsheet."""
    hidden = _INVISIBLE.search(text)
    if hidden:
        at = hidden.start()
        start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
        raise RawDataError(file, text.count("\n", 0, at) + 1, None, text[start:end if end >= 0 else len(text)],
                           f"holds an invisible character, U+{ord(hidden.group()):04X} "
                           f"({INVISIBLE.get(hidden.group(), 'a control character: text of another encoding?')}), "
                           f"at character {at - start + 1} of the line: remove it")


def _normalised_endings(text: str, file: str) -> tuple[str, int]:
    """Text with ``\\n`` line endings, and how many lines ended in two or more CRs.

    pandas reads ``\\r\\r\\n`` as a record and an empty row, which shifts every later
    ``source_row``; any run of CRs before a line feed is one line ending, so line numbers stay
    exact. A CR anywhere else is an error: bare-CR line endings, or a lone CR inside a line."""
    if "\r" not in text:
        return text, 0
    doubled = len(re.findall(r"\r\r+\n", text))
    text = re.sub(r"\r+\n", "\n", text)
    lone = text.find("\r")
    if lone >= 0:
        start, end = text.rfind("\n", 0, lone) + 1, text.find("\n", lone)
        line = text[start:end if end >= 0 else len(text)]
        if "\n" not in text:
            raise RawDataError(file, 1, None, line[:60], "lines end in a bare carriage return (\\r): "
                               "re-export with \\n or \\r\\n line endings")
        raise RawDataError(file, text.count("\n", 0, lone) + 1, None, line,
                           f"a lone carriage return (\\r) inside the line (character {lone - start + 1}): "
                           "remove it, or re-export with \\n or \\r\\n line endings")
    return text, doubled


def _checked_header(text: str, table: Table) -> list[str]:
    """Column names of the header line, after the contract's structural checks."""
    file = table.file
    if not text.strip():
        raise RawDataError(file, 1, None, "", "file is empty: a header row is required")
    header_line = text.split("\n", 1)[0]
    if header_line.strip().casefold().startswith("sep="):
        raise RawDataError(file, 1, None, header_line, "a spreadsheet's separator line before the header: delete "
                           "the line (the header must be the first line)")
    header = [h.strip() for h in next(csv.reader([header_line]))]
    for separator, name in ((";", "';'"), ("\t", "tabs ('\\t')")):
        if len(header) == 1 and separator in header_line:
            raise RawDataError(file, 1, None, header_line,
                               f"header is separated by {name}: the contract requires comma-separated values")
    seen = set()
    for name in header:
        if name in seen:
            raise RawDataError(file, 1, name, name, "column appears twice in the header")
        seen.add(name)
    for column in table.columns:
        if column.required and column.name not in seen:
            near = [h for h in header if _column_key(h) == _column_key(column.name)]
            hint = f" (the header has {near[0]!r}: names are exact, write '{column.name}')" if near else ""
            raise RawDataError(file, 1, column.name, header_line,
                               f"required column '{column.name}' is missing{hint}")
    _check_header_not_repeated(text, header_line, file)
    return header


def _column_key(name: str) -> str:
    return re.sub(r"[\W_]+", "", name).casefold()


def _check_header_not_repeated(text: str, header_line: str, file: str) -> None:
    """The header line again further down (two exports joined): its cells would be read as a record."""
    at = text.find("\n" + header_line + "\n")
    if at < 0 and text.endswith("\n" + header_line):
        at = len(text) - len(header_line) - 1
    if at >= 0:
        raise RawDataError(file, text.count("\n", 0, at) + 2, None, header_line,
                           "the header line again: two exports joined? Keep one header, at the top")


def _check_rows(text: str, width: int, file: str) -> None:
    """Each record is one line with as many fields as the header; blank lines aside.

    pandas pads a short row with empty cells and lets a quoted cell run over line
    breaks (an unclosed quote swallows the rows after it); either would also shift
    the line numbers of later rows, so both are errors.
    """
    if '"' not in text:  # no quoting: fields are commas + 1, counted for all lines at once
        data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        ends = np.flatnonzero(data == ord("\n"))
        starts, stops = np.r_[0, ends + 1], np.r_[ends, len(data)]
        # Commas of a line = commas before its end - commas before its start, found by bisection
        # in the commas' positions (a running count per byte took 8 bytes per byte of the file).
        commas = np.flatnonzero(data == ord(","))
        fields = np.searchsorted(commas, stops) - np.searchsorted(commas, starts) + 1
        length = stops - starts
        length -= (length > 0) & (data[np.maximum(stops - 1, 0)] == ord("\r"))
        bad = np.flatnonzero((fields != width) & (length > 0))
        bad = bad[bad > 0]  # the header was checked on its own
        if len(bad):
            line = int(bad[0])
            record = data[starts[line]:starts[line] + length[line]].tobytes().decode("utf-8")
            raise RawDataError(file, line + 1, None, record, _width_problem(record, width, int(fields[line])))
        return
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))  # a cell may be as long as the file
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    first = 2
    for record in reader:
        broken = [cell for cell in record if "\n" in cell or "\r" in cell]
        if broken:
            raise RawDataError(file, first, None, broken[0],
                               "a quoted cell holds a line break (an unclosed quote?): a record must be one line")
        if record and len(record) != width:
            raise RawDataError(file, first, None, ",".join(record), _width_problem(",".join(record), width, len(record)))
        first = reader.line_num + 1


def _width_problem(record: str, width: int, fields: int) -> str:
    """What is wrong with a record of the wrong width, with the likely cause when it shows."""
    if not record.strip():
        return "a line of only spaces: delete it (an empty line is no record)"
    problem = f"the header has {width} fields, this row {fields}"
    if fields == width + 1 and record.endswith(","):
        problem += " (a comma at the end of the line: delete it, or add it to the header too)"
    return problem


def inspect_raw_file(path: Path, table: Table) -> dict:
    """Facts about one raw export for the inventory, after the structural checks."""
    data = read_bytes(path, folder=Path(path).parent)
    text, bom = _decode(data, table.file)
    text, _ = _normalised_endings(text, table.file)
    header = _checked_header(text, table)
    _check_rows(text, len(header), table.file)
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
    data = read_bytes(path, folder=Path(path).parent)
    text, bom = _decode(data, table.file)
    text, doubled_cr = _normalised_endings(text, table.file)
    header = _checked_header(text, table)
    _check_rows(text, len(header), table.file)
    # The parser reads the checked bytes: a large export is held once, not twice (re-encoded
    # only when its line endings were normalised).
    data = text.encode("utf-8") if doubled_cr else data[len(UTF8_BOM):] if bom else data
    del text
    try:
        # As categories, each distinct string is one object however often it occurs: a
        # 6M-row labs.csv takes a tenth of the memory of one string object per cell.
        frame = pd.read_csv(io.BytesIO(data), encoding="utf-8",
                            dtype="category", keep_default_na=False, na_filter=False,
                            skip_blank_lines=False, header=0, names=header, engine="c")
    except pd.errors.ParserError as exc:
        raise RawDataError(table.file, None, None, "", f"cannot be parsed as CSV: {exc}") from None
    known = [c.name for c in table.columns if c.name in header]
    frame = frame[known]  # still categories: the cleaning strips each distinct value once, then holds text
    for column in table.columns:
        if column.name not in frame:  # optional column absent: treat as all missing
            frame[column.name] = ""
    frame.insert(0, "source_row", pd.RangeIndex(2, len(frame) + 2))
    return frame, {"extra_columns": [h for h in header if h not in known], "bom": bom, "doubled_cr": doubled_cr}


@user_errors_exit
def write_inventory(raw_dir: Path | str, inventory_path: Path | str) -> None:
    """Inventory of the raw exports: hash, size, lines and columns of each, or its absence."""
    files = {}
    for table in TABLES.values():
        path = Path(raw_dir) / table.file
        if present(path):  # a dangling symlink is an error to read, not an absent table
            files[table.file] = {"present": True, **inspect_raw_file(path, table)}
        elif table.required:
            raise RawDataError(table.file, None, None, str(path), "required table is missing")
        else:
            files[table.file] = {"present": False}
    write_json({"files": files}, inventory_path)
