"""The report's figures: one function per figure, from tidy tables to a matplotlib Figure.

Each figure has one drawing function, named after its file (``products.FIGURES``), that takes
tables and dicts already read and returns a `matplotlib.figure.Figure`; and one step
``write_<figure>(inputs, arms, analysis, out_path)`` that reads the results files,
calls it and saves the SVG (`style.save_svg`: same inputs, same bytes). Colours, font
and sizes come from `style`. A figure whose input is not available, or lacks what
the figure shows, is drawn as a figure of the same size saying why.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

from ..outputs import read_csv
from ..stats.competing import DAYS_PER_MONTH, month_ticks
from ..stats.quantiles import t_two_sided, wilson_interval
from .formatting import format_p, format_p_eq, format_ratio
from ..data.contract import ARMS, DERIVED_TEST
from ..products import FIGURES
from .style import (BAND_ALPHA, INK, NOT_AVAILABLE, REFERENCE, SMALL, arm_colour,
                    new_figure, not_available_figure, save_svg, uses_style)
from ..data.labels import EVENT_NAMES, LIVER_PANELS, UNIT_DISPLAY
from ..data.units import LAB_NAMES

#: Row labels of the forest plot, a little larger than tick labels.
FONT_LABEL = SMALL + 0.5
#: Trajectories: the arms' points at a visit this fraction of the week axis apart, so that their
#: error bars (caps 3 pt wide) stand clear of each other.
TRAJECTORY_DODGE = 0.055


# ---------------------------------------------------------------------------------------------
# Small helpers


def _label(arms: dict, arm: str) -> str:
    return arms[arm]["label"]


def _percent_level(level: float) -> str:
    return f"{100 * level:g} %"


def _p_text(p) -> str:
    """'p = 0.049', 'p < 0.001', or 'p –' when it could not be computed (the report's format_p)."""
    text = format_p(p)
    return "p –" if text == "–" else f"p {format_p_eq(p)}"


def _arm_legend(figure, arms: dict, **kwargs):
    """One legend for the whole figure, above the panels: a line of the arm's colour per arm."""
    marker, extra = kwargs.pop("marker", None), kwargs.pop("extra", [])
    handles = [Line2D([], [], color=arm_colour(a), marker=marker, label=_label(arms, a)) for a in ARMS] + extra
    return figure.legend(handles=handles, loc="outside upper center", ncols=len(handles), **kwargs)


def _panel_not_available(axis, reason: str) -> None:
    axis.set_axis_off()
    axis.text(0.5, 0.5, "\n".join(textwrap.wrap(f"Not available: {reason}", 30)), ha="center", va="center",
              color=NOT_AVAILABLE, fontsize=SMALL, fontstyle="italic", transform=axis.transAxes)


def placeholder(name: str, reason: str):
    """The figure ``name`` cannot be drawn: a figure of its size saying why."""
    return not_available_figure(reason, FIGURES[name].height_cm)


# ---------------------------------------------------------------------------------------------
# The figures


def liver_tests(table: pd.DataFrame) -> list[str | None]:
    """The test drawn in each of the three panels (None: the cohort has none of its tests)."""
    present = set(table["test"]) if "test" in table else set()
    return [next((t for t in choices if t in present), None) for choices in LIVER_PANELS]


@uses_style
def liver_trajectories(table: pd.DataFrame, units: dict[str, str], arms: dict, level: float = 0.95):
    """Mean (t-based CI) of albumin, prothrombin activity and bilirubin by week and arm, a panel each.

    ``table``: results/endpoints/liver_function.csv (test, week, arm, n, mean, sd, ...);
    ``units``: test -> unit; ``arms``: arm code -> {"label": ...}.
    """
    tests = liver_tests(table)
    if not any(tests):
        return placeholder("liver_trajectories", "the cohort has no albumin, prothrombin or bilirubin values")
    figure = new_figure(FIGURES["liver_trajectories"].height_cm)
    axes = figure.subplots(1, len(tests))
    for axis, test, choices in zip(axes, tests, LIVER_PANELS):
        if test is None:
            _panel_not_available(axis, f"no {LAB_NAMES.get(choices[0], choices[0]).lower()} values")
            continue
        rows = table[table["test"] == test]
        weeks = sorted(int(w) for w in rows["week"].unique())
        dodge = TRAJECTORY_DODGE * (max(weeks) - min(weeks) + 6)   # the arms side by side at each visit
        for offset, arm in zip((-dodge / 2, dodge / 2), ARMS):
            data = rows[rows["arm"] == arm].sort_values("week")
            n = data["n"].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                half = np.where(n >= 2, t_two_sided(level, np.maximum(n - 1, 1))
                                * data["sd"].to_numpy(dtype=float) / np.sqrt(n), np.nan)
            axis.errorbar(data["week"] + offset, data["mean"], yerr=half, color=arm_colour(arm), marker="o",
                          markersize=3, capsize=1.5, elinewidth=0.9, label=_label(arms, arm))
        axis.set_xticks(weeks, [str(w) for w in weeks])
        axis.set_xlim(min(weeks) - 3, max(weeks) + 3)
        axis.set_xlabel("Week")
        name = LAB_NAMES.get(test, test)
        axis.set_title(name if test in ("ALB", "PTA", "TBIL") else f"{name} (no activity values)")
        unit = UNIT_DISPLAY.get(units.get(test, ""), units.get(test, ""))
        axis.set_ylabel(f"Mean ({_percent_level(level)} CI)" + (f", {unit}" if unit else ""))
    _arm_legend(figure, arms, marker="o")
    return figure


#: Above this many points in one group a strip of points is drawn as an image inside the SVG: at 100k
#: subjects, 200k vector markers made a 22 MB SVG that WeasyPrint took about 100 s to lay out.
VECTOR_POINTS_MAX = 2000


@uses_style
def meld_baseline_primary(labs: pd.DataFrame, week: int, arms: dict, score: str = "MELD"):
    """MELD at baseline and at ``week`` by arm: a point per patient (deterministic jitter) over a box.

    ``labs``: results/datasets/labs.csv (test, week, arm, value); rows with test MELD are used.
    """
    if not {"test", "week", "arm", "value"} <= set(labs.columns):
        labs = pd.DataFrame(columns=["test", "week", "arm", "value"])
    data = labs[(labs["test"] == DERIVED_TEST) & labs["week"].isin([0, week])].dropna(subset=["value"])
    if data.empty:
        return placeholder("meld_baseline_primary", f"no {score} values at baseline or week {week} in this cohort")
    figure = new_figure(FIGURES["meld_baseline_primary"].height_cm)
    axis = figure.subplots()
    spread, width = 0.42, 0.3   # arm centres apart within a visit; box width
    boxes, counts = [], []
    for g, visit_week in enumerate((0, week)):
        for j, arm in enumerate(ARMS):
            x = g + (j - 0.5) * spread
            values = np.sort(data.loc[(data["week"] == visit_week) & (data["arm"] == arm), "value"].to_numpy(float))
            boxes.append(x)
            counts.append((f"n = {len(values)}", arm))
            if not len(values):
                continue
            colour = arm_colour(arm)
            # Golden-ratio sequence over the sorted values: spread like random jitter, same every run.
            jitter = ((np.arange(len(values)) * 0.6180339887498949) % 1 - 0.5) * width * 0.8
            axis.scatter(x + jitter, values, s=8, color=colour, alpha=0.55, linewidths=0, zorder=2,
                         rasterized=len(values) > VECTOR_POINTS_MAX)
            axis.boxplot(values, positions=[x], widths=width, showfliers=False, manage_ticks=False, zorder=3,
                         medianprops={"color": INK, "linewidth": 1.6},
                         boxprops={"color": colour, "linewidth": 1.1},
                         whiskerprops={"color": colour, "linewidth": 1.1},
                         capprops={"color": colour, "linewidth": 1.1})
    axis.set_xticks([0, 1], ["Baseline", f"Week {week}"])
    axis.xaxis.set_minor_locator(FixedLocator(boxes))
    axis.xaxis.set_minor_formatter(FuncFormatter(lambda x, pos: counts[pos][0] if pos is not None else ""))
    axis.tick_params(axis="x", which="major", length=0, pad=14, labelsize=8)
    axis.tick_params(axis="x", which="minor", length=2.5, labelsize=SMALL)
    axis.set_xlim(-0.6, 1.6)
    axis.set_ylabel(f"{score} score")
    _arm_legend(figure, arms, marker="s")
    return figure


def km_table_rows(events: str = "Died") -> tuple:
    """The rows of the KMunicate table under a Kaplan-Meier plot, per arm: label and risk_table
    column; ``events`` names what the curve counts (deaths, or deaths and transplants)."""
    return (("At risk", "at_risk"), ("Censored", "censored"), (events, "events"))


def _km_curve(axis, data: pd.DataFrame, horizon_days: float, arm: str, label: str) -> float:
    """One arm's step curve to the horizon, its CI band and a tick at each censoring time; returns
    the band's lowest point."""
    within = data[data["time"] <= horizon_days]
    months = np.concatenate([[0.0], within["time"].to_numpy(float) / DAYS_PER_MONTH, [horizon_days / DAYS_PER_MONTH]])
    surv = np.concatenate([[1.0], within["surv"].to_numpy(float)])
    lower = np.concatenate([[1.0], within["lower"].fillna(0).to_numpy(float)])
    upper = np.concatenate([[1.0], within["upper"].fillna(1).to_numpy(float)])
    surv, lower, upper = (np.append(v, v[-1]) for v in (surv, lower, upper))
    colour = arm_colour(arm)
    axis.step(months, 100 * surv, where="post", color=colour, label=label, zorder=3)
    axis.fill_between(months, 100 * lower, 100 * upper, step="post", color=colour, alpha=BAND_ALPHA,
                      linewidth=0, zorder=1)
    censored = within[within["n_censor"] > 0]
    # Not clipped: a patient censored at the horizon has the tick on the axis' end.
    axis.plot(censored["time"] / DAYS_PER_MONTH, 100 * censored["surv"], linestyle="none", marker="|",
              markersize=7, markeredgewidth=1.2, color=colour, zorder=4, clip_on=False, gid=f"censoring_{arm}")
    return float(lower.min())


def _risk_rows(risk, ticks, tables: dict, arms: dict, rows: tuple) -> None:
    """KMunicate's table on ``risk``: per arm a heading and a line per row, a number under each tick."""
    labels = []   # (label, colour, heading), top to bottom
    for arm, table in tables.items():
        colour = arm_colour(arm)
        labels.append((_label(arms, arm), colour, True))
        for label, column in rows:
            y = -len(labels)
            for tick, value in zip(ticks, table[column]):
                risk.text(tick, y, str(int(value)), ha="center", va="center", color=colour, fontsize=SMALL)
            labels.append((label, INK, False))
    risk.set_ylim(-len(labels) + 0.5, 0.5)
    risk.set_yticks(-np.arange(len(labels)), [label for label, _, _ in labels])
    for text, (_, colour, heading) in zip(risk.get_yticklabels(), labels):
        text.set_color(colour)
        text.set_fontweight("bold" if heading else "normal")
    risk.tick_params(axis="y", length=0, pad=16)   # clear of the numbers centred on month 0
    risk.tick_params(axis="x", length=0, labelbottom=False)
    for side in ("left", "bottom"):
        risk.spines[side].set_visible(False)


@uses_style
def km_survival(curves: pd.DataFrame, arms: dict, horizon_days: int, risk_tables: dict[str, pd.DataFrame],
                annotation: str = "", level: float = 0.95, events: str = "Died"):
    """Kaplan-Meier curves to the horizon (months) with CI bands and censoring ticks; under them
    KMunicate's table: at risk, censored and died so far, per arm at each tick.

    ``curves``: results/endpoints/survival.csv, the step table of each arm (arm, time in days, n_risk,
    n_event, n_censor, surv, lower, upper); ``risk_tables``: arm -> the survival endpoint's
    `risk_table` at the month ticks.
    """
    if curves.empty or "surv" not in curves:
        return placeholder("km_survival", "no survival curves")
    figure = new_figure(FIGURES["km_survival"].height_cm)
    axis, risk = figure.subplots(2, 1, gridspec_kw={"height_ratios": [3.6, 2.0]})
    ticks, end = month_ticks(horizon_days)
    lowest = 1.0
    for arm in ARMS:
        data = curves[curves["arm"] == arm].sort_values("time")
        lowest = min(lowest, _km_curve(axis, data, horizon_days, arm, _label(arms, arm)))
    _risk_rows(risk, ticks, risk_tables, arms, km_table_rows(events))
    bottom = 0 if lowest < 0.45 else 50
    axis.set_ylim(bottom, 101)
    axis.set_yticks(np.arange(bottom, 101, 10 if bottom else 20))
    axis.set_ylabel("Overall survival, %")
    axis.set_xlabel("Months since enrollment")
    for ax in (axis, risk):
        ax.set_xlim(0, end)
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    handles, _ = axis.get_legend_handles_labels()
    handles.append(Line2D([], [], color=INK, linestyle="none", marker="|", markersize=7, markeredgewidth=1.2,
                          label="Censored"))
    axis.legend(handles=handles, loc="lower left", title=f"Shaded: {_percent_level(level)} CI",
                title_fontsize=SMALL, alignment="left")
    if annotation:
        axis.set_title(annotation, loc="right", fontsize=SMALL, fontweight="normal")
    risk.set_title(f"Numbers at risk, censored and {events.lower()} before each time (KMunicate)", loc="left",
                   fontsize=SMALL, fontweight="bold")
    return figure

@uses_style
def ascites_resolution(result: dict, arms: dict, week: int, level: float = 0.95):
    """Patients whose ascites disappeared, % by arm, with Wilson CI and n/N.

    ``result``: results/endpoints/ascites_resolution.json (its ``results``: per arm events and n;
    fisher_exact.p).
    """
    r = result["results"]
    figure = new_figure(FIGURES["ascites_resolution"].height_cm)
    axis = figure.subplots()
    shown = []
    for arm in ARMS:
        events, n = int(r[arm]["events"]), int(r[arm]["n"])
        low, high = wilson_interval(events, n, level) if n else (math.nan, math.nan)
        shown.append((arm, events, n, 100 * events / n if n else math.nan, 100 * low, 100 * high))
    top = max((s[5] for s in shown if np.isfinite(s[5])), default=100)
    xmax = 100 if top > 60 else 10 * math.ceil((top + 22) / 10)
    for y, (arm, events, n, pct, low, high) in zip((1, 0), shown):
        colour = arm_colour(arm)
        axis.barh(y, pct if n else 0, height=0.55, color=colour)
        if n:
            axis.errorbar(pct, y, xerr=[[pct - low], [high - pct]], color=INK, capsize=3, linewidth=1)
        text = f"{events}/{n} ({pct:.1f} %)" if n else "no patients"
        if high + 0.25 * xmax < xmax:
            axis.text(high + 0.012 * xmax, y, text, va="center", ha="left", fontsize=SMALL)
        else:   # no room right of the interval: above the bar
            axis.text(0, y + 0.31, text, va="bottom", ha="left", fontsize=SMALL)
    axis.set_yticks([1, 0], [_label(arms, a) for a in ARMS])
    axis.tick_params(axis="y", length=0)
    axis.set_ylim(-0.6, 1.6)
    axis.set_xlim(0, xmax)
    axis.set_xlabel(f"Patients with disappearance of ascites at week {week}, % ({_percent_level(level)} "
                    "Wilson CI)")
    chosen = r["primary_test"]
    axis.set_title(f"{chosen['name'][0].upper()}{chosen['name'][1:]} {_p_text(chosen['p'])}", loc="right",
                   fontsize=SMALL, fontweight="normal")
    return figure


def _cif_curve(axis, data: pd.DataFrame, colour: str, label: str) -> None:
    """One arm's cumulative incidence (%), a step at each of its days, with its CI band (none where
    the incidence is 0: the endpoint's limits are empty there)."""
    months = data["time"].to_numpy(float) / DAYS_PER_MONTH
    axis.step(months, 100 * data["cif"], where="post", color=colour, label=label, zorder=3)
    if "lower" in data:
        zero = data["cif"].to_numpy(float) == 0
        lower = np.where(zero, 0.0, data["lower"].to_numpy(float))
        upper = np.where(zero, 0.0, data["upper"].to_numpy(float))
        axis.fill_between(months, 100 * lower, 100 * upper, step="post", color=colour, alpha=BAND_ALPHA,
                          linewidth=0, zorder=1)


@uses_style
def complications_incidence(curves: pd.DataFrame, arms: dict, horizon_days: int,
                            events: list[str] | None = None, reasons: dict[str, str] | None = None,
                            at_risk: dict | None = None, tests: dict[str, str] | None = None,
                            level: float = 0.95):
    """Cumulative incidence (death a competing risk) of each complication by arm with its CI band, a
    panel per event, the numbers at risk under each.

    ``curves``: results/endpoints/complications.csv (event, arm, time in days, cif, lower, upper);
    ``events``: the panels in order (default: as in ``curves``); ``reasons``: why an event has no
    curve; ``at_risk``: event -> arm -> `risk_table` at the month ticks; ``tests``: event -> the
    text of its between-arm test.
    """
    has_curves = not curves.empty and "cif" in curves
    events = list(events) if events else (list(dict.fromkeys(curves["event"])) if has_curves else [])
    if not events:
        return placeholder("complications_incidence", "no complication curves")
    reasons, at_risk, tests = reasons or {}, at_risk or {}, tests or {}
    figure = new_figure(FIGURES["complications_incidence"].height_cm)
    grid = figure.subplots(2, len(events), squeeze=False, gridspec_kw={"height_ratios": [4, 1.1]})
    for axis in grid[0][1:]:
        axis.sharey(grid[0][0])   # the curves share a scale; each row of numbers keeps its own labels
    ticks, end = month_ticks(horizon_days)
    drawn = []
    for axis, risk, event in zip(grid[0], grid[1], events):
        name = EVENT_NAMES.get(event)
        axis.set_title("\n".join(textwrap.wrap(f"{name} ({event})" if name else event, 24)), fontsize=SMALL + 0.5)
        if not (has_curves and (curves["event"] == event).any()):
            _panel_not_available(axis, reasons.get(event, f"no {event} curve"))
            risk.set_axis_off()
            continue
        drawn.append(axis)
        for arm in ARMS:
            data = curves[(curves["event"] == event) & (curves["arm"] == arm)].sort_values("time")
            _cif_curve(axis, data[data["time"] <= horizon_days], arm_colour(arm), _label(arms, arm))
        if event in tests:
            axis.text(0.03, 0.97, tests[event], transform=axis.transAxes, ha="left", va="top", fontsize=SMALL)
        for ax in (axis, risk):
            ax.set_xlim(0, end)
            ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        axis.set_xlabel("Months since enrollment")
        _cif_risk_row(risk, ticks, at_risk.get(event, {}), arms, first=not drawn[:-1])
    if drawn:
        drawn[0].set_ylabel("Cumulative incidence, %")
        drawn[0].set_ylim(bottom=0)
        for axis in drawn:
            axis.yaxis.set_tick_params(labelleft=True)
    band = Patch(color=INK, alpha=BAND_ALPHA, linewidth=0, label=f"{_percent_level(level)} CI")
    _arm_legend(figure, arms, extra=[band])
    return figure


def _cif_risk_row(risk, ticks, tables: dict, arms: dict, first: bool) -> None:
    """Numbers at risk under a cumulative-incidence panel, a line per arm in its colour; the arms'
    names and the row's title beside the first panel only."""
    for row, (arm, table) in enumerate(tables.items()):
        for tick, value in zip(ticks, table["at_risk"]):
            risk.text(tick, -row, str(int(value)), ha="center", va="center", color=arm_colour(arm), fontsize=SMALL)
    risk.set_ylim(-len(ARMS) + 0.4, 0.6)
    risk.set_yticks(-np.arange(len(tables)), [_label(arms, a) for a in tables] if first else [""] * len(tables))
    for text, arm in zip(risk.get_yticklabels(), tables):
        text.set_color(arm_colour(arm))
    risk.tick_params(axis="y", length=0, pad=10, labelleft=first)
    risk.tick_params(axis="x", length=0, labelbottom=False)
    for side in ("left", "bottom"):
        risk.spines[side].set_visible(False)
    if first:
        risk.set_title("Number at risk", loc="left", fontsize=SMALL, fontweight="bold")


def _percentage_points(rd: dict) -> tuple | None:
    """A risk difference's estimate and limits (proportions; None where unbounded) in percentage points."""
    if rd.get("estimate") is None:
        return None
    return tuple(None if v is None else 100 * v for v in (rd["estimate"], rd["lower"], rd["upper"]))


def forest_rows(ascites: dict | None, complications: dict | None, survival: dict | None) -> list[dict]:
    """The forest plot's rows, from the endpoint results (the JSON files' contents).

    Each row: ``label``, ``difference`` (risk difference in percentage points: estimate, lower,
    upper, or None), ``ratio`` (("RR" or "HR", estimate, lower, upper) or None) and ``reason``
    (why the row has no estimate, or None). Endpoints not available give a row with the reason.
    """
    rows = []

    def add(label, r, reason=None):
        if r is None:
            rows.append({"label": label, "difference": None, "ratio": None, "reason": reason})
            return
        rd, rr = r.get("risk_difference", {}), r.get("risk_ratio", {})
        difference = _percentage_points(rd)
        ratio = None if rr.get("estimate") is None else ("RR", rr["estimate"], rr["lower"], rr["upper"])
        rows.append({"label": label, "difference": difference, "ratio": ratio,
                     "reason": None if difference or ratio else "no estimate"})

    if ascites is not None:
        add("Ascites disappeared", ascites["results"] if ascites.get("available") else None,
            ascites.get("reason"))
    if complications is not None:
        if complications.get("available"):
            for event, r in complications["results"].items():   # the order of the report's table
                add(event, r if r.get("available", True) else None, r.get("reason"))
        else:
            add("Complications", None, complications.get("reason"))
    if survival is not None:
        rows.append(_death_row(survival))
    return rows


def _death_row(survival: dict) -> dict:
    """Death: the difference in the proportions who died within the horizon, and the Cox hazard ratio."""
    r = survival.get("results", {}) if survival.get("available") else {}
    cox, rd = r.get("cox", {}), r.get("risk_difference", {})
    ratio = ("HR", cox["hr"], cox["lower"], cox["upper"]) if cox.get("hr") is not None else None
    difference = _percentage_points(rd)
    reason = None if ratio or difference else survival.get("reason") or cox.get("reason") or "no hazard ratio"
    return {"label": "Death", "difference": difference, "ratio": ratio, "reason": reason}


def _interval(axis, y, estimate, lower, upper, low_edge, high_edge):
    """One row of a forest panel. A limit beyond the panel (or unbounded: None) runs to its edge as an
    arrow; an estimate beyond it is not marked (its value is printed beside the panel)."""
    def inside(value, edge):
        return edge if value is None or not np.isfinite(value) else min(max(value, low_edge), high_edge)

    lo, hi = inside(lower, low_edge), inside(upper, high_edge)
    axis.plot([lo, hi], [y, y], color=INK, linewidth=1.1, solid_capstyle="butt")
    if lo == low_edge:
        axis.plot(lo, y, marker="<", color=INK, markersize=4, clip_on=False)
    if hi == high_edge:
        axis.plot(hi, y, marker=">", color=INK, markersize=4, clip_on=False)
    if estimate is not None and low_edge < estimate < high_edge:
        axis.plot(estimate, y, marker="s", color=INK, markersize=4.5, zorder=3)


#: The ratio panel spans at most 0.001 to 1000; intervals beyond run to its edge.
RATIO_RANGE = (1e-3, 1e3)


def _limits(values: list, pad: float, log: bool) -> tuple[float, float]:
    finite = [v for v in values if v is not None and np.isfinite(v) and (v > 0 or not log)]
    if log:
        low, high = min(finite + [1.0]), max(finite + [1.0])
        return max(low / pad, RATIO_RANGE[0]), min(high * pad, RATIO_RANGE[1])
    low, high = min(finite + [0.0]), max(finite + [0.0])
    margin = pad * max(high - low, 1.0)
    return low - margin, high + margin


@uses_style
def forest_effects(rows: list[dict], level: float = 0.95):
    """Forest plot: risk differences (left) and odds / hazard ratios on a log scale (right), with
    each estimate and CI printed beside its panel. ``rows``: see `forest_rows`."""
    if not any(r["difference"] or r["ratio"] for r in rows):
        reasons = "; ".join(dict.fromkeys(r["reason"] for r in rows if r["reason"]))
        return placeholder("forest_effects",
                           "no effect estimates in this cohort" + (f" ({reasons})" if reasons else ""))
    height = max(FIGURES["forest_effects"].height_cm, 2.5 + 0.7 * len(rows))   # 5 rows: the default
    figure = new_figure(height)
    plot_d, text_d, plot_r, text_r = figure.subplots(1, 4, sharey=True,
                                                     gridspec_kw={"width_ratios": [3.1, 1.55, 3.1, 1.55]})
    y = np.arange(len(rows))[::-1]
    ci = f"{_percent_level(level)} CI"

    d_values = [v for r in rows if r["difference"] for v in r["difference"]]
    d_low, d_high = _limits(d_values, 0.08, log=False)
    r_values = [v for r in rows if r["ratio"] for v in r["ratio"][1:]]
    r_low, r_high = _limits(r_values, 1.6, log=True)
    for yi, row in zip(y, rows):
        if row["difference"]:
            est, lo, hi = row["difference"]
            _interval(plot_d, yi, est, lo, hi, d_low, d_high)
            text_d.text(0.02, yi, f"{est:+.1f} ({lo:+.1f} to {hi:+.1f})" if None not in (lo, hi) else f"{est:+.1f}",
                        va="center", ha="left", fontsize=SMALL, transform=text_d.get_yaxis_transform())
        if row["ratio"]:
            kind, est, lo, hi = row["ratio"]
            _interval(plot_r, yi, est, lo, hi, r_low, r_high)
            text_r.text(0.02, yi, f"{kind} {format_ratio(est)} ({format_ratio(lo)} to {format_ratio(hi)})",
                        va="center", ha="left", fontsize=SMALL, transform=text_r.get_yaxis_transform())
        if row["reason"] and not (row["difference"] or row["ratio"]):
            text_d.text(0.02, yi, "not available", va="center", ha="left", fontsize=SMALL, color=NOT_AVAILABLE,
                        fontstyle="italic", transform=text_d.get_yaxis_transform())

    plot_d.axvline(0, color=REFERENCE, linestyle="--", linewidth=0.8, zorder=0)
    plot_d.set_xlim(d_low, d_high)
    plot_d.set_xlabel("Treatment − control,\npercentage points")
    plot_d.set_title(f"Risk difference ({ci})", loc="left", fontsize=SMALL + 0.5)
    plot_r.axvline(1, color=REFERENCE, linestyle="--", linewidth=0.8, zorder=0)
    plot_r.set_xscale("log")
    plot_r.set_xlim(r_low, r_high)
    decades = [10.0 ** k for k in range(math.floor(math.log10(r_low)), math.ceil(math.log10(r_high)) + 1)]
    decades = [d for d in decades if r_low <= d <= r_high]
    plot_r.xaxis.set_major_locator(FixedLocator(decades[::2] if len(decades) > 4 else decades))
    plot_r.xaxis.set_major_formatter(FuncFormatter(lambda v, pos: f"{v:g}"))
    plot_r.xaxis.set_minor_locator(NullLocator())
    plot_r.set_xlabel("Treatment / control,\nlog scale")
    plot_r.set_title(f"Risk or hazard ratio ({ci})", loc="left", fontsize=SMALL + 0.5)
    plot_d.set_ylim(-0.6, len(rows) - 0.4)
    plot_d.set_yticks(y, [r["label"] for r in rows])
    plot_d.tick_params(axis="y", length=0, labelsize=FONT_LABEL)
    for text_axis in (text_d, text_r):
        text_axis.set_axis_off()
    for axis in (plot_d, plot_r):
        axis.spines["left"].set_visible(False)
        axis.yaxis.set_tick_params(length=0)
        for yi in y:
            axis.axhline(yi, color="#eeeeee", linewidth=0.6, zorder=0)
    return figure


def sensitivity_panels(week: int) -> tuple:
    """The grid's endpoints drawn, with their title, reference line and scale."""
    return (("primary_MELD", f"MELD week {week}, treatment − control", 0.0, "linear"),
            ("ascites_disappearance", "Ascites disappearance, risk ratio", 1.0, "log"),
            ("death", "Death, hazard ratio", 1.0, "log"))


#: The reconstruction seeds' cells in the sensitivity figure (grey diamonds, as the caption says), and a cell
#: whose p is not below the level in the strip under each panel.
SEED_GREY = "#9a9a9a"
SIGNIFICANCE_OFF = "#e4e4e4"


def _sensitivity_panel(axis, strip, rows: pd.DataFrame, alpha: float, reference: float, scale: str) -> None:
    """One endpoint's cells sorted by estimate (rank 1 = lowest): CI bars; a filled dot where p is
    below ``alpha``, an open one where not, and the same in the ``strip`` under it (dark: below),
    readable however many cells; the primary cell ringed; the reconstruction seeds as grey diamonds."""
    # Equal estimates: the reconstruction seeds' cells first, then the grid's in summary order.
    name = rows["endpoint"].iloc[0]
    rows = rows.assign(grid_cell=rows["family"] != "reconstruction")
    rows = rows.sort_values(["estimate", "grid_cell"], kind="stable").reset_index(drop=True)
    x = np.arange(1, len(rows) + 1)
    seed = (rows["family"] == "reconstruction").to_numpy()
    significant = (rows["p"] < alpha).to_numpy()
    primary = rows["primary"].astype(bool).to_numpy()
    axis.vlines(x, rows["lower"], rows["upper"], colors=np.where(seed, SEED_GREY, INK), linewidth=0.5, alpha=0.35)
    for kind, marker, colour in (("grid", "o", INK), ("seed", "D", SEED_GREY)):
        for filled in (True, False):
            shown = (seed == (kind == "seed")) & (significant == filled)
            axis.scatter(x[shown], rows["estimate"][shown], s=12 if marker == "o" else 9, marker=marker,
                         facecolors=colour if filled else "white", edgecolors=colour, linewidths=0.7, zorder=3,
                         gid=f"{kind}_{'significant' if filled else 'not_significant'}_{name}")
    axis.scatter(x[primary], rows["estimate"][primary], s=70, facecolors="none", edgecolors=INK, linewidths=1.0,
                 zorder=4, gid=f"primary_{name}")
    axis.axhline(reference, color=REFERENCE, linestyle="--", linewidth=0.8, zorder=0)
    if scale == "log":
        axis.set_yscale("log")
        axis.yaxis.set_major_formatter(FuncFormatter(lambda v, pos: f"{v:g}"))
    strip.bar(x, 1, width=1, color=np.where(significant, INK, SIGNIFICANCE_OFF), linewidth=0)
    strip.set_ylim(0, 1)
    strip.set_yticks([])
    for side in ("left", "top", "right"):
        strip.spines[side].set_visible(False)
    axis.tick_params(axis="x", labelbottom=False)
    strip.set_xlim(0, len(rows) + 1)
    strip.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True, min_n_ticks=1))
    strip.set_xlabel(f"Cell, by estimate ({len(rows)} cells)")


