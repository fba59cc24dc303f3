"""One error type for bad input, so every message names file, row, column and value."""

from __future__ import annotations

import sys
from functools import wraps


class RawDataError(ValueError):
    """Bad raw input. ``row`` is the line number in the file (the header is line 1)."""

    def __init__(self, file: str, row: int | None, column: str | None, value: object, problem: str):
        self.file, self.row, self.column, self.value, self.problem = file, row, column, value, problem
        where = [file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "...'"
        super().__init__(f"{', '.join(where)}, value {shown}: {problem}")


class ConfigError(ValueError):
    """A configuration value that the schema cannot express as invalid."""


def user_errors_exit(func):
    """Bad input ends the job with its one-line message, not a traceback."""
    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (RawDataError, ConfigError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(1) from None
    return wrapper


class NotEstimable(ValueError):
    """This estimate cannot be made on these data; the message says why.

    Raised on purpose by the statistics for degenerate data (no events in an arm, all
    values tied, an arm of one), never a silently different number. A ValueError, so
    callers that caught ValueError keep working."""
