"""Competing risks beyond the Aalen-Johansen curve: Gray's test, and the counts a figure prints
under a curve (at risk, events, competing events and censored at chosen times).

Gray's test is written from Gray (1988, Ann Stat 16:1141-54), with the variance estimator of
his paper's section 2 as R's ``cmprsk::cuminc`` computes it (checked there,
tests/r_reference/figs.R). Status codes: 0 censored, ``cause`` the event of interest, any other
value a competing event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from .lazy_scipy import stats

from ..errors import NotEstimable

DAYS_PER_MONTH = 365.25 / 12


def month_ticks(horizon_days: float) -> tuple[np.ndarray, float]:
    """Times every 6 months (3 or 1 for short horizons) up to the horizon, and the axis end in months:
    where a figure's ticks and its numbers at risk stand."""
    months = horizon_days / DAYS_PER_MONTH
    step = 6 if months > 12 else 3 if months > 6 else 1
    last = math.floor(months / step + 0.05) * step       # 730 days is 23.98 months: the tick says 24
    return np.arange(0, last + step / 2, step), max(months, last)


def tick_days(ticks: np.ndarray, horizon_days: float) -> list[float]:
    """The day of each month tick; the last tick is the horizon itself (730 days, not 730.5)."""
    return [min(float(t) * DAYS_PER_MONTH, horizon_days) for t in ticks]


def risk_table_days(horizon_days: float) -> list[float]:
    """The days of the numbers at risk under a curve to ``horizon_days``: its month ticks."""
    return tick_days(month_ticks(horizon_days)[0], horizon_days)


def event_counts(time, status, cause: int = 1) -> pd.DataFrame:
    """At each distinct time: at risk just before it, events of ``cause``, competing events, censored."""
    time, status = np.asarray(time, dtype=float), np.asarray(status)
    times, index = np.unique(time, return_inverse=True)
    leaving = np.bincount(index, minlength=len(times))
    n_event = np.bincount(index, weights=status == cause, minlength=len(times)).astype(int)
    n_censor = np.bincount(index, weights=status == 0, minlength=len(times)).astype(int)
    n_risk = len(time) - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    return pd.DataFrame({"time": times, "n_risk": n_risk.astype(int), "n_event": n_event,
                         "n_competing": leaving - n_event - n_censor, "n_censor": n_censor})


def risk_table(steps: pd.DataFrame, days) -> pd.DataFrame:
    """KMunicate's table at each of ``days``: at risk (follow-up reaching the day), and the events,
    competing events and censorings before it, so the four add up to the arm's n.

    ``steps``: a step table (time, n_risk, n_event, n_censor, optionally n_competing) as
    `event_counts` or the Kaplan-Meier table of ``stats.survival`` give it.
    """
    times = steps["time"].to_numpy(float)
    total = int(steps["n_risk"].iloc[0]) if len(steps) else 0
    competing = steps["n_competing"] if "n_competing" in steps else pd.Series(0, index=steps.index)
    rows = []
    for day in days:
        before = times < day
        events, censored = int(steps["n_event"][before].sum()), int(steps["n_censor"][before].sum())
        other = int(competing[before].sum())
        rows.append({"day": day, "at_risk": total - events - censored - other, "events": events,
                     "competing": other, "censored": censored})
    return pd.DataFrame(rows, columns=["day", "at_risk", "events", "competing", "censored"])


@dataclass
class _GrayState:
    """Per group, just before the current time: at risk, all-cause survival, cumulative incidence;
    the pooled incidence; and the running score and the sums behind its variance."""

    at_risk: np.ndarray
    surv: np.ndarray = field(init=False)
    cif: np.ndarray = field(init=False)
    pooled: float = 0.0

    def __post_init__(self):
        k = len(self.at_risk)
        self.surv, self.cif = np.ones(k), np.zeros(k)
        self.score, self.var = np.zeros(k - 1), np.zeros((k - 1, k - 1))
        self.c, self.v3, self.v2 = np.zeros((k, k)), np.zeros(k), np.zeros((k - 1, k))


