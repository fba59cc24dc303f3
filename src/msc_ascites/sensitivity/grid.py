"""The sensitivity grid: does the conclusion survive other reasonable choices?

A *cell* is one combination of the grid's axes (config ``sensitivity``); the
workflow runs each as one job. Two families of cells:

- ``primary``: population x missing-data handling x primary-visit window x
  parametric/non-parametric x adjustment, for the primary-visit lab comparisons and
  the disappearance of ascites;
- ``survival``: population x adjustment x transplant handling x horizon, for
  death.

A third, ``reconstruction``, repeats the primary analysis on cohorts written by
the generator with other seeds (only when the raw folder is itself such a
reconstruction). Every cell writes rows of one shape (`ROW`), collected into
results/sensitivity/summary.csv. An estimate that cannot be made (an arm
without events, a population without infusion records) is a row with the
reason, never a crash.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.core.util.hashing import combine_hash_arrays

from ..analysis.endpoints import death_times
from ..data.contract import ARMS, DERIVED_TEST
from ..errors import NotEstimable, user_errors_exit
from ..outputs import read_csv, write_csv, write_json
from ..stats import adjustment as adj
from ..stats import robustness as rob
from ..stats.imputation import check_imputable, filled_copies, impute_chained, imputed_values, rubin
from .shared import once

AXES = ("population", "missing", "window_days", "test", "adjustment", "transplant", "horizon_days", "seed")
ROW = ["family", *AXES, "endpoint", "estimand", "estimate", "lower", "upper", "p", "n_treatment", "n_control",
       "events_treatment", "events_control", "primary", "method", "note", "data_sha256"]
#: What makes two cells one analysis: the same endpoint, method and adjustment of the same data.
ANALYSIS_KEY = ["endpoint", "test", "adjustment", "data_sha256"]
#: The populations in words; ``{week}`` is the primary visit's week.
POPULATIONS = {"itt": "all enrolled (intention to treat)",
               "per_protocol": "infused as planned and followed to the week-{week} window (or died before it)"}
#: How each choice of the grid reads in the report.
CHOICES = {"itt": "ITT", "per_protocol": "per protocol", "complete_case": "complete case",
           "locf": "last observation carried forward", "multiple_imputation": "multiple imputation",
           "parametric": "parametric", "nonparametric": "non-parametric", "unadjusted": "unadjusted",
           "multivariable": "multivariable model", "iptw": "IPTW", "censor": "transplant censored",
           "event": "transplant counted as death"}


def population_texts(week: int) -> dict[str, str]:
    """How each population reads in the report, for this cohort's primary visit."""
    return {name: text.format(week=week) for name, text in POPULATIONS.items()}


def select_population(subjects: pd.DataFrame, name: str, week_first_day: int, min_infusions: int) -> pd.DataFrame:
    """ITT: everyone. Per protocol: treated patients with at least ``min_infusions``
    infusions, and in both arms, follow-up reaching the primary visit's window unless death
    came first (a death is an outcome, not a deviation)."""
    if name == "itt":
        return subjects
    if "n_infusions" not in subjects:
        raise NotEstimable("per protocol needs infusions.csv, which this cohort lacks")
    infused = (subjects["arm"] != "treatment") | (subjects["n_infusions"] >= min_infusions)
    withdrew = subjects["withdrawal_day"].notna() & (subjects["withdrawal_day"] < week_first_day)
    followed = subjects["death_day"].notna() | ((subjects["last_contact_day"] >= week_first_day) & ~withdrew)
    return subjects[infused & followed]


def baseline_imbalance(subjects: pd.DataFrame, names: list[str]) -> dict[str, float]:
    """Each covariate's standardised mean difference (treatment - control) among all enrolled with a
    value: the imbalance an adjustment is there to remove."""
    out = {}
    for name in names:
        rows = subjects.dropna(subset=[name])
        treated = (rows["arm"] == "treatment").astype(int).to_numpy()
        out[name] = adj.standardised_differences(treated, rows[[name]])[name] if min(
            treated.sum(), (1 - treated).sum()) > 1 else float("nan")
    return out


def available_covariates(subjects: pd.DataFrame, names: list[str], selection: dict) -> tuple[list[str], list[str]]:
    """The adjustment covariates: of ``names``, those this cohort has (some value present), kept all
    (selection rule ``all``) or only where imbalanced at baseline (``imbalanced``: |SMD| at least
    ``min_smd``, all enrolled); and those it lacks. Every cell derives the same set from the same rows
    (once per process for the same rows)."""
    columns = ["arm", *[c for c in names if c in subjects]]
    key = ("covariates", data_fingerprint([subjects[columns]]), tuple(names), tuple(sorted(selection.items())))
    chosen = once(key, lambda: dict(zip(("have", "lacking"), _available_covariates(subjects, names, selection))))
    return list(chosen["have"]), list(chosen["lacking"])


def _available_covariates(subjects: pd.DataFrame, names: list[str], selection: dict) -> tuple[list[str], list[str]]:
    have = [c for c in names if c in subjects and subjects[c].notna().any()]
    lacking = [c for c in names if c not in have]
    if selection["rule"] == "imbalanced":
        smd = baseline_imbalance(subjects, have)
        have = [c for c in have if abs(smd[c]) >= selection["min_smd"]]
    return have, lacking


