"""The paper's endpoints, each computed from the analysis datasets.

Every endpoint returns a result dict (written to results/endpoints/<name>.json)
and a readable table (the .csv beside it). A result says what was computed
(`definition`, `parameters`), on whom (`n`, `inputs`: the subjects and rows
used) and the numbers (`results`). When the cohort lacks what an endpoint
needs, the result is ``available: false`` with the reason: never a crash, never
silently absent. Addresses like ``meld:primary.treatment.mean`` name a number
inside ``results`` (see `lookup`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.contract import ARMS, DERIVED_TEST
from ..data.units import LAB_NAMES
from ..data import meld as meld_scores
from ..errors import NotEstimable, user_errors_exit
from ..outputs import read_csv, write_csv, write_json
from ..products import ENDPOINTS, TESTS, step
from ..stats import comparisons as cmp
from ..stats import competing as competing_risks
from ..stats import survival as surv

DAYS_PER_YEAR = 365.25


class NotAvailable(Exception):
    """The cohort lacks a table or a test this endpoint needs."""


def _percent(events: int, n: int) -> float | None:
    return 100.0 * events / n if n else None


def _by_arm(frame: pd.DataFrame, column: str = "arm") -> dict[str, pd.DataFrame]:
    return {arm: frame[frame[column] == arm] for arm in ARMS}


#: The key of the primary visit's comparisons in a result (``meld:primary.treatment.mean``), whatever
#: week the configuration makes primary.
PRIMARY = "primary"


def _visit_rows(labs: pd.DataFrame, test: str) -> list[dict]:
    """Per visit and arm, treatment first: n, mean, SD, median, IQR of the value, mean change."""
    rows = []
    data = labs[labs["test"] == test]
    for (week, visit, arm), group in data.groupby(["week", "visit", "arm"], sort=True):
        value = cmp.describe(group["value"])
        change = cmp.describe(group["change"])
        rows.append({"test": test, "visit": visit, "week": int(week), "arm": arm, **value,
                     "mean_change": change.get("mean"), "sd_change": change.get("sd")})
    return sorted(rows, key=lambda row: (row["week"], ARMS.index(row["arm"])))


def _between_arms(at_week: pd.DataFrame, level: float, log_scale: bool) -> tuple[dict, dict]:
    """Arms compared at the week (t-tests, Mann-Whitney) and the ANCOVA on baseline; a skewed test on
    the log scale, read back as ratios of geometric means. A value of 0 or below has no logarithm."""
    if log_scale:
        if (at_week[["value", "baseline"]] <= 0).any().any():
            reason = {"available": False, "reason": "a value of 0 or below has no logarithm (log_scale)"}
            return reason, reason
        at_week = at_week.assign(value=np.log(at_week["value"]), baseline=np.log(at_week["baseline"]))
    arms = _by_arm(at_week)
    between = cmp.two_sample_tests(arms["treatment"]["value"], arms["control"]["value"], level)
    adjusted = cmp.ancova(at_week.assign(treated=(at_week["arm"] == "treatment").astype(int)), level)
    return cmp.back_transformed(between, adjusted) if log_scale else (between, adjusted)


def _compare_at_week(labs: pd.DataFrame, test: str, week: int, level: float, log_scale: bool = False) -> dict:
    """Within arms (week vs baseline, paired) and between arms at ``week`` (+ ANCOVA)."""
    data = labs[(labs["test"] == test)]
    at_week = data[data["week"] == week]
    within = {}
    for arm, rows in _by_arm(at_week).items():
        within[arm] = {**cmp.paired_tests(rows["baseline"], rows["value"], level),
                       "subjects": sorted(rows.dropna(subset=["baseline", "value"])["subject_id"])}
    arms = _by_arm(at_week)
    between, adjusted = _between_arms(at_week, level, log_scale)
    change = cmp.two_sample_tests(arms["treatment"]["change"], arms["control"]["change"], level)
    return {"within": within, "between": between, "between_change": change, "ancova": adjusted,
            "describe": {arm: cmp.describe(rows["value"]) for arm, rows in arms.items()},
            "describe_baseline": {arm: cmp.describe(rows["baseline"]) for arm, rows in arms.items()}}


def liver_function(labs: pd.DataFrame, tests: list[str], week: int, level: float,
                   log_scale: list[str] = ()) -> tuple[dict, pd.DataFrame]:
    logged = [test for test in tests if test in log_scale and (labs["test"] == test).any()]
    definition = (f"Value at each analysis visit and change from baseline; week {week} against baseline within "
                  f"each arm (paired t-test, Wilcoxon signed-rank); arms at week {week} (Student and Welch t, "
                  f"Mann-Whitney) and ANCOVA of the week-{week} value on arm adjusted for baseline"
                  + (f"; {', '.join(logged)} (skewed) compared on the log scale, as ratios of geometric means"
                     if logged else "") + ".")
    results, rows, missing = {}, [], {}
    for test in tests:
        if not (labs["test"] == test).any():
            missing[test] = f"no {test} values in this cohort"
            continue
        results[test] = {"name": LAB_NAMES.get(test, test),
                         "unit": str(labs.loc[labs["test"] == test, "unit"].iloc[0]),
                         PRIMARY: _compare_at_week(labs, test, week, level, test in log_scale)}
        rows += _visit_rows(labs, test)
    if not results:
        raise NotAvailable("none of the configured lab tests is in this cohort: " + ", ".join(tests))
    return ({"definition": definition, "parameters": {"tests": tests, "week": week, "log_scale": list(log_scale)},
             "results": results, "not_available": missing}, pd.DataFrame(rows))


def meld(labs: pd.DataFrame, week: int, score: str, level: float) -> tuple[dict, pd.DataFrame]:
    data = labs[labs["test"] == DERIVED_TEST]
    if data.empty:
        raise NotAvailable("MELD needs total bilirubin, INR and creatinine at the same visit; "
                           "this cohort has no visit with all three")
    definition = (f"{score} = {meld_scores.FORMULA}, values below 1 set to 1, creatinine capped at "
                  f"{meld_scores.CREATININE_CAP_MG_DL:g} mg/dL"
                  + (f"; MELD-Na adds {meld_scores.SODIUM_FORMULA}"
                     if score == "MELD-Na" else "")
                  + f". Baseline and week {week} by arm; arms compared with Student and Welch t-tests and "
                    "Mann-Whitney; within arms with the paired t-test and Wilcoxon.")
    compared = _compare_at_week(labs, DERIVED_TEST, week, level)
    at_week = data[data["week"] == week]
    results = {
        PRIMARY: {**{arm: compared["describe"][arm] for arm in ARMS},
                            "student_t": compared["between"].get("student_t"),
                            "welch_t": compared["between"].get("welch_t"),
                            "mann_whitney": compared["between"].get("mann_whitney"),
                            "difference": compared["between"].get("difference"),
                            "ancova": compared["ancova"]},
        "baseline": {arm: compared["describe_baseline"][arm] for arm in ARMS},
        "within": compared["within"],
        "change": compared["between_change"],
    }
    inputs = {"subjects": {arm: sorted(rows["subject_id"]) for arm, rows in _by_arm(at_week).items()},
              "source_rows": dict(zip(at_week["subject_id"], at_week["source_rows"]))}
    return ({"definition": definition, "parameters": {"week": week, "score": score},
             "results": results, "inputs": inputs}, pd.DataFrame(_visit_rows(labs, DERIVED_TEST)))


def death_times(subjects: pd.DataFrame, transplant: str, horizon: int | None) -> pd.DataFrame:
    """Days to death (or death or a competing event), censored at last contact, the first competing
    event (ADSL's ``competing_day``: the configured ``analysis.competing_events``) or the horizon."""
    death = subjects["death_day"]
    end = subjects["last_contact_day"].astype(float)
    event = death.notna()
    day = death.where(event, end)
    if "competing_day" in subjects:
        graft = subjects["competing_day"]
        first = graft.notna() & (~event | (graft < death))
        day = day.where(~first, graft)
        event = (event & ~first) | (first & (transplant == "event"))
    out = pd.DataFrame({"subject_id": subjects["subject_id"], "arm": subjects["arm"], "day": day.astype(float),
                        "event": event.astype(int)})
    if horizon is not None:
        late = out["day"] > horizon
        out.loc[late, "event"] = 0
        out.loc[late, "day"] = float(horizon)
    return out


def _landmark(at: dict, day: int) -> dict:
    """One landmark row: the estimate at ``day`` without the repeated time."""
    return {"day": int(day), **{key: value for key, value in at.items() if key != "time"}}


def _km_curves(times: pd.DataFrame, level: float) -> pd.DataFrame:
    """The KM step table of each arm, with log-scale CI, for figures and the CSV."""
    frames = []
    z = surv._z(level)
    for arm, rows in _by_arm(times).items():
        table = surv.kaplan_meier(rows["day"], rows["event"])
        half = z * np.sqrt(table["var_log"])
        table["lower"] = table["surv"] * np.exp(-half)
        table["upper"] = np.minimum(1.0, table["surv"] * np.exp(half))
        table.insert(0, "arm", arm)
        frames.append(table.drop(columns="var_log"))
    return pd.concat(frames, ignore_index=True)


def _competing_words(competing: list[str], transplant: str) -> str:
    """The sentence on what the competing events do to survival's follow-up."""
    if not competing:
        return "No competing event ends follow-up."
    return (f"A first {' or '.join(competing)} event is {'censored' if transplant == 'censor' else 'counted as an event'}"
            ".")


def _cox_of_arms(times: pd.DataFrame, level: float, primary_test: str) -> dict:
    """Treatment vs control hazard ratio with the interval that goes with the primary test: the Wald
    interval for the Wald test, else the profile-likelihood one (the likelihood-ratio test's, which
    with few events is the better of the two). Both are kept."""
    cox = surv.cox_hazard_ratio(times.assign(treated=(times["arm"] == "treatment").astype(int)),
                                "day", "event", ["treated"], level)
    if not cox["available"]:
        return cox
    treated = cox["covariates"]["treated"]
    profile = treated.pop("profile")
    interval = "wald" if primary_test == "cox_wald" else "profile"
    return {**treated, "wald_lower": treated["lower"], "wald_upper": treated["upper"], "wald_p": treated["p"],
            "profile_lower": profile["lower"], "profile_upper": profile["upper"], "interval": interval,
            **({} if interval == "wald" else {"lower": profile["lower"], "upper": profile["upper"]}),
            "lr_chi2": cox["lr_chi2"], "lr_p": cox["lr_p"], "events": cox["events"]}


def survival(subjects: pd.DataFrame, horizon: int, transplant: str, truncate: bool,
             level: float, landmarks: list[int] | None = None,
             competing: list[str] | None = None, primary_test: str = "logrank") -> tuple[dict, pd.DataFrame]:
    times = death_times(subjects, transplant, horizon if truncate else None)
    full = death_times(subjects, transplant, None)
    marks = ", ".join(str(day) for day in (landmarks or [horizon]))
    definition = (f"Overall survival from enrollment: Kaplan-Meier by arm, survival at {horizon} days (Greenwood "
                  "variance, log-scale CI as R survival's default), log-rank test"
                  + (f" over follow-up cut at {horizon} days" if truncate else "")
                  + ", Cox hazard ratio treatment vs control (Efron ties) with its "
                  + ("Wald" if primary_test == "cox_wald" else "profile-likelihood")
                  + f" interval, difference of restricted mean survival times to {horizon} days. Pre-specified "
                  f"test: {TESTS[primary_test].name}. {_competing_words(competing, transplant)} "
                  "Survival with its standard error "
                  f"and CI, n at risk and deaths so far at day {marks} (as R's summary(fit, times, extend = TRUE)); "
                  "deaths counted within the horizon and over the whole follow-up; the difference in the "
                  "proportions who died within the horizon with Newcombe's CI.")
    results = {}
    for arm, rows in _by_arm(full).items():
        table = surv.kaplan_meier(rows["day"], rows["event"])
        at = surv.survival_at(table, horizon, level)
        results[arm] = {"n": int(len(rows)), "deaths_within_horizon": at["n_event"],
                        "deaths_total": int(rows["event"].sum()),
                        "landmarks": [_landmark(surv.survival_at(table, day, level), day)
                                      for day in (landmarks or [horizon])],
                        "at_horizon": {**at, "percent": 100 * at["surv"]},
                        "median": surv.median_survival(table, level), "rmst": surv.rmst(table, horizon),
                        "risk_table": competing_risks.risk_table(table, competing_risks.risk_table_days(horizon))
                        .to_dict("records")}
    results["both_arms"] = {"at_horizon": surv.survival_at(surv.kaplan_meier(full["day"], full["event"]), horizon,
                                                           level)}
    results["logrank"] = surv.logrank(times["day"], times["event"], times["arm"])
    results["cox"] = _cox_of_arms(times, level, primary_test)
    results["rmst_difference"] = surv.rmst_difference(results["treatment"]["rmst"], results["control"]["rmst"],
                                                      level)
    deaths = [results[arm][key] for arm in ARMS for key in ("deaths_within_horizon", "n")]
    results["risk_difference"] = cmp.proportions(*deaths, level)["risk_difference"]
    inputs = {"deaths": {arm: sorted(rows.loc[rows["event"] == 1, "subject_id"]) for arm, rows in
                         _by_arm(times).items()}}
    return ({"definition": definition, "parameters": {"horizon_days": horizon, "transplant": transplant,
                                                      "competing_events": list(competing or []),
                                                      "truncate_at_horizon": truncate},
             "results": results, "inputs": inputs}, _km_curves(full, level))


def ascites_resolution(ascites: pd.DataFrame, subjects: pd.DataFrame, week: int, baseline_min: int,
                       resolved_max: int, level: float) -> tuple[dict, pd.DataFrame]:
    if ascites.empty:
        raise NotAvailable("the cohort has no ascites assessments (ascites.csv)")
    base = ascites[ascites["week"] == 0].set_index("subject_id")["grade"]
    at_week = ascites[ascites["week"] == week].set_index("subject_id")["grade"]
    table = subjects[["subject_id", "arm"]].copy()
    table["baseline_grade"] = table["subject_id"].map(base)
    table[f"week{week}_grade"] = table["subject_id"].map(at_week)
    table = table[table["baseline_grade"] >= baseline_min].copy()
    table["resolved"] = (table[f"week{week}_grade"] <= resolved_max).astype(int)
    counts = {arm: (int(rows["resolved"].sum()), int(len(rows))) for arm, rows in _by_arm(table).items()}
    if min(n for _, n in counts.values()) == 0:
        raise NotAvailable("an arm has no patient with ascites at baseline")
    compared = cmp.proportions(*counts["treatment"], *counts["control"], level)
    for arm in ARMS:
        compared[arm]["percent"] = 100 * compared[arm]["proportion"]
    definition = (f"Disappearance of ascites: grade >= {baseline_min} at baseline and grade <= {resolved_max} at "
                  f"the week-{week} assessment; patients without that assessment count as not resolved. "
                  "Fisher's exact test (chi-square with and without Yates' correction as alternatives); risk "
                  "difference with Newcombe's CI.")
    inputs = {"resolved": {arm: sorted(rows.loc[rows["resolved"] == 1, "subject_id"]) for arm, rows in
                           _by_arm(table).items()},
              "missing_week_assessment": sorted(table.loc[table[f"week{week}_grade"].isna(), "subject_id"])}
    return ({"definition": definition, "parameters": {"week": week, "baseline_min_grade": baseline_min,
                                                      "resolved_max_grade": resolved_max},
             "results": compared, "inputs": inputs}, table.reset_index(drop=True))


def paracentesis(procedures: pd.DataFrame, subjects: pd.DataFrame, time_to_event: pd.DataFrame,
                 horizon: int, level: float) -> tuple[dict, pd.DataFrame]:
    within = procedures[(procedures["study_day"] >= 0) & (procedures["study_day"] <= horizon)]
    per = subjects[["subject_id", "arm"]].copy()
    per["procedures"] = per["subject_id"].map(within.groupby("subject_id").size()).fillna(0).astype(int)
    per["years"] = np.minimum(subjects["last_contact_day"].clip(lower=1), horizon) / DAYS_PER_YEAR
    arms = _by_arm(per)
    any_counts = {arm: (int((rows["procedures"] > 0).sum()), int(len(rows))) for arm, rows in arms.items()}
    results = {"patients_with_any": cmp.proportions(*any_counts["treatment"], *any_counts["control"], level)}
    for arm, rows in arms.items():
        results[arm] = {"procedures": int(rows["procedures"].sum()), "patient_years": float(rows["years"].sum()),
                        "rate_per_patient_year": float(rows["procedures"].sum() / rows["years"].sum()),
                        "per_patient": cmp.describe(rows["procedures"])}
    results["rate_ratio"] = cmp.rate_ratio(per["procedures"], per["years"], per["arm"] == "treatment", level)
    first = time_to_event[time_to_event["endpoint"] == "PARACENTESIS"]
    first = first.assign(event=(first["status"] == 1).astype(int))
    first.loc[first["day"] > horizon, ["event", "day"]] = [0, horizon]
    results["time_to_first"] = {"logrank": surv.logrank(first["day"], first["event"], first["arm"]),
                                **{arm: surv.survival_at(surv.kaplan_meier(rows["day"], rows["event"]), horizon,
                                                         level) for arm, rows in _by_arm(first).items()}}
    definition = (f"Large-volume paracenteses within {horizon} days: patients with at least one (Fisher), "
                  "procedures per patient, rate per patient-year with rate ratios from Poisson and negative "
                  "binomial regression (offset log follow-up), and time to first paracentesis (Kaplan-Meier, "
                  "log-rank; death censors).")
    return ({"definition": definition, "parameters": {"horizon_days": horizon}, "results": results},
            per.reset_index(drop=True))


def curve_grid(horizon: int, last: int, event_days=()) -> list[int]:
    """Days of the cumulative-incidence table: every 30 days, the horizon, the last follow-up day, and
    the days of the arm's events (so the curve drawn steps where the incidence does)."""
    return sorted({0, *range(30, max(horizon, last) + 1, 30), horizon, last, *(int(d) for d in event_days)})


def gray(rows: pd.DataFrame) -> dict:
    """Gray's test of the arms' cumulative incidence within the horizon (death competing), or why not."""
    try:
        return {"available": True, **competing_risks.gray_test(rows["day"], rows["status"], rows["arm"])}
    except NotEstimable as error:
        return {"available": False, "reason": str(error)}


def complications(time_to_event: pd.DataFrame, events: list[str], horizon: int, level: float,
                  landmarks: list[int] | None = None, deaths_collected: bool = True) -> tuple[dict, pd.DataFrame]:
    """First episodes and cumulative incidence; death competes only where the cohort recorded deaths."""
    results, curves = {}, []
    last = int(time_to_event["day"].max()) if len(time_to_event) else horizon
    for event in events:
        rows = time_to_event[time_to_event["endpoint"] == event].copy()
        if rows.empty:
            results[event] = {"available": False, "reason": f"no {event} endpoint in the datasets"}
            continue
        whole = _by_arm(rows.copy())
        rows.loc[rows["day"] > horizon, ["status", "day"]] = [0, horizon]
        counts = {arm: (int((g["status"] == 1).sum()), int(len(g))) for arm, g in _by_arm(rows).items()}
        compared = cmp.proportions(*counts["treatment"], *counts["control"], level)
        for arm in ARMS:
            compared[arm]["percent"] = 100 * compared[arm]["proportion"]
            # Over the whole follow-up: up to the horizon the same as cut at it (the same risk sets).
            days = curve_grid(horizon, last, whole[arm].loc[whole[arm]["status"] != 0, "day"])
            cif = surv.cumulative_incidence(whole[arm]["day"], whole[arm]["status"], 1, days, level)
            compared[arm]["cumulative_incidence_at_horizon"] = float(cif.loc[cif["time"] == horizon, "cif"].iloc[0])
            curves.append(cif.assign(event=event, arm=arm))
            marks = surv.cumulative_incidence(whole[arm]["day"], whole[arm]["status"], 1, landmarks or [horizon],
                                              level)
            compared[arm]["landmarks"] = [_landmark(row, row["time"]) for row in marks.to_dict("records")]
            compared[arm]["events_within_horizon"] = counts[arm][0]
            compared[arm]["events_total"] = int((whole[arm]["status"] == 1).sum())
            compared[arm]["risk_table"] = competing_risks.risk_table(
                competing_risks.event_counts(whole[arm]["day"], whole[arm]["status"]),
                competing_risks.risk_table_days(horizon)).to_dict("records")
        compared["gray_test"] = gray(rows)
        compared["subjects"] = {arm: sorted(g.loc[g["status"] == 1, "subject_id"]) for arm, g in
                                _by_arm(rows).items()}
        results[event] = compared
    marks = ", ".join(str(day) for day in (landmarks or [horizon]))
    competing = ("with death as a competing risk (Aalen-Johansen)" if deaths_collected else
                 "(Aalen-Johansen; deaths were not collected, so none competes)")
    definition = (f"Patients with a first episode within {horizon} days, by arm, with Fisher's exact test; "
                  f"cumulative incidence {competing}, with its standard error "
                  f"(infinitesimal jackknife), log-scale CI and n at risk at day {marks} (as R's multi-state "
                  f"survfit); Gray's test of the arms' cumulative incidence within {horizon} days (as R's "
                  "cmprsk::cuminc); first episodes counted within the horizon and over the whole follow-up.")
    table = (pd.concat(curves, ignore_index=True)[["event", "arm", "time", "cif", "lower", "upper", "n_risk"]]
             if curves else pd.DataFrame())
    return ({"definition": definition, "parameters": {"events": events, "horizon_days": horizon,
                                                      "deaths_collected": deaths_collected},
             "results": results}, table)


def adverse_events(aes: pd.DataFrame, subjects: pd.DataFrame, horizon: int) -> tuple[dict, pd.DataFrame]:
    within = aes[(aes["study_day"] >= 0) & (aes["study_day"] <= horizon)]
    n = subjects.groupby("arm").size()
    results = {"patients": {arm: int(within.loc[within["arm"] == arm, "subject_id"].nunique()) for arm in ARMS},
               "events": {arm: int((within["arm"] == arm).sum()) for arm in ARMS},
               "serious_events": {arm: int(((within["arm"] == arm) & (within["serious"] == "Y")).sum())
                                  for arm in ARMS},
               "n": {arm: int(n.get(arm, 0)) for arm in ARMS}}
    rows = []
    for by in ("term", "grade", "serious", "related"):
        for level, group in within.groupby(by, sort=True):
            row = {"by": by, "level": str(level)}
            for arm in ARMS:
                in_arm = group[group["arm"] == arm]
                row[f"{arm}_patients"] = int(in_arm["subject_id"].nunique())
                row[f"{arm}_events"] = int(len(in_arm))
                row[f"{arm}_percent"] = _percent(row[f"{arm}_patients"], results["n"][arm])
            rows.append(row)
    table = pd.DataFrame(rows)
    results["by"] = {by: table[table["by"] == by].drop(columns="by").to_dict("records")
                     for by in ("term", "grade", "serious", "related")} if rows else {}
    definition = (f"Adverse events with onset from day 0 to day {horizon}: patients and events by term, CTCAE "
                  "grade, seriousness and relatedness, by arm.")
    return ({"definition": definition, "parameters": {"horizon_days": horizon}, "results": results}, table)


def lookup(result: dict, path: str):
    """The number at a dotted ``path`` inside a result's ``results`` (e.g. 'primary.treatment.mean'; a
    list's item by its position, 'treatment.risk_table.2.at_risk', as the ARD addresses it)."""
    node = result["results"]
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


# ---------------------------------------------------------------------------------------------
# The functions products.ENDPOINTS names: one signature for all, (datasets by name, the shared
# analysis settings, the endpoint's config, availability.json), so one rule runs any endpoint.


def liver_function_endpoint(data: dict, analysis: dict, spec: dict, availability: dict):
    return liver_function(data["labs"], spec["tests"], analysis["primary_week"], analysis["confidence_level"],
                          spec["log_scale"])


def meld_endpoint(data: dict, analysis: dict, spec: dict, availability: dict):
    return meld(data["labs"], analysis["primary_week"], analysis["meld_score"], analysis["confidence_level"])


def survival_endpoint(data: dict, analysis: dict, spec: dict, availability: dict):
    return survival(data["subjects"], analysis["horizon_days"], spec["transplant"], spec["truncate_at_horizon"],
                    analysis["confidence_level"], analysis.get("landmark_days"), analysis.get("competing_events"),
                    spec["primary_test"])


def ascites_resolution_endpoint(data: dict, analysis: dict, spec: dict, availability: dict):
    return ascites_resolution(data["ascites"], data["subjects"], analysis["primary_week"], spec["baseline_min_grade"],
                              spec["resolved_max_grade"], analysis["confidence_level"])


def paracentesis_endpoint(data: dict, analysis: dict, spec: dict, availability: dict):
    return paracentesis(data["paracentesis"], data["subjects"], data["time_to_event"], analysis["horizon_days"],
                        analysis["confidence_level"])


def complications_endpoint(data: dict, analysis: dict, spec: dict, availability: dict):
    deaths_collected = availability.get("death", {}).get("available", True)
    return complications(data["time_to_event"], spec["events"], analysis["horizon_days"],
                         analysis["confidence_level"], analysis.get("landmark_days"), deaths_collected)


def adverse_events_endpoint(data: dict, analysis: dict, spec: dict, availability: dict):
    return adverse_events(data["adverse_events"], data["subjects"], analysis["horizon_days"])


def chosen_test(results: dict, endpoint: str, choice: str, where=lambda test: "") -> dict:
    """The endpoint's one pre-specified test (config ``primary_test``), named, with the address and
    value of its p (None where it is not estimable), and the endpoint's other tests found in the same
    comparison as supplementary. ``where(test)``: the prefix of that test's p address in ``results``."""
    def p_of(test: str):
        try:
            return lookup({"results": results}, where(test) + TESTS[test].p)
        except (KeyError, TypeError):
            return None
    others = [{"test": test, "name": TESTS[test].name, "p": p_of(test)}
              for test in ENDPOINTS[endpoint].tests if test != choice]
    return {"test": choice, "name": TESTS[choice].name, "address": where(choice) + TESTS[choice].p,
            "p": p_of(choice), "supplementary": [other for other in others if other["p"] is not None]}


#: Where paracentesis's tests sit: the 2x2 of patients with any, the rate ratios, time to the first.
_PARACENTESIS_AT = {"fisher_exact": "patients_with_any.", "chi_square": "patients_with_any.",
                    "chi_square_yates": "patients_with_any.", "logrank": "time_to_first."}


def _comparisons(name: str, results: dict) -> list[tuple[dict, object]]:
    """Each comparison of an endpoint's results that gets a primary test: the node it is written
    into, and where its tests' p-values sit. A lab test, or a complication, is one comparison each;
    an endpoint with no tests to choose from (adverse events: counts only) has none."""
    if not ENDPOINTS[name].tests:
        return []
    if name == "liver_function":
        return [(node[PRIMARY], lambda t, test=test: f"{test}.{PRIMARY}." + ("" if t == "ancova" else "between."))
                for test, node in results.items()]
    if name == "complications":
        return [(node, lambda t, event=event: f"{event}.") for event, node in results.items()
                if node.get("available", True)]
    if name == "meld":
        return [(results[PRIMARY], lambda t: f"{PRIMARY}.")]
    if name == "paracentesis":
        return [(results, lambda t: _PARACENTESIS_AT.get(t, ""))]
    return [(results, lambda t: "")]


def compute(name: str, data: dict[str, pd.DataFrame], analysis: dict, spec: dict,
            availability: dict | None = None) -> tuple[dict, pd.DataFrame]:
    """One endpoint from the datasets, by its config ``spec``, the shared ``analysis`` settings and
    what the cohort collected (``availability``): the function of its ENDPOINTS entry, with the
    pre-specified test of each comparison named in it."""
    if name not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {name}")
    result, table = step(ENDPOINTS[name].function)(data, analysis, spec, availability or {})
    if ENDPOINTS[name].tests:
        result["parameters"]["primary_test"] = spec["primary_test"]
    for node, where in _comparisons(name, result["results"]):
        node["primary_test"] = chosen_test(result["results"], name, spec["primary_test"], where)
    return result, table


@user_errors_exit
def write_endpoint(name: str, inputs: list, analysis: dict, spec: dict, json_path: Path | str,
                   csv_path: Path | str) -> None:
    """Rule `endpoint`: its JSON result and CSV table, or both saying why it is not available.
    ``inputs``: the files of `products.endpoint_inputs` (the datasets its entry reads, availability.json)."""
    files = {Path(path).stem: path for path in inputs}
    availability = json.loads(Path(files["availability"]).read_text(encoding="utf-8"))
    entry = ENDPOINTS[name]
    data = {dataset: read_csv(files[dataset], entry.columns.get(dataset), where=entry.rows.get(dataset))
            for dataset in entry.reads}
    try:
        for what in entry.needs:
            if what in availability and not availability[what]["available"]:
                raise NotAvailable(availability[what]["reason"])
        result, table = compute(name, data, analysis, spec, availability)
        counts = data["subjects"]["arm"].value_counts()
        result = {"endpoint": name, "available": True, "n": {arm: int(counts.get(arm, 0)) for arm in ARMS},
                  **result}
    except NotAvailable as reason:
        result = {"endpoint": name, "available": False, "reason": str(reason)}
        table = pd.DataFrame({"endpoint": [name], "available": [False], "reason": [str(reason)]})
    write_json(result, json_path)
    write_csv(table, csv_path)
