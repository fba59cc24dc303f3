"""The estimands (ICH E9(R1)) of the endpoints as this workflow analyses them: population, variable,
intercurrent events with the strategy for each, and summary measure, derived from the configuration
and the endpoint results, so the table is true of whatever cohort was given."""

from __future__ import annotations

from ..products import TESTS

#: How each grid axis departs from the estimands (the report's words).
DEPARTURES = {
    "populations": "population: the per-protocol set instead of all enrolled",
    "missing": "missed visits: last observation carried forward or multiple imputation (a hypothetical "
               "strategy) instead of complete case",
    "primary_windows": "variable: other windows for the primary visit's value",
    "tests": "summary measure: rank-based (Hodges-Lehmann shift, median regression; Fisher's exact test of "
             "the risk ratio) instead of means",
    "adjustments": "summary measure: conditional (multivariable model) or marginal (IPTW) effects instead of "
                   "unadjusted ones",
    "transplant": "intercurrent event transplant: composite (counted as death) instead of hypothetical (censored)",
    "horizons_days": "variable: other time frames for survival",
}


#: The effects every binary endpoint reports: the risk difference in the text and tables, the risk
#: ratio beside it (the forest plot), which is what the sensitivity grid and the E-values estimate.
BINARY_EFFECTS = "risk difference, treatment minus control, with the risk ratio (Katz interval)"


def _measure(result: dict, node: dict | None, effect: str) -> str:
    chosen = (node or result["results"]).get("primary_test")
    return f"{effect}; {TESTS[chosen['test']].name}" if chosen else effect


def _mean_effect(result: dict, node: dict | None) -> str:
    test = ((node or result["results"]).get("primary_test") or {}).get("test")
    effect = {"ancova": "difference in means adjusted for baseline", "mann_whitney": "location shift"}.get(
        test, "difference in means")
    return _measure(result, node, f"{effect}, treatment minus control")


def _lab_row(result: dict, node: dict | None, week: int, ends: str, variable: str) -> dict:
    return {"population": f"all enrolled with a baseline and a week-{week} value",
            "variable": f"{variable} at week {week}",
            "intercurrent": [(f"{ends} before week {week}", f"while alive: no week-{week} value, not analysed"),
                             (f"missed week-{week} visit", "complete case: not analysed")],
            "measure": _mean_effect(result, node)}


def _survival_row(result: dict, ends: list[str], horizon: int) -> dict:
    transplant = result["parameters"]["transplant"]
    strategy = ("hypothetical: censored at the event" if transplant == "censor"
                else "composite: counted as an event")
    truncated = result["parameters"]["truncate_at_horizon"]
    return {"population": "all enrolled",
            "variable": "days from enrollment to death" + (f", censored at day {horizon}" if truncated else ""),
            "intercurrent": [*((code, strategy) for code in ends),
                             ("end of follow-up alive", "censored at last contact (assumed non-informative)")],
            "measure": _measure(result, None, "hazard ratio (Cox); restricted mean survival difference to "
                                              f"day {horizon}")}


def estimands(endpoints: dict, config: dict, words: dict) -> list[dict]:
    """One row per available efficacy endpoint (adverse events are safety counts, not an estimand)."""
    analysis, spec = config["analysis"], config["endpoints"]
    week, horizon, death = analysis["primary_week"], analysis["horizon_days"], analysis["death_event"]
    ends = [death, *analysis.get("competing_events", [])]
    rows = {}
    for name, result in endpoints.items():
        if not result.get("available"):
            continue
        if name == "liver_function":
            first = next(iter(result["results"].values()))["primary"]
            rows[name] = _lab_row(result, first, week, " or ".join(ends), "each lab test's value")
        elif name == "meld":
            rows[name] = _lab_row(result, result["results"]["primary"], week, " or ".join(ends), "MELD")
        elif name == "survival":
            rows[name] = _survival_row(result, analysis.get("competing_events", []), horizon)
        elif name == "ascites_resolution":
            a = spec["ascites_resolution"]
            rows[name] = {"population": f"all enrolled with ascites grade {a['baseline_min_grade']} or more at "
                                        "baseline",
                          "variable": f"ascites grade {a['resolved_max_grade']} or less at week {week}",
                          "intercurrent": [(f"{' or '.join(ends)} before week {week}", "composite: not resolved"),
                                           (f"missed week-{week} assessment", "counted as not resolved")],
                          "measure": _measure(result, None, BINARY_EFFECTS)}
        elif name == "paracentesis":
            rows[name] = {"population": "all enrolled", "variable": f"large-volume paracenteses to day {horizon}",
                          "intercurrent": [(death, "while alive: follow-up ends at death, rate per patient-year")],
                          "measure": _measure(result, None, "rate ratio, treatment over control")}
        elif name == "complications":
            first = next((n for n in result["results"].values() if "primary_test" in n), None)
            rows[name] = {"population": "all enrolled", "variable": f"a first episode of each event to day {horizon}",
                          "intercurrent": [(death, "competing risk (cumulative incidence, Aalen-Johansen); in the "
                                                   "counts, a death without the event counts as without it")],
                          "measure": _measure(result, first, BINARY_EFFECTS)}
    return [{"endpoint": words[name], **row} for name, row in rows.items()]


def departures(grid: dict) -> list[str]:
    """The grid's axes that vary (more than one value), as departures from the estimands."""
    return [text for axis, text in DEPARTURES.items() if len(grid.get(axis) or []) > 1]