def data_fingerprint(frames: list[pd.DataFrame]) -> str:
    """SHA-256 of the data sets a cell analyses (each completed data set, its columns by name):
    two cells with the same fingerprint, endpoint, method and adjustment are one analysis. The
    row hashes are pandas' ``hash_pandas_object(frame[sorted columns], index=False)``, computed a
    column at a time from the arrays (a seventh of the time; tests check they are the same)."""
    digest = hashlib.sha256()
    for frame in frames:
        names = sorted(frame.columns)
        digest.update(",".join(names).encode("utf-8"))
        hashes = (pd.util.hash_array(frame[name].to_numpy()) for name in names)
        digest.update(combine_hash_arrays(hashes, len(names)).tobytes())
    return digest.hexdigest()


def _row(spec: dict, endpoint: str, estimand: str, **values) -> dict:
    row = {column: None for column in ROW}
    row.update({axis: None if spec.get(axis) is None else str(spec[axis]) for axis in ("family", *AXES)})
    row.update(endpoint=endpoint, estimand=estimand, **values)
    return row


def _effect(frame: pd.DataFrame, kind: str, test: str, adjustment: str, covariates: list[str], level: float) -> dict:
    """One analysis of one completed data set: columns ``y``, ``treated``, ``baseline``
    and the covariates. ``kind`` 'difference' (continuous) or 'ratio' (binary)."""
    y, t = frame["y"].to_numpy(float), frame["treated"].to_numpy(int)
    if min((t == 1).sum(), (t == 0).sum()) < 2:
        raise NotEstimable("fewer than 2 patients in an arm")
    model_terms = frame[covariates] if adjustment == "multivariable" else None
    if kind == "difference" and adjustment == "multivariable":
        model_terms = frame[["baseline", *[c for c in covariates if c != frame.attrs.get("baseline_of")]]]
    weights = _propensity_weights(t, frame[covariates]) if adjustment == "iptw" else None
    if kind == "ratio":
        if min(y[t == 1].sum(), y[t == 0].sum()) == 0:
            raise NotEstimable("no events in an arm: the risk ratio is not estimable")
        return adj.risk_ratio(y, t, model_terms, weights, exact=test == "nonparametric", level=level)
    if adjustment == "unadjusted":
        return (adj.welch_difference(y[t == 1], y[t == 0], level) if test == "parametric"
                else adj.hodges_lehmann(y[t == 1], y[t == 0], level))
    fit = adj.linear_effect if test == "parametric" else adj.median_effect
    return fit(y, t, model_terms, weights, level)


def _prepared(wide: pd.DataFrame, adjusted: bool, covariates: list[str]) -> pd.DataFrame:
    """The rows a cell analyses: adjusted cells need every covariate."""
    return wide.dropna(subset=covariates) if adjusted else wide


def _visit_columns(wide: pd.DataFrame, covariates: list[str]) -> list[str]:
    return [c for c in wide.columns if c not in ("treated", *covariates)]


def _to_impute(wide: pd.DataFrame, outcome: str, covariates: list[str]) -> pd.DataFrame:
    """What chained equations impute: ``wide`` without the visits (other than baseline and the
    outcome's) that have almost no values and so cannot predict; not imputable is NotEstimable."""
    if wide[outcome].isna().all():
        raise NotEstimable(f"no observed {outcome} value to impute from")
    visit_columns = _visit_columns(wide, covariates)
    sparse = [c for c in visit_columns[1:] if c != outcome and wide[c].notna().sum() < 2]
    frame = wide.drop(columns=sparse)
    try:
        check_imputable(frame)
    except ValueError as exc:
        raise NotEstimable(str(exc)) from exc
    return frame


def _completed(wide: pd.DataFrame, outcome: str, spec: dict, settings: dict, covariates: list[str],
               imputed: pd.DataFrame | None) -> list[pd.DataFrame]:
    """The completed data sets of a cell: one, or the ``m`` imputations (taken from ``imputed``,
    the cell's rows of the imputation step's table, when given; else imputed here)."""
    missing = spec["missing"]
    if missing == "complete_case":
        return [wide.dropna(subset=[outcome])]
    if missing == "locf":
        carried = wide.copy()
        visit_columns = _visit_columns(wide, covariates)
        carried[visit_columns] = carried[visit_columns].ffill(axis=1)
        return [carried.dropna(subset=[outcome])]
    if not wide.isna().any().any():
        return [wide]  # nothing to impute: the complete-case analysis itself
    frame = _to_impute(wide, outcome, covariates)
    imp = settings["imputation"]
    if imputed is not None:
        return filled_copies(frame, imputed, imp["m"])
    return impute_chained(frame, imp["m"], imp["iterations"], imp["seed"])


def _propensity_weights(treated: np.ndarray, covariates: pd.DataFrame) -> np.ndarray:
    """IPT weights, fitted once per arm and covariate values: every endpoint, test and imputation
    of a cell weights by the same baseline covariates (adjusted cells impute none of them)."""
    values = covariates.to_numpy(dtype=float)
    key = ("propensity", treated.tobytes(), values.tobytes(), values.shape)
    return once(key, lambda: {"weights": adj.propensity_weights(treated, covariates)})["weights"]


def _design_test(kind: str, test: str, adjustment: str) -> str:
    """The test axis as far as it changes the analysis: an adjusted or weighted risk ratio is one
    modified Poisson model whatever the test (the parametric and non-parametric cells share it)."""
    return "any" if kind == "ratio" and adjustment != "unadjusted" else test


