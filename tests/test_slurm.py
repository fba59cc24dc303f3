"""The sensitivity grid through a real SLURM (profiles/slurm) gives the bytes of a local build,
and a job that fails there is named, with its logs.

Needs a reachable SLURM with an idle node and accounting (sacct): as root,
`bash scripts/setup_local_slurm.sh` sets up a one-node one on this machine. Without it the
tests skip and say why.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

from workflow_runs import ROOT, SMALL_GRID, SNAKEMAKE, digests

SETUP = "as root: bash scripts/setup_local_slurm.sh"


def slurm_unreachable() -> str | None:
    """Why SLURM cannot run jobs here, or None when it can."""
    if shutil.which("sinfo") is None:
        return f"sinfo not found: no SLURM client on this machine ({SETUP})"
    try:
        run = subprocess.run(["sinfo", "--noheader", "--Node", "--format=%N %t"],
                             capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 60 s: slurmctld unreachable"
    if run.returncode != 0:
        return f"sinfo failed, slurmctld unreachable ({SETUP}): {run.stderr.strip()}"
    # Compact states: a drained or powered-down node is `drain`, `idle~`, ... (which
    # `sinfo --states=idle` would still list), and the test's jobs would wait forever.
    nodes = dict(line.split() for line in run.stdout.splitlines())
    if not {"idle", "mix"} & set(nodes.values()):
        return f"SLURM has no idle node to run the test's jobs (sinfo: {nodes or 'no nodes'})"
    # profiles/slurm reads job states with sacct: without accounting it would lose its jobs.
    sacct = subprocess.run(["sacct", "--noheader", "-X", "--starttime", "now-1minutes"],
                           capture_output=True, text=True, timeout=60)
    if sacct.returncode != 0:
        return f"sacct failed, no SLURM accounting ({SETUP}): {sacct.stderr.strip()}"
    return None


UNREACHABLE = slurm_unreachable()
pytestmark = pytest.mark.skipif(UNREACHABLE is not None, reason=UNREACHABLE or "")


def start_grid_through_slurm(workdir: Path) -> subprocess.Popen:
    """Start the `sensitivity` target of the reconstructed cohort on the small grid through
    profiles/slurm, in the background; its output goes to workdir/snakemake.log."""
    workdir.mkdir(parents=True, exist_ok=True)
    with open(workdir / "snakemake.log", "w") as log:
        return subprocess.Popen([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
                                 "--configfile", str(SMALL_GRID), "--config", f"raw_dir={ROOT / 'resources' / 'raw'}",
                                 "--profile", str(ROOT / "profiles" / "slurm"), "sensitivity"],
                                stdout=log, stderr=subprocess.STDOUT)


def finished(process: subprocess.Popen, workdir: Path, timeout: float = 1800) -> tuple[int, str]:
    """Exit status and output of a started Snakemake; one that hangs (30 min) is killed and the test
    fails naming each SLURM job it submitted, its state and log."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        log = (workdir / "snakemake.log").read_text()
        pytest.fail(f"no end after {timeout:.0f} s; SLURM jobs: {slurm_jobs(log)}\n{log[-3000:]}")
    return process.returncode, (workdir / "snakemake.log").read_text()


def slurm_jobs(log: str) -> list[str]:
    """Each SLURM job the log says was submitted: id, rule (sbatch comment), state and log file."""
    jobs = []
    for jobid, path in re.findall(r"submitted with SLURM jobid (\d+) \(log: ([^)]*)\)", log):
        shown = subprocess.run(["scontrol", "--oneliner", "show", "job", jobid], capture_output=True, text=True,
                               timeout=60).stdout
        fields = dict(re.findall(r"(JobState|Comment|ExitCode)=(\S+)", shown))
        jobs.append(f"{jobid} {fields.get('Comment', '?')} {fields.get('JobState', 'gone')} "
                    f"exit {fields.get('ExitCode', '?')} log {path}")
    return jobs


#: Busy processes beside the SLURM build (`yes >/dev/null`): SLURM runs once judged failed under load.
#: One keeps half of CI's two cores busy; SLURM_TEST_CPU_HOGS=3 is the heavier trial.
CPU_HOGS = int(os.environ.get("SLURM_TEST_CPU_HOGS", "1"))


#: A one-rule workflow whose job fails on purpose, with a log.
DOOMED = """rule doomed:
    output: "doomed.txt"
    log: "logs/doomed.log"
    shell: "echo 'doomed on purpose' > {log}; exit 3"
"""


