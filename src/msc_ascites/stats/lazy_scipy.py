"""scipy.stats, imported at its first use rather than with the modules that name it.

Importing scipy.stats costs a job about 0.8 s of CPU (it pulls in scipy.sparse, spatial and
optimize). The statistics modules name it for a few functions, and the jobs that import them for
something else (the report for the grid's texts, the scorecard for the endpoints' layout) never
call those: imported lazily, only the jobs that compute a test pay. It is the same scipy.stats,
so the numbers are the same; importlib's import lock keeps the first use safe in the threads
that run the grid's cells.
"""

from __future__ import annotations

import importlib


class LazyModule:
    """Stands for the module ``name``, imported when one of its attributes is first read."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        return getattr(importlib.import_module(self._name), attribute)


stats = LazyModule("scipy.stats")
special = LazyModule("scipy.special")