def _analyse(wide: pd.DataFrame, outcome: str, kind: str, spec: dict, settings: dict, covariates: list[str],
             resolved_max: float | None = None, imputed: pd.DataFrame | None = None) -> tuple[dict, pd.DataFrame]:
    """Handle the missing primary-visit values as the cell says, then analyse (pooling imputations):
    the result and the first completed data set. Made once per process for the same table, handling
    and method (on the reconstructed cohort, both populations and all three windows give one table).

    ``wide``: one row per subject, ``treated``, the covariates and one column per
    visit in order, ``outcome`` the primary visit's column. ``resolved_max``: the analysed ``y`` is
    whether the outcome (a grade) is at most this, else the outcome itself.
    """
    key = ("cell", outcome, kind, spec["missing"], _design_test(kind, spec["test"], spec["adjustment"]),
           spec["adjustment"], tuple(covariates), settings.get("baseline_of"), settings["level"], resolved_max,
           data_fingerprint([wide.reset_index()]), None if imputed is None else data_fingerprint([imputed]))
    made = once(key, lambda: dict(zip(("result", "used"), _analysed(
        wide, outcome, kind, spec, settings, covariates, resolved_max, imputed))))
    return made["result"], made["used"]


def _analysed(wide, outcome, kind, spec, settings, covariates, resolved_max, imputed) -> tuple[dict, pd.DataFrame]:
    """`_analyse`'s work: the completed data sets, their fingerprint, the (shared) pooled effect."""
    baseline = _visit_columns(wide, covariates)[0]
    completed = _completed(_prepared(wide, spec["adjustment"] != "unadjusted", covariates), outcome, spec,
                           settings, covariates, imputed)
    frames = []
    for data in completed:
        y = data[outcome] if resolved_max is None else (data[outcome] <= resolved_max).astype(int)
        frame = pd.DataFrame({"y": y, "treated": data["treated"], "baseline": data[baseline],
                              **{c: data[c] for c in covariates}})
        if spec["adjustment"] == "multivariable" and kind == "difference":
            frame = frame.dropna(subset=["baseline"])
        frame.attrs["baseline_of"] = settings.get("baseline_of")
        frames.append(frame)
    fingerprint = data_fingerprint(frames)
    key = (kind, _design_test(kind, spec["test"], spec["adjustment"]), spec["adjustment"], tuple(covariates),
           settings.get("baseline_of"), settings["level"], fingerprint)
    result = once(key, lambda: _pooled_effect(frames, kind, spec, settings, covariates))
    return {**result, "data_sha256": fingerprint}, completed[0]


def _pooled_effect(frames: list[pd.DataFrame], kind: str, spec: dict, settings: dict, covariates: list[str]) -> dict:
    """The effect in each completed data set, pooled by Rubin's rules when there are several."""
    results = [_effect(frame, kind, spec["test"], spec["adjustment"], covariates, settings["level"])
               for frame in frames]
    if len(results) == 1:
        return results[0]
    log_scale = kind == "ratio"
    estimates = [r["log_estimate"] if log_scale else r["estimate"] for r in results]
    df = results[0]["df"]
    pooled = rubin(estimates, [r["se"] ** 2 for r in results], settings["level"],
                   complete_df=df if np.isfinite(df) else None)
    if log_scale:
        pooled.update(estimate=float(np.exp(pooled["estimate"])), lower=float(np.exp(pooled["lower"])),
                      upper=float(np.exp(pooled["upper"])))
    pooled["method"] = f"{results[0]['method']}; {len(results)} imputations pooled by Rubin's rules"
    return pooled


def _wide(records: pd.DataFrame, subjects: pd.DataFrame, value: str, visits: list[str],
          covariates: list[str]) -> pd.DataFrame:
    """Subjects x visits of ``value``, with ``treated`` and the covariates in front."""
    table = records.groupby(["subject_id", "visit"], sort=False)[value].first().unstack("visit")
    table = table.reindex(index=subjects["subject_id"], columns=visits)
    front = subjects.set_index("subject_id")
    out = pd.DataFrame({"treated": (front["arm"] == "treatment").astype(int)})
    for name in covariates:
        out[name] = front[name].astype(float)
    return pd.concat([out, table.astype(float)], axis=1)


def _result_row(spec, endpoint, estimand, result: dict, used: pd.DataFrame, note: str, events=None) -> dict:
    treated = used["treated"] == 1
    counts = {} if events is None else {"events_treatment": int(events[treated].sum()),
                                        "events_control": int(events[~treated].sum())}
    return _row(spec, endpoint, estimand, estimate=result["estimate"], lower=result["lower"],
                upper=result["upper"], p=result["p"], n_treatment=int(treated.sum()),
                n_control=int((~treated).sum()), method=result["method"], note=note,
                data_sha256=result["data_sha256"], **counts)


def primary_cell(data: dict[str, pd.DataFrame], spec: dict, settings: dict,
                 imputations: pd.DataFrame | None = None) -> list[dict]:
    """Rows of one primary-visit cell: each outcome lab test, then ascites disappearance.
    ``imputations``: the imputation step's table for the cell's population and window (its
    multiple-imputation cells read their completed data sets there instead of imputing again)."""
    covariates, lacking = available_covariates(data["subjects"], settings["covariates"],
                                               settings["covariate_selection"])
    note = f"covariates not in this cohort: {', '.join(lacking)}" if lacking and spec["adjustment"] != "unadjusted" \
        else ""
    try:
        subjects = select_population(data["subjects"], spec["population"], settings["week_first_day"],
                                     settings["min_infusions"])
    except NotEstimable as reason:
        return [_row(spec, endpoint, estimand, note=str(reason))
                for endpoint, estimand in _primary_endpoints(settings)]
    rows = []
    for endpoint, wide in _shared_outcome_tables(data, subjects, settings, covariates):
        imputed = None if imputations is None else _imputed_for(imputations, endpoint, wide, spec, covariates)
        if endpoint == "ascites_disappearance":
            rows.append(_ascites_row(wide, spec, settings, covariates, note, imputed))
            continue
        estimand = "difference treatment - control"
        try:
            if isinstance(wide, str):
                raise NotEstimable(wide)
            result, used = _analyse(wide, settings["week_label"], "difference", spec,
                                    {**settings, "baseline_of": f"baseline_{endpoint.removeprefix('primary_')}"},
                                    covariates, imputed=imputed)
            rows.append(_result_row(spec, endpoint, estimand, result, used, note))
        except NotEstimable as reason:
            rows.append(_row(spec, endpoint, estimand, note=str(reason)))
    return rows


