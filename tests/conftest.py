"""Shared fixtures: the repository's paths and the study configuration."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from msc_ascites.settings import load_config

ROOT = Path(__file__).resolve().parents[1]
MINI_COHORT = ROOT / "tests" / "data" / "mini_cohort"


@pytest.fixture
def config():
    """config.yaml with the mini cohort as raw_dir (its cohort.yaml merged in)."""
    return load_config(ROOT / "config.yaml", raw_dir=str(MINI_COHORT))


@pytest.fixture
def mini_copy(tmp_path):
    """A writable copy of the mini cohort, for tests that corrupt it."""
    target = tmp_path / "raw"
    shutil.copytree(MINI_COHORT, target)
    return target


@pytest.fixture(scope="session")
def mini_build(tmp_path_factory):
    """One Snakemake build of the mini cohort on 4 cores, shared by the workflow tests."""
    from workflow_runs import build
    workdir = tmp_path_factory.mktemp("mini")
    return workdir, build(workdir, MINI_COHORT, cores=4)


@pytest.fixture(scope="session")
def reconstructed_project(tmp_path_factory):
    """The reconstructed cohort built once on the small grid, in a copy of the project (Snakefile,
    config, workflow, resources): the workflow tests read it, the audit tests edit and restore it."""
    from workflow_runs import SMALL_GRID, SNAKEMAKE
    project = tmp_path_factory.mktemp("project")
    for name in ("Snakefile", "config.yaml"):
        shutil.copy(ROOT / name, project / name)
    for name in ("workflow", "resources"):
        shutil.copytree(ROOT / name, project / name)
    shutil.copy(SMALL_GRID, project / "small_grid.yaml")
    built = subprocess.run([str(SNAKEMAKE), "--cores", "2", "--configfile", "small_grid.yaml"], cwd=project,
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-4000:]
    return project


def pytest_configure(config):
    # tests/ holds helper modules (public_cohorts, workflow_runs) imported by the tests.
    import sys
    sys.path.insert(0, str(Path(__file__).parent))