def _sensitivity_legend(figure, alpha: float, seeds: bool) -> None:
    def dot(label, face, edge=INK, size=4.5, marker="o"):
        return Line2D([], [], linestyle="none", marker=marker, markersize=size, markerfacecolor=face,
                      markeredgecolor=edge, label=label)

    handles = [dot(f"p < {alpha:g}", INK), dot(f"p ≥ {alpha:g}", "white"), dot("Primary analysis", "none", size=9)]
    if seeds:
        handles.append(dot("Reconstruction seed", SEED_GREY, SEED_GREY, size=3.5, marker="D"))
    figure.legend(handles=handles, loc="outside upper center", ncols=len(handles))


@uses_style
def sensitivity_estimates(summary: pd.DataFrame, week: int, level: float = 0.95):
    """One panel per endpoint: the cells' estimates sorted, CIs as bars (a specification curve)."""
    if "estimate" not in summary or summary["estimate"].isna().all():
        return placeholder("sensitivity_estimates", "no cell of the sensitivity grid could be estimated")
    figure = new_figure(FIGURES["sensitivity_estimates"].height_cm)
    panels = sensitivity_panels(week)
    grid = figure.subplots(2, len(panels), sharex="col", gridspec_kw={"height_ratios": [9, 0.55]})
    for axis, strip, (endpoint, title, reference, scale) in zip(grid[0], grid[1], panels):
        rows = summary[(summary["endpoint"] == endpoint) & summary["estimate"].notna()]
        axis.set_title("\n".join(textwrap.wrap(title, 22)), loc="left", fontsize=SMALL + 0.5)
        if rows.empty:
            _panel_not_available(axis, "no estimable cell")
            strip.set_axis_off()
            continue
        _sensitivity_panel(axis, strip, rows, 1 - level, reference, scale)
    grid[1][0].set_ylabel(f"p < {1 - level:g}", rotation=0, ha="right", va="center", fontsize=SMALL)
    _sensitivity_legend(figure, 1 - level, (summary["family"] == "reconstruction").any())
    return figure