def _primary_endpoints(settings: dict) -> list[tuple[str, str]]:
    return ([(f"primary_{t}", "difference treatment - control") for t in settings["outcomes"]]
            + [("ascites_disappearance", "risk ratio treatment / control")])


def _shared_outcome_tables(data: dict[str, pd.DataFrame], subjects: pd.DataFrame, settings: dict,
                           covariates: list[str]) -> list:
    """`_outcome_tables`, made once per process for the same data: the 18 cells of a population
    and window (missing-data handling x test x adjustment) analyse the same tables."""
    key = ("tables", *(None if data.get(name) is None else data_fingerprint([data[name]]) for name in ("labs", "ascites")),
           data_fingerprint([subjects]), tuple(covariates), tuple(settings["outcomes"]), tuple(settings["visit_labels"]),
           settings["ascites"]["baseline_min_grade"])
    return once(key, lambda: {"tables": list(_outcome_tables(data, subjects, settings, covariates))})["tables"]


def _outcome_tables(data: dict[str, pd.DataFrame], subjects: pd.DataFrame, settings: dict,
                    covariates: list[str]):
    """Per endpoint of a primary cell (each outcome lab test, then ascites disappearance), the
    subjects x visits table it analyses, or why there is none (a string)."""
    visits = settings["visit_labels"]
    labs = data["labs"]
    for test in settings["outcomes"]:
        records = labs[labs["test"] == test]
        yield f"primary_{test}", (f"no {test} values in this cohort" if records.empty
                                  else _wide(records, subjects, "value", visits, covariates))
    grades = data.get("ascites")
    if grades is None or grades.empty:
        yield "ascites_disappearance", "the cohort has no ascites assessments (ascites.csv)"
        return
    wide = _wide(grades, subjects, "grade", visits, covariates)
    yield "ascites_disappearance", wide[wide[visits[0]] >= settings["ascites"]["baseline_min_grade"]]


def _row_set(wide: pd.DataFrame, adjustment: str, covariates: list[str]) -> str:
    """Which rows a cell imputes: ``all``, or ``with_covariates`` for an adjusted cell where some
    patient lacks a covariate (adjusted cells keep only those with all of them)."""
    if adjustment == "unadjusted" or len(_prepared(wide, True, covariates)) == len(wide):
        return "all"
    return "with_covariates"


def _imputed_for(imputations: pd.DataFrame, endpoint: str, wide, spec: dict, covariates: list[str]):
    """The imputation step's rows for this endpoint and cell (None when the cell imputes nothing)."""
    if spec["missing"] != "multiple_imputation" or isinstance(wide, str):
        return None
    rows = _row_set(wide, spec["adjustment"], covariates)
    return imputations[(imputations["outcome"] == endpoint) & (imputations["rows"] == rows)]


def _ascites_row(wide, spec, settings, covariates, note, imputed=None) -> dict:
    endpoint, estimand = "ascites_disappearance", "risk ratio treatment / control"
    if isinstance(wide, str):
        return _row(spec, endpoint, estimand, note=wide)
    label = settings["week_label"]
    resolved_max = settings["ascites"]["resolved_max_grade"]
    try:
        result, used = _analyse(wide, label, "ratio", spec, settings, covariates, resolved_max=resolved_max,
                                imputed=imputed)
    except (NotEstimable, ValueError) as reason:
        return _row(spec, endpoint, estimand, note=str(reason))
    if spec["adjustment"] != "unadjusted":
        note = "; ".join(filter(None, [note, "parametric and non-parametric cells share this model"]))
    events = None if spec["missing"] == "multiple_imputation" else (used[label] <= resolved_max).astype(int)
    return _result_row(spec, endpoint, estimand, result, used, note, events=events)


#: results/sensitivity/imputations/<population>/window<window>.csv
IMPUTATION_COLUMNS = ["outcome", "rows", "imputation", "subject_id", "variable", "value"]


def imputation_table(data: dict[str, pd.DataFrame], population: str, settings: dict) -> pd.DataFrame:
    """Step `sensitivity_imputations`: for one population and window, every value chained equations
    impute, per endpoint and row set (`_row_set`), made once for all the multiple-imputation cells
    (tests x adjustments) that analyse them. Data with nothing to impute, or not imputable, have no
    rows: their cells say so themselves."""
    covariates, _ = available_covariates(data["subjects"], settings["covariates"], settings["covariate_selection"])
    try:
        subjects = select_population(data["subjects"], population, settings["week_first_day"],
                                     settings["min_infusions"])
    except NotEstimable:
        return pd.DataFrame(columns=IMPUTATION_COLUMNS)
    imp, parts = settings["imputation"], []
    for endpoint, wide in _outcome_tables(data, subjects, settings, covariates):
        if isinstance(wide, str):
            continue
        for rows in dict.fromkeys(_row_set(wide, a, covariates) for a in ("unadjusted", "multivariable")):
            prepared = _prepared(wide, rows == "with_covariates", covariates)
            if not prepared.isna().any().any():
                continue
            try:
                frame = _to_impute(prepared, settings["week_label"], covariates)
            except NotEstimable:
                continue
            copies = impute_chained(frame, imp["m"], imp["iterations"], imp["seed"])
            parts.append(imputed_values(frame, copies).assign(outcome=endpoint, rows=rows))
    return pd.concat(parts, ignore_index=True)[IMPUTATION_COLUMNS] if parts \
        else pd.DataFrame(columns=IMPUTATION_COLUMNS)


