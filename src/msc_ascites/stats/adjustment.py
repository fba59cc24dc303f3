"""Treatment effects under other analysis choices: adjusted, weighted, rank-based.

The arms of the paper were not randomised, so the sensitivity grid asks whether
the effects survive adjustment for baseline MELD, Child-Pugh and age, either in
a multivariable model or by inverse probability of treatment weighting (IPTW)
with a logistic propensity score. Every function returns a plain dict:
``estimate``, ``se`` (on the scale Rubin's rules pool: the difference, or the
log ratio), ``lower``/``upper`` on the reported scale, ``p``, ``df`` and the
``method`` in words.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from .lazy_scipy import stats

from ..errors import NotEstimable
from .comparisons import katz_log_risk_ratio, rank_sum_test
from .quantiles import z_two_sided
from .survival import fit_cox, profile_interval


def propensity_weights(treated, covariates: pd.DataFrame) -> np.ndarray:
    """Stabilised ATE weights P(T=t) / P(T=t | covariates) from a logistic model fitted by
    IRLS to convergence (R's glm answer, not its 1e-8 stop). Perfect separation has no
    maximum-likelihood fit: a fitted score numerically 0 or 1 is not estimable."""
    import statsmodels.api as sm
    t = np.asarray(treated, dtype=float)
    x = sm.add_constant(covariates.to_numpy(dtype=float), has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(t, x, family=sm.families.Binomial()).fit(tol=1e-13, maxiter=200)
    score = fit.predict(x)
    if not fit.converged or score.min() < 1e-9 or score.max() > 1 - 1e-9:
        raise NotEstimable("the propensity model separates the arms perfectly (a fitted probability is 0 or 1):"
                           " the weights are not estimable")
    share = t.mean()
    return np.where(t == 1, share / score, (1 - share) / (1 - score))


def standardised_differences(treated, covariates: pd.DataFrame, weights=None) -> dict[str, float]:
    """(Weighted) standardised mean difference of each covariate, treatment - control,
    over the pooled unweighted SD (Austin & Stuart, Stat Med 2015;34:3661)."""
    t = np.asarray(treated) == 1
    w = np.ones(len(t)) if weights is None else np.asarray(weights, dtype=float)
    out = {}
    for name in covariates.columns:
        x = covariates[name].to_numpy(dtype=float)
        mean_t = np.average(x[t], weights=w[t])
        mean_c = np.average(x[~t], weights=w[~t])
        pooled = np.sqrt((x[t].var(ddof=1) + x[~t].var(ddof=1)) / 2)
        out[name] = float((mean_t - mean_c) / pooled) if pooled > 0 else 0.0
    return out


def _interval(estimate: float, se: float, df: float, level: float, ratio: bool = False) -> dict:
    crit = float(stats.t.ppf(0.5 + level / 2, df)) if np.isfinite(df) else z_two_sided(level)
    statistic = estimate / se if se > 0 else np.inf
    p = 2 * (stats.t.sf(abs(statistic), df) if np.isfinite(df) else stats.norm.sf(abs(statistic)))
    low, high = estimate - crit * se, estimate + crit * se
    if ratio:
        return {"estimate": float(np.exp(estimate)), "lower": float(np.exp(low)), "upper": float(np.exp(high)),
                "log_estimate": float(estimate), "se": float(se), "p": float(p), "df": float(df)}
    return {"estimate": float(estimate), "lower": float(low), "upper": float(high), "se": float(se),
            "p": float(p), "df": float(df)}


def welch_difference(y_t, y_c, level: float = 0.95) -> dict:
    """Difference in means with Welch's standard error and df (R: t.test default)."""
    y_t, y_c = np.asarray(y_t, float), np.asarray(y_c, float)
    v_t, v_c = y_t.var(ddof=1) / len(y_t), y_c.var(ddof=1) / len(y_c)
    if not v_t + v_c > 0:
        raise NotEstimable("every value is the same within each arm: Welch's t is not defined")
    df = (v_t + v_c) ** 2 / (v_t ** 2 / (len(y_t) - 1) + v_c ** 2 / (len(y_c) - 1))
    return {**_interval(y_t.mean() - y_c.mean(), np.sqrt(v_t + v_c), df, level),
            "method": "difference in means, Welch t"}


def hodges_lehmann(y_t, y_c, level: float = 0.95) -> dict:
    """Hodges-Lehmann shift treatment - control with its CI and the Mann-Whitney p, as R's
    wilcox.test(y_t, y_c, conf.int = TRUE, digits.rank = 7): exact order statistics of
    the pairwise differences without ties below 50 per arm, else R's root of the normal
    score. ``se`` is the CI half-width over z, for pooling."""
    result = rank_sum_test(np.asarray(y_t, float), np.asarray(y_c, float), level, conf_int=True)
    lower, upper = result["lower"], result["upper"]
    return {"estimate": result["estimate"], "lower": lower, "upper": upper,
            "se": float((upper - lower) / (2 * z_two_sided(level))), "p": result["p"], "df": float("inf"),
            "method": "Hodges-Lehmann shift, Mann-Whitney test"}


def linear_effect(y, treated, covariates: pd.DataFrame | None = None, weights=None,
                  level: float = 0.95) -> dict:
    """Arm coefficient of a linear model: OLS with covariates (ANCOVA), or weighted
    least squares on the arm alone with the HC0 sandwich SE for IPTW."""
    import statsmodels.api as sm
    x = pd.DataFrame({"treated": np.asarray(treated, float)})
    if covariates is not None:
        x = pd.concat([x, covariates.reset_index(drop=True)], axis=1)
    x = sm.add_constant(x, has_constant="add")
    y = np.asarray(y, float)
    if weights is None:
        fit = sm.OLS(y, x).fit()
        method = "ANCOVA (OLS): " + " + ".join(["arm", *x.columns[2:]])
        df = float(fit.df_resid)
    else:
        fit = sm.WLS(y, x, weights=np.asarray(weights, float)).fit(cov_type="HC0")
        method = "IPTW difference in means (WLS, robust HC0 SE)"
        df = float("inf")
    return {**_interval(fit.params["treated"], fit.bse["treated"], df, level), "method": method}


#: Above this many rows the median-regression programme is solved by interior point with crossover to
#: a vertex (HiGHS' IPM: 4-11 s at 100k rows and 2 coefficients, where dual simplex takes over 8
#: minutes), or, with only an intercept and the arm, directly (`_two_group_fit`); below, by dual
#: simplex (instant at trial sizes). Either way the vertex is then solved exactly.
SIMPLEX_MAX_ROWS = 5000


def _median_regression_fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The exact median-regression (L1) solution, as quantreg's rq (method "br"): the linear
    programme solved to a vertex, then its basis (the rows fitted exactly) solved again
    directly so the coefficients carry no solver tolerance. The constraints are sparse: dense,
    they are n x 2n (75 GB at 100k subjects)."""
    from scipy import sparse
    from scipy.optimize import linprog
    n, k = x.shape
    if n > SIMPLEX_MAX_ROWS and _two_groups(x):
        return _two_group_fit(x, y)
    cost = np.concatenate([np.zeros(2 * k), np.full(2 * n, 0.5)])
    identity = sparse.identity(n, format="csc")
    equality = sparse.hstack([sparse.csc_matrix(x), sparse.csc_matrix(-x), identity, -identity], format="csc")
    result = linprog(cost, A_eq=equality, b_eq=y, bounds=(0, None),
                     method="highs-ds" if n <= SIMPLEX_MAX_ROWS else "highs-ipm")
    if result.status != 0:
        raise NotEstimable(f"median regression did not solve: {result.message}")
    beta = result.x[:k] - result.x[k:2 * k]
    basis = np.argsort(np.abs(y - x @ beta), kind="stable")[:k]
    if np.linalg.matrix_rank(x[basis]) == k:
        beta = np.linalg.solve(x[basis], y[basis])
    return beta


def _two_groups(x: np.ndarray) -> bool:
    """An intercept and the arm, both arms present (each row scaled by its positive weight): the
    second column 0 or the first."""
    if x.shape[1] != 2 or not np.all(x[:, 0] > 0):
        return False
    control = x[:, 1] == 0
    return bool(np.all(control | (x[:, 1] == x[:, 0])) and control.any() and not control.all())


def _two_group_fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The L1 programme of an intercept and the arm without a solver: it separates into the weighted
    median of each arm (sum w|y/w - a| over control, sum w|y/w - a - b| over treatment). Its vertex
    is the row of each arm's lower weighted median, solved exactly as `_median_regression_fit` solves
    a basis; where a median is not unique (the weights below it are exactly half), the lower one is
    an optimal vertex as any other (interior point would return one of them)."""
    treated, weights = x[:, 1] != 0, x[:, 0]
    values = y / weights
    basis = [_lower_weighted_median_row(values, weights, rows) for rows in (~treated, treated)]
    return np.linalg.solve(x[basis], y[basis])


def _lower_weighted_median_row(values: np.ndarray, weights: np.ndarray, rows: np.ndarray) -> int:
    """The row (of ``rows``) holding the smallest value whose cumulative weight reaches half."""
    where = np.flatnonzero(rows)
    order = where[np.argsort(values[where], kind="stable")]
    cumulative = np.cumsum(weights[order])
    return int(order[np.searchsorted(cumulative, cumulative[-1] / 2)])


def _kernel_standard_errors(x: np.ndarray, y: np.ndarray, beta: np.ndarray, tau: float = 0.5) -> np.ndarray:
    """quantreg's summary.rq(se = "ker"): Powell's kernel sandwich with the Hall-Sheather
    bandwidth, Gaussian kernel, scaled by min(sd, IQR / 1.34) of the residuals."""
    n = len(y)
    x0 = stats.norm.ppf(tau)
    h = n ** (-1 / 3) * stats.norm.ppf(0.975) ** (2 / 3) * ((1.5 * stats.norm.pdf(x0) ** 2) / (2 * x0 ** 2 + 1)) ** (1 / 3)
    while tau - h < 0 or tau + h > 1:
        h /= 2
    resid = y - x @ beta
    q1, q3 = np.percentile(resid, [25, 75])
    h = (stats.norm.ppf(tau + h) - stats.norm.ppf(tau - h)) * min(np.std(resid, ddof=1), (q3 - q1) / 1.34)
    f = stats.norm.pdf(resid / h) / h
    inverse = np.linalg.inv(x.T @ (f[:, None] * x))
    return np.sqrt(np.diag(tau * (1 - tau) * inverse @ (x.T @ x) @ inverse))


def median_effect(y, treated, covariates: pd.DataFrame | None = None, weights=None,
                  level: float = 0.95) -> dict:
    """Arm coefficient of a median (quantile 0.5) regression, as quantreg's rq (method "br")
    with summary.rq(se = "ker") and a t interval on n - p df. Weights scale each row, as
    rq does, since the check loss is positively homogeneous: sum w|u| = sum |w u|."""
    x = pd.DataFrame({"treated": np.asarray(treated, float)})
    if covariates is not None:
        x = pd.concat([x, covariates.reset_index(drop=True)], axis=1)
    x.insert(0, "const", 1.0)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, float)
    design, response = x.to_numpy(dtype=float) * w[:, None], np.asarray(y, float) * w
    beta = _median_regression_fit(design, response)
    se = _kernel_standard_errors(design, response, beta)
    method = ("IPTW median regression" if weights is not None
              else "median regression: " + " + ".join(["arm", *x.columns[2:]]))
    return {**_interval(float(beta[1]), float(se[1]), float(len(response) - design.shape[1]), level),
            "method": method}


