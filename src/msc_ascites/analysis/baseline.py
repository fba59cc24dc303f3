"""Table 1: baseline characteristics by arm, and the patient flow.

The study was not randomised, so Table 1 reports standardised mean
differences beside the p-values: balance, not significance, is the question.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from tableone import TableOne

from ..data.labels import variable_label
from ..data.visits import visits_from_config
from ..outputs import read_csv, write_csv, write_json
from ..stats.comparisons import signif


def table_one(adsl: pd.DataFrame, arms: dict, continuous: list[str], categorical: list[str],
              skewed: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Table 1 as a flat frame (variable, level, one column per arm, p, SMD) and the
    variables left out because the cohort has no value for them."""
    present = [c for c in continuous + categorical if c in adsl and adsl[c].notna().any()]
    left_out = [c for c in continuous + categorical if c not in present]
    data = adsl[["arm", *present]].copy()
    order = list(arms)  # treatment first, then control
    data["arm"] = pd.Categorical(data["arm"].map(lambda a: arms[a]["label"]),
                                 categories=[arms[a]["label"] for a in order])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = TableOne(data, columns=present, categorical=[c for c in categorical if c in present],
                         continuous=[c for c in continuous if c in present],
                         nonnormal=[c for c in skewed if c in present], groupby="arm", pval=True,
                         htest={c: kruskal_wallis for c in skewed if c in present},
                         smd=True, htest_name=True, overall=False, missing=True,
                         rename={c: variable_label(c) for c in present}, decimals=2,
                         order={"arm": [arms[a]["label"] for a in order]})
    flat = table.tableone.copy()
    flat.columns = [col[-1] if isinstance(col, tuple) else col for col in flat.columns]
    flat = flat.reset_index()
    flat.columns = ["variable", "level", *flat.columns[2:]]
    flat = flat.rename(columns=lambda c: "SMD" if str(c).startswith("SMD") else c)
    flat = flat.rename(columns={"P-Value": "p", "Test": "test"})
    return flat, left_out


def kruskal_wallis(*groups) -> float:
    """Kruskal-Wallis p of a skewed variable, as R's kruskal.test on the values at 7
    significant digits (R's digits.rank = 7 of wilcox.test), so a unit conversion never
    makes or breaks a tie. NaN, as tableone leaves it, when an arm has no value."""
    groups = [signif(np.asarray(g, dtype=float)) for g in groups]
    if min(len(g) for g in groups) == 0 or len(np.unique(np.concatenate(groups))) < 2:
        return float("nan")
    return float(stats.kruskal(*groups).pvalue)


kruskal_wallis.__name__ = "Kruskal-Wallis"


def patient_flow(adsl: pd.DataFrame, labs: pd.DataFrame, primary_week: int, horizon_days: int,
                 arms: dict, visit_labels: list[str], endpoints: dict) -> dict:
    """Counts for a CONSORT-style flow, per arm, from the analysis datasets: enrolled, infused (not
    applicable to the control arm, the second of ``arms``), seen at each visit (any lab
    value), died, transplanted, withdrawn, and analysed per endpoint (``endpoints``: their results)."""
    at_week = labs[(labs["test"] == "MELD") & (labs["week"] == primary_week)]
    with_week = set(at_week["subject_id"])
    treated = next(iter(arms))
    flow = []
    for arm in arms:
        rows = adsl[adsl["arm"] == arm]
        died = rows["death"].eq(1) & (rows["death_day"] <= horizon_days)
        followed = ~died & (rows["last_contact_day"] >= horizon_days)
        infused = int((rows["n_infusions"] > 0).sum()) if "n_infusions" in rows else None
        flow.append({
            "arm": arm,
            "label": arms[arm]["label"],
            "enrolled": int(len(rows)),
            "infused": infused,
            "infusion_applicable": arm == treated,
            "with_primary_meld": int(rows["subject_id"].isin(with_week).sum()),
            "died_within_horizon": int(died.sum()),
            "followed_to_horizon_alive": int(followed.sum()),
            "lost_before_horizon": int((~died & ~followed).sum()),
            **_follow_up(rows, labs, visit_labels),
        })
    return {"primary_week": primary_week, "horizon_days": horizon_days, "arms": flow, "visits": visit_labels,
            "analysed": analysed_per_endpoint(endpoints, list(arms), primary_week)}


def _follow_up(rows: pd.DataFrame, labs: pd.DataFrame, visit_labels: list[str]) -> dict:
    """Patients seen at each visit (a lab value in its window; in the order of ``visit_labels``),
    and how follow-up ended."""
    seen = labs[labs["subject_id"].isin(rows["subject_id"])].groupby("visit")["subject_id"].nunique()
    return {"at_visit": [int(seen.get(label, 0)) for label in visit_labels],
            "died": int(rows["death"].sum()),
            "transplanted": int(rows["transplant"].sum()) if "transplant" in rows else None,
            "withdrawn": int(rows["withdrawal"].sum())}


def _n_at(result: dict, *path: str):
    node = result.get("results", {})
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def analysed_per_endpoint(endpoints: dict, arms: list[str], primary_week: int) -> list[dict]:
    """Patients each endpoint's comparison used, per arm (None: the endpoint is not available)."""
    where = {"meld": (f"MELD at week {primary_week}", ("primary", "{arm}", "n")),
             "survival": ("Survival", ("{arm}", "n")),
             "ascites_resolution": (f"Ascites at week {primary_week}", ("{arm}", "n")),
             "paracentesis": ("Paracentesis", ("patients_with_any", "{arm}", "n")),
             "adverse_events": ("Adverse events", ("n", "{arm}"))}
    rows = []
    for name, result in endpoints.items():
        if name == "liver_function":
            tests = [(f"{test} at week {primary_week}", (test, "primary", "describe", "{arm}", "n"))
                     for test in result.get("results", {})]
        elif name == "complications":
            tests = [(f"{event}", (event, "{arm}", "n")) for event in result.get("results", {})]
        else:
            tests = [where[name]] if name in where else []
        for label, path in tests:
            rows.append({"endpoint": name, "what": label, **{
                arm: _n_at(result, *(p.format(arm=arm) for p in path)) if result.get("available") else None
                for arm in arms}})
    return rows


def write_table_one(subjects_path, arms: dict, spec: dict, table_path, notes_path) -> None:
    """Step `table_one`."""
    table, left_out = table_one(read_csv(subjects_path), arms, spec["continuous"], spec["categorical"],
                                spec["skewed"])
    write_csv(table, table_path)
    write_json({"not_available": {variable_label(name): "no value in this cohort" for name in left_out},
                "skewed": [variable_label(name) for name in spec["skewed"]]}, notes_path)


def write_patient_flow(subjects_path, labs_path, arms: dict, primary_week: int, horizon_days: int,
                       out_path, visits: dict, endpoint_paths: list) -> None:
    """Step `patient_flow` (``visits``: the config's analysis visits; ``endpoint_paths``: their results)."""
    labels = [v.label for v in visits_from_config(visits)]
    endpoints = {Path(p).stem: json.loads(Path(p).read_text(encoding="utf-8")) for p in endpoint_paths}
    write_json(patient_flow(read_csv(subjects_path), read_csv(labs_path), primary_week, horizon_days, arms,
                            labels, endpoints), out_path)