def read_imputations(path: Path | str) -> pd.DataFrame:
    """The imputation step's table, its values exactly as imputed (shortest round-trip decimals)."""
    return pd.read_csv(path, dtype={"outcome": str, "rows": str, "subject_id": str, "variable": str},
                       keep_default_na=False, na_values=[""], float_precision="round_trip")


def survival_cell(subjects: pd.DataFrame, spec: dict, settings: dict) -> list[dict]:
    """Death: hazard ratio treatment / control, censored at last contact (and transplant)
    or counting transplant as an event, over follow-up cut at the cell's horizon."""
    endpoint, estimand = "death", "hazard ratio treatment / control"
    covariates, lacking = available_covariates(subjects, settings["covariates"], settings["covariate_selection"])
    note = f"covariates not in this cohort: {', '.join(lacking)}" if lacking and spec["adjustment"] != "unadjusted" \
        else ""
    try:
        chosen = select_population(subjects, spec["population"], settings["week_first_day"],
                                   settings["min_infusions"])
        if spec["adjustment"] != "unadjusted":
            chosen = chosen.dropna(subset=covariates)
        times = death_times(chosen, spec["transplant"], int(spec["horizon_days"]))
        treated = (chosen["arm"] == "treatment").astype(int).to_numpy()
        if min(treated.sum(), (1 - treated).sum()) < 2:
            raise NotEstimable("fewer than 2 patients in an arm")
        terms = chosen[covariates].reset_index(drop=True) if spec["adjustment"] == "multivariable" else None
        weights = adj.propensity_weights(treated, chosen[covariates]) if spec["adjustment"] == "iptw" else None
        result = adj.hazard_ratio(times["day"], times["event"], treated, terms, weights, settings["level"])
        analysed = pd.DataFrame({"day": times["day"].to_numpy(float), "event": times["event"].to_numpy(int),
                                 "treated": treated, **{c: chosen[c].to_numpy(float) for c in covariates}})
        result = {**result, "data_sha256": data_fingerprint([analysed])}
    except (NotEstimable, ValueError) as reason:
        return [_row(spec, endpoint, estimand, note=str(reason))]
    used = pd.DataFrame({"treated": treated})
    return [_result_row(spec, endpoint, estimand, result, used, note, events=times["event"].to_numpy())]


#: results/sensitivity/covariate_balance.csv
BALANCE_COLUMNS = ["population", "covariate", "adjusted", "n", "smd_unweighted", "smd_weighted", "ess_treatment",
                   "ess_control", "weight_min", "weight_max"]


def effective_sample_size(weights) -> float:
    """Kish's effective sample size of weighted patients, (sum w)^2 / sum w^2."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / (w ** 2).sum())


def _weights_row(treated: np.ndarray, weights: np.ndarray | None) -> dict:
    if weights is None:
        return dict.fromkeys(BALANCE_COLUMNS[6:], float("nan"))
    return {"ess_treatment": effective_sample_size(weights[treated == 1]),
            "ess_control": effective_sample_size(weights[treated == 0]),
            "weight_min": float(weights.min()), "weight_max": float(weights.max())}


def _smd(treated: np.ndarray, column: pd.DataFrame, weights) -> float:
    """One covariate's (weighted) SMD; NaN when an arm has no value of it (nothing to compare)."""
    if min(treated.sum(), (1 - treated).sum()) == 0:
        return float("nan")
    return adj.standardised_differences(treated, column, weights)[column.columns[0]]


