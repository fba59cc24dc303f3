"""Multiple imputation by chained equations, and Rubin's rules to pool the analyses.

Week-48 values are missing when a patient died, left or skipped the visit.
Complete-case analysis assumes they are missing completely at random; chained
equations with predictive mean matching (van Buuren, *Flexible Imputation of
Missing Data*, 2nd ed., 2018, sections 3.4 and 4.5) assume missing at random
given the other visits and the arm, and impute only values that were observed
in some patient (grades stay grades, no negative bilirubin).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from ..errors import NotEstimable
from .lazy_scipy import stats

DONORS = 5


def _draw_regression(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares coefficients and one draw from their posterior (flat prior, van Buuren alg. 3.1)."""
    xtx = x.T @ x
    xtx = xtx + np.diag(np.diag(xtx)) * 1e-5 + np.eye(len(xtx)) * 1e-10  # mice's ridge: constant columns
    beta = np.linalg.solve(xtx, x.T @ y)
    resid = y - x @ beta
    dof = max(len(y) - x.shape[1], 1)
    sigma = np.sqrt(resid @ resid / rng.chisquare(dof))
    chol = np.linalg.cholesky(np.linalg.inv(xtx))
    return beta, beta + sigma * chol @ rng.standard_normal(x.shape[1])


def _pmm(x_obs, y_obs, x_mis, rng: np.random.Generator) -> np.ndarray:
    """Predictive mean matching: each missing value takes the value of one of the
    ``DONORS`` observed cases whose predicted means are closest to its own (type 1 matching)."""
    beta, beta_draw = _draw_regression(x_obs, y_obs, rng)
    predicted_obs = x_obs @ beta
    predicted_mis = x_mis @ beta_draw
    donors = min(DONORS, len(y_obs))
    # The nearest donors lie within `donors` places either side of where a prediction would
    # sort among the observed ones: a window of 2 x donors candidates each, not all n
    # (an n_missing x n_observed distance matrix is gigabytes at 100k patients).
    order = np.argsort(predicted_obs, kind="stable")
    ranked = predicted_obs[order]
    width = min(2 * donors, len(ranked))
    start = np.clip(np.searchsorted(ranked, predicted_mis) - donors, 0, len(ranked) - width)
    window = start[:, None] + np.arange(width)[None, :]
    closest = np.argsort(np.abs(ranked[window] - predicted_mis[:, None]), axis=1, kind="stable")[:, :donors]
    nearest = np.take_along_axis(window, closest, axis=1)
    pick = nearest[np.arange(len(x_mis)), rng.integers(0, donors, size=len(x_mis))]
    return y_obs[order[pick]]


def impute_chained(frame: pd.DataFrame, m: int, iterations: int, seed: int) -> list[pd.DataFrame]:
    """``m`` completed copies of ``frame`` (numeric columns; NaN = missing).

    Every column with a missing value is imputed from all the others, in column
    order, ``iterations`` times per copy. Columns that are complete (the arm, say)
    are predictors only. Copies are independent chains from one seeded generator,
    so the same ``seed`` gives the same imputations.
    """
    check_imputable(frame)
    data = frame.to_numpy(dtype=float)
    missing = np.isnan(data)
    targets = [j for j in range(data.shape[1]) if missing[:, j].any()]
    rng = np.random.default_rng(seed)
    copies = []
    for _ in range(m):
        filled = data.copy()
        for j in targets:
            observed = filled[~missing[:, j], j]
            filled[missing[:, j], j] = rng.choice(observed, size=missing[:, j].sum())
        for _ in range(iterations):
            for j in targets:
                others = np.column_stack([np.ones(len(filled)), np.delete(filled, j, axis=1)])
                obs = ~missing[:, j]
                filled[~obs, j] = _pmm(others[obs], filled[obs, j], others[~obs], rng)
        copies.append(pd.DataFrame(filled, index=frame.index, columns=frame.columns))
    return copies


def check_imputable(frame: pd.DataFrame) -> None:
    """A column with a missing value needs 2 observed ones to be imputed from (ValueError)."""
    observed = frame.notna().sum()
    for name in frame.columns[frame.isna().any().to_numpy()]:
        if observed[name] < 2:
            raise ValueError(f"cannot impute {name}: fewer than 2 observed values")


