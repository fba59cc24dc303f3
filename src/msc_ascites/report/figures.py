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
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from ..outputs import read_csv
from ..stats.quantiles import t_two_sided, wilson_interval
from .formatting import format_p, format_p_eq
from ..data.contract import ARMS
from ..products import FIGURES
from .style import (BAND_ALPHA, INK, NOT_AVAILABLE, REFERENCE, SMALL, arm_colour,
                    new_figure, not_available_figure, save_svg, uses_style)
from ..data.labels import EVENT_NAMES, LIVER_PANELS, UNIT_DISPLAY
from ..data.units import LAB_NAMES

DAYS_PER_MONTH = 365.25 / 12
#: Row labels of the forest plot, a little larger than tick labels.
FONT_LABEL = SMALL + 0.5


# ---------------------------------------------------------------------------------------------
# Small helpers


def _label(arms: dict, arm: str) -> str:
    return arms[arm]["label"]


def _percent_level(level: float) -> str:
    return f"{100 * level:g} %"


def _p_text(p) -> str:
    """'p = 0.049', 'p < 0.001', or 'p –' when it could not be computed (the report's format_p)."""
    text = format_p(p)
    return "p –" if text == "–" else f"p {format_p_eq(p).replace('<', '< ')}"


def _ratio_text(value) -> str:
    """A ratio with two decimals as the report prints it (0.16, 55.49); below 0.01 two significant
    figures (0.0031) rather than 0.00, below 0.001 '<0.001'; an unbounded limit (JSON null) as '∞'."""
    if value is None or not np.isfinite(value):
        return "∞"
    if 0 < abs(value) < 0.001:
        return "<0.001"
    if 0 < abs(value) < 0.01:
        return f"{value:.2g}"
    return f"{value:.2f}"


def _month_ticks(horizon_days: float) -> tuple[np.ndarray, float]:
    """Ticks every 6 months (3 or 1 for short horizons) up to the horizon, and the axis end in months."""
    months = horizon_days / DAYS_PER_MONTH
    step = 6 if months > 12 else 3 if months > 6 else 1
    last = math.floor(months / step + 0.05) * step       # 730 days is 23.98 months: the tick says 24
    return np.arange(0, last + step / 2, step), max(months, last)


def _arm_legend(figure, arms: dict, **kwargs):
    """One legend for the whole figure, above the panels: a line of the arm's colour per arm."""
    marker = kwargs.pop("marker", None)
    handles = [Line2D([], [], color=arm_colour(a), marker=marker, label=_label(arms, a)) for a in ARMS]
    return figure.legend(handles=handles, loc="outside upper center", ncols=len(ARMS), **kwargs)


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
    dodge = 0.9   # weeks: the two arms' intervals side by side
    for axis, test, choices in zip(axes, tests, LIVER_PANELS):
        if test is None:
            _panel_not_available(axis, f"no {LAB_NAMES.get(choices[0], choices[0]).lower()} values")
            continue
        rows = table[table["test"] == test]
        for offset, arm in zip((-dodge / 2, dodge / 2), ARMS):
            data = rows[rows["arm"] == arm].sort_values("week")
            n = data["n"].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                half = np.where(n >= 2, t_two_sided(level, np.maximum(n - 1, 1))
                                * data["sd"].to_numpy(dtype=float) / np.sqrt(n), np.nan)
            axis.errorbar(data["week"] + offset, data["mean"], yerr=half, color=arm_colour(arm), marker="o",
                          elinewidth=0.9, label=_label(arms, arm))
        weeks = sorted(int(w) for w in rows["week"].unique())
        axis.set_xticks(weeks, [str(w) for w in weeks])
        axis.set_xlim(min(weeks) - 3, max(weeks) + 3)
        axis.set_xlabel("Week")
        name = LAB_NAMES.get(test, test)
        axis.set_title(name if test in ("ALB", "PTA", "TBIL") else f"{name} (no activity values)")
        unit = UNIT_DISPLAY.get(units.get(test, ""), units.get(test, ""))
        axis.set_ylabel(f"Mean ({_percent_level(level)} CI)" + (f", {unit}" if unit else ""))
    _arm_legend(figure, arms, marker="o")
    return figure


@uses_style
def meld_baseline_primary(labs: pd.DataFrame, week: int, arms: dict, score: str = "MELD"):
    """MELD at baseline and at ``week`` by arm: a point per patient (deterministic jitter) over a box.

    ``labs``: results/datasets/labs.csv (test, week, arm, value); rows with test MELD are used.
    """
    if not {"test", "week", "arm", "value"} <= set(labs.columns):
        labs = pd.DataFrame(columns=["test", "week", "arm", "value"])
    data = labs[(labs["test"] == "MELD") & labs["week"].isin([0, week])].dropna(subset=["value"])
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
            axis.scatter(x + jitter, values, s=8, color=colour, alpha=0.55, linewidths=0, zorder=2)
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


