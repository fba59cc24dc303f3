"""Shared fixtures: the repository's paths and the study configuration."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
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
def reconstructed_build(tmp_path_factory):
    """The reconstructed cohort built once on the small grid (2 cores), in a checkout of the project
    with its own package: the project folder and the SHA-256 of every file under results/ as built
    (the audit tests edit and restore files later)."""
    from workflow_runs import checkout, digests, in_checkout
    project = checkout(tmp_path_factory.mktemp("project") / "a")
    built = in_checkout(project, cores=2)
    assert built.returncode == 0, built.stderr[-4000:]
    return project, digests(project / "results")


@pytest.fixture(scope="session")
def reconstructed_project(reconstructed_build):
    """The folder of that build: the workflow tests read it, the audit tests edit and restore it."""
    return reconstructed_build[0]


@pytest.fixture(scope="session")
def elsewhere_build(tmp_path_factory):
    """The same cohort built again as another clone would: a deeper folder, 4 cores (the first build
    has 2: other jobs side by side, up to four grid cells as threads of one process at once), and no
    network where the machine allows it (run, project folder, why there was network). On one core it
    took 86 s of the suite's 407 s of workflow tests, each job waiting for the one before."""
    from workflow_runs import checkout, in_checkout
    prefix, why_not = offline_prefix()
    project = checkout(tmp_path_factory.mktemp("checkouts") / "somewhere" / "much" / "deeper" / "b")
    return in_checkout(project, cores=4, prefix=prefix), project, why_not


@pytest.fixture(params=["reconstructed_project", "mini_build"])
def shared_results(request) -> Path:
    """The results folder of each of the two shared builds, for a test both reports must pass."""
    built = request.getfixturevalue(request.param)
    return built / "results" if request.param == "reconstructed_project" else built[1]


def offline_prefix() -> tuple[tuple[str, ...], str]:
    """A command prefix that runs a command with no network (a new network namespace with only
    loopback, down), or none and why."""
    if shutil.which("unshare") is None:
        return (), "unshare (util-linux) is not installed"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return (), f"unshare -n is not permitted here ({probe.stderr.strip()}); it needs root"
    return ("unshare", "-n"), ""


def pytest_configure(config):
    # tests/ holds helper modules (public_cohorts, workflow_runs) imported by the tests.
    sys.path.insert(0, str(Path(__file__).parent))


#: Names a test (or a fixture it uses) calls to run Snakemake: tests/workflow_runs.py's helpers
#: and its SNAKEMAKE executable.
RUNS_SNAKEMAKE = {"snakemake", "SNAKEMAKE", "snakemake_command", "build", "in_checkout"}


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


#: The session's shared builds, by the fixture that gives them: under pytest-xdist (`make test` runs two
#: workers) the tests of one build go to one worker, which builds it once. The SLURM builds compare with
#: the reconstructed one, and the second checkout with it too: one group.
SHARED_BUILDS = {"mini_build": "mini", "reconstructed_build": "reconstructed",
                 "reconstructed_project": "reconstructed", "elsewhere_build": "reconstructed",
                 "builds": "reconstructed"}


def _shared_build(item) -> str | None:
    """The group of the shared build a test reads, or None: a public trial's by its name."""
    groups = {SHARED_BUILDS[name] for name in item.fixturenames if name in SHARED_BUILDS}
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "built" in item.fixturenames:
        groups.add(f"public-{params['trial']}")
    if "shared_results" in params:
        groups.add(SHARED_BUILDS[params["shared_results"]])
    assert len(groups) <= 1, f"{item.nodeid} reads several shared builds {sorted(groups)}: parametrize it"
    return next(iter(groups), None)


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the groups
def pytest_collection_modifyitems(config, items):
    """Mark every test that runs Snakemake itself or through a fixture `workflow`, and each that reads
    a shared build with its xdist group."""
    for item in items:
        group = _shared_build(item)
        if group or _runs_snakemake(item):
            item.add_marker(pytest.mark.workflow)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
            if getattr(config.option, "loadgroup", False):  # set in the workers of --dist loadgroup
                _suffix_group(item, group)


def _suffix_group(item, group: str) -> None:
    """Give the test the id `--dist loadgroup` schedules by (``...@group``). pytest-xdist 3.8 writes
    it into ``item._nodeid``, which pytest 9 no longer reads (its ids are NodeId objects): without
    this, each worker built every shared build."""
    from _pytest.nodeid import NodeId
    if not item.nodeid.endswith(f"@{group}"):
        item._id = NodeId.parse(f"{item.nodeid}@{group}")


def pytest_collection_finish(session):
    """When the session runs tests/test_slurm.py beside other workflow tests, start its SLURM builds
    now: they mostly wait on SLURM's queue, so they overlap the rest of the suite, which is also
    their competing CPU load. Alone, test_slurm.py builds beside busy processes of its own."""
    if session.config.option.collectonly or "PYTEST_XDIST_WORKER" in os.environ:
        return  # under xdist every worker collects: the worker that runs them starts them (test_slurm.builds)
    slurm = [item for item in session.items if hasattr(getattr(item, "module", None), "start_early")]
    others = [item for item in session.items if item.get_closest_marker("workflow") and item not in slurm]
    if slurm and others:
        folder = Path(tempfile.mkdtemp(prefix="slurm-builds-"))
        module = slurm[0].module
        module.start_early(folder)
        session.config.add_cleanup(lambda: (module.EARLY and module.EARLY.stop(),
                                            shutil.rmtree(folder, ignore_errors=True)))