def start_doomed_workflow(workdir: Path) -> subprocess.Popen:
    """DOOMED through profiles/slurm, in the background; its output goes to workdir/snakemake.log."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "Snakefile").write_text(DOOMED)
    with open(workdir / "snakemake.log", "w") as log:
        return subprocess.Popen([str(SNAKEMAKE), "-s", str(workdir / "Snakefile"), "--directory", str(workdir),
                                 "--profile", str(ROOT / "profiles" / "slurm"), "doomed.txt"],
                                stdout=log, stderr=subprocess.STDOUT)


class Started(NamedTuple):
    """The two workflows sent to SLURM, and the busy processes beside them."""
    grid: subprocess.Popen
    doomed: subprocess.Popen
    folder: Path  #: grid/ and doomed/ under it
    hogs: list[subprocess.Popen]

    def stop(self) -> None:
        for process in (self.grid, self.doomed, *self.hogs):
            process.kill()
            process.wait()


def start(folder: Path, hogs: int) -> Started:
    """Both workflows through SLURM, beside ``hogs`` processes that each keep a core busy."""
    busy = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(hogs)]
    return Started(start_grid_through_slurm(folder / "grid"), start_doomed_workflow(folder / "doomed"), folder, busy)


#: Set by tests/conftest.py when the session runs other workflow tests: the SLURM builds start as soon as the
#: tests are collected and wait on SLURM's queue while the rest of the suite keeps both cores busy.
EARLY: Started | None = None


def start_early(folder: Path) -> None:
    """Start the SLURM builds now, with the rest of the session as their competing CPU load."""
    global EARLY
    if UNREACHABLE is None:
        EARLY = start(folder, hogs=0)


class Builds(NamedTuple):
    local: dict[str, str]  #: SHA-256 of each file of the local build's results/, as built
    slurm: Path  #: the folder of the build through SLURM
    log: str  #: Snakemake's output of the build through SLURM
    doomed: tuple[int, str]  #: exit status and output of the DOOMED workflow


@pytest.fixture(scope="module")
def builds(request, tmp_path_factory):
    """The small grid built locally (the session's build of the reconstructed cohort, shared with
    the workflow tests) and through SLURM from the same raw files, beside a CPU load: the rest of
    the suite when it started early (EARLY) or runs in another xdist worker, else CPU_HOGS busy
    processes; and, beside it, the DOOMED workflow (its wait for SLURM overlaps the grid's). The
    local build is taken after SLURM's have started, so that they overlap when it is not yet built."""
    hogs = 0 if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1 else CPU_HOGS
    started = EARLY or start(tmp_path_factory.mktemp("slurm"), hogs)
    try:
        reconstructed_build = request.getfixturevalue("reconstructed_build")
        grid_status, log = finished(started.grid, started.folder / "grid")
        doomed = finished(started.doomed, started.folder / "doomed", timeout=600)
    finally:
        started.stop()
    assert grid_status == 0, f"SLURM jobs: {slurm_jobs(log)}\n{log[-4000:]}"
    return Builds(reconstructed_build[1], started.folder / "grid", log, doomed)


def test_grid_is_byte_identical_locally_and_through_slurm(builds):
    """summary.csv, and every cell and dataset behind it, has the same bytes wherever it was computed."""
    sensitivity = builds.slurm / "results" / "sensitivity"
    local = {name.removeprefix("sensitivity/"): digest for name, digest in builds.local.items()
             if name.startswith("sensitivity/")}
    assert "summary.csv" in local
    assert digests(sensitivity) == local


def test_jobs_ran_as_slurm_jobs_and_the_cells_as_one(builds):
    slurm, log = builds.slurm, builds.log
    ids = re.findall(r"submitted with SLURM jobid (\d+)", log)
    assert ids, log[-4000:]
    # MinJobAge (one day in the setup script) keeps finished jobs in slurmctld, for scontrol.
    for jobid in ids:
        shown = subprocess.run(["scontrol", "--oneliner", "show", "job", jobid],
                               capture_output=True, text=True, timeout=60)
        assert "JobState=COMPLETED" in shown.stdout, (jobid, shown.stdout, shown.stderr)
    logs = slurm / ".snakemake" / "slurm_logs"
    assert sorted(p.name for p in logs.rglob("*.log")) == sorted(f"{jobid}.log" for jobid in ids)
    # group-components: the grid's cells (and its other windows' datasets) are one SLURM job, not one each.
    grouped = list(logs.glob("group_sensitivity_*/*.log"))
    assert len(grouped) == 1
    assert "sensitivity_primary" in grouped[0].read_text()
    assert not list(logs.glob("rule_sensitivity_primary*"))


def test_a_failed_slurm_job_is_named_with_its_logs(builds):
    """Snakemake's output names the rule of a job that failed in SLURM, its log, SLURM's log of the
    job, and shows what the log says."""
    returncode, log = builds.doomed
    assert returncode == 1, log[-4000:]
    slurm_log = re.search(r"submitted with SLURM jobid \d+ \(log: ([^)]*)\)", log)
    assert slurm_log, log[-4000:]
    assert "Error in rule doomed:" in log
    assert f"log: logs/doomed.log, {slurm_log[1]}" in log
    assert "Logfile logs/doomed.log:\n========================\ndoomed on purpose\n" in log