def imputed_values(frame: pd.DataFrame, copies: list[pd.DataFrame]) -> pd.DataFrame:
    """What the imputations filled in: one row per copy (``imputation`` 1..m) and missing cell of
    ``frame`` (its row label, ``variable``, ``value``), rows in row-major order of ``frame``."""
    rows, columns = np.nonzero(frame.isna().to_numpy())
    label = frame.index.name or "row"
    parts = [pd.DataFrame({"imputation": k, label: frame.index[rows], "variable": frame.columns[columns],
                           "value": copy.to_numpy(dtype=float)[rows, columns]})
             for k, copy in enumerate(copies, start=1)]
    return pd.concat(parts, ignore_index=True)


def filled_copies(frame: pd.DataFrame, values: pd.DataFrame, m: int) -> list[pd.DataFrame]:
    """The ``m`` completed copies of ``frame`` from its `imputed_values` table (read back from a
    file): each copy must fill exactly the cells missing in ``frame``, else the table is of other
    data. With nothing missing, the m copies are ``frame`` itself, as `impute_chained` makes them."""
    rows, columns = np.nonzero(frame.isna().to_numpy())
    label = frame.index.name or "row"
    expected = list(zip(frame.index[rows], frame.columns[columns]))
    parts = dict(list(values.groupby("imputation", sort=True))) if expected else dict.fromkeys(range(1, m + 1))
    if sorted(parts) != list(range(1, m + 1)):
        raise ValueError(f"the imputations table has copies {sorted(parts)}, not 1 to {m}")
    copies = []
    for k, part in parts.items():
        data = frame.to_numpy(dtype=float, copy=True)
        if expected:
            if list(zip(part[label], part["variable"])) != expected:
                raise ValueError(f"imputation {k} does not fill the missing values of these data: "
                                 "the imputations were made from other data")
            data[rows, columns] = part["value"].to_numpy(dtype=float)
        copies.append(pd.DataFrame(data, index=frame.index, columns=frame.columns))
    return copies


def rubin(estimates, variances, level: float = 0.95, complete_df: float | None = None) -> dict:
    """Pool ``m`` estimates and their squared standard errors by Rubin's rules.

    Total variance T = W + (1 + 1/m) B. Degrees of freedom: Rubin's (1987)
    (m - 1)(1 + 1/r)^2, or with ``complete_df`` the Barnard-Rubin (1999)
    small-sample version, which never exceeds the complete-data df.
    """
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = len(q)
    estimate, within = q.mean(), u.mean()
    between = q.var(ddof=1) if m > 1 else 0.0
    total = within + (1 + 1 / m) * between
    if not total > 0:
        raise NotEstimable("every imputed estimate is the same and none has a variance: "
                           "the pooled interval has no width")
    if complete_df is not None and not complete_df > 0:
        raise NotEstimable("the complete-data analysis has no residual degrees of freedom")
    if between == 0:
        df = complete_df if complete_df is not None else np.inf
    else:
        riv = (1 + 1 / m) * between / within if within > 0 else np.inf
        df = (m - 1) * (1 + 1 / riv) ** 2
        if complete_df is not None:
            lam = (1 + 1 / m) * between / total
            observed = (complete_df + 1) / (complete_df + 3) * complete_df * (1 - lam)
            df = 1 / (1 / df + 1 / observed)
    se = float(np.sqrt(total))
    crit = float(stats.t.ppf(0.5 + level / 2, df)) if np.isfinite(df) else float(stats.norm.ppf(0.5 + level / 2))
    statistic = estimate / se if se > 0 else np.inf
    p = float(2 * (stats.t.sf(abs(statistic), df) if np.isfinite(df) else stats.norm.sf(abs(statistic))))
    return {"estimate": float(estimate), "se": se, "lower": float(estimate - crit * se),
            "upper": float(estimate + crit * se), "p": p, "df": float(df), "m": m,
            "within": float(within), "between": float(between)}
