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
from scipy import stats


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def describe(values) -> dict:
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return {"n": 0}
    q1, median, q3 = np.percentile(x, [25, 50, 75])
    return {"n": int(len(x)), "mean": float(x.mean()), "sd": float(x.std(ddof=1)) if len(x) > 1 else None,
            "median": float(median), "q1": float(q1), "q3": float(q3), "min": float(x.min()),
            "max": float(x.max())}


def _wilcoxon_method(values) -> tuple[str, bool]:
    """R: exact when n < 50 and no ties (or zeros), else normal with continuity correction."""
    x = np.asarray(values, dtype=float)
    ties = len(np.unique(np.abs(x))) < len(x) or (x == 0).any()
    return ("exact", False) if len(x) < 50 and not ties else ("approx", True)


def paired_tests(before, after, level: float = 0.95) -> dict:
    """Within-subject change (after - before): paired t-test and Wilcoxon signed-rank."""
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    keep = ~(np.isnan(before) | np.isnan(after))
    diff = after[keep] - before[keep]
    if len(diff) < 2:
        return {"n_pairs": int(len(diff)), "available": False, "reason": "fewer than 2 complete pairs"}
    t = stats.ttest_rel(after[keep], before[keep])
    ci = t.confidence_interval(confidence_level=level)
    method, correction = _wilcoxon_method(diff)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nonzero = diff[diff != 0]
        w = stats.wilcoxon(nonzero, method=method, correction=correction) if len(nonzero) else None
    return {
        "n_pairs": int(len(diff)), "mean_change": float(diff.mean()), "sd_change": float(diff.std(ddof=1)),
        "paired_t": {"t": float(t.statistic), "df": int(t.df), "p": float(t.pvalue),
                     "ci": [float(ci.low), float(ci.high)]},
        "wilcoxon": (None if w is None else
                     {"V": float(w.statistic), "p": float(w.pvalue),
                      "method": "exact" if method == "exact" else "normal approximation, continuity corrected"}),
    }


def two_sample_tests(treatment, control, level: float = 0.95) -> dict:
    """Arms compared: Student and Welch t-tests (difference treatment - control) and Mann-Whitney."""
    x = np.asarray(treatment, dtype=float)
    y = np.asarray(control, dtype=float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if len(x) < 2 or len(y) < 2:
        return {"available": False, "reason": "fewer than 2 values in an arm"}
    out = {"difference": float(x.mean() - y.mean())}
    for name, equal in (("student_t", True), ("welch_t", False)):
        t = stats.ttest_ind(x, y, equal_var=equal)
        ci = t.confidence_interval(confidence_level=level)
        out[name] = {"t": float(t.statistic), "df": float(t.df), "p": float(t.pvalue),
                     "ci": [float(ci.low), float(ci.high)]}
    ties = len(np.unique(np.concatenate([x, y]))) < len(x) + len(y)
    exact = len(x) < 50 and len(y) < 50 and not ties
    u = stats.mannwhitneyu(x, y, alternative="two-sided", method="exact" if exact else "asymptotic",
                           use_continuity=True)
    out["mann_whitney"] = {"W": float(u.statistic), "p": float(u.pvalue),
                           "method": "exact" if exact else "normal approximation, continuity corrected"}
    return out


def t_test_from_summary(mean1, sd1, n1, mean2, sd2, n2) -> dict:
    """Student and Welch t-tests from published means, SDs and sizes (statcheck-style)."""
    out = {}
    for name, equal in (("student_t", True), ("welch_t", False)):
        t = stats.ttest_ind_from_stats(mean1, sd1, n1, mean2, sd2, n2, equal_var=equal)
        out[name] = {"t": float(t.statistic), "p": float(t.pvalue)}
    return out


def wilson_interval(events: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for one proportion (no continuity correction)."""
    z = _z(level)
    p = events / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def proportions(events_t: int, n_t: int, events_c: int, n_c: int, level: float = 0.95) -> dict:
    """Two proportions: risk difference with Newcombe's hybrid score CI (method 10),
    Fisher's exact test with the conditional MLE odds ratio, and chi-square tests."""
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
        "fisher_exact": {"p": float(fisher.pvalue), "odds_ratio": float(odds.statistic),
                         "lower": float(odds_ci.low), "upper": float(odds_ci.high)},
    }
    if table.sum(axis=0).min() > 0:
        for name, correct in (("chi_square", False), ("chi_square_yates", True)):
            chi2, p, _, _ = stats.chi2_contingency(table, correction=correct)
            out[name] = {"chi2": float(chi2), "p": float(p)}
    return out


def rate_ratio(counts, exposure, treated, level: float = 0.95) -> dict:
    """Event rate ratio (treatment / control) by Poisson and negative binomial regression
    with log(exposure) as offset."""
    import statsmodels.api as sm
    counts = np.asarray(counts, dtype=float)
    design = sm.add_constant(np.asarray(treated, dtype=float))
    offset = np.log(np.asarray(exposure, dtype=float))
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        poisson = sm.GLM(counts, design, family=sm.families.Poisson(), offset=offset).fit()
        out["poisson"] = _ratio(poisson.params[1], poisson.bse[1], poisson.pvalues[1], level)
        try:
            nb = sm.NegativeBinomial(counts, design, offset=offset).fit(disp=False, maxiter=200)
            out["negative_binomial"] = {**_ratio(nb.params[1], nb.bse[1], nb.pvalues[1], level),
                                        "theta": float(1 / nb.params[-1]) if nb.params[-1] > 0 else None}
        except (np.linalg.LinAlgError, ValueError) as exc:
            out["negative_binomial"] = {"available": False, "reason": f"did not converge: {exc}"}
    return out


def _ratio(coef, se, p, level) -> dict:
    z = _z(level)
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