def tipping_point(grid: pd.DataFrame, week: int, level: float = 0.95):
    """p-value over the grid of shifts (treatment on x, control on y), with the alpha contour."""
    if "p" not in grid or grid.empty:
        return placeholder("tipping_point", f"no week-{week} MELD value is missing in this cohort, so no shift of "
                                            "imputed values can change the comparison")
    figure = new_figure(FIGURES["tipping_point"].height_cm)
    axis = figure.subplots()
    table = grid.pivot(index="shift_control", columns="shift_treatment", values="p")
    shifts_t, shifts_c = table.columns.to_numpy(float), table.index.to_numpy(float)
    image = axis.pcolormesh(shifts_t, shifts_c, table.to_numpy(), cmap="Greys_r", vmin=0, vmax=1, shading="nearest")
    if table.to_numpy().min() < 1 - level < table.to_numpy().max():
        axis.contour(shifts_t, shifts_c, table.to_numpy(), levels=[1 - level], colors=[arm_colour("treatment")],
                     linewidths=1.2)
    axis.axvline(0, color=REFERENCE, linewidth=0.6, linestyle="--")
    axis.axhline(0, color=REFERENCE, linewidth=0.6, linestyle="--")
    axis.set_xlabel("Shift of imputed treatment values (MELD points)")
    axis.set_ylabel("Shift of imputed control values")
    bar = figure.colorbar(image, ax=axis)
    bar.set_label("p-value")
    return figure