def balance(subjects: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Per population, every candidate covariate's standardised mean difference before and after
    IPT weighting on the adjusted ones (|SMD| < 0.1 reads as balanced), with the weights' effective
    sample size per arm and their range: how much weighting costs."""
    candidates, _ = available_covariates(subjects, settings["covariates"], {"rule": "all"})
    chosen, _ = available_covariates(subjects, settings["covariates"], settings["covariate_selection"])
    rows = []
    for population in settings["populations"]:
        try:
            members = select_population(subjects, population, settings["week_first_day"], settings["min_infusions"])
        except NotEstimable:
            continue
        members = members.dropna(subset=chosen)
        treated = (members["arm"] == "treatment").astype(int).to_numpy()
        if not candidates or min(treated.sum(), (1 - treated).sum()) < 2:
            continue
        try:  # a propensity model that separates the arms has no weights: the weighted SMD is not estimable
            weights = adj.propensity_weights(treated, members[chosen])
        except NotEstimable:
            weights = None
        for name in candidates:
            has = members[name].notna().to_numpy()
            before = _smd(treated[has], members.loc[has, [name]], None)
            after = float("nan") if weights is None else _smd(treated[has], members.loc[has, [name]], weights[has])
            rows.append({"population": population, "covariate": name, "adjusted": name in chosen,
                         "n": len(members), "smd_unweighted": before, "smd_weighted": after,
                         **_weights_row(treated, weights)})
    return pd.DataFrame(rows, columns=BALANCE_COLUMNS)


#: The columns of the datasets a cell reads (all of subjects.csv). labs.csv also holds units, days,
#: baselines and source rows: 448 MB at 100k subjects, which every cell parsed whole.
CELL_COLUMNS = {"subjects": None, "labs": ["subject_id", "test", "visit", "value"],
                "ascites": ["subject_id", "visit", "grade"]}


def _read_datasets(datasets_dir: Path | str) -> dict[str, pd.DataFrame]:
    """A cell's datasets, each file read once per process (the cells are threads of one process and
    only select from these tables, never change them)."""
    folder = Path(datasets_dir)
    return {name: _read_once(folder / f"{name}.csv", columns) for name, columns in CELL_COLUMNS.items()}


def _read_once(path: Path, columns: list[str] | None) -> pd.DataFrame:
    stat = path.stat()
    key = ("csv", str(path.resolve()), stat.st_mtime_ns, stat.st_size, tuple(columns or ()))
    return once(key, lambda: {"frame": read_csv(path, columns)})["frame"]


def write_primary_cell(datasets_dir, spec: dict, settings: dict, out_json, imputations_csv=None) -> None:
    """Step `sensitivity_primary`: one cell's rows, as JSON. It runs inside the Snakemake
    process (a `run:` block), so an error is raised, never turned into SystemExit."""
    data = _read_datasets(datasets_dir)
    imputations = None if imputations_csv is None else read_imputations(imputations_csv)
    write_json({"spec": spec, "rows": primary_cell(data, {"family": "primary", **spec}, settings, imputations)},
               out_json)


def write_imputations(datasets_dir, population: str, settings: dict, out_csv) -> None:
    """Step `sensitivity_imputations` (a `run:` block, as above)."""
    write_csv(imputation_table(_read_datasets(datasets_dir), population, settings), out_csv)


def write_survival_cell(subjects_csv, spec: dict, settings: dict, out_json) -> None:
    """Step `sensitivity_survival`: one cell's rows, as JSON (a `run:` block, as above)."""
    rows = survival_cell(read_csv(subjects_csv), {"family": "survival", **spec}, settings)
    write_json({"spec": spec, "rows": rows}, out_json)


@user_errors_exit
def write_balance(subjects_csv, settings: dict, out_csv) -> None:
    """Step `covariate_balance`."""
    write_csv(balance(read_csv(subjects_csv), settings), out_csv)


def reconstruction_rows(datasets_dir, settings: dict, primary: dict, seed: int) -> list[dict]:
    """The primary analysis on one reconstructed cohort (family ``reconstruction``)."""
    data = _read_datasets(datasets_dir)
    spec = {"family": "reconstruction", **primary, "seed": seed}
    return [*primary_cell(data, spec, settings), *survival_cell(data["subjects"], spec, settings)]


def _counts_risk_ratio(events_t: int, n_t: int, events_c: int, n_c: int, level: float) -> dict:
    treated = np.r_[np.ones(n_t), np.zeros(n_c)]
    events = np.r_[np.ones(events_t), np.zeros(n_t - events_t), np.ones(events_c), np.zeros(n_c - events_c)]
    return adj.risk_ratio(events, treated, level=level)


def _flip_points(grid: pd.DataFrame, significant: bool, alpha: float) -> dict:
    """Smallest shift of one arm (the other unshifted) that changes the conclusion."""
    out = {}
    for arm, other in (ARMS, ARMS[::-1]):
        line = grid[grid[f"shift_{other}"] == 0]
        flipped = line[(line["p"] < alpha) != significant]
        if flipped.empty:
            out[arm] = None
        else:
            out[arm] = float(flipped.loc[flipped[f"shift_{arm}"].abs().idxmin(), f"shift_{arm}"])
    return out


def robustness(endpoints: dict[str, dict], labs: pd.DataFrame, subjects: pd.DataFrame, settings: dict,
               shifts) -> tuple[dict, pd.DataFrame]:
    """Fragility indexes, E-values and the primary-visit MELD tipping-point grid."""
    level, alpha = settings["level"], 1 - settings["level"]
    out = {"fragility": {}, "e_values": {}, "tipping_point": {}}
    ascites = endpoints.get("ascites_resolution", {})
    if ascites.get("available"):
        r = ascites["results"]
        counts = (r["treatment"]["events"], r["treatment"]["n"], r["control"]["events"], r["control"]["n"])
        out["fragility"]["ascites_disappearance"] = {**rob.fragility_index(*counts, alpha=alpha), "counts": counts}
        if min(counts[0], counts[2]) > 0:
            rr = _counts_risk_ratio(*counts, level)
            out["e_values"]["ascites_disappearance"] = rob.e_value(rr["estimate"], rr["lower"], rr["upper"])
    survival = endpoints.get("survival", {})
    if survival.get("available"):
        r = survival["results"]
        counts = (r["treatment"]["deaths_within_horizon"], r["treatment"]["n"],
                  r["control"]["deaths_within_horizon"], r["control"]["n"])
        out["fragility"]["death_within_horizon"] = {**rob.fragility_index(*counts, alpha=alpha), "counts": counts}
        cox = [r["cox"].get(k) for k in ("hr", "lower", "upper")]
        if all(v is not None and 0 < v < np.inf for v in cox):
            # VanderWeele & Ding's rule: the outcome is common when over 15 % of the patients (both arms
            # together) have it by the end of follow-up; a rare outcome's hazard ratio is taken as a risk ratio.
            common = 1 - r["both_arms"]["at_horizon"]["surv"] > 0.15
            out["e_values"]["death_hazard_ratio"] = rob.e_value(*cox, kind="hr", common=common)
    complications = endpoints.get("complications", {})
    for event, result in (complications.get("results") or {}).items():
        if result.get("available", True) and min(result["treatment"]["events"], result["control"]["events"]) > 0:
            rr = _counts_risk_ratio(result["treatment"]["events"], result["treatment"]["n"],
                                    result["control"]["events"], result["control"]["n"], level)
            out["e_values"][event] = rob.e_value(rr["estimate"], rr["lower"], rr["upper"])
    grid, out["tipping_point"] = _tipping_point(labs, subjects, settings, np.asarray(shifts, float))
    return out, grid


