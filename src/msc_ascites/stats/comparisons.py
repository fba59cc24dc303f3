"""Comparisons of arms and of visits: the tests the paper's endpoints call for.

Each function returns a plain dict (estimate, interval, statistic, p, the test's
name) so results are written to JSON as they are. Options follow R's defaults
where a statistician would compare with R: two-sided tests, Wilcoxon and
Mann-Whitney exact for small samples without ties and otherwise the normal
approximation with continuity correction.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from .lazy_scipy import stats

from ..errors import NotEstimable
from .quantiles import describe, wilson_interval, z_two_sided


RANK_DIGITS = 7


def signif(values, digits: int = RANK_DIGITS) -> np.ndarray:
    """R's ``signif``: round to ``digits`` significant digits the way R's fprec does, so
    values that agree at their recorded precision become equal (a g/dL difference and its
    x10 g/L twin round to the same pattern of ties)."""
    x = np.asarray(values, dtype=float)
    out = x.copy()
    todo = (x != 0) & np.isfinite(x) & (np.abs(x) > 1e-300) & (np.abs(x) < 1e300)
    a = np.abs(x[todo])
    e10 = (digits - 1 - np.floor(np.log10(a))).astype(int)
    up = e10 > 0
    rounded = np.empty_like(a)
    rounded[up] = np.rint(a[up] * 10.0 ** e10[up]) / 10.0 ** e10[up]
    rounded[~up] = np.rint(a[~up] / 10.0 ** -e10[~up]) * 10.0 ** -e10[~up]
    out[todo] = np.sign(x[todo]) * rounded
    return out


def recorded_ranks(values) -> np.ndarray:
    """Mid-ranks of the values at 7 significant digits (R's ``digits.rank = 7``)."""
    return stats.rankdata(signif(values))


def _tie_term(ranks) -> float:
    counts = np.unique(ranks, return_counts=True)[1].astype(float)
    return float(np.sum(counts ** 3 - counts))


def _signrank_counts(n: int) -> list[int]:
    """Number of subsets of 1..n with each rank sum: the exact null of V (R's dsignrank)."""
    counts = [1] + [0] * (n * (n + 1) // 2)
    for k in range(1, n + 1):
        for total in range(len(counts) - 1, k - 1, -1):
            counts[total] += counts[total - k]
    return counts


def _ranksum_counts(m: int, n: int) -> list[int]:
    """Counts of W = 0..mn under the null (R's dwilcox), from the generating function
    prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i)."""
    counts = [1] + [0] * (m * n)
    for i in range(1, m + 1):
        for total in range(len(counts) - 1, n + i - 1, -1):
            counts[total] -= counts[total - n - i]
        for total in range(i, len(counts)):
            counts[total] += counts[total - i]
    return counts


def _exact_two_sided(counts: list[int], statistic: float, centre: float) -> float:
    """R's two-sided exact p: twice the smaller tail, at most 1. Each tail is summed in
    integers (the upper one directly, not as 1 - lower) so small p keep their digits."""
    q = int(np.floor(statistic + 1e-7))
    tail = sum(counts[q:]) if statistic > centre else sum(counts[:q + 1])
    return min(2 * tail / sum(counts), 1.0)


def _normal_two_sided(z: float, sigma: float, correct: bool = True) -> float:
    correction = np.sign(z) * 0.5 if correct else 0.0
    z = (z - correction) / sigma
    return float(2 * min(stats.norm.cdf(z), stats.norm.sf(z)))


def signed_rank_test(differences) -> dict:
    """Wilcoxon signed-rank test of paired differences, as R's ``wilcox.test(x, digits.rank
    = 7)``: zeros dropped, exact null when n < 50 without ties or zeros, else the normal
    approximation with tie-corrected variance and continuity correction."""
    x = np.asarray(differences, dtype=float)
    zeroes = bool((x == 0).any())
    x = x[x != 0]
    n = len(x)
    if n == 0:
        raise NotEstimable("every paired difference is zero: the signed-rank test is not defined")
    ranks = stats.rankdata(np.abs(signif(x)))
    statistic = float(ranks[x > 0].sum())
    ties = len(np.unique(ranks)) < n
    if n < 50 and not ties and not zeroes:
        return {"V": statistic, "p": _exact_two_sided(_signrank_counts(n), statistic, n * (n + 1) / 4),
                "method": "exact"}
    sigma = np.sqrt(n * (n + 1) * (2 * n + 1) / 24 - _tie_term(ranks) / 48)
    return {"V": statistic, "p": _normal_two_sided(statistic - n * (n + 1) / 4, sigma),
            "method": "normal approximation, continuity corrected"}


def _zeroin(f, lower: float, upper: float, f_lower: float, f_upper: float, tol: float = 1e-4,
            max_iter: int = 1000) -> float:
    """R's uniroot (Brent's zeroin, R_zeroin2 in src/library/stats/src/zeroin.c), step for
    step: on the step functions of the Wilcoxon interval the root it stops at depends on
    the path, so only the same path gives R's number."""
    eps = np.finfo(float).eps
    a, b, fa, fb = lower, upper, f_lower, f_upper
    c, fc = a, fa
    if fa == 0:
        return a
    if fb == 0:
        return b
    for _ in range(max_iter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p, q = cb * t1, 1.0 - t1
            else:
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _shift_statistic(x, y, correct: bool):
    """R's W(d) of wilcox.test's interval: the normal score of the rank sum of x - d against y."""
    nx, ny = float(len(x)), float(len(y))

    def statistic(d: float) -> float:
        ranks = recorded_ranks(np.concatenate([x - d, y]))
        dz = ranks[:len(x)].sum() - nx * (nx + 1) / 2 - nx * ny / 2
        correction = np.sign(dz) * 0.5 if correct else 0.0
        sigma = np.sqrt((nx * ny / 12) * ((nx + ny + 1) - _tie_term(ranks) / ((nx + ny) * (nx + ny - 1))))
        if sigma == 0:
            raise NotEstimable("all values are tied: the Hodges-Lehmann interval is not defined")
        return float((dz - correction) / sigma)
    return statistic


def _asymptotic_shift(x, y, level: float) -> tuple[float, float, float]:
    """R's approximate Hodges-Lehmann interval and estimate: uniroot on W(d) - z for the
    limits (continuity corrected), and on W(d) without correction for the estimate."""
    lo, hi = x.min() - y.max(), x.max() - y.min()
    corrected = _shift_statistic(x, y, correct=True)
    w_lo, w_hi = corrected(lo), corrected(hi)
    limits = []
    for zq in (stats.norm.isf((1 - level) / 2), stats.norm.ppf((1 - level) / 2)):
        if w_lo - zq <= 0:
            limits.append(lo)
        elif w_hi - zq >= 0:
            limits.append(hi)
        else:
            limits.append(_zeroin(lambda d: corrected(d) - zq, lo, hi, w_lo - zq, w_hi - zq))
    plain = _shift_statistic(x, y, correct=False)
    estimate = _zeroin(plain, lo, hi, plain(lo), plain(hi))
    return float(estimate), float(limits[0]), float(limits[1])


def _exact_shift(x, y, counts: list[int], level: float) -> tuple[float, float, float]:
    """R's exact interval: order statistics of the sorted differences at qwilcox."""
    nx, ny = len(x), len(y)
    diffs = np.sort(np.subtract.outer(x, y).ravel())
    target = (1 - level) / 2 - 10 * np.finfo(float).eps
    total, running, qu = sum(counts), 0, 0
    while True:
        running += counts[qu]
        if running / total >= target:
            break
        qu += 1
    qu = max(qu, 1)
    ql = nx * ny - qu
    return float(np.median(diffs)), float(diffs[qu - 1]), float(diffs[ql])


def rank_sum_test(x, y, level: float = 0.95, conf_int: bool = False) -> dict:
    """Wilcoxon-Mann-Whitney test of x against y, as R's ``wilcox.test(x, y, digits.rank =
    7, conf.int)``: exact when both arms are under 50 and nothing ties at 7 digits, else
    normal with tie correction and continuity correction; with ``conf_int`` the
    Hodges-Lehmann shift and R's interval (exact order statistics, or its uniroot)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) == 0 or len(y) == 0:
        raise NotEstimable("an arm has no values: the rank-sum test is not defined")
    ranks = recorded_ranks(np.concatenate([x, y]))
    nx, ny = float(len(x)), float(len(y))
    statistic = float(ranks[:len(x)].sum() - nx * (nx + 1) / 2)
    ties = len(np.unique(ranks)) < len(ranks)
    if nx < 50 and ny < 50 and not ties:
        counts = _ranksum_counts(len(x), len(y))
        out = {"W": statistic, "p": _exact_two_sided(counts, statistic, nx * ny / 2), "method": "exact"}
        if conf_int:
            out["estimate"], out["lower"], out["upper"] = _exact_shift(x, y, counts, level)
        return out
    sigma = np.sqrt((nx * ny / 12) * ((nx + ny + 1) - _tie_term(ranks) / ((nx + ny) * (nx + ny - 1))))
    if sigma == 0:
        raise NotEstimable("all values are tied: the rank-sum test is not defined")
    out = {"W": statistic, "p": _normal_two_sided(statistic - nx * ny / 2, sigma),
           "method": "normal approximation, continuity corrected"}
    if conf_int:
        out["estimate"], out["lower"], out["upper"] = _asymptotic_shift(x, y, level)
    return out


def paired_tests(before, after, level: float = 0.95) -> dict:
    """Within-subject change (after - before): paired t-test and Wilcoxon signed-rank
    (ranked at 7 significant digits, R's digits.rank = 7; None when every difference is 0)."""
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    keep = ~(np.isnan(before) | np.isnan(after))
    diff = after[keep] - before[keep]
    if len(diff) < 2:
        return {"n_pairs": int(len(diff)), "available": False, "reason": "fewer than 2 complete pairs"}
    try:
        wilcoxon = signed_rank_test(diff)
    except NotEstimable:
        wilcoxon = None
    if _essentially_constant(diff.std(ddof=1) / np.sqrt(len(diff)), abs(diff.mean())):
        paired_t = {"available": False, "reason": "the differences are essentially constant (R's t.test stops)"}
    else:
        t = stats.ttest_rel(after[keep], before[keep])
        ci = t.confidence_interval(confidence_level=level)
        paired_t = {"t": float(t.statistic), "df": int(t.df), "p": float(t.pvalue),
                    "ci": [float(ci.low), float(ci.high)]}
    return {"n_pairs": int(len(diff)), "mean_change": float(diff.mean()), "sd_change": float(diff.std(ddof=1)),
            "paired_t": paired_t, "wilcoxon": wilcoxon}


def _essentially_constant(std_err: float, scale: float) -> bool:
    """R's t.test test for data with no spread (stderr < 10 eps |mean|), also when that is 0."""
    return std_err <= 10 * np.finfo(float).eps * scale


def two_sample_tests(treatment, control, level: float = 0.95) -> dict:
    """Arms compared: Student and Welch t-tests (difference treatment - control) and Mann-Whitney."""
    x = np.asarray(treatment, dtype=float)
    y = np.asarray(control, dtype=float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if len(x) < 2 or len(y) < 2:
        return {"available": False, "reason": "fewer than 2 values in an arm"}
    out = {"difference": float(x.mean() - y.mean())}
    spread = np.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
    for name, equal in (("student_t", True), ("welch_t", False)):
        if _essentially_constant(spread, max(abs(x.mean()), abs(y.mean()))):
            out[name] = {"available": False, "reason": "the values are essentially constant (R's t.test stops)"}
            continue
        t = stats.ttest_ind(x, y, equal_var=equal)
        ci = t.confidence_interval(confidence_level=level)
        out[name] = {"t": float(t.statistic), "df": float(t.df), "p": float(t.pvalue),
                     "ci": [float(ci.low), float(ci.high)]}
    try:
        out["mann_whitney"] = rank_sum_test(x, y, level)
    except NotEstimable as reason:
        out["mann_whitney"] = {"available": False, "reason": str(reason)}
    return out


def back_transformed(between: dict, adjusted: dict) -> tuple[dict, dict]:
    """Comparisons of log values read on the original scale: a difference of means of logs is the log
    of the ratio of geometric means, so each estimate and limit is exponentiated (as exp() of R's
    t.test on log values and of lm(log(value) ~ arm + log(baseline)))."""
    between = {**between, "scale": "log"}
    if "difference" in between:
        between["ratio"] = float(np.exp(between["difference"]))
    for name in ("student_t", "welch_t"):
        if isinstance(between.get(name), dict) and "ci" in between[name]:
            between[name] = {**between[name], "ratio_ci": [float(np.exp(v)) for v in between[name]["ci"]]}
    if "effect" in adjusted:
        adjusted = {**adjusted, "scale": "log", "ratio": float(np.exp(adjusted["effect"])),
                    "ratio_lower": float(np.exp(adjusted["lower"])), "ratio_upper": float(np.exp(adjusted["upper"]))}
    return between, adjusted


def t_test_from_summary(mean1, sd1, n1, mean2, sd2, n2) -> dict:
    """Student and Welch t-tests from published means, SDs and sizes (statcheck-style)."""
    out = {}
    for name, equal in (("student_t", True), ("welch_t", False)):
        t = stats.ttest_ind_from_stats(mean1, sd1, n1, mean2, sd2, n2, equal_var=equal)
        out[name] = {"t": float(t.statistic), "p": float(t.pvalue)}
    return out


def katz_log_risk_ratio(events_t, n_t, events_c, n_c) -> tuple[float, float]:
    """log risk ratio treatment / control and Katz's standard error of it (events in both arms)."""
    return (float(np.log((events_t / n_t) / (events_c / n_c))),
            float(np.sqrt(1 / events_t - 1 / n_t + 1 / events_c - 1 / n_c)))


def _katz_risk_ratio(events_t: int, n_t: int, events_c: int, n_c: int, level: float) -> dict:
    """The risk ratio every report of a binary endpoint gives (the grid's and the E-values' measure)."""
    if events_t == 0 or events_c == 0:
        return {"estimate": None, "lower": None, "upper": None, "method": "Katz log interval",
                "reason": "no events in an arm: the risk ratio is not estimable"}
    log_rr, se = katz_log_risk_ratio(events_t, n_t, events_c, n_c)
    z = z_two_sided(level)
    return {"estimate": float(np.exp(log_rr)), "lower": float(np.exp(log_rr - z * se)),
            "upper": float(np.exp(log_rr + z * se)), "method": "Katz log interval"}


def proportions(events_t: int, n_t: int, events_c: int, n_c: int, level: float = 0.95) -> dict:
    """Two proportions: risk difference with Newcombe's hybrid score CI (method 10), risk ratio
    with Katz's log CI, Fisher's exact test with the conditional MLE odds ratio, and chi-square tests."""
    p_t, p_c = events_t / n_t, events_c / n_c
    l_t, u_t = wilson_interval(events_t, n_t, level)
    l_c, u_c = wilson_interval(events_c, n_c, level)
    diff = p_t - p_c
    table = np.array([[events_t, n_t - events_t], [events_c, n_c - events_c]])
    fisher = stats.fisher_exact(table)
    odds = stats.contingency.odds_ratio(table, kind="conditional")
    odds_ci = odds.confidence_interval(confidence_level=level)
    out = {
        "treatment": {"events": int(events_t), "n": int(n_t), "proportion": p_t},
        "control": {"events": int(events_c), "n": int(n_c), "proportion": p_c},
        "risk_difference": {"estimate": diff, "lower": diff - float(np.sqrt((p_t - l_t) ** 2 + (u_c - p_c) ** 2)),
                            "upper": diff + float(np.sqrt((u_t - p_t) ** 2 + (p_c - l_c) ** 2)),
                            "method": "Newcombe hybrid score (Wilson)"},
        "risk_ratio": _katz_risk_ratio(events_t, n_t, events_c, n_c, level),
        "fisher_exact": {"p": float(fisher.pvalue), "odds_ratio": float(odds.statistic),
                         "lower": float(odds_ci.low), "upper": float(odds_ci.high)},
    }
    if table.sum(axis=0).min() > 0:
        for name, correct in (("chi_square", False), ("chi_square_yates", True)):
            chi2, p, _, _ = stats.chi2_contingency(table, correction=correct)
            out[name] = {"chi2": float(chi2), "p": float(p)}
    return out


def _theta_ml(y: np.ndarray, mu: np.ndarray) -> float:
    """MASS::theta.ml: the negative binomial shape maximising the likelihood at fixed means,
    solved to machine precision. No root means no overdispersion (theta infinite)."""
    from scipy.optimize import brentq
    from scipy.special import digamma

    def score(theta: float) -> float:
        return float(np.sum(digamma(theta + y) - digamma(theta) + np.log(theta) + 1
                            - np.log(theta + mu) - (y + theta) / (mu + theta)))
    low, high = 1e-8, 1e8
    if score(high) > 0:
        raise NotEstimable("no overdispersion: the negative binomial theta is infinite (use the Poisson model)")
    while score(low) < 0 and low > 1e-300:
        low /= 1e4
    return float(brentq(score, low, high, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500))


def _negative_binomial(counts, design, offset):
    """MASS::glm.nb run to convergence: alternate IRLS at fixed theta and theta's ML at the
    fitted means until theta stops moving. The coefficient SE is glm.nb's (IRLS at the final
    theta, dispersion 1)."""
    import statsmodels.api as sm
    mu = sm.GLM(counts, design, family=sm.families.Poisson(), offset=offset).fit(tol=1e-14, maxiter=200).mu
    theta = _theta_ml(counts, mu)
    for _ in range(200):
        fit = sm.GLM(counts, design, family=sm.families.NegativeBinomial(alpha=1 / theta),
                     offset=offset).fit(tol=1e-14, maxiter=200)
        new_theta = _theta_ml(counts, fit.mu)
        if abs(new_theta - theta) <= 1e-13 * theta:
            return fit, new_theta
        theta = new_theta
    raise NotEstimable("the negative binomial fit did not converge")


def rate_ratio(counts, exposure, treated, level: float = 0.95) -> dict:
    """Event rate ratio (treatment / control) by Poisson and negative binomial regression
    with log(exposure) as offset, converged to R's glm and MASS::glm.nb answers."""
    import statsmodels.api as sm
    counts = np.asarray(counts, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    for arm, rows in (("treatment", treated), ("control", ~treated)):
        if counts[rows].sum() == 0:  # the MLE is at infinity: statsmodels fails, or prints a huge ratio
            reason = {"available": False, "reason": f"not estimable, because the {arm} arm has no events: the "
                                                    "rate ratio is 0 or infinite"}
            return {"poisson": reason, "negative_binomial": reason}
    design = sm.add_constant(treated.astype(float))
    offset = np.log(np.asarray(exposure, dtype=float))
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        poisson = sm.GLM(counts, design, family=sm.families.Poisson(), offset=offset).fit(tol=1e-14, maxiter=200)
        out["poisson"] = _ratio(poisson.params[1], poisson.bse[1], poisson.pvalues[1], level)
        try:
            nb, theta = _negative_binomial(counts, design, offset)
            out["negative_binomial"] = {**_ratio(nb.params[1], nb.bse[1], nb.pvalues[1], level), "theta": theta}
        except (NotEstimable, np.linalg.LinAlgError) as exc:
            out["negative_binomial"] = {"available": False, "reason": str(exc)}
    return out


def _ratio(coef, se, p, level) -> dict:
    z = z_two_sided(level)
    return {"ratio": float(np.exp(coef)), "lower": float(np.exp(coef - z * se)),
            "upper": float(np.exp(coef + z * se)), "p": float(p), "coef": float(coef), "se": float(se)}


def ancova(frame: pd.DataFrame, level: float = 0.95) -> dict:
    """Week value on arm adjusted for baseline (OLS): the arm effect, treatment - control."""
    import statsmodels.formula.api as smf
    data = frame.dropna(subset=["value", "baseline"])
    if data["treated"].nunique() < 2 or len(data) < 4:
        return {"available": False, "reason": "too few complete cases in an arm"}
    fit = smf.ols("value ~ treated + baseline", data=data).fit()
    low, high = fit.conf_int(alpha=1 - level).loc["treated"]
    return {"effect": float(fit.params["treated"]), "lower": float(low), "upper": float(high),
            "p": float(fit.pvalues["treated"]), "n": int(len(data)), "model": "value ~ arm + baseline (OLS)"}