# ---------------------------------------------------------------------------------------------
# Steps: read the results files, draw, save. Called by workflow/scripts/figure.py.


def _json(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _table(path, columns: list[str] | None = None) -> pd.DataFrame:
    """A results table (only ``columns`` of it when given); an empty file (an endpoint with no rows)
    as an empty frame."""
    try:
        return read_csv(path, columns)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _liver_units(result: dict) -> dict[str, str]:
    return {test: r.get("unit", "") for test, r in result.get("results", {}).items()}


def write_liver_trajectories(inputs: dict, arms: dict, analysis: dict, out_path) -> None:
    result = _json(inputs["liver_function_json"])
    if not result["available"]:
        figure = placeholder("liver_trajectories", result["reason"])
    else:
        figure = liver_trajectories(_table(inputs["liver_function_csv"]), _liver_units(result), arms,
                                    analysis["confidence_level"])
    save_svg(figure, out_path)


def write_meld_baseline_primary(inputs: dict, arms: dict, analysis: dict, out_path) -> None:
    labs = _table(inputs["labs"], ["test", "week", "arm", "value"])  # what the figure draws
    figure = meld_baseline_primary(labs, analysis["primary_week"], arms, analysis.get("meld_score", "MELD"))
    save_svg(figure, out_path)


def survival_annotation(result: dict, level: float = 0.95) -> str:
    """'Log-rank test p = 0.049 · HR 0.16 (95 % profile-likelihood CI 0.01 to 0.92)' from the survival
    endpoint's results: its pre-specified test, and the hazard ratio with the interval the report gives."""
    r = result["results"]
    chosen = r["primary_test"]
    parts = [f"{chosen['name'][0].upper()}{chosen['name'][1:]} {_p_text(chosen['p'])}"]
    cox = r.get("cox", {})
    if cox.get("hr") is not None:
        interval = {"profile": "profile-likelihood ", "wald": "Wald "}[cox["interval"]]
        parts.append(f"HR {format_ratio(cox['hr'])} ({_percent_level(level)} {interval}CI "
                     f"{format_ratio(cox.get('lower'))} to {format_ratio(cox.get('upper'))})")
    return "   ·   ".join(parts)


def write_km_survival(inputs: dict, arms: dict, analysis: dict, out_path) -> None:
    result = _json(inputs["survival_json"])
    level = analysis["confidence_level"]
    if not result["available"]:
        figure = placeholder("km_survival", result["reason"])
    else:
        parameters = result.get("parameters", {})
        competing = parameters.get("competing_events") or []
        events = ("Died" if parameters.get("transplant", "censor") == "censor" or not competing else
                  "Died or " + " or ".join(code.lower() for code in competing))
        risk_tables = {arm: pd.DataFrame(result["results"][arm]["risk_table"]) for arm in ARMS}
        figure = km_survival(_table(inputs["survival_csv"]), arms, analysis["horizon_days"], risk_tables,
                             survival_annotation(result, level), level, events)
    save_svg(figure, out_path)


def write_ascites_resolution(inputs: dict, arms: dict, analysis: dict, out_path) -> None:
    result = _json(inputs["ascites_json"])
    if not result["available"]:
        figure = placeholder("ascites_resolution", result["reason"])
    else:
        week = result.get("parameters", {}).get("week", analysis["primary_week"])
        figure = ascites_resolution(result, arms, week, analysis["confidence_level"])
    save_svg(figure, out_path)


def complications_at_risk(results: dict) -> dict:
    """event -> arm -> the complications endpoint's `risk_table` at the month ticks."""
    return {event: {arm: pd.DataFrame(result[arm]["risk_table"]) for arm in ARMS}
            for event, result in results.items() if result.get("available", True)}


def gray_texts(results: dict) -> dict[str, str]:
    """event -> "Gray's test p = 0.11", from the complications endpoint's results."""
    return {event: f"Gray's test {_p_text(r['gray_test'].get('p'))}" for event, r in results.items()
            if r.get("available", True) and r.get("gray_test", {}).get("available")}


def write_complications_incidence(inputs: dict, arms: dict, analysis: dict, out_path) -> None:
    result = _json(inputs["complications_json"])
    if not result["available"]:
        figure = placeholder("complications_incidence", result["reason"])
    else:
        events = list(result["results"])   # the order of the report's table of complications
        reasons = {e: r["reason"] for e, r in result["results"].items() if not r.get("available", True)}
        at_risk = complications_at_risk(result["results"])
        figure = complications_incidence(_table(inputs["complications_csv"]), arms, analysis["horizon_days"],
                                         events, reasons, at_risk, gray_texts(result["results"]),
                                         analysis["confidence_level"])
    save_svg(figure, out_path)


def write_forest_effects(inputs: dict, arms: dict, analysis: dict, out_path) -> None:
    rows = forest_rows(_json(inputs["ascites_json"]), _json(inputs["complications_json"]),
                       _json(inputs["survival_json"]))
    save_svg(forest_effects(rows, analysis["confidence_level"]), out_path)


def write_sensitivity_estimates(inputs: dict, arms: dict, analysis: dict, out_path) -> None:
    save_svg(sensitivity_estimates(_table(inputs["summary"]), analysis["primary_week"], analysis["confidence_level"]),
             out_path)


def write_tipping_point(inputs: dict, arms: dict, analysis: dict, out_path) -> None:
    save_svg(tipping_point(_table(inputs["tipping_point"]), analysis["primary_week"], analysis["confidence_level"]),
             out_path)
