"""Per-job logs: a step's output is copied into its log, and still reaches the terminal."""

import subprocess
import sys

import pytest

from msc_ascites.joblog import call_logged

SCRIPT = """
import sys, warnings
from msc_ascites.joblog import log_to
log_to([sys.argv[1]])
print("to stdout")
warnings.warn("a warning")
print("error: labs.csv line 3, column value: 'x' is not a number", file=sys.stderr)
raise SystemExit(1)
"""


def test_a_script_step_copies_stdout_stderr_and_warnings_into_its_log(tmp_path):
    log = tmp_path / "logs" / "rule" / "job.log"
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(log)], capture_output=True, text=True)
    assert run.returncode == 1
    text = log.read_text(encoding="utf-8")
    for line in ("to stdout", "UserWarning: a warning", "error: labs.csv line 3, column value: 'x' is not a number"):
        assert line in text
    assert "to stdout" in run.stdout and "is not a number" in run.stderr  # still on the terminal


def test_a_run_step_writes_the_error_that_ended_it(tmp_path):
    log = tmp_path / "cell.log"

    def broken(x):
        raise ValueError(f"no events in arm {x}")
    with pytest.raises(ValueError):
        call_logged([str(log)], broken, "control")
    assert "ValueError: no events in arm control" in log.read_text(encoding="utf-8")
    assert call_logged(str(log), lambda a, b: a + b, 2, 3) == 5
    assert log.read_text(encoding="utf-8") == ""  # a job that succeeds leaves an empty log
