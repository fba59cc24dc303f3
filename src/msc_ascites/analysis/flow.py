"""The CONSORT-style flow of patients: enrolled, infused, seen at each visit, how follow-up ended,
and how many each endpoint analysed. Apart from Table 1 (baseline.py) because it needs no statistics:
its job imports pandas only."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..data.contract import DERIVED_TEST
from ..data.visits import visits_from_config
from ..outputs import read_csv, write_json


def patient_flow(adsl: pd.DataFrame, labs: pd.DataFrame, primary_week: int, horizon_days: int,
                 arms: dict, visit_labels: list[str], endpoints: dict) -> dict:
    """Counts for a CONSORT-style flow, per arm, from the analysis datasets: enrolled, infused (not
    applicable to the control arm, the second of ``arms``), seen at each visit (any lab
    value), died, transplanted, withdrawn, and analysed per endpoint (``endpoints``: their results)."""
    at_week = labs[(labs["test"] == DERIVED_TEST) & (labs["week"] == primary_week)]
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


def write_patient_flow(subjects_path, labs_path, arms: dict, primary_week: int, horizon_days: int,
                       out_path, visits: dict, endpoint_paths: list) -> None:
    """Step `patient_flow` (``visits``: the config's analysis visits; ``endpoint_paths``: their results)."""
    labels = [v.label for v in visits_from_config(visits)]
    endpoints = {Path(p).stem: json.loads(Path(p).read_text(encoding="utf-8")) for p in endpoint_paths}
    labs = read_csv(labs_path, ["subject_id", "test", "week", "visit"])  # all patient_flow reads of it
    write_json(patient_flow(read_csv(subjects_path), labs, primary_week, horizon_days, arms,
                            labels, endpoints), out_path)
