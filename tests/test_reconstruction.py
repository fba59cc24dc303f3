"""The reconstructed cohort: reproducible byte for byte, on target, and fast at scale."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from msc_ascites.reconstruction import generate as rec

ROOT = Path(__file__).parents[1]
PUBLISHED = ROOT / "resources" / "published" / "hua2020_abstract.yaml"
ASSUMPTIONS = ROOT / "resources" / "reconstruction" / "assumptions.yaml"
RAW = ROOT / "resources" / "raw"


@pytest.fixture(scope="module")
def inputs():
    return rec.load_yaml(PUBLISHED), rec.load_assumptions(ASSUMPTIONS)


def test_committed_cohort_rebuilds_byte_for_byte(tmp_path):
    """The CLI with the committed seed and inputs rewrites every file in resources/raw exactly."""
    status = rec.main(["--published", str(PUBLISHED), "--assumptions", str(ASSUMPTIONS),
                       "--seed", str(rec.PAPER_SEED), "--out", str(tmp_path), "--quiet"])
    assert status == 0
    committed = sorted(p.name for p in RAW.iterdir() if p.is_file())
    rebuilt = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert rebuilt == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (RAW / name).read_bytes(), name


def test_committed_cohort_meets_every_published_target(inputs):
    published, assumptions = inputs
    tables = rec.read_cohort(RAW)
    assert set(tables) == set(rec.TABLE_COLUMNS)
    assert rec.check_targets(tables, published, assumptions) == []


def test_committed_cohort_follows_the_contract(inputs):
    tables = rec.read_cohort(RAW)
    for name, columns in rec.TABLE_COLUMNS.items():
        assert set(columns) <= set(tables[name].columns), name
    ids = tables["subjects"]["subject_id"]
    assert ids.tolist() == [f"{i:03d}" for i in range(1, 79)]
    raw = (RAW / "labs.csv").read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    assert (RAW / "cohort.yaml").read_text(encoding="utf-8").endswith(
        "date_formats:\n  labs: DD/MM/YYYY\nreconstruction_seed: 20200715\n")


def test_scale_mode_is_quick_and_sized(inputs):
    published, assumptions = inputs
    start = time.perf_counter()
    tables = rec.generate(published, assumptions, seed=1, n_subjects=2000)
    elapsed = time.perf_counter() - start
    subjects = tables["subjects"]
    assert len(subjects) == 2000 and subjects["subject_id"].is_unique
    n_tests = len(assumptions["lab_tests"]["order"])
    n_visits = 1 + len(assumptions["visits"]["scheduled"])
    assert 2000 * n_visits * n_tests <= len(tables["labs"]) <= 1.01 * 2000 * n_visits * n_tests
    assert len(tables["ascites"]) == 2000 * len(assumptions["visits"]["ascites_visits"])
    assert 900 <= len(tables["infusions"]) <= 1100
    assert 0 < len(tables["events"]) < 2000 and len(tables["paracentesis"]) > 10 * 2000
    assert all(frame.dtypes.eq(object).all() for frame in tables.values())
    assert elapsed < 30, f"scale mode took {elapsed:.1f} s"