@uses_style
def km_survival(curves: pd.DataFrame, arms: dict, horizon_days: int, annotation: str = "",
                level: float = 0.95):
    """Kaplan-Meier curves to the horizon (months) with CI bands, censoring ticks and numbers at risk.

    ``curves``: results/endpoints/survival.csv, the step table of each arm (arm, time in days, n_risk,
    n_event, n_censor, surv, lower, upper).
    """
    if curves.empty or "surv" not in curves:
        return placeholder("km_survival", "no survival curves")
    figure = new_figure(FIGURES["km_survival"].height_cm)
    axis, risk = figure.subplots(2, 1, gridspec_kw={"height_ratios": [4.2, 1]})
    ticks, end = _month_ticks(horizon_days)
    horizon = horizon_days / DAYS_PER_MONTH
    lowest = 1.0
    for row, arm in enumerate(ARMS):
        colour = arm_colour(arm)
        data = curves[curves["arm"] == arm].sort_values("time")
        within = data[data["time"] <= horizon_days]
        months = np.concatenate([[0.0], within["time"].to_numpy(float) / DAYS_PER_MONTH, [horizon]])
        surv = np.concatenate([[1.0], within["surv"].to_numpy(float)])
        lower = np.concatenate([[1.0], within["lower"].fillna(0).to_numpy(float)])
        upper = np.concatenate([[1.0], within["upper"].fillna(1).to_numpy(float)])
        surv, lower, upper = (np.append(v, v[-1]) for v in (surv, lower, upper))
        lowest = min(lowest, lower.min())
        axis.step(months, 100 * surv, where="post", color=colour, label=_label(arms, arm), zorder=3)
        axis.fill_between(months, 100 * lower, 100 * upper, step="post", color=colour, alpha=BAND_ALPHA,
                          linewidth=0, zorder=1)
        censored = within[within["n_censor"] > 0]
        axis.plot(censored["time"] / DAYS_PER_MONTH, 100 * censored["surv"], linestyle="none", marker="|",
                  markersize=6, markeredgewidth=1.0, color=colour, zorder=4)
        # Number at risk at a tick: n_risk of the first step at or after it (0 past the last one).
        times, n_risk = data["time"].to_numpy(float), data["n_risk"].to_numpy(int)
        for tick in ticks:
            day = min(tick * DAYS_PER_MONTH, horizon_days)
            later = np.flatnonzero(times >= day)
            risk.text(tick, 1 - row, str(n_risk[later[0]]) if len(later) else "0", ha="center", va="center",
                      color=colour, fontsize=SMALL)
    bottom = 0 if lowest < 0.45 else 50
    axis.set_ylim(bottom, 101)
    axis.set_yticks(np.arange(bottom, 101, 10 if bottom else 20))
    axis.set_ylabel("Overall survival, %")
    axis.set_xlabel("Months since enrollment")
    for ax in (axis, risk):
        ax.set_xlim(0, end)
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    axis.legend(loc="lower left", title=f"Shaded: {_percent_level(level)} CI", title_fontsize=SMALL,
                alignment="left")
    if annotation:
        axis.set_title(annotation, loc="right", fontsize=SMALL, fontweight="normal")
    risk.set_ylim(-0.6, 1.6)
    risk.set_yticks([1, 0], [_label(arms, a) for a in ARMS])
    for label, arm in zip(risk.get_yticklabels(), ARMS):
        label.set_color(arm_colour(arm))
    risk.tick_params(axis="y", length=0, pad=16)   # clear of the numbers centred on month 0
    risk.tick_params(axis="x", length=0, labelbottom=False)
    for side in ("left", "bottom"):
        risk.spines[side].set_visible(False)
    risk.set_title("Number at risk", loc="left", fontsize=SMALL, fontweight="bold")
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
    p = r.get("fisher_exact", {}).get("p")
    axis.set_title(f"Fisher's exact test {_p_text(p)}", loc="right", fontsize=SMALL, fontweight="normal")
    return figure


