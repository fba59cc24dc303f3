"""How robust is a conclusion: fragility index, E-value, tipping point.

- Fragility index (Walsh et al., J Clin Epidemiol 2014;67:622): how many
  patients' outcomes would have to change for Fisher's exact test to cross 0.05;
  when the result is not significant, the reverse fragility index (Khan et al.,
  JAMA Netw Open 2020;3:e1918962) counts the changes needed to reach it.
- E-value (VanderWeele & Ding, Ann Intern Med 2017;167:268): the strength an
  unmeasured confounder would need, with treatment and outcome, to explain the
  effect away; for a hazard ratio of a common outcome through the RR
  approximation of VanderWeele (Biometrics 2020;76:746).
- Tipping point: shifts added to the imputed missing values, per arm, that
  would overturn the comparison (Ratitch et al., Pharm Stat 2013;12:337).
"""

from __future__ import annotations

import numpy as np
from .lazy_scipy import special, stats

ALPHA = 0.05


#: Tables screened at once for the crossing, and how near alpha a screened p is checked by scipy anyway.
SCREEN_CHUNK = 64
SCREEN_MARGIN = 0.01


def _fisher_p(a: int, n1: int, c: int, n0: int) -> float:
    return float(stats.fisher_exact([[a, n1 - a], [c, n0 - c]]).pvalue)


#: Below this log probability a table's probability is 0 in floating point (exp(-745.2) underflows).
_LOG_ZERO = -760.0


def _fisher_p_screen(a: np.ndarray, n1: int, c: np.ndarray, n0: int) -> np.ndarray:
    """Two-sided Fisher p of the tables [[a_i, n1 - a_i], [c_i, n0 - c_i]] at once, as R's
    fisher.test sums them (tables no likelier than the observed, relative tolerance 1e-7), from log
    factorials: a screen, so that scipy's one-table-at-a-time test runs only where it may cross.
    Summed over the tables whose probability is not 0 in floating point (`_support`): at 100k
    subjects the others are nearly all of the 50,000 possible ones."""
    log_factorial = special.gammaln(np.arange(n1 + n0 + 1) + 1.0)

    def log_pmf(x, events):
        return (log_factorial[n1] - log_factorial[x] - log_factorial[n1 - x] + log_factorial[n0]
                - log_factorial[events - x] - log_factorial[n0 - events + x] - log_choose_total[events])

    log_choose_total = log_factorial[n1 + n0] - log_factorial - log_factorial[::-1]
    events = a + c
    first, last = _support(log_pmf, events, n1, n0)
    x = np.arange(first, last + 1)[None, :]
    column = events[:, None]
    valid = (column - x >= 0) & (column - x <= n0)
    logs = np.where(valid, log_pmf(x, np.clip(column, x, x + n0)), -np.inf)
    observed = log_pmf(a, events)[:, None]
    return np.where(logs <= observed + np.log1p(1e-7), np.exp(logs), 0.0).sum(axis=1)


