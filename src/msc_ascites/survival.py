"""Time-to-event statistics, written from their textbook definitions.

Conventions follow R's ``survival`` package, the reference clinical
statisticians check against: Greenwood variance, confidence intervals on the
log scale (``conf.type = "log"``), the log-rank test of ``survdiff``, RMST as
in ``print(fit, rmean = tau)``, Cox models with Efron ties, and the
Aalen-Johansen estimate of cumulative incidence under competing risks.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def kaplan_meier(time, event) -> pd.DataFrame:
    """The KM table at every distinct time: n at risk, events, censored, S, var(log S).

    ``var_log`` is Greenwood's sum d / (n (n - d)); it is infinite once S reaches 0.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    times, index = np.unique(time, return_inverse=True)
    n_event = np.bincount(index, weights=event, minlength=len(times))
    n_leaving = np.bincount(index, minlength=len(times))
    n_risk = len(time) - np.concatenate([[0], np.cumsum(n_leaving)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1 - n_event / n_risk)
        terms = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
    return pd.DataFrame({"time": times, "n_risk": n_risk, "n_event": n_event.astype(int),
                         "n_censor": (n_leaving - n_event).astype(int), "surv": surv,
                         "var_log": np.cumsum(terms)})


def survival_at(table: pd.DataFrame, t: float, level: float = 0.95) -> dict:
    """S(t) with its standard error and log-scale confidence interval (R's default), as R's
    ``summary(fit, times = t, extend = TRUE)``: past the last follow-up S keeps its last value
    with n at risk 0; once S is 0 its standard error and limits are NaN (R's NaN and NA)."""
    before = table[table["time"] <= t]
    if before.empty:
        surv, var_log = 1.0, 0.0
    else:
        surv, var_log = float(before["surv"].iloc[-1]), float(before["var_log"].iloc[-1])
    at_risk = table.loc[table["time"] >= t, "n_risk"]
    counts = {"n_risk": int(at_risk.iloc[0]) if len(at_risk) else 0, "n_event": int(before["n_event"].sum())}
    if surv == 0:
        return {"time": t, "surv": 0.0, "std_err": np.nan, "lower": np.nan, "upper": np.nan, **counts}
    half = _z(level) * np.sqrt(var_log)
    return {"time": t, "surv": surv, "std_err": surv * float(np.sqrt(var_log)),
            "lower": surv * float(np.exp(-half)), "upper": min(1.0, surv * float(np.exp(half))), **counts}


def _first_time_at_or_below(times, curve, threshold=0.5):
    """R's rule for a median: first time the curve is <= 0.5; at exactly 0.5, the midpoint
    to the next time it drops."""
    below = np.flatnonzero(curve <= threshold + 1e-12)
    if len(below) == 0:
        return None
    i = below[0]
    if abs(curve[i] - threshold) < 1e-12 and i + 1 < len(times):
        later = np.flatnonzero(curve < threshold - 1e-12)
        if len(later):
            return float((times[i] + times[later[0]]) / 2)
    return float(times[i])


def median_survival(table: pd.DataFrame, level: float = 0.95) -> dict:
    """Median and its CI: where S, and its upper and lower limits, first reach 0.5."""
    events = table[table["n_event"] > 0]
    times, surv = events["time"].to_numpy(), events["surv"].to_numpy()
    half = _z(level) * np.sqrt(events["var_log"].to_numpy())
    with np.errstate(invalid="ignore", over="ignore"):
        lower = surv * np.exp(-half)
        upper = np.minimum(1.0, surv * np.exp(half))
    return {"median": _first_time_at_or_below(times, surv),
            "lower": _first_time_at_or_below(times, lower),
            "upper": _first_time_at_or_below(times, np.nan_to_num(upper, nan=0.0))}


def logrank(time, event, group) -> dict:
    """Two-group log-rank test (Mantel-Haenszel), as R's survdiff."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    group = np.asarray(group)
    levels = np.unique(group)
    if len(levels) != 2:
        raise ValueError(f"log-rank needs two groups, got {list(levels)}")
    first = group == levels[0]
    observed = expected = variance = 0.0
    for t in np.unique(time[event]):
        at_risk = time >= t
        n, n1 = at_risk.sum(), (at_risk & first).sum()
        d = (event & (time == t)).sum()
        d1 = (event & (time == t) & first).sum()
        observed += d1
        expected += d * n1 / n
        if n > 1:
            variance += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    chi2 = (observed - expected) ** 2 / variance if variance > 0 else 0.0
    return {"chi2": float(chi2), "df": 1, "p": float(stats.chi2.sf(chi2, 1)),
            "observed": {str(levels[0]): int(observed), str(levels[1]): int(event.sum() - observed)},
            "expected": {str(levels[0]): float(expected), str(levels[1]): float(event.sum() - expected)}}


def rmst(table: pd.DataFrame, tau: float) -> dict:
    """Restricted mean survival time up to ``tau`` and its SE, as R's print(fit, rmean=tau)."""
    events = table[(table["time"] <= tau)]
    knots = np.concatenate([[0.0], events["time"].to_numpy(), [tau]])
    levels = np.concatenate([[1.0], events["surv"].to_numpy()])
    areas = levels * np.diff(knots)
    value = float(areas.sum())
    # Area from each event time to tau, for the variance sum A_j^2 d_j / (n_j (n_j - d_j)).
    tail = np.cumsum(areas[::-1])[::-1][1:]
    d = events["n_event"].to_numpy()
    n = events["n_risk"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(d > 0, tail ** 2 * d / (n * (n - d)), 0.0)
    return {"tau": tau, "rmst": value, "std_err": float(np.sqrt(terms.sum()))}


def cox_hazard_ratio(frame: pd.DataFrame, duration: str, event: str, covariates: list[str],
                     level: float = 0.95) -> dict:
    """Cox proportional hazards (Efron ties, lifelines): HR, CI and Wald p per covariate."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError
    if frame[event].sum() == 0:
        return {"available": False, "reason": "no events: the hazard ratio cannot be estimated"}
    fitter = CoxPHFitter(alpha=1 - level)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fitter.fit(frame[[duration, event, *covariates]], duration_col=duration, event_col=event)
        except ConvergenceError as exc:
            return {"available": False, "reason": f"the Cox model did not converge ({str(exc)[:80]})"}
    summary = fitter.summary
    out = {}
    for name in covariates:
        row = summary.loc[name]
        out[name] = {"coef": float(row["coef"]), "hr": float(row["exp(coef)"]),
                     "se": float(row["se(coef)"]), "lower": float(row["exp(coef) lower 95%"]),
                     "upper": float(row["exp(coef) upper 95%"]), "p": float(row["p"])}
    lr = fitter.log_likelihood_ratio_test()
    return {"available": True, "covariates": out, "lr_chi2": float(lr.test_statistic), "lr_p": float(lr.p_value),
            "n": int(len(frame)), "events": int(frame[event].sum()), "ties": "efron"}


def _aalen_johansen_path(time, status, cause):
    """Event times, at-risk counts, CIF and its infinitesimal-jackknife variance at each time.

    The variance is R's for a multi-state ``survfit``: the sum over subjects of the squared
    derivative of the estimate with respect to that subject's case weight, updated through
    the product-limit recursion so a curve that reaches 0 stays finite.
    """
    table = kaplan_meier(time, status != 0)
    times, n_risk = table["time"].to_numpy(), table["n_risk"].to_numpy().astype(float)
    all_events = table["n_event"].to_numpy().astype(float)
    cause_events = np.array([((time == t) & (status == cause)).sum() for t in times], dtype=float)
    surv_before = np.concatenate([[1.0], table["surv"].to_numpy()[:-1]])
    cif = np.cumsum(surv_before * cause_events / n_risk)
    d_surv, d_cif = np.zeros(len(time)), np.zeros(len(time))
    variance = np.empty(len(times))
    for j, t in enumerate(times):
        at_risk = (time >= t).astype(float)
        failed, failed_cause = (time == t) & (status != 0), (time == t) & (status == cause)
        hazard, hazard_cause = all_events[j] / n_risk[j], cause_events[j] / n_risk[j]
        d_cif = (d_cif + d_surv * hazard_cause
                 + surv_before[j] * (failed_cause - at_risk * hazard_cause) / n_risk[j])
        d_surv = d_surv * (1 - hazard) - surv_before[j] * (failed - at_risk * hazard) / n_risk[j]
        variance[j] = np.sum(d_cif ** 2)
    return times, n_risk, cif, variance


def cumulative_incidence(time, status, cause: int, times, level: float = 0.95) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of ``cause`` (status 0 = censored, others competing)
    at each of ``times``, as R's ``summary(survfit(Surv(time, factor(status)) ~ 1), times,
    extend = TRUE)``: standard error by the infinitesimal jackknife, log-scale CI (R's default
    ``conf.type``; NaN where R gives NA, at an incidence of 0), n at risk at each time."""
    time = np.asarray(time, dtype=float)
    status = np.asarray(status)
    event_times, _, cif, variance = _aalen_johansen_path(time, status, cause)
    out = []
    for t in times:
        upto = np.flatnonzero(event_times <= t)
        value = float(cif[upto[-1]]) if len(upto) else 0.0
        std_err = float(np.sqrt(variance[upto[-1]])) if len(upto) else 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            half = _z(level) * std_err / value if value > 0 else np.nan
        out.append({"time": t, "cif": value, "std_err": std_err, "lower": value * float(np.exp(-half)),
                    "upper": min(1.0, value * float(np.exp(half))) if value > 0 else np.nan,
                    "n_risk": int((time >= t).sum())})
    return pd.DataFrame(out, columns=["time", "cif", "std_err", "lower", "upper", "n_risk"])
