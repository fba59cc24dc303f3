"""Reported versus reproduced, and the abstract checked against itself.

This module and the cohort reconstruction are the only code that reads the
paper's reported figures (resources/published/); the endpoints never do.

- `paper_consistency`: checks of the abstract from its printed figures alone,
  in the spirit of GRIM and statcheck: which counts out of n give each printed
  percentage, whether a printed p-value can come from the printed summary
  figures, and which test gives it.
- `scorecard`: every printed figure beside the workflow's number at its
  address; a match means equal after rounding (half up) to the printed
  precision, or below the bound of a printed "<x".
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..data.contract import ARMS
from ..errors import user_errors_exit
from ..outputs import ard_values, write_csv
from ..stats import comparisons as cmp
from ..stats.survival import logrank


def round_half_up(value: float, decimals: int) -> float:
    return float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def matches(reported, reproduced: float, decimals: int) -> bool:
    if isinstance(reported, str) and reported.startswith("<"):
        return reproduced < float(reported[1:])
    return round_half_up(reproduced, decimals) == round_half_up(float(reported), decimals)


def possible_counts(percent: float, n: int, decimals: int) -> list[int]:
    """Counts k out of n whose percentage prints as ``percent`` (GRIM for proportions)."""
    return [k for k in range(n + 1) if round_half_up(100 * k / n, decimals) == round_half_up(percent, decimals)]


def _figures(published: dict) -> dict[str, dict]:
    return {f["id"]: f for f in published["figures"]}


def _fmt(x: float) -> str:
    return f"{x:.4f}"


def _row(check_id, figures, reported, recomputed, consistent, detail) -> dict:
    """One row of paper_consistency.csv."""
    return {"check": check_id, "figures": ";".join(figures), "reported": reported,
            "recomputed": recomputed, "consistent": consistent, "detail": detail}


def _grim_checks(figs: dict, n: dict) -> tuple[list[dict], dict[str, list[int]]]:
    """GRIM for every printed percentage: the counts out of the arm's n that print as it."""
    rows, counts = [], {}
    for fid, fig in figs.items():
        if not fid.endswith("_pct"):
            continue
        arm = "treatment" if "_treatment_" in fid else "control"
        ks = possible_counts(float(fig["value"]), n[arm], int(fig["decimals"]))
        counts[fid] = ks
        rows.append(_row(f"grim_{fid}", [fid], f"{fig['value']}%", ", ".join(f"{k}/{n[arm]}" for k in ks) or "none",
                         "yes" if ks else "no",
                         f"counts out of {n[arm]} that print as {fig['value']}%" if ks else
                         f"no count out of {n[arm]} prints as {fig['value']}%"))
    return rows, counts


def _unique_count(counts: dict[str, list[int]], fid: str) -> int | None:
    """The one count a percentage allows, or None when GRIM leaves none or several."""
    ks = counts.get(fid, [])
    return ks[0] if len(ks) == 1 else None


def _meld_p_check(figs: dict, n: dict) -> list[dict]:
    """Whether the printed MELD p comes from the printed means and SDs (Student or Welch t)."""
    needed = [f"meld_week48_{a}_{s}" for a in ARMS for s in ("mean", "sd")]
    if any(fid not in figs for fid in [*needed, "meld_week48_p"]):  # a study that printed no MELD t-test
        return []
    meld = [figs[fid]["value"] for fid in needed]
    t = cmp.t_test_from_summary(meld[0], meld[1], n["treatment"], meld[2], meld[3], n["control"])
    reported_p = figs["meld_week48_p"]
    return [_row("meld_p_from_summary", ["meld_week48_p"], str(reported_p["value"]),
                 f"Student {_fmt(t['student_t']['p'])}; Welch {_fmt(t['welch_t']['p'])}",
                 "yes" if matches(reported_p["value"], t["student_t"]["p"], reported_p["decimals"]) else "no",
                 f"two-sample t-test from {meld[0]}±{meld[1]} vs {meld[2]}±{meld[3]}, n {n['treatment']} vs "
                 f"{n['control']} (t = {t['student_t']['t']:.3f})")]


