"""Running the whole workflow with Snakemake in temporary folders (used by several test modules)."""

from __future__ import annotations

import hashlib
import os
import shutil
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


def checkout(target: Path) -> Path:
    """A checkout of the project at ``target``, as a clone would be: its code (package included), config,
    the reconstructed cohort and the small grid."""
    target.mkdir(parents=True)
    for name in ("Snakefile", "config.yaml"):
        shutil.copy(ROOT / name, target / name)
    for name in ("workflow", "resources", "src"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(SMALL_GRID, target / "small_grid.yaml")
    return target


def in_checkout(project: Path, *args: str, cores: int = 2, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Snakemake in ``project`` on the small grid, running the checkout's own package (PYTHONPATH)."""
    return subprocess.run([*prefix, str(SNAKEMAKE), "--cores", str(cores), "--configfile", "small_grid.yaml", *args],
                          cwd=project, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(project / "src")})
