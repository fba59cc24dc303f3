"""Per-job logs: what a workflow step prints also goes to its `log:` file (logs/<rule>/...).

On a cluster a failed job's terminal is gone; its log stays. The log is a copy, not a
diversion: a bad input's one-line message still reaches the terminal where Snakemake's user
(and tests/test_bad_input.py) reads it. Logs are kept out of results/, so results/ and its
manifest do not depend on them. Light: the Snakefile's `run:` rules import it.
"""

from __future__ import annotations

import sys
import traceback
from contextlib import contextmanager
from pathlib import Path


class _Tee:
    """A text stream writing to the terminal's stream and to the log."""

    def __init__(self, stream, log):
        self._stream, self._log = stream, log

    def write(self, text: str) -> int:
        self._stream.write(text)
        self._log.write(text)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()
        self._log.flush()

    def __getattr__(self, name):  # isatty, encoding, fileno: the terminal's
        return getattr(self._stream, name)


def _open(log) -> object:
    """The job's log file (Snakemake's ``log`` or a path), opened line-buffered, folder made."""
    path = Path(log if isinstance(log, (str, Path)) else log[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "w", encoding="utf-8", buffering=1)


def log_to(log) -> None:
    """A `script:` step: copy this process's stdout and stderr (tracebacks, warnings, error
    messages) into its log. The script runs in its own Python process, so this lasts until
    it ends; a rule without a log (``snakemake.log`` empty) is left as it is."""
    if not log:
        return
    handle = _open(log)
    sys.stdout, sys.stderr = _Tee(sys.stdout, handle), _Tee(sys.stderr, handle)


@contextmanager
def logged(log):
    """A `run:` step, inside Snakemake's own process (and threads): the error that ends the
    job, with its traceback, is written to the log before Snakemake reports it. Streams are
    left alone, as other jobs share them."""
    with _open(log) as handle:
        try:
            yield
        except BaseException:
            handle.write(traceback.format_exc())
            raise


def call_logged(log, step, *args):
    """``step(*args)`` under `logged`: one call, so a `run:` block stays short."""
    with logged(log):
        return step(*args)