def risk_ratio(events, treated, covariates: pd.DataFrame | None = None, weights=None, exact: bool = False,
               level: float = 0.95) -> dict:
    """Risk ratio treatment / control.

    Unadjusted: Katz log CI with Pearson's chi-square p, or Fisher's exact p
    (``exact``). Adjusted or weighted: modified Poisson regression, log link with
    the HC0 sandwich SE (Zou, Am J Epidemiol 2004;159:702).
    """
    y = np.asarray(events, float)
    t = np.asarray(treated, float) == 1
    if covariates is None and weights is None:
        a, n1, c, n0 = y[t].sum(), t.sum(), y[~t].sum(), (~t).sum()
        if a == 0 or c == 0:
            raise ValueError("no events in an arm: the risk ratio is not estimable")
        table = np.array([[a, n1 - a], [c, n0 - c]])
        log_rr, se = katz_log_risk_ratio(a, n1, c, n0)
        if exact:
            p, method = stats.fisher_exact(table).pvalue, "risk ratio (Katz CI), Fisher's exact test"
        else:
            p, method = stats.chi2_contingency(table, correction=False)[1], "risk ratio (Katz CI), chi-square test"
        out = _interval(log_rr, se, float("inf"), level, ratio=True)
        return {**out, "p": float(p), "method": method}
    import statsmodels.api as sm
    x = pd.DataFrame({"treated": t.astype(float)})
    if covariates is not None:
        x = pd.concat([x, covariates.reset_index(drop=True)], axis=1)
    x = sm.add_constant(x, has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(y, x, family=sm.families.Poisson(),
                     var_weights=None if weights is None else np.asarray(weights, float)).fit(
            cov_type="HC0", tol=1e-14, maxiter=200)
    method = ("IPTW risk ratio (weighted modified Poisson, robust SE)" if weights is not None
              else "adjusted risk ratio (modified Poisson, robust SE): " + " + ".join(["arm", *x.columns[2:]]))
    return {**_interval(fit.params["treated"], fit.bse["treated"], float("inf"), level, ratio=True),
            "method": method}


def hazard_ratio(day, event, treated, covariates: pd.DataFrame | None = None, weights=None,
                 level: float = 0.95) -> dict:
    """Cox hazard ratio treatment / control (Efron ties, run to R's answer); with weights,
    the robust sandwich SE (R: coxph(..., weights, robust = TRUE))."""
    treated = np.asarray(treated, float)
    events = np.asarray(event, int) != 0
    if not events.any():
        raise NotEstimable("no events: the hazard ratio is not estimable")
    if not events[treated == 1].any() or not events[treated == 0].any():
        raise NotEstimable("no events in an arm: the hazard ratio is infinite (not estimable)")
    x = pd.DataFrame({"treated": treated})
    if covariates is not None:
        x = pd.concat([x, covariates.reset_index(drop=True)], axis=1)
    fit = fit_cox(np.asarray(day, float), events, x.to_numpy(dtype=float), weights, robust=weights is not None)
    wald = _interval(float(fit["coef"][0]), float(np.sqrt(fit["var"][0, 0])), float("inf"), level, ratio=True)
    if covariates is None and weights is None:  # as the survival endpoint reports it: few events, no Wald
        interval = profile_interval(np.asarray(day, float), events, treated, fit, level)
        likelihood_ratio = 2 * (fit["loglik"] - fit["loglik0"])
        return {**wald, "lower": interval["lower"], "upper": interval["upper"],
                "p": float(stats.chi2.sf(likelihood_ratio, 1)), "wald_p": wald["p"],
                "method": "Cox hazard ratio: arm; profile-likelihood CI, likelihood-ratio test"}
    method = ("IPTW Cox hazard ratio (robust SE)" if weights is not None
              else "Cox hazard ratio: " + " + ".join(["arm", *x.columns[1:]]))
    return {**wald, "method": method}