def _support(log_pmf, events: np.ndarray, n1: int, n0: int) -> tuple[int, int]:
    """The counts x (events in the first group) around the modes of the tables with ``events``
    events where some table's log probability is at least `_LOG_ZERO`; the probability is unimodal
    in x, so each side is found by bisection."""
    low, high = np.maximum(0, events - n0), np.minimum(n1, events)
    mode = np.clip((events + 1) * (n1 + 1) // (n1 + n0 + 2), low, high)
    left, right = low.copy(), mode.copy()  # first x >= left with log_pmf >= _LOG_ZERO lies in [left, right]
    while np.any(left < right):
        middle = (left + right) // 2
        above = log_pmf(middle, events) >= _LOG_ZERO
        left, right = np.where(above, left, middle + 1), np.where(above, middle, right)
    first = int(left.min())
    left, right = mode.copy(), high.copy()  # last x <= right with log_pmf >= _LOG_ZERO lies in [left, right]
    while np.any(left < right):
        middle = (left + right + 1) // 2
        above = log_pmf(middle, events) >= _LOG_ZERO
        left, right = np.where(above, middle, left), np.where(above, right, middle - 1)
    return first, int(right.max())


def _first_crossing(counts: dict, arm: str, significant: bool, alpha: float) -> tuple:
    """The fewest outcomes changed in ``arm`` for which Fisher's p crosses alpha, and that p (scipy's),
    or (None, None). Walked one patient at a time, as the definition reads, but each chunk of tables
    is screened at once: at 100k subjects the walk is thousands of tables, each a scipy test of 5 ms."""
    (events_t, n_t), (events_c, n_c) = counts["treatment"], counts["control"]
    room = counts[arm][1] - counts[arm][0]
    for first in range(1, room + 1, SCREEN_CHUNK):
        changed = np.arange(first, min(first + SCREEN_CHUNK, room + 1))
        a = events_t + changed * (arm == "treatment")
        c = events_c + changed * (arm == "control")
        for k, screened, a_k, c_k in zip(changed, _fisher_p_screen(a, n_t, c, n_c), a, c):
            if (screened >= alpha) == significant or abs(screened - alpha) < SCREEN_MARGIN * alpha:
                p_now = _fisher_p(int(a_k), n_t, int(c_k), n_c)
                if (p_now >= alpha) == significant:
                    return int(k), p_now
    return None, None


def fragility_index(events_t: int, n_t: int, events_c: int, n_c: int, alpha: float = ALPHA) -> dict:
    """Walsh's fragility index, or the reverse index when p >= alpha.

    Significant: non-events become events, one patient at a time, in the arm
    with fewer events until p >= alpha. Not significant: events are added to the
    arm with more events (the direction the data lean) until p < alpha.
    """
    p = _fisher_p(events_t, n_t, events_c, n_c)
    significant = p < alpha
    counts = {"treatment": [events_t, n_t], "control": [events_c, n_c]}
    fewer = "treatment" if events_t / n_t <= events_c / n_c else "control"
    arm = fewer if significant else ("control" if fewer == "treatment" else "treatment")
    changed, p_now = _first_crossing(counts, arm, significant, alpha)
    if changed is not None:
        return {"index": changed, "kind": "fragility" if significant else "reverse fragility",
                "arm_changed": arm, "p": p, "p_after": p_now, "alpha": alpha}
    return {"index": None, "kind": "fragility" if significant else "reverse fragility", "arm_changed": arm,
            "p": p, "p_after": None, "alpha": alpha,
            "reason": "no number of changed outcomes in that arm crosses the threshold"}


def _e_value_of_rr(rr: float) -> float:
    rr = 1 / rr if rr < 1 else rr
    return float(rr + np.sqrt(rr * (rr - 1)))


def e_value(estimate: float, lower: float, upper: float, kind: str = "rr", common: bool = False) -> dict:
    """E-value of a risk ratio (``kind`` 'rr') or hazard ratio ('hr') and of its CI limit
    closest to 1 (1 when the CI includes 1). A hazard ratio of a common outcome
    (over 15% by the end of follow-up) is first turned into an approximate risk
    ratio, (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)); a rare one is taken as is."""
    def as_rr(value: float) -> float:
        if kind == "hr" and common:
            return (1 - 0.5 ** np.sqrt(value)) / (1 - 0.5 ** np.sqrt(1 / value))
        return value
    point = as_rr(estimate)
    low, high = as_rr(lower), as_rr(upper)
    limit = 1.0 if low <= 1 <= high else (low if point > 1 else high)
    return {"estimate": float(estimate), "as_risk_ratio": float(point), "e_value": _e_value_of_rr(point),
            "e_value_ci": 1.0 if limit == 1.0 else _e_value_of_rr(limit), "kind": kind, "common_outcome": common}


def tipping_point_grid(imputed: list[tuple[np.ndarray, np.ndarray, np.ndarray]], shifts: np.ndarray,
                       analyse, pool) -> list[dict]:
    """The pooled comparison for every pair of shifts (treatment, control).

    ``imputed`` holds one (value, treated, was_missing) triple per imputation;
    each shift is added to the imputed values of its arm only, then every copy is
    analysed by ``analyse(value_t, value_c)`` (returning estimate and se) and the
    copies pooled by ``pool(estimates, variances)``.
    """
    rows = []
    for shift_t in shifts:
        for shift_c in shifts:
            estimates, variances = [], []
            for value, treated, missing in imputed:
                shifted = value + missing * np.where(treated == 1, shift_t, shift_c)
                result = analyse(shifted[treated == 1], shifted[treated == 0])
                estimates.append(result["estimate"])
                variances.append(result["se"] ** 2)
            pooled = pool(estimates, variances)
            rows.append({"shift_treatment": float(shift_t), "shift_control": float(shift_c),
                         "estimate": pooled["estimate"], "lower": pooled["lower"], "upper": pooled["upper"],
                         "p": pooled["p"]})
    return rows
