"""Normal and t quantiles, and the Wilson interval, from scipy.special alone.

scipy.stats computes these same quantiles with the same special functions (ndtri, stdtrit), but
importing it costs each job about 0.8 s of CPU; the figure and report jobs need nothing else of it.
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
