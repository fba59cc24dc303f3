"""Shared fixtures: the repository's paths and the study configuration."""

from __future__ import annotations

import shutil
import subprocess
import sys
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
    sys.path.insert(0, str(Path(__file__).parent))


#: Names a test (or a fixture it uses) calls to run Snakemake: tests/workflow_runs.py's helpers
#: and its SNAKEMAKE executable.
RUNS_SNAKEMAKE = {"snakemake", "SNAKEMAKE", "snakemake_command", "build"}


def _code_names(code, module, seen: set) -> set[str]:
    """Global and attribute names a function's code uses, with those of its nested functions
    and of the functions of its own module it calls."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _code_names(const, module, seen)
    for name in names - seen:
        seen.add(name)
        helper = getattr(module, name, None)
        if callable(helper) and getattr(helper, "__module__", None) == module.__name__ and hasattr(helper, "__code__"):
            names |= _code_names(helper.__code__, module, seen)
    return names


def _runs_snakemake(item) -> bool:
    """Whether the test, or a fixture it uses, runs Snakemake."""
    functions = [getattr(item, "function", None)]
    for defs in getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).values():
        functions += [fixture.func for fixture in defs]
    return any(RUNS_SNAKEMAKE & _code_names(f.__code__, sys.modules[f.__module__], set())
               for f in functions if hasattr(f, "__code__"))


def pytest_collection_modifyitems(config, items):
    """Mark every test that runs Snakemake itself or through a fixture `workflow`."""
    for item in items:
        if _runs_snakemake(item):
            item.add_marker(pytest.mark.workflow)