def _ascites_p_check(figs: dict, n: dict, counts: dict) -> list[dict]:
    """Which test of two proportions gives the printed ascites-disappearance p."""
    a_t = _unique_count(counts, "ascites_disappearance_treatment_pct")
    a_c = _unique_count(counts, "ascites_disappearance_control_pct")
    if a_t is None or a_c is None or "ascites_disappearance_p" not in figs:
        return []
    props = cmp.proportions(a_t, n["treatment"], a_c, n["control"])
    reported = figs["ascites_disappearance_p"]
    tests = {"Fisher's exact": props["fisher_exact"]["p"], "chi-square": props["chi_square"]["p"],
             "chi-square with Yates' correction": props["chi_square_yates"]["p"]}
    fitting = [name for name, p in tests.items() if matches(reported["value"], p, reported["decimals"])]
    return [_row("ascites_p_which_test", ["ascites_disappearance_p"], str(reported["value"]),
                 "; ".join(f"{name} {_fmt(p)}" for name, p in tests.items()), "yes" if fitting else "no",
                 f"{a_t}/{n['treatment']} vs {a_c}/{n['control']}: "
                 + (f"reproduced by {', '.join(fitting)} only" if fitting else "no standard test gives it"))]


def _logrank_extremes(n: dict, deaths: dict) -> tuple[float, float]:
    """Lowest and highest log-rank p over the two extreme orders of the deaths (all on distinct
    days, one arm's first; everyone else followed past the last death). This holds when nobody is
    censored before the horizon, as whole-patient percentages suggest; the check's note says so."""
    arrangements = []
    for first, second in (ARMS, ARMS[::-1]):
        time, event, group, day = [], [], [], 1
        for arm in (first, second):
            for _ in range(deaths[arm]):
                time.append(day); event.append(1); group.append(arm); day += 1
        for arm in ARMS:
            alive = n[arm] - deaths[arm]
            time += [1000] * alive; event += [0] * alive; group += [arm] * alive
        arrangements.append(logrank(np.array(time), np.array(event), np.array(group))["p"])
    return min(arrangements), max(arrangements)


def _survival_p_check(figs: dict, n: dict, counts: dict) -> list[dict]:
    """Whether the printed log-rank p is possible given the deaths the survival percentages imply."""
    s_t, s_c = _unique_count(counts, "survival_2y_treatment_pct"), _unique_count(counts, "survival_2y_control_pct")
    if s_t is None or s_c is None or "survival_2y_p" not in figs:
        return []
    deaths = {"treatment": n["treatment"] - s_t, "control": n["control"] - s_c}
    reported = figs["survival_2y_p"]
    low, high = _logrank_extremes(n, deaths)
    typo = str(reported["value"]).replace("0.", "0.0", 1)
    consistent = low <= float(reported["value"]) <= high or matches(reported["value"], low, reported["decimals"])
    return [_row("survival_p_from_percentages", ["survival_2y_p"], str(reported["value"]),
                 f"log-rank {_fmt(low)} to {_fmt(high)}", "yes" if consistent else "no",
                 f"{deaths['treatment']} vs {deaths['control']} deaths among {n['treatment']} vs {n['control']} "
                 "if nobody was censored before the horizon (the percentages are then counts of whole patients): "
                 f"the log-rank p lies between {_fmt(low)} and {_fmt(high)} whatever the order of deaths, so "
                 f"{reported['value']} is then impossible and {typo} fits (probably a typo); with censoring before "
                 "the horizon this bound does not hold")]


def _unreported_p_checks(n: dict, counts: dict) -> list[dict]:
    """Fisher's p for the complications whose p the abstract does not print."""
    rows = []
    for event in ("hrs", "he", "sbp"):
        k_t, k_c = _unique_count(counts, f"{event}_treatment_pct"), _unique_count(counts, f"{event}_control_pct")
        if k_t is None or k_c is None:
            continue
        p = cmp.proportions(k_t, n["treatment"], k_c, n["control"])["fisher_exact"]["p"]
        verdict = "not significant at 0.05" if p >= 0.05 else "significant at 0.05"
        rows.append(_row(f"{event}_p_not_reported", [f"{event}_treatment_pct", f"{event}_control_pct"],
                         "not reported", f"Fisher {_fmt(p)}", "n.a.",
                         f"{k_t}/{n['treatment']} vs {k_c}/{n['control']}: the abstract gives no p; Fisher's exact "
                         f"test gives {_fmt(p)}, {verdict}"))
    return rows


