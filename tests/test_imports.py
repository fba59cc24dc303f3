"""Each job imports only what it uses: a job's Python start and imports are paid once per job.

The report job renders HTML and the PDF (WeasyPrint) from results: it needs neither matplotlib
(the figures are their own jobs) nor scipy.stats (it computes no test). The scorecard and the
grid's modules name scipy.stats only for the functions that compute tests. Checked in a fresh
interpreter, by the modules loaded, not by time.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("scipy.stats", "matplotlib", "statsmodels", "lifelines")


def loaded_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


@pytest.mark.parametrize("module", [
    "msc_ascites.report.render",
    "msc_ascites.analysis.scorecard",
    "msc_ascites.analysis.endpoints",
    "msc_ascites.sensitivity.grid",
])
def test_job_modules_import_no_unused_heavy_library(module):
    loaded = loaded_after_import(module)
    assert {name for name in HEAVY if name in loaded} == set()


def test_lazy_scipy_stats_is_scipy_stats():
    from scipy import stats as eager

    from msc_ascites.stats.lazy_scipy import stats
    assert stats.t is eager.t and stats.fisher_exact is eager.fisher_exact
