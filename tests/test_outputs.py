"""The results' CSV writer: the bytes pandas' to_csv writes, however the frame is written.

`write_csv` formats most frames itself (a third of to_csv's time on the 100k-subject labs) and
hands the rest to to_csv; either way the file must be the one to_csv writes, or a rebuild on
another machine, or of an older commit, would not give the same bytes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from msc_ascites import outputs
from msc_ascites.outputs import write_csv


def _pandas_bytes(frame: pd.DataFrame, tmp_path) -> bytes:
    path = tmp_path / "pandas.csv"
    outputs._neutralised_frame(frame).to_csv(path, index=False, lineterminator="\n")
    return path.read_bytes()


def _many(values: list, n: int = 3000) -> list:
    """``values`` repeated to ``n`` rows: few distinct numbers, each formatted once."""
    return (values * (n // len(values) + 1))[:n]


FRAMES = {
    "numbers and missing": pd.DataFrame({"i": [1, -2, 3], "f": [0.1, np.nan, 1e-05], "b": [True, False, True],
                                         "s": ["a", None, "ü"]}),
    "float edges": pd.DataFrame({"f": [-0.0, 0.0, np.inf, -np.inf, 1e16, 2.1999999999999993, 5e-324],
                                 "k": range(7)}),
    "objects of several kinds": pd.DataFrame({"o": pd.Series([1, 2.5, np.float64(0.5), True, None, np.nan, "x"],
                                                             dtype=object), "k": range(7)}),
    "formula text": pd.DataFrame({"s": ["=1+1", "-1.5", "@x", "+y", "ok"], "k": range(5)}),
    "few distinct numbers": pd.DataFrame({"week": _many([0, 4, 12, 48]), "value": _many([28.5, np.nan, 30.1]),
                                          "day": _many([-1, 15, 340])}),
    "few distinct, with -0.0": pd.DataFrame({"change": _many([0.0, -0.0, 1.5]), "k": _many([1])}),
    "few distinct texts": pd.DataFrame({"arm": _many(["treatment", None, "control"]), "k": _many([1])}),
    "few distinct objects, equal but printed apart": pd.DataFrame({"o": pd.Series(_many([1, 1.0, True, -0.0, 0.0]),
                                                                                  dtype=object), "k": _many([1])}),
    "no rows": pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)}),
    # Handed to to_csv: a cell to quote, one column, a categorical, a non-text column name.
    "comma": pd.DataFrame({"s": ["a,b", "c"], "k": [1, 2]}),
    "quote and new line": pd.DataFrame({"s": ['say "x"', "two\nlines"], "k": [1, 2]}),
    "one column": pd.DataFrame({"s": ["", "x"]}),
    "categorical": pd.DataFrame({"c": pd.Categorical(["a", "b"]), "k": [1, 2]}),
    "integer names": pd.DataFrame({0: [1.5], 1: ["x"]}),
}


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_written_bytes_are_those_of_to_csv(name, tmp_path):
    frame = FRAMES[name]
    write_csv(frame, tmp_path / "ours.csv")
    assert (tmp_path / "ours.csv").read_bytes() == _pandas_bytes(frame, tmp_path)


def test_a_frame_longer_than_a_chunk_and_a_late_cell_to_quote(tmp_path, monkeypatch):
    """Chunk by chunk as one; a cell needing quotes in a later chunk still gives to_csv's file."""
    monkeypatch.setattr(outputs, "CSV_ROWS_PER_CHUNK", 1000)
    frame = pd.DataFrame({"day": np.arange(2500) % 7, "value": np.linspace(0, 1, 2500), "s": ["x"] * 2500})
    write_csv(frame, tmp_path / "ours.csv")
    assert (tmp_path / "ours.csv").read_bytes() == _pandas_bytes(frame, tmp_path)
    frame.loc[2400, "s"] = "late, quoted"
    write_csv(frame, tmp_path / "ours.csv")
    assert (tmp_path / "ours.csv").read_bytes() == _pandas_bytes(frame, tmp_path)
    assert b'"late, quoted"' in (tmp_path / "ours.csv").read_bytes()


def test_the_faster_writer_is_the_one_used_for_plain_tables(tmp_path):
    """So the tests above compare it, not to_csv with itself."""
    assert outputs._write_plain_csv(FRAMES["few distinct numbers"], tmp_path / "a.csv")
    assert not outputs._write_plain_csv(FRAMES["comma"], tmp_path / "b.csv")


def test_reading_some_rows_in_chunks_gives_those_rows_of_the_whole_read(tmp_path, monkeypatch):
    """Chunks of 100 rows: a column whole numbers in some chunks and with a missing value in another
    (int64 there, float64 here), a text column empty in a whole chunk; and a file with no row."""
    monkeypatch.setattr(outputs, "CSV_ROWS_PER_READ", 100)
    n = 1000
    frame = pd.DataFrame({"subject_id": [f"{i:04d}" for i in range(n)], "test": ["MELD", "ALB", "TBIL", "INR"] * 250,
                          "week": [i // 40 for i in range(n)],
                          "baseline": [None if i == 901 else i for i in range(n)],
                          "source_rows": [None if 200 <= i < 300 else f"{i};{i + 1}" for i in range(n)]})
    frame.to_csv(tmp_path / "labs.csv", index=False)
    whole = outputs.read_csv(tmp_path / "labs.csv")
    expected = whole[whole["test"] == "MELD"].reset_index(drop=True)
    pd.testing.assert_frame_equal(outputs.read_csv(tmp_path / "labs.csv", where=("test", ("MELD",))), expected)
    (tmp_path / "empty.csv").write_text("subject_id,test,value\n", encoding="utf-8")
    assert list(outputs.read_csv(tmp_path / "empty.csv", where=("test", ("MELD",))).columns) == ["subject_id", "test",
                                                                                                 "value"]