def paper_consistency(published: dict) -> pd.DataFrame:
    """Checks of the abstract against itself; one row per check."""
    figs = _figures(published)
    n = {arm: int(published["arms"][arm]["n"]) for arm in ARMS}
    rows, counts = _grim_checks(figs, n)
    rows += _meld_p_check(figs, n)
    rows += _ascites_p_check(figs, n, counts)
    rows += _survival_p_check(figs, n, counts)
    rows += _unreported_p_checks(n, counts)
    return pd.DataFrame(rows)


#: What the reproduced number of an address counts, where the figure's name alone misleads: "0 serious
#: adverse events" beside the deaths and complications of the outcome collection.
COMPARED = {"adverse_events:serious_events": (
    "compares the serious events of adverse_events.csv with onset from day 0 to day {horizon_days}; the "
    "deaths and complications of events.csv are disease outcomes, not in this count; the report lists both")}


def _what_is_compared(address: str, result: dict) -> str:
    head = address.rpartition(".")[0]
    return COMPARED[head].format(**result.get("parameters", {})) if head in COMPARED else ""


def _compared(fig: dict, value: float, compared: str, flagged: dict) -> dict:
    """A reproduced number against the printed figure: match, mismatch, or a mismatch the abstract's
    own inconsistency explains."""
    decimals = int(fig["decimals"])
    ok = matches(fig["value"], value, decimals)
    status, note = "match" if ok else "mismatch", compared
    if not ok and fig["id"] in flagged:
        status, note = "mismatch (paper inconsistent)", flagged[fig["id"]]
    return {"reproduced": value, "reproduced_rounded": f"{round_half_up(value, decimals):.{decimals}f}",
            "status": status, "note": note}


def scorecard(published: dict, results: dict[str, dict], consistency: pd.DataFrame, values: dict) -> pd.DataFrame:
    """Every printed figure with the reproduced number and whether they match: the number the
    analysis-results table (``values``, by address) holds, the one the report prints; the endpoint's
    result says whether it was computed and what it compares."""
    flagged = {}
    for row in consistency[consistency["consistent"] == "no"].itertuples():
        for fid in row.figures.split(";"):
            flagged[fid] = f"{row.check}: {row.detail}"
    rows = []
    for fig in published["figures"]:
        address = fig.get("reproduced_by")
        row = {"figure": fig["id"], "quote": fig["quote"], "reported": str(fig["value"]),
               "decimals": int(fig["decimals"]), "address": address or "", "reproduced": None,
               "reproduced_rounded": "", "status": "", "note": ""}
        endpoint = (address or "").partition(":")[0]
        result = results.get(endpoint)
        if not address:
            row.update(status="not reproduced", note="no address: nothing in the workflow computes it")
        elif result is None or not result.get("available", False):
            row.update(status="not available",
                       note=(result or {}).get("reason", f"endpoint {endpoint} was not computed"))
        elif address not in values:
            row.update(status="not available", note=f"{address} is not in the results")
        else:
            row.update(_compared(fig, float(values[address]), _what_is_compared(address, result), flagged))
        rows.append(row)
    return pd.DataFrame(rows)


def load_published(path: Path | str) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


@user_errors_exit
def write_paper_consistency(published_path, out_path) -> None:
    """Step `paper_consistency`."""
    write_csv(paper_consistency(load_published(published_path)), out_path)


@user_errors_exit
def write_scorecard(published_path, endpoint_paths: list, consistency_path, ard_path, out_path) -> None:
    """Step `scorecard`."""
    results = {Path(p).stem: json.loads(Path(p).read_text(encoding="utf-8")) for p in endpoint_paths}
    consistency = pd.read_csv(consistency_path, dtype=str, keep_default_na=False)
    write_csv(scorecard(load_published(published_path), results, consistency, ard_values(ard_path)), out_path)