def _gray_step(state: _GrayState, d1: np.ndarray, d2: np.ndarray, rho: float) -> None:
    """Add one event time (``d1`` events of the cause, ``d2`` competing, per group) to ``state``."""
    n, live = state.at_risk, state.at_risk > 0
    safe_n, safe_surv = np.where(live, n, 1.0), np.where(live, state.surv, 1.0)
    surv = np.where(live, state.surv * (n - d1 - d2) / safe_n, state.surv)
    cif = np.where(live, state.cif + state.surv * d1 / safe_n, state.cif)
    h = np.where(live, n / safe_surv, 0.0)                        # Gray's h_k: n_k / S_k(t-)
    r = np.where(live, n * (1 - state.cif) / safe_surv, 0.0)      # Gray's R_k
    total_h, events = h.sum(), d1.sum()
    pooled = state.pooled + events / total_h
    weight = (1 - state.pooled) ** rho
    a = weight * (np.diag(h) - np.outer(h, h) / total_h)
    state.c += a * events / (total_h * (1 - state.pooled))
    state.score += (weight * (d1 - events * r / r.sum()))[:-1]
    if events > 0:
        t4 = np.where(surv > 0, 1 - (1 - pooled) / np.where(surv > 0, surv, 1.0), 1.0)
        ties = 1 - (events - 1) / np.where(live, total_h * safe_surv - 1, 1.0) if events > 1 else 1.0
        t3 = np.where(live, ties * state.surv * events / (total_h * safe_n), 0.0)
        _gray_add(state, a[:-1] - t4 * state.c[:-1], t4, t3)
    if d2.sum() > 0:
        hit = (surv > 0) & (d2 > 0)
        t4 = np.where(hit, (1 - pooled) / np.where(hit, surv, 1.0), 0.0)
        ties = np.where(d2 > 1, 1 - (d2 - 1) / np.where(d2 > 1, n - 1, 1.0), 1.0)
        t3 = np.where(hit, ties * state.surv ** 2 * d2 / safe_n ** 2, 0.0)
        _gray_add(state, -t4 * state.c[:-1], t4, t3)
    state.surv, state.cif, state.pooled = surv, cif, pooled


def _gray_add(state: _GrayState, b: np.ndarray, t4: np.ndarray, t3: np.ndarray) -> None:
    """One variance term: b (groups 1..k-1 by group) weighted by t3 per group."""
    state.v3 += t4 * t4 * t3
    state.v2 += b * t4 * t3
    state.var += (b * t3) @ b.T


def gray_test(time, status, group, cause: int = 1, rho: float = 0.0) -> dict:
    """Gray's k-sample test that the cumulative incidence of ``cause`` is the same in every group
    (as ``cmprsk::cuminc(time, status, group, rho = rho)$Tests``): chi-square on k - 1 df."""
    time, status, group = np.asarray(time, dtype=float), np.asarray(status), np.asarray(group)
    labels, g = np.unique(group, return_inverse=True)
    if len(labels) < 2:
        raise NotEstimable("Gray's test needs at least two groups")
    if not (status == cause).any():
        raise NotEstimable(f"no event of cause {cause}: Gray's test is not defined")
    state = _GrayState(np.bincount(g, minlength=len(labels)).astype(float))
    for t in np.unique(time):
        here = time == t
        d1 = np.bincount(g[here & (status == cause)], minlength=len(labels)).astype(float)
        d2 = np.bincount(g[here & (status != cause) & (status != 0)], minlength=len(labels)).astype(float)
        if d1.sum() + d2.sum() > 0:
            _gray_step(state, d1, d2, rho)
        state.at_risk = state.at_risk - np.bincount(g[here], minlength=len(labels))
    c = state.c[:-1]
    var = state.var + (c * state.v3) @ c.T + c @ state.v2.T + state.v2 @ c.T
    if np.linalg.matrix_rank(var) < len(var):   # cmprsk prints its sentinel, statistic -1 and p = 1
        raise NotEstimable(f"Gray's test is not defined: no group is at risk beside another at any event of "
                           f"cause {cause} (its score has no variance)")
    statistic = float(state.score @ np.linalg.solve(var, state.score))
    df = len(labels) - 1
    return {"statistic": statistic, "df": df, "p": float(stats.chi2.sf(statistic, df)),
            "groups": [str(label) for label in labels], "rho": rho}
