"""Time-to-event statistics, written from their textbook definitions.

Conventions follow R's ``survival`` package, the reference clinical
statisticians check against: Greenwood variance, confidence intervals on the
log scale (``conf.type = "log"``), the log-rank test of ``survdiff``, RMST as
in ``print(fit, rmean = tau)``, Cox models with Efron ties, and the
Aalen-Johansen estimate of cumulative incidence under competing risks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from .lazy_scipy import stats

from ..errors import NotEstimable


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
    """Median and its CI: where S, and its upper and lower limits, first reach 0.5. Once S
    is 0 its limits are NA in R and never reach 0.5: an upper limit not reached is None."""
    events = table[table["n_event"] > 0]
    times, surv = events["time"].to_numpy(), events["surv"].to_numpy()
    half = _z(level) * np.sqrt(events["var_log"].to_numpy())
    with np.errstate(invalid="ignore", over="ignore"):
        lower = surv * np.exp(-half)
        upper = np.minimum(1.0, surv * np.exp(half))
    return {"median": _first_time_at_or_below(times, surv),
            "lower": _first_time_at_or_below(times, lower),
            "upper": _first_time_at_or_below(times, np.nan_to_num(upper, nan=1.0))}


def logrank(time, event, group) -> dict:
    """Two-group log-rank test (Mantel-Haenszel), as R's survdiff: no events in one group is a
    valid test; with no events at all p is NaN (R's NA) and ``reason`` says why."""
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
    if variance == 0:
        return {"chi2": 0.0, "df": 1, "p": float("nan"), "observed": {str(v): 0 for v in levels},
                "reason": "no events: the log-rank test is not defined (R's survdiff: chisq 0, p NA)"}
    chi2 = (observed - expected) ** 2 / variance
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


def rmst_difference(first: dict, second: dict, level: float = 0.95) -> dict:
    """``first`` minus ``second`` restricted mean survival (as from rmst()), its SE from the two
    independent arms' variances, normal CI and two-sided p."""
    estimate = first["rmst"] - second["rmst"]
    std_err = float(np.hypot(first["std_err"], second["std_err"]))
    half = _z(level) * std_err
    p = float(2 * stats.norm.sf(abs(estimate) / std_err)) if std_err > 0 else None
    return {"tau": first["tau"], "estimate": float(estimate), "std_err": std_err, "lower": float(estimate - half),
            "upper": float(estimate + half), "p": p}


class _CoxData:
    """Rows sorted by time, with the distinct death times and, for each, its deaths.

    Risk-set sums are reverse cumulative sums over the sorted rows: the risk set of a
    death time starts at the first row whose time is at least it."""

    def __init__(self, time, event, x, weights):
        order = np.argsort(time, kind="stable")
        self.time, self.event = time[order], event[order]
        self.x, self.w = x[order], weights[order]
        self.death_times, self.deaths = np.unique(self.time[self.event], return_counts=True)
        self.start = np.searchsorted(self.time, self.death_times, side="left")
        dead_rows = np.flatnonzero(self.event)
        self.death_index = np.searchsorted(self.death_times, self.time[dead_rows])
        self.dead_rows = dead_rows
        # One Efron "slot" k = 0..d-1 per death, with its fraction k / d of the tied deaths' risk removed.
        self.slot_time = np.repeat(np.arange(len(self.deaths)), self.deaths)
        self.slot_fraction = np.concatenate([np.arange(d) / d for d in self.deaths]) if len(self.deaths) else \
            np.zeros(0)

    def _at_risk(self, values):
        return np.cumsum(values[::-1], axis=0)[::-1][self.start]

    def _at_deaths(self, values):
        sums = np.zeros((len(self.deaths), *values.shape[1:]))
        np.add.at(sums, self.death_index, values[self.dead_rows])
        return sums

    def efron(self, beta):
        """Efron log partial likelihood, its gradient, information and per-slot terms."""
        eta = self.x @ beta
        risk = np.exp(eta)
        wr = self.w * risk
        outer = self.x[:, :, None] * self.x[:, None, :]
        sums = [self._at_risk(v) for v in (wr, wr[:, None] * self.x, wr[:, None, None] * outer)]
        tied = [self._at_deaths(v) for v in (wr, wr[:, None] * self.x, wr[:, None, None] * outer)]
        mean_weight = self._at_deaths(self.w) / self.deaths
        j, f = self.slot_time, self.slot_fraction
        denominator = sums[0][j] - f * tied[0][j]
        xbar = (sums[1][j] - f[:, None] * tied[1][j]) / denominator[:, None]
        second = (sums[2][j] - f[:, None, None] * tied[2][j]) / denominator[:, None, None]
        hazard = mean_weight[j] / denominator
        dead = self.dead_rows
        loglik = float(np.sum(self.w[dead] * eta[dead]) - np.sum(mean_weight[j] * np.log(denominator)))
        gradient = (self.w[dead, None] * self.x[dead]).sum(axis=0) - (mean_weight[j, None] * xbar).sum(axis=0)
        information = np.einsum("s,sij->ij", mean_weight[j],
                                second - xbar[:, :, None] * xbar[:, None, :])
        return loglik, gradient, information, (risk, xbar, hazard)

    def score_residuals(self, beta):
        """R's coxph score residuals for Efron ties, per row (unweighted), original order lost:
        returned in sorted order. A row at risk pays r (x - xbar_k) h_k in every slot; a tied
        death only (1 - k/d) of it, and gains (x - xbar_k) / d."""
        _, _, _, (risk, xbar, hazard) = self.efron(beta)
        j, f = self.slot_time, self.slot_fraction
        per_time = [np.zeros((len(self.deaths), *shape)) for shape in ((), (self.x.shape[1],))]
        tied = [np.zeros((len(self.deaths), *shape)) for shape in ((), (self.x.shape[1],))]
        np.add.at(per_time[0], j, hazard)
        np.add.at(per_time[1], j, hazard[:, None] * xbar)
        np.add.at(tied[0], j, f * hazard)
        np.add.at(tied[1], j, (f * hazard)[:, None] * xbar)
        mean_xbar = np.zeros((len(self.deaths), self.x.shape[1]))
        np.add.at(mean_xbar, j, xbar / self.deaths[j, None])
        # Sum over the death times up to each row's own time (the times it was at risk).
        upto = np.searchsorted(self.death_times, self.time, side="right")
        cum0 = np.concatenate([[0.0], np.cumsum(per_time[0])])[upto]
        cum1 = np.vstack([np.zeros(self.x.shape[1]), np.cumsum(per_time[1], axis=0)])[upto]
        resid = -risk[:, None] * (self.x * cum0[:, None] - cum1)
        k = self.death_index
        dead = self.dead_rows
        resid[dead] += (self.x[dead] - mean_xbar[k]) + risk[dead, None] * (
            self.x[dead] * tied[0][k, None] - tied[1][k])
        return resid


def _check_estimable(data: _CoxData) -> None:
    """NotEstimable, and why, when the partial likelihood grows without bound in one covariate
    (monotone likelihood): at every death time the dying have that covariate's largest (or
    smallest) value among those at risk, as when one arm has no events. Newton-Raphson would
    stop at a huge coefficient (a hazard ratio of 1111152.26) instead."""
    x, dead = data.x, data.dead_rows
    top = np.maximum.accumulate(x[::-1], axis=0)[::-1][data.start]
    bottom = np.minimum.accumulate(x[::-1], axis=0)[::-1][data.start]
    at_death = x[dead]
    for j in range(x.shape[1]):
        if np.all(top[:, j] == bottom[:, j]):
            continue  # constant in every risk set: no information, left to the fit
        for side, bound in (("largest", top), ("smallest", bottom)):
            if np.all(at_death[:, j] == bound[data.death_index, j]):
                raise NotEstimable(f"not estimable, because at every event time the subjects with the event have "
                                   f"the {side} value of covariate {j + 1} among those at risk (e.g. no events in "
                                   "one arm): the hazard ratio is infinite (monotone likelihood)")


def fit_cox(time, event, x, weights=None, robust: bool = False) -> dict:
    """Cox model with Efron ties by Newton-Raphson from 0, as R's coxph, run to convergence
    (step below 1e-12) rather than stopped at a looser tolerance.

    Returns coefficients, their variance (the robust sandwich when ``robust``, as
    ``coxph(..., weights, robust = TRUE)``), the log partial likelihood at 0 and at the
    estimate, and the score test at 0. Raises NotEstimable when the likelihood has no
    maximum (a coefficient running to infinity, as with no events in an arm)."""
    time, event = np.asarray(time, dtype=float), np.asarray(event, dtype=bool)
    x = np.asarray(x, dtype=float).reshape(len(time), -1)
    w = np.ones(len(time)) if weights is None else np.asarray(weights, dtype=float)
    if not event.any():
        raise NotEstimable("no events: the Cox model cannot be fitted")
    data = _CoxData(time, event, x, w)
    _check_estimable(data)
    beta = np.zeros(x.shape[1])
    loglik0, gradient0, information0, _ = data.efron(beta)
    loglik, gradient, information = loglik0, gradient0, information0
    for _ in range(100):
        step = np.linalg.solve(information, gradient)
        candidate = beta + step
        new = data.efron(candidate)
        while new[0] < loglik - 1e-12 * abs(loglik) and np.max(np.abs(candidate - beta)) > 1e-14:
            candidate = (beta + candidate) / 2          # step halving, as coxph
            new = data.efron(candidate)
        beta, (loglik, gradient, information, _) = candidate, new
        if np.max(np.abs(step)) < 1e-12 * max(1.0, np.max(np.abs(beta))):
            break
    else:
        raise NotEstimable("the Cox partial likelihood has no maximum (a coefficient is infinite)")
    variance = np.linalg.inv(information)
    if robust:
        scores = data.score_residuals(beta) * data.w[:, None]
        variance = variance @ (scores.T @ scores) @ variance
    return {"coef": beta, "var": variance, "loglik0": loglik0, "loglik": loglik,
            "score_chi2": float(gradient0 @ np.linalg.solve(information0, gradient0))}


def _profile_limit(loglik_at, beta: float, step: float, cutoff: float, direction: int) -> float:
    """The coefficient beyond ``beta`` (in ``direction``) where the log partial likelihood falls
    to ``cutoff``. With one covariate and a finite maximum (fit_cox refuses a monotone
    likelihood) it falls to minus infinity on both sides, so doubling the step brackets it."""
    edge = beta + direction * step
    while loglik_at(edge) >= cutoff:
        step *= 2
        edge = beta + direction * step
    from scipy.optimize import brentq   # only where a profile interval is asked for: the jobs import light
    low, high = sorted((beta, edge))
    return float(brentq(lambda b: loglik_at(b) - cutoff, low, high, xtol=1e-14, rtol=1e-15))


def profile_interval(time, event, x, fit: dict, level: float = 0.95) -> dict:
    """Profile-likelihood confidence interval of a one-covariate Cox model's hazard ratio: the
    coefficients whose likelihood-ratio statistic against the maximum stays below the chi-square
    quantile. With few events the Wald interval's normal approximation is poor; this one is the
    interval of the likelihood-ratio test (as found in R with coxph(init = b, iter.max = 0) and
    uniroot)."""
    time, event = np.asarray(time, dtype=float), np.asarray(event, dtype=bool)
    data = _CoxData(time, event, np.asarray(x, dtype=float).reshape(len(time), 1), np.ones(len(time)))
    beta, se = float(fit["coef"][0]), float(np.sqrt(fit["var"][0, 0]))
    cutoff = fit["loglik"] - _z(level) ** 2 / 2

    def loglik_at(b: float) -> float:
        return data.efron(np.array([b]))[0]
    lower, upper = (_profile_limit(loglik_at, beta, se, cutoff, direction) for direction in (-1, 1))
    return {"lower": float(np.exp(lower)), "upper": float(np.exp(upper)), "method": "profile likelihood"}


def cox_hazard_ratio(frame: pd.DataFrame, duration: str, event: str, covariates: list[str],
                     level: float = 0.95) -> dict:
    """Cox proportional hazards (Efron ties) as R's coxph: HR, CI and Wald p per covariate,
    likelihood-ratio, Wald and score tests of the model. Not estimable (no events, or none
    in a level of a binary covariate) gives ``available`` False with the reason."""
    events = frame[event].to_numpy() != 0
    if not events.any():
        return {"available": False, "reason": "no events: the hazard ratio cannot be estimated"}
    for name in covariates:
        values = frame[name].to_numpy()
        if len(np.unique(values)) == 2 and any(not events[values == v].any() for v in np.unique(values)):
            return {"available": False, "reason": f"no events at one value of {name}: the hazard ratio is "
                                                  "infinite (R's coxph warns it may be infinite)"}
    try:
        fit = fit_cox(frame[duration], events, frame[covariates])
    except NotEstimable as exc:
        return {"available": False, "reason": str(exc)}
    z = _z(level)
    se = np.sqrt(np.diag(fit["var"]))
    out = {}
    for i, name in enumerate(covariates):
        coef = float(fit["coef"][i])
        out[name] = {"coef": coef, "hr": float(np.exp(coef)), "se": float(se[i]),
                     "lower": float(np.exp(coef - z * se[i])), "upper": float(np.exp(coef + z * se[i])),
                     "p": float(2 * stats.norm.sf(abs(coef / se[i])))}
    if len(covariates) == 1:
        out[covariates[0]]["profile"] = profile_interval(frame[duration], events, frame[covariates], fit, level)
    df = len(covariates)
    lr = 2 * (fit["loglik"] - fit["loglik0"])
    wald = float(fit["coef"] @ np.linalg.solve(fit["var"], fit["coef"]))
    return {"available": True, "covariates": out, "lr_chi2": float(lr), "lr_p": float(stats.chi2.sf(lr, df)),
            "wald_chi2": wald, "wald_p": float(stats.chi2.sf(wald, df)), "score_chi2": fit["score_chi2"],
            "score_p": float(stats.chi2.sf(fit["score_chi2"], df)),
            "n": int(len(frame)), "events": int(events.sum()), "ties": "efron"}


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