def _tipping_point(labs, subjects, settings, shifts) -> tuple[pd.DataFrame, dict]:
    """Imputed primary-visit MELD (chained equations, all patients), shifted per arm, pooled."""
    columns = ["shift_treatment", "shift_control", "estimate", "lower", "upper", "p"]
    label, imp = settings["week_label"], settings["imputation"]
    records = labs[labs["test"] == DERIVED_TEST]
    if records.empty:
        return pd.DataFrame(columns=columns), {"available": False, "reason": "no MELD values in this cohort"}
    wide = _wide(records, subjects, "value", settings["visit_labels"], [])
    missing = wide[label].isna().to_numpy().astype(float)
    if not missing.any():
        return pd.DataFrame(columns=columns), {
            "available": False, "reason": f"no MELD value at {label} is missing: no shift of imputed values can "
                                          "change the result"}
    try:
        copies = impute_chained(wide, imp["m"], imp["iterations"], imp["seed"])
    except ValueError as exc:
        return pd.DataFrame(columns=columns), {"available": False, "reason": str(exc)}
    treated = wide["treated"].to_numpy()
    imputed = [(copy[label].to_numpy(), treated, missing) for copy in copies]
    def pool(estimates, variances):
        return rubin(estimates, variances, settings["level"], complete_df=len(wide) - 2)
    try:
        grid = pd.DataFrame(rob.tipping_point_grid(
            imputed, shifts, lambda t, c: adj.welch_difference(t, c, settings["level"]), pool), columns=columns)
    except NotEstimable as exc:
        return pd.DataFrame(columns=columns), {"available": False, "reason": str(exc)}
    alpha = 1 - settings["level"]
    at_zero = grid[(grid["shift_treatment"] == 0) & (grid["shift_control"] == 0)]
    significant = bool(at_zero["p"].iloc[0] < alpha) if len(at_zero) else None
    return grid, {"available": True, "outcome": f"MELD at {label}", "imputations": imp["m"],
                  "missing": {"treatment": int(missing[treated == 1].sum()),
                              "control": int(missing[treated == 0].sum())},
                  "significant_without_shift": significant,
                  "flip_at_shift": _flip_points(grid, significant, alpha) if significant is not None else None}


@user_errors_exit
def write_robustness(endpoint_jsons: list, datasets_dir, settings: dict, shifts, out_json, out_csv) -> None:
    """Step `robustness`."""
    endpoints = {Path(p).stem: json.loads(Path(p).read_text(encoding="utf-8")) for p in endpoint_jsons}
    data = _read_datasets(datasets_dir)
    result, grid = robustness(endpoints, data["labs"], data["subjects"], settings, shifts)
    write_json(result, out_json)
    write_csv(grid, out_csv)


def summarise(cell_files: list[Path | str], primary: dict, tests: dict[str, str]) -> pd.DataFrame:
    """All cells' rows, one per cell and endpoint, in a stable order; ``primary`` marks
    the cells made with the paper's own choices (the reference for all others), whose `test`
    is, per endpoint, the one in ``tests`` that runs its pre-specified test (settings.paper_tests)."""
    rows = []
    for path in cell_files:
        rows += json.loads(Path(path).read_text(encoding="utf-8"))["rows"]
    table = pd.DataFrame(rows, columns=ROW)
    is_primary = table["family"] != "reconstruction"
    for axis, value in primary.items():
        expected = table["endpoint"].map(tests).fillna(str(value)) if axis == "test" else str(value)
        is_primary &= table[axis].isna() | (table[axis] == expected)
    table["primary"] = is_primary
    keys = ["family", *AXES, "endpoint"]
    table = table.sort_values(keys, kind="stable", na_position="first").reset_index(drop=True)
    return table.assign(same_analysis_as=same_analysis_as(table))


def cell_label(row) -> str:
    """A cell as its axes name it: 'itt/complete_case/295-378/parametric/unadjusted'."""
    return "/".join(str(row[axis]) for axis in AXES if pd.notna(row[axis]))


def same_analysis_as(table: pd.DataFrame) -> pd.Series:
    """For each grid cell that repeats another's analysis (ANALYSIS_KEY), that cell's label (the
    primary cell where it is one of them, else the first); blank for the first of each analysis."""
    out = pd.Series("", index=table.index, dtype=object)
    grid = table[(table["family"] != "reconstruction") & table["data_sha256"].notna()]
    for _, cells in grid.groupby(ANALYSIS_KEY, sort=False, dropna=False):
        primary = cells.index[cells["primary"].astype(bool)]
        first = primary[0] if len(primary) else cells.index[0]
        out[cells.index.drop(first)] = cell_label(table.loc[first])
    return out


def grid_endpoints(settings: dict) -> list[str]:
    """The endpoints of the grid's rows, in the order the report lists them."""
    return [endpoint for endpoint, _ in _primary_endpoints(settings)] + ["death"]