@uses_style
def complications_incidence(curves: pd.DataFrame, arms: dict, horizon_days: int,
                            events: list[str] | None = None, reasons: dict[str, str] | None = None):
    """Cumulative incidence (death a competing risk) of each complication by arm, a panel per event.

    ``curves``: results/endpoints/complications.csv (event, arm, time in days, cif); ``events``: the
    panels in order (default: as in ``curves``); ``reasons``: why an event has no curve.
    """
    has_curves = not curves.empty and "cif" in curves
    events = list(events) if events else (list(dict.fromkeys(curves["event"])) if has_curves else [])
    if not events:
        return placeholder("complications_incidence", "no complication curves")
    reasons = reasons or {}
    figure = new_figure(FIGURES["complications_incidence"].height_cm)
    axes = np.atleast_1d(figure.subplots(1, len(events), sharey=True))
    ticks, end = _month_ticks(horizon_days)
    drawn = [a for a, e in zip(axes, events) if has_curves and (curves["event"] == e).any()]
    for axis, event in zip(axes, events):
        name = EVENT_NAMES.get(event)
        axis.set_title("\n".join(textwrap.wrap(f"{name} ({event})" if name else event, 24)), fontsize=SMALL + 0.5)
        if axis not in drawn:
            _panel_not_available(axis, reasons.get(event, f"no {event} curve"))
            continue
        for arm in ARMS:
            data = curves[(curves["event"] == event) & (curves["arm"] == arm)].sort_values("time")
            data = data[data["time"] <= horizon_days]
            axis.step(data["time"] / DAYS_PER_MONTH, 100 * data["cif"], where="post", color=arm_colour(arm),
                      label=_label(arms, arm))
        axis.set_xlim(0, end)
        axis.set_xticks(ticks, [f"{t:g}" for t in ticks])
        axis.set_xlabel("Months since enrollment")
    if drawn:
        drawn[0].set_ylabel("Cumulative incidence, %")
        drawn[0].set_ylim(bottom=0)
        drawn[0].yaxis.set_tick_params(labelleft=True)
        for axis in drawn[1:]:
            axis.yaxis.set_tick_params(labelleft=True)
    _arm_legend(figure, arms)
    return figure


