"""The sensitivity grid through a real SLURM (profiles/slurm) gives the bytes of a local build.

Needs a reachable SLURM with an idle node: as root, `bash scripts/setup_local_slurm.sh`
sets up a one-node one on this machine. Without it the tests skip and say why.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from workflow_runs import ROOT, SNAKEMAKE, digests

#: 11 cells (8 week-48, 2 survival, 1 reconstruction seed), multiple imputation among them.
GRID = ROOT / "tests" / "data" / "slurm_grid.yaml"
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
    return None


UNREACHABLE = slurm_unreachable()
pytestmark = pytest.mark.skipif(UNREACHABLE is not None, reason=UNREACHABLE or "")


def build_grid(workdir: Path, *args: str) -> str:
    """Build the `sensitivity` target of the reconstructed cohort with GRID; Snakemake's log.
    A build that fails or hangs (30 min) names each SLURM job it submitted, its state and log."""
    command = [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), "--configfile", str(GRID),
               "--config", f"raw_dir={ROOT / 'resources' / 'raw'}", *args, "sensitivity"]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired as hung:
        log = hung.stderr.decode() if isinstance(hung.stderr, bytes) else hung.stderr or ""
        pytest.fail(f"no end after 30 min; SLURM jobs: {slurm_jobs(log)}\n{log[-3000:]}")
    assert run.returncode == 0, f"SLURM jobs: {slurm_jobs(run.stderr)}\n{run.stderr[-4000:]}"
    return run.stderr


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
#: One keeps half of CI's two cores busy; SLURM_TEST_CPU_HOGS=3 is the heavier trial (10-12 min).
CPU_HOGS = int(os.environ.get("SLURM_TEST_CPU_HOGS", "1"))


@contextmanager
def cpu_hogs(count: int):
    """``count`` processes that keep a core busy for as long as the block runs."""
    hogs = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(count)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """The grid built locally and through SLURM (beside CPU_HOGS busy processes), each from the raw
    files in its own folder."""
    local, slurm = tmp_path_factory.mktemp("local"), tmp_path_factory.mktemp("slurm")
    build_grid(local, "--cores", "2")
    with cpu_hogs(CPU_HOGS):
        log = build_grid(slurm, "--profile", str(ROOT / "profiles" / "slurm"))
    return local, slurm, log


def test_grid_is_byte_identical_locally_and_through_slurm(builds):
    """summary.csv, and every cell and dataset behind it, has the same bytes wherever it was computed."""
    local, slurm, _ = builds
    sensitivity = Path("results", "sensitivity")
    assert (slurm / sensitivity / "summary.csv").read_bytes() == (local / sensitivity / "summary.csv").read_bytes()
    assert digests(slurm / sensitivity) == digests(local / sensitivity)


def test_jobs_ran_as_slurm_jobs_and_the_cells_as_one(builds):
    _, slurm, log = builds
    ids = re.findall(r"submitted with SLURM jobid (\d+)", log)
    assert ids, log[-4000:]
    # MinJobAge (one day in the setup script) keeps finished jobs in slurmctld, which is
    # also what the profile's squeue status command relies on.
    for jobid in ids:
        shown = subprocess.run(["scontrol", "--oneliner", "show", "job", jobid],
                               capture_output=True, text=True, timeout=60)
        assert "JobState=COMPLETED" in shown.stdout, (jobid, shown.stdout, shown.stderr)
    logs = slurm / ".snakemake" / "slurm_logs"
    assert sorted(p.name for p in logs.rglob("*.log")) == sorted(f"{jobid}.log" for jobid in ids)
    # group-components: sensitivity_datasets and the 11 cells are one SLURM job, not 12.
    grouped = list(logs.glob("group_sensitivity_*/*.log"))
    assert len(grouped) == 1
    assert "sensitivity_primary" in grouped[0].read_text()
    assert not list(logs.glob("rule_sensitivity_primary*"))
