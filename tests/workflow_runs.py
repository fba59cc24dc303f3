"""Running the whole workflow with Snakemake in temporary folders (used by several test modules)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
MINI_COHORT = ROOT / "tests" / "data" / "mini_cohort"

#: The sensitivity grid of these builds: one cell per family (the full one is built by `make report`).
SMALL_GRID = ROOT / "tests" / "data" / "small_grid.yaml"


def snakemake_command(workdir: Path, raw_dir: Path, *args: str, cores: int = 2) -> list[str]:
    return [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), "--cores", str(cores),
            "--configfile", str(SMALL_GRID), "--config", f"raw_dir={raw_dir}", *args]


def snakemake(workdir: Path, raw_dir: Path, *args: str, cores: int = 2) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_command(workdir, raw_dir, *args, cores=cores),
                          capture_output=True, text=True, timeout=600)


def build(workdir: Path, raw_dir: Path, cores: int = 2) -> Path:
    run = snakemake(workdir, raw_dir, cores=cores)
    assert run.returncode == 0, run.stderr[-4000:]
    return workdir / "results"


def digests(results: Path) -> dict[str, str]:
    """SHA-256 of every file under ``results``, hidden ones included."""
    return {str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(results.rglob("*")) if p.is_file()}
