"""One error type for bad input, so every message names file, row, column and value."""

from __future__ import annotations

import os
import sys
from functools import wraps


class UserError(ValueError):
    """Bad input the user can fix: shown as its one-line message, without a traceback."""


class RawDataError(UserError):
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


class ConfigError(UserError):
    """A configuration value that the schema cannot express as invalid."""


class FileError(UserError):
    """A file that cannot be read as given (a directory, a pipe, too large, unreadable, bad YAML)."""


def debugging() -> bool:
    """MSC_DEBUG=1 asks for the traceback behind a one-line error."""
    return os.environ.get("MSC_DEBUG", "") not in ("", "0")


def user_errors_exit(func):
    """Bad input ends the job with its one-line message, not a traceback (unless MSC_DEBUG=1)."""
    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            if debugging():
                raise
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(1) from None
    return wrapper


class NotEstimable(ValueError):
    """This estimate cannot be made on these data; the message says why.

    Raised on purpose by the statistics for degenerate data (no events in an arm, all
    values tied, an arm of one), never a silently different number. A ValueError, so
    callers that caught ValueError keep working."""
