"""Normal and t quantiles, the Wilson interval and a sample's description, without scipy.stats.

scipy.stats computes these same quantiles with the same special functions (ndtri, stdtrit), but
importing it costs each job about 0.8 s of CPU; the figure, flow and safety jobs need nothing else of it.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def z_two_sided(level: float) -> float:
    """The normal quantile of a two-sided ``level`` interval (1.96 for 0.95)."""
    return float(special.ndtri(0.5 + level / 2))


def t_two_sided(level: float, df):
    """Student's t quantile of a two-sided ``level`` interval with ``df`` degrees of freedom."""
    return special.stdtrit(df, 0.5 + level / 2)


def wilson_interval(events: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for one proportion (no continuity correction)."""
    z = z_two_sided(level)
    p = events / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def describe(values) -> dict:
    """n, mean, SD, median, quartiles (R's default, type 7) and range of the non-missing values."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return {"n": 0}
    q1, median, q3 = np.percentile(x, [25, 50, 75])
    return {"n": int(len(x)), "mean": float(x.mean()), "sd": float(x.std(ddof=1)) if len(x) > 1 else None,
            "median": float(median), "q1": float(q1), "q3": float(q3), "min": float(x.min()),
            "max": float(x.max())}