def read_summary(path: Path | str) -> pd.DataFrame:
    """results/sensitivity/summary.csv, the axes as strings (730, not 730.0)."""
    return pd.read_csv(path, dtype={axis: str for axis in ("family", *AXES)}, keep_default_na=False,
                       na_values=[""])


def overview(summary: pd.DataFrame, level: float, order: list[str], focus: tuple[str, ...]) -> dict:
    """What the report says of the grid: per endpoint, the primary cell against the spread
    of all others and of the reconstruction seeds; per axis value, how the cells of the
    ``focus`` endpoints fare."""
    alpha = 1 - level
    endpoints = []
    for endpoint in [e for e in order if e in set(summary["endpoint"])]:
        rows = summary[summary["endpoint"] == endpoint]
        grid = rows[rows["family"] != "reconstruction"]
        estimable = grid[grid["estimate"].notna()]
        seeds = rows[(rows["family"] == "reconstruction") & rows["estimate"].notna()]
        primary = grid[grid["primary"].astype(bool)]
        null = 1.0 if "ratio" in rows["estimand"].iloc[0] else 0.0
        first = primary.iloc[0] if len(primary) else None
        same_side = (estimable["estimate"] - null) * ((first["estimate"] - null) if first is not None
                                                       and pd.notna(first["estimate"]) else 1) > 0
        endpoints.append({
            "endpoint": endpoint, "estimand": rows["estimand"].iloc[0], "cells": int(len(grid)),
            "primary_in_grid": first is not None,
            "estimable": int(len(estimable)),
            "distinct": int(len(estimable.drop_duplicates(ANALYSIS_KEY))),
            "primary": None if first is None or pd.isna(first["estimate"]) else first[
                ["estimate", "lower", "upper", "p"]].astype(float).to_dict(),
            "min": float(estimable["estimate"].min()) if len(estimable) else None,
            "max": float(estimable["estimate"].max()) if len(estimable) else None,
            "significant": int((estimable["p"] < alpha).sum()), "same_direction": int(same_side.sum()),
            "seeds": int(len(seeds)), "seed_min": float(seeds["estimate"].min()) if len(seeds) else None,
            "seed_max": float(seeds["estimate"].max()) if len(seeds) else None,
            "seed_significant": int((seeds["p"] < alpha).sum()),
            "flips": _flips(estimable, first, alpha)})
    families = summary.drop_duplicates(["family", *AXES])["family"].value_counts()
    return {"endpoints": endpoints, "by_axis": _by_axis(summary, alpha, focus),
            "cells": {k: int(v) for k, v in families.items()}, "identical_data": identical_data_axes(summary)}


def _flips(estimable: pd.DataFrame, primary, alpha: float) -> list[dict]:
    """The choices (axis value) under which every estimable cell reaches the other conclusion than
    the primary cell (significant where it is not, or not where it is): what a reader must be told."""
    if primary is None or pd.isna(primary["p"]):
        return []
    significant = bool(primary["p"] < alpha)
    flips = []
    for axis in AXES[:-1]:
        for value, cells in estimable.groupby(axis, sort=True):
            if (cells["p"] < alpha).eq(not significant).all():
                flips.append({"axis": axis, "value": value, "cells": int(len(cells)),
                              "significant": not significant})
    return flips


#: The axes that choose data, not method (on a given cohort their choices may give the same data),
#: as the report names them.
DATA_AXES = {"population": "population", "missing": "missing-data handling", "window_days": "primary-visit window",
             "transplant": "transplant handling", "horizon_days": "survival horizon"}


def identical_data_axes(summary: pd.DataFrame) -> list[str]:
    """The data axes whose choices all give identical data on this cohort: every pair of cells that
    differ only on the axis analysed the same data (everyone infused, so per protocol = ITT; no
    missing value, so every missing-data rule is the complete case; all windows hold the same values)."""
    grid = summary[(summary["family"] != "reconstruction") & summary["data_sha256"].notna()]
    found = []
    for axis in DATA_AXES:
        others = ["family", "endpoint", *[a for a in AXES if a != axis]]
        groups = [cells for _, cells in grid.groupby(others, dropna=False, sort=False) if cells[axis].nunique() > 1]
        if groups and all(cells["data_sha256"].nunique() == 1 for cells in groups):
            found.append(axis)
    return found


def _by_axis(summary: pd.DataFrame, alpha: float, focus: tuple[str, ...]) -> list[dict]:
    """Per axis value and ``focus`` endpoint, the median estimate and how many cells are significant;
    a choice none of whose cells could be estimated (a horizon with no deaths) is kept, with why."""
    by_axis = []
    for axis in AXES[:-1]:
        for value, rows in summary[summary["family"] != "reconstruction"].groupby(axis, sort=True):
            for endpoint in focus:
                cells = rows[rows["endpoint"] == endpoint]
                estimable = cells[cells["estimate"].notna()]
                if len(cells):
                    by_axis.append({"axis": axis, "value": value, "endpoint": endpoint, "cells": int(len(estimable)),
                                    "median": float(estimable["estimate"].median()) if len(estimable) else None,
                                    "significant": int((estimable["p"] < alpha).sum()),
                                    "not_estimable": int(len(cells) - len(estimable)),
                                    "why": "; ".join(sorted(set(cells.loc[cells["estimate"].isna(), "note"]
                                                                .dropna())))})
    return by_axis


@user_errors_exit
def write_summary(cell_files, primary: dict, tests: dict[str, str], out_csv) -> None:
    """Step `sensitivity_summary`."""
    write_csv(summarise(cell_files, primary, tests), out_csv)

