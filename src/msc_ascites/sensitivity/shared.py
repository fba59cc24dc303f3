"""Analyses made once per process: the grid's cells run as threads of one Snakemake process (the
workflow profile's force-use-threads), and many analyse the same data the same way (on a cohort
where every patient was infused, the two populations are one; where the windows hold the same
values, the three windows are one). A cell whose analysis another cell of this process already made
takes that result: the same numbers, computed once. Results depend only on the key (the method and
a hash of the data), so which cell computed them first changes no byte of any output."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

_RESULTS: dict[Hashable, dict] = {}
_KEY_LOCKS: dict[Hashable, threading.Lock] = {}
_GUARD = threading.Lock()


def once(key: Hashable, compute: Callable[[], dict]) -> dict:
    """``compute()``'s result for ``key``, computed by the first caller (others with the same key
    wait for it); a call that raises leaves nothing behind, so the next caller raises too."""
    with _GUARD:
        lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with lock:
        if key not in _RESULTS:
            _RESULTS[key] = compute()
        return dict(_RESULTS[key])