def forest_rows(ascites: dict | None, complications: dict | None, survival: dict | None) -> list[dict]:
    """The forest plot's rows, from the endpoint results (the JSON files' contents).

    Each row: ``label``, ``difference`` (risk difference in percentage points: estimate, lower,
    upper, or None), ``ratio`` (("OR" or "HR", estimate, lower, upper) or None) and ``reason``
    (why the row has no estimate, or None). Endpoints not available give a row with the reason.
    """
    rows = []

    def add(label, r, reason=None):
        if r is None:
            rows.append({"label": label, "difference": None, "ratio": None, "reason": reason})
            return
        rd, fe = r.get("risk_difference", {}), r.get("fisher_exact", {})
        difference = (None if rd.get("estimate") is None else
                      tuple(None if v is None else 100 * v for v in (rd["estimate"], rd["lower"], rd["upper"])))
        ratio = None if fe.get("odds_ratio") is None else ("OR", fe["odds_ratio"], fe["lower"], fe["upper"])
        rows.append({"label": label, "difference": difference, "ratio": ratio,
                     "reason": None if difference or ratio else "no estimate"})

    if ascites is not None:
        add("Ascites disappeared", ascites["results"] if ascites.get("available") else None,
            ascites.get("reason"))
    if complications is not None:
        if complications.get("available"):
            order = complications.get("parameters", {}).get("events") or sorted(complications["results"])
            for event in order:
                r = complications["results"].get(event, {"available": False, "reason": f"no {event} result"})
                add(event, r if r.get("available", True) else None, r.get("reason"))
        else:
            add("Complications", None, complications.get("reason"))
    if survival is not None:
        cox = survival.get("results", {}).get("cox", {}) if survival.get("available") else {}
        if cox.get("hr") is not None:
            rows.append({"label": "Death", "difference": None, "ratio": ("HR", cox["hr"], cox["lower"], cox["upper"]),
                         "reason": None})
        else:
            rows.append({"label": "Death", "difference": None, "ratio": None,
                         "reason": survival.get("reason") or cox.get("reason") or "no hazard ratio"})
    return rows


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
            text_r.text(0.02, yi, f"{kind} {_ratio_text(est)} ({_ratio_text(lo)} to {_ratio_text(hi)})",
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
    plot_r.set_title(f"Odds or hazard ratio ({ci})", loc="left", fontsize=SMALL + 0.5)
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


def sensitivity_estimates(summary: pd.DataFrame, week: int, level: float = 0.95):
    """One panel per endpoint: the cells' estimates sorted, CIs as bars (a specification curve)."""
    if "estimate" not in summary or summary["estimate"].isna().all():
        return placeholder("sensitivity_estimates", "no cell of the sensitivity grid could be estimated")
    figure = new_figure(FIGURES["sensitivity_estimates"].height_cm)
    panels = sensitivity_panels(week)
    axes = figure.subplots(1, len(panels))
    alpha = 1 - level
    for axis, (endpoint, title, reference, scale) in zip(axes, panels):
        rows = summary[(summary["endpoint"] == endpoint) & summary["estimate"].notna()]
        axis.set_title(title, loc="left", fontsize=SMALL + 0.5)
        if rows.empty:
            _panel_not_available(axis, "no estimable cell")
            continue
        # Equal estimates: the reconstruction seeds' cells first, then the grid's in summary order.
        rows = rows.assign(grid_cell=rows["family"] != "reconstruction")
        rows = rows.sort_values(["estimate", "grid_cell"], kind="stable").reset_index(drop=True)
        x = np.arange(len(rows))
        seeds = (rows["family"] == "reconstruction").to_numpy()
        is_primary = rows["primary"].astype(bool).to_numpy()
        significant = (rows["p"] < alpha).to_numpy()
        colour = np.where(seeds, NOT_AVAILABLE, INK)
        axis.vlines(x, rows["lower"], rows["upper"], colors=colour, linewidth=0.4, alpha=0.3)
        axis.scatter(x[significant], rows["estimate"][significant], s=4, c=colour[significant], zorder=3)
        axis.scatter(x[~significant], rows["estimate"][~significant], s=4, facecolors="white",
                     edgecolors=colour[~significant], linewidths=0.6, zorder=3)
        axis.scatter(x[is_primary], rows["estimate"][is_primary], s=40, facecolors="none", edgecolors=INK,
                     linewidths=0.9, zorder=4)
        axis.axhline(reference, color=REFERENCE, linestyle="--", linewidth=0.8, zorder=0)
        if scale == "log":
            axis.set_yscale("log")
            axis.yaxis.set_major_formatter(FuncFormatter(lambda v, pos: f"{v:g}"))
        axis.set_xticks([])
        axis.set_xlabel(f"{len(rows)} cells, sorted")
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


def _table(path) -> pd.DataFrame:
    """A results table; an empty file (an endpoint with no rows) as an empty frame."""
    try:
        return read_csv(path)
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
    labs = _table(inputs["labs"])
    figure = meld_baseline_primary(labs, analysis["primary_week"], arms, analysis.get("meld_score", "MELD"))
    save_svg(figure, out_path)


def survival_annotation(result: dict, level: float = 0.95) -> str:
    """'Log-rank p = 0.049 · HR 0.16 (95 % CI 0.02 to 1.31)' from the survival endpoint's results."""
    r = result["results"]
    parts = [f"Log-rank {_p_text(r.get('logrank', {}).get('p'))}"]
    cox = r.get("cox", {})
    if cox.get("hr") is not None:
        parts.append(f"HR {_ratio_text(cox['hr'])} ({_percent_level(level)} CI {_ratio_text(cox.get('lower'))} "
                     f"to {_ratio_text(cox.get('upper'))})")
    return "   ·   ".join(parts)


def write_km_survival(inputs: dict, arms: dict, analysis: dict, out_path) -> None:
    result = _json(inputs["survival_json"])
    level = analysis["confidence_level"]
    if not result["available"]:
        figure = placeholder("km_survival", result["reason"])
    else:
        figure = km_survival(_table(inputs["survival_csv"]), arms, analysis["horizon_days"],
                             survival_annotation(result, level), level)
    save_svg(figure, out_path)


def write_ascites_resolution(inputs: dict, arms: dict, analysis: dict, out_path) -> None:
    result = _json(inputs["ascites_json"])
    if not result["available"]:
        figure = placeholder("ascites_resolution", result["reason"])
    else:
        week = result.get("parameters", {}).get("week", analysis["primary_week"])
        figure = ascites_resolution(result, arms, week, analysis["confidence_level"])
    save_svg(figure, out_path)


def write_complications_incidence(inputs: dict, arms: dict, analysis: dict, out_path) -> None:
    result = _json(inputs["complications_json"])
    if not result["available"]:
        figure = placeholder("complications_incidence", result["reason"])
    else:
        events = result.get("parameters", {}).get("events") or list(result["results"])
        reasons = {e: r["reason"] for e, r in result["results"].items() if not r.get("available", True)}
        figure = complications_incidence(_table(inputs["complications_csv"]), arms, analysis["horizon_days"],
                                         events, reasons)
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
