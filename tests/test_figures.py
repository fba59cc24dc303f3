"""Figures from small hand-made tables (no Snakemake): drawn as expected, placeholders of the
same size when the input is not available, the same bytes when saved twice."""

import hashlib
import json
import re
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

from msc_ascites.analysis.endpoints import complications
from msc_ascites.report import figures
from msc_ascites.stats.competing import risk_table, risk_table_days
from msc_ascites.report.formatting import format_ratio
from msc_ascites.report.render import render_html
from msc_ascites.report import style
from msc_ascites import products
from msc_ascites.data import contract
from msc_ascites.products import FIGURES

ARMS = {"treatment": {"label": "MSC arm"}, "control": {"label": "SMT arm"}}
ANALYSIS = {"primary_week": 48, "horizon_days": 730, "confidence_level": 0.95, "meld_score": "MELD"}


def liver_table(tests=("ALB", "PTA", "TBIL")):
    rows = []
    for test in tests:
        for week in (0, 4, 12, 48):
            for arm, shift in (("treatment", 1.0), ("control", 0.0)):
                rows.append({"test": test, "visit": f"W{week}", "week": week, "arm": arm, "n": 10,
                             "mean": 30 + shift * week / 12, "sd": 2.0})
    return pd.DataFrame(rows)


def labs_table():
    rows = []
    for week in (0, 12, 48):
        for arm, base in (("treatment", 15.0), ("control", 16.0)):
            for i in range(5):
                rows.append({"subject_id": f"{arm[0]}{i}", "arm": arm, "test": "MELD", "week": week,
                             "value": base + i - week / 24})
    return pd.DataFrame(rows)


def km_table():
    return pd.DataFrame({"arm": ["treatment"] * 3 + ["control"] * 3, "time": [100, 400, 740, 200, 500, 735],
                         "n_risk": [3, 2, 1, 3, 2, 1], "n_event": [0, 1, 0, 1, 1, 0], "n_censor": [1, 0, 1, 0, 0, 1],
                         "surv": [1.0, 0.5, 0.5, 2 / 3, 1 / 3, 1 / 3], "lower": [1, .1, .1, .2, .05, .05],
                         "upper": [1, 1, 1, 1, .9, .9]})


def two_by_two(events_t=9, n_t=39, events_c=2, n_c=39, p=0.047):
    return {"treatment": {"events": events_t, "n": n_t, "percent": 100 * events_t / n_t},
            "control": {"events": events_c, "n": n_c, "percent": 100 * events_c / n_c},
            "fisher_exact": {"p": p, "odds_ratio": 5.44, "lower": 1.02, "upper": 55.5},
            "risk_ratio": {"estimate": 4.5, "lower": 1.04, "upper": 19.5},
            "primary_test": {"test": "fisher_exact", "name": "Fisher's exact test", "p": p},
            "risk_difference": {"estimate": 0.179, "lower": 0.022, "upper": 0.337}}


def endpoint_results():
    ascites = {"endpoint": "ascites_resolution", "available": True, "parameters": {"week": 48},
               "results": two_by_two()}
    hrs, _ = complications(time_to_event_table(), ["HRS"], 730, 0.95)
    complications_result = {"endpoint": "complications", "available": True, "parameters": {"events": ["HRS", "HE"]},
                            "results": {"HRS": two_by_two(1, 39, 6, 39, 0.108),
                                        "HE": {"available": False, "reason": "no HE endpoint in the datasets"}}}
    for arm in ARMS:  # the numbers at risk under the curves, as the endpoints store them
        complications_result["results"]["HRS"][arm]["risk_table"] = hrs["results"]["HRS"][arm]["risk_table"]
    survival = {"endpoint": "survival", "available": True,
                "results": {"logrank": {"p": 0.0491}, "cox": {"hr": 0.157, "lower": 0.0189, "upper": 1.306,
                                                              "interval": "wald"},
                            "primary_test": {"test": "logrank", "name": "log-rank test", "p": 0.0491},
                            "risk_difference": {"estimate": -0.128, "lower": -0.273, "upper": 0.006},
                            **{arm: {"risk_table": table.to_dict("records")}
                               for arm, table in km_risk_tables(km_table()).items()}}}
    return ascites, complications_result, survival


def cif_table(events=("HRS", "HE")):
    rows = []
    for event in events:
        for arm, step in (("treatment", 0.02), ("control", 0.05)):
            for i, time in enumerate((0, 30, 365, 730)):
                rows.append({"event": event, "arm": arm, "time": time, "cif": step * i})
    return pd.DataFrame(rows)


def not_available_text(figure: Figure) -> str:
    texts = [t.get_text() for ax in figure.axes for t in ax.texts if t.get_text().startswith("Not available")]
    return " ".join(" ".join(texts).split())     # wrapped lines joined


# --- the figures, one by one ------------------------------------------------------------------


def test_liver_trajectories_three_panels_two_arms_each():
    figure = figures.liver_trajectories(liver_table(), {"ALB": "g/L", "PTA": "%", "TBIL": "umol/L"}, ARMS)
    assert isinstance(figure, Figure)
    assert [a.get_title() for a in figure.axes] == ["Albumin", "Prothrombin activity", "Total bilirubin"]
    for axis in figure.axes:
        assert sum(isinstance(c, ErrorbarContainer) for c in axis.containers) == 2
    assert figure.axes[2].get_ylabel() == "Mean (95 % CI), µmol/L"
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["MSC arm", "SMT arm"]


def test_liver_trajectories_t_interval():
    figure = figures.liver_trajectories(liver_table(("ALB",)), {}, ARMS)
    caps = [line for line in figure.axes[0].containers[0].lines[1]]
    low, high = sorted(caps[0].get_ydata())[:1] + sorted(caps[1].get_ydata())[:1]
    # mean 30 at week 0, sd 2, n 10: 30 -/+ t(9, 0.975) * 2 / sqrt(10) = 30 -/+ 1.4307
    assert low == pytest.approx(30 - 1.4307, abs=1e-3) and high == pytest.approx(30 + 1.4307, abs=1e-3)


def test_liver_trajectories_falls_back_to_pt_and_marks_missing_tests():
    table = liver_table(("PT", "TBIL"))
    figure = figures.liver_trajectories(table, {}, ARMS)
    assert len(figure.axes) == 3
    assert "Not available: no albumin values" in not_available_text(figure)
    assert figure.axes[1].get_title().startswith("Prothrombin time")
    placeholder = figures.liver_trajectories(liver_table(("CREA",)), {}, ARMS)
    assert "Not available" in not_available_text(placeholder)


def test_meld_boxes_points_and_counts():
    figure = figures.meld_baseline_primary(labs_table(), 48, ARMS)
    (axis,) = figure.axes
    assert len(axis.collections) == 4                       # one point cloud per visit and arm
    assert all(len(c.get_offsets()) == 5 for c in axis.collections)
    assert [t.get_text() for t in axis.get_xticklabels()] == ["Baseline", "Week 48"]
    figure.canvas.draw()
    assert [t.get_text() for t in axis.get_xticklabels(minor=True)] == ["n = 5"] * 4
    # Baseline, treatment arm: centre -0.21 (arms 0.42 apart), MELD 15..19 sorted, jitter
    # (i * 0.618034 mod 1 - 0.5) * 0.24 for i = 0..4, inside the 0.3-wide box.
    offsets = axis.collections[0].get_offsets()
    assert list(offsets[:, 1]) == [15.0, 16.0, 17.0, 18.0, 19.0]
    assert list(offsets[:, 0]) == pytest.approx([-0.33, -0.181672, -0.273344, -0.125016, -0.216687], abs=1e-6)


def test_meld_points_of_a_large_cohort_are_one_image(tmp_path):
    """Above VECTOR_POINTS_MAX points a group's strip is an image in the SVG (200k vector markers at
    100k subjects made WeasyPrint lay out one figure for 100 s); a small cohort keeps vectors."""
    n = figures.VECTOR_POINTS_MAX + 1
    large = pd.DataFrame({"subject_id": [f"s{i}" for i in range(n)] * 2, "arm": "treatment", "test": "MELD",
                          "week": [0] * n + [48] * n, "value": [10.0 + i % 17 for i in range(2 * n)]})
    paths = []
    for name, table in (("large1", large), ("large2", large), ("small", labs_table())):
        figure = figures.meld_baseline_primary(table, 48, ARMS)
        figures.save_svg(figure, tmp_path / f"{name}.svg")
        paths.append((tmp_path / f"{name}.svg").read_text())
    assert paths[0] == paths[1]
    assert "<image" in paths[0] and len(paths[0]) < 200_000
    assert "<image" not in paths[2]


def test_meld_without_values_is_a_placeholder():
    figure = figures.meld_baseline_primary(labs_table().assign(test="ALB"), 48, ARMS)
    assert "Not available: no MELD values" in not_available_text(figure)
    empty = figures.meld_baseline_primary(pd.DataFrame(), 48, ARMS)
    assert "Not available" in not_available_text(empty)


def km_table_censored():
    """Treatment: censored on days 100 (two patients), 300 and 730 (the horizon), died on 400, censored
    past the horizon on 760. Control: censored on 50, died on 200 and 500, censored on 735."""
    rows = {"treatment": [(100, 8, 0, 2), (300, 6, 0, 1), (400, 5, 1, 0), (730, 4, 0, 1), (760, 3, 0, 3)],
            "control": [(50, 4, 0, 1), (200, 3, 1, 0), (500, 2, 1, 0), (735, 1, 0, 1)]}
    frames = []
    for arm, steps in rows.items():
        table = pd.DataFrame(steps, columns=["time", "n_risk", "n_event", "n_censor"])
        table["surv"] = (1 - table["n_event"] / table["n_risk"]).cumprod()
        frames.append(table.assign(arm=arm, lower=table["surv"] * 0.8, upper=1.0))
    return pd.concat(frames, ignore_index=True)


def _svg_of(figure, tmp_path) -> str:
    path = tmp_path / "figure.svg"
    style.save_svg(figure, path)
    return path.read_text(encoding="utf-8")


def _uses_in_group(svg: str, gid: str) -> int:
    """Markers drawn by the artist with this gid (matplotlib writes one <use> per point)."""
    group = re.search(rf'<g id="{gid}">(.*?)</g>', svg, re.S)
    return group.group(1).count("<use ") if group else 0


def km_risk_tables(curves: pd.DataFrame, horizon_days: int = 730) -> dict:
    """arm -> the numbers at risk at the month ticks, as the survival endpoint stores them."""
    return {arm: risk_table(curves[curves["arm"] == arm], risk_table_days(horizon_days)) for arm in ARMS}


def test_km_curves_and_a_censoring_tick_per_censored_time(tmp_path):
    curves = km_table_censored()
    figure = figures.km_survival(curves, ARMS, 730, km_risk_tables(curves), annotation="Log-rank p = 0.049")
    curve, risk = figure.axes
    assert len([line for line in curve.get_lines() if line.get_drawstyle() == "steps-post"]) == 2
    assert curve.get_title(loc="right") == "Log-rank p = 0.049"
    assert "Censored" in [t.get_text() for t in curve.get_legend().get_texts()]
    svg = _svg_of(figure, tmp_path)
    # Censored times within the horizon: treatment 100, 300, 730 (the tick on the axis' end); control 50.
    assert _uses_in_group(svg, "censoring_treatment") == 3
    assert _uses_in_group(svg, "censoring_control") == 1


def test_km_table_at_risk_censored_died_by_hand():
    curves = km_table_censored()
    figure = figures.km_survival(curves, ARMS, 730, km_risk_tables(curves))
    curve, risk = figure.axes
    assert [float(t) for t in curve.get_xticks()] == [0, 6, 12, 18, 24]
    assert [t.get_text() for t in risk.get_yticklabels()] == ["MSC arm", "At risk", "Censored", "Died",
                                                             "SMT arm", "At risk", "Censored", "Died"]
    numbers = [t.get_text() for t in risk.texts]
    # Days 0, 182.6, 365.25, 547.9, 730 (the horizon). Treatment, 8 patients: 2 censored on day 100,
    # 1 on 300, a death on 400; those censored on 730 are still at risk on 730. Control, 4 patients.
    treatment = ["8", "6", "5", "4", "4"] + ["0", "2", "3", "3", "3"] + ["0", "0", "0", "1", "1"]
    control = ["4", "3", "2", "1", "1"] + ["0", "1", "1", "1", "1"] + ["0", "0", "1", "2", "2"]
    assert numbers == treatment + control


def test_ascites_bars_with_n_over_n():
    figure = figures.ascites_resolution({"results": two_by_two()}, ARMS, 48)
    (axis,) = figure.axes
    assert len(axis.patches) == 2
    assert {t.get_text() for t in axis.texts} == {"9/39 (23.1 %)", "2/39 (5.1 %)"}
    assert axis.get_title(loc="right") == "Fisher's exact test p = 0.047"


def test_complications_one_panel_per_event_and_missing_event():
    figure = figures.complications_incidence(cif_table(("HRS", "HE", "SBP")), ARMS, 730)
    assert len(figure.axes) == 6                            # a panel and its row of numbers per event
    assert all(len(a.get_lines()) == 2 for a in figure.axes[:3])
    assert figure.axes[0].get_title() == "Hepatorenal syndrome\n(HRS)"
    partial = figures.complications_incidence(cif_table(("HRS",)), ARMS, 730, ["HRS", "HE"],
                                              {"HE": "no HE endpoint in the datasets"})
    assert "no HE endpoint" in not_available_text(partial)
    assert "Not available" in not_available_text(figures.complications_incidence(pd.DataFrame(), ARMS, 730))


def time_to_event_table():
    """HRS rows: treatment 4 patients (event day 30, death day 200, censored 400 and 800), control 3
    (events days 100 and 250, censored 730)."""
    rows = [("t1", "treatment", 30, 1), ("t2", "treatment", 200, 2), ("t3", "treatment", 400, 0),
            ("t4", "treatment", 800, 0), ("c1", "control", 100, 1), ("c2", "control", 250, 1),
            ("c3", "control", 730, 0)]
    return pd.DataFrame([{"subject_id": s, "arm": a, "endpoint": "HRS", "day": d, "status": st}
                         for s, a, d, st in rows])


def test_complications_bands_numbers_at_risk_and_gray_test():
    curves = cif_table(("HRS", "HE")).assign(lower=lambda t: t["cif"] / 2, upper=lambda t: t["cif"] * 2)
    endpoint, _ = complications(time_to_event_table(), ["HRS", "HE"], 730, 0.95)
    at_risk = figures.complications_at_risk(endpoint["results"])
    assert set(at_risk) == {"HRS"}      # HE has no rows in this dataset
    figure = figures.complications_incidence(curves, ARMS, 730, ["HRS", "HE"], at_risk=at_risk,
                                             tests={"HRS": "Gray's test p = 0.31"})
    hrs, he, hrs_risk, he_risk = figure.axes
    assert len(hrs.collections) == 2 and len(he.collections) == 2     # a CI band per arm
    assert "Gray's test p = 0.31" in [t.get_text() for t in hrs.texts]
    # At 0, 6, 12, 18, 24 months (day 730 the last): at risk = follow-up reaching the day.
    assert [t.get_text() for t in hrs_risk.texts] == ["4", "3", "2", "1", "1", "3", "2", "1", "1", "1"]
    assert [t.get_text() for t in hrs_risk.get_yticklabels()] == ["MSC arm", "SMT arm"]
    assert hrs_risk.get_title(loc="left") == "Number at risk" and not he_risk.texts


def test_complications_panels_follow_the_results_table_and_show_gray_p(tmp_path):
    inputs = _write_inputs(tmp_path, True)
    result = json.loads(inputs["complications_json"].read_text())
    result["parameters"]["events"] = ["HRS", "HE"]
    result["results"] = {"HE": {"available": False, "reason": "no HE endpoint in the datasets"},
                         "HRS": {**result["results"]["HRS"], "gray_test": {"available": True, "p": 0.0123}}}
    inputs["complications_json"].write_text(json.dumps(result))
    out = tmp_path / "cif.svg"
    figures.write_complications_incidence(inputs, ARMS, ANALYSIS, out)
    svg = out.read_text(encoding="utf-8")
    assert svg.index("Hepatic encephalopathy") < svg.index("Hepatorenal syndrome")   # HE first, as the table
    assert "Gray&#39;s test p = 0.012" in svg or "Gray's test p = 0.012" in svg


def test_trajectory_error_bars_of_the_two_arms_do_not_overlap():
    figure = figures.liver_trajectories(liver_table(), {}, ARMS)
    figure.canvas.draw()
    for axis in figure.axes:
        spans = []
        for container in axis.containers:
            caps = container.lines[1][0]            # the lower caps: one marker per visit
            x = axis.transData.transform(list(zip(caps.get_xdata(), caps.get_ydata())))[:, 0]
            half = caps.get_markersize() / 2 * figure.dpi / 72
            spans.append(list(zip(x - half, x + half)))
        for (left_t, right_t), (left_c, right_c) in zip(*spans):
            assert right_t < left_c or right_c < left_t    # the arms' caps apart at every visit


def test_forest_rows_and_panels():
    rows = figures.forest_rows(*endpoint_results())
    assert [r["label"] for r in rows] == ["Ascites disappeared", "HRS", "HE", "Death"]
    assert rows[0]["difference"] == pytest.approx((17.9, 2.2, 33.7))
    assert rows[0]["ratio"] == ("RR", 4.5, 1.04, 19.5)
    assert rows[2]["reason"] == "no HE endpoint in the datasets" and rows[2]["ratio"] is None
    assert rows[3]["label"] == "Death" and rows[3]["ratio"] == ("HR", 0.157, 0.0189, 1.306)
    assert rows[3]["difference"] == pytest.approx((-12.8, -27.3, 0.6)) and rows[3]["reason"] is None
    figure = figures.forest_effects(rows)
    assert len(figure.axes) == 4
    texts = {t.get_text() for ax in figure.axes for t in ax.texts}
    assert {"+17.9 (+2.2 to +33.7)", "RR 4.50 (1.04 to 19.50)", "HR 0.16 (0.02 to 1.31)", "not available"} <= texts


def test_forest_unbounded_limits_run_to_the_edge():
    rows = [{"label": "Death", "difference": None, "ratio": ("HR", 1e-9, 0.0, None), "reason": None}]
    figure = figures.forest_effects(rows)
    low, high = figure.axes[2].get_xlim()
    assert low >= 1e-3 and high <= 1e3
    assert {"<", ">"} <= {line.get_marker() for line in figure.axes[2].get_lines()}


def test_nothing_to_show_gives_placeholders():
    na = {"available": False, "reason": "ascites.csv is not in the raw data folder"}
    assert "Not available" in not_available_text(figures.forest_effects(figures.forest_rows(na, na, na)))


def test_survival_annotation():
    _, _, survival = endpoint_results()
    assert figures.survival_annotation(survival) == "Log-rank test p = 0.049   ·   HR 0.16 (95 % Wald CI 0.02 to 1.31)"
    survival["results"]["primary_test"] = {"test": "cox_likelihood_ratio", "name": "Cox likelihood-ratio test", "p": 0.03}
    survival["results"]["cox"].update(interval="profile", lower=0.01, upper=0.92)
    assert figures.survival_annotation(survival) == ("Cox likelihood-ratio test p = 0.030   ·   "
                                                     "HR 0.16 (95 % profile-likelihood CI 0.01 to 0.92)")


# --- steps, sizes, bytes -----------------------------------------------------------------------


#: Figures whose input tables carry no "reason" column: their placeholder says why in its own words.
NO_REASON_COLUMN = ("meld_baseline_primary", "sensitivity_estimates", "tipping_point")


def sensitivity_table() -> pd.DataFrame:
    """Summary rows of 4 cells per endpoint, the first the paper's choices, one a seed."""
    rows = []
    for endpoint, centre in (("primary_MELD", -2.0), ("ascites_disappearance", 4.5), ("death", 0.2)):
        for i in range(4):
            rows.append({"family": "reconstruction" if i == 3 else "primary", "endpoint": endpoint,
                         "estimate": centre * (1 + i / 10), "lower": centre * 0.5 if centre > 0 else centre * 1.5,
                         "upper": centre * 2 if centre > 0 else centre * 0.5, "p": 0.01 * (1 + 3 * i),
                         "primary": i == 0})
    return pd.DataFrame(rows)


def test_sensitivity_marks_strip_ticks_and_grey_seeds(tmp_path):
    figure = figures.sensitivity_estimates(sensitivity_table(), 48)
    curves, strips = figure.axes[:3], figure.axes[3:]
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["p < 0.05", "p ≥ 0.05", "Primary analysis",
                                                                    "Reconstruction seed"]
    for strip in strips:
        # One bar per cell, dark where p < 0.05: p = 0.01, 0.04, 0.07, 0.10 (sorted by estimate).
        colours = [matplotlib.colors.to_hex(bar.get_facecolor()) for bar in strip.patches]
        assert colours.count(style.INK) == 2 and colours.count(figures.SIGNIFICANCE_OFF) == 2
        assert [float(t) for t in strip.get_xticks() if 0 < t <= 4] and strip.get_xlabel() == "Cell, by estimate (4 cells)"
    # The reconstruction seed drawn as the grey diamond the caption names; the grid's cells as dots in ink.
    caption = FIGURES["sensitivity_estimates"].caption
    assert "seeds as grey diamonds" in caption and "strip under each panel" in caption
    svg = _svg_of(figure, tmp_path)
    for endpoint in ("primary_MELD", "ascites_disappearance", "death"):
        # p of the seed (4th cell) 0.10: open, in grey; the grid's: 2 filled, 1 open, in ink.
        seed = re.search(rf'<g id="seed_not_significant_{endpoint}">(.*?)</g>', svg, re.S).group(1)
        assert "stroke: #9a9a9a" in seed and figures.SEED_GREY == "#9a9a9a"
        grid = re.search(rf'<g id="grid_significant_{endpoint}">(.*?)</g>', svg, re.S).group(1)
        assert "fill: #222222" in grid and "#9a9a9a" not in grid
    assert svg.count('<g id="primary_death">') == 1 and "DejaVu Sans" in svg
    ids = re.findall(r' id="([^"]+)"', svg)
    assert len(ids) == len(set(ids))                          # every named group once: valid SVG


def tipping_table() -> pd.DataFrame:
    shifts = [-2.0, 0.0, 2.0]
    return pd.DataFrame([{"shift_treatment": t, "shift_control": c, "estimate": -2 + (t - c) / 2,
                          "lower": -3 + (t - c) / 2, "upper": -1 + (t - c) / 2, "p": min(1.0, 0.01 * 3 ** (t - c + 2))}
                         for t in shifts for c in shifts])


def _write_inputs(tmp_path: Path, available: bool) -> dict:
    """The files each step reads, available or not (an endpoint's JSON and its one-row CSV)."""
    na = {"available": False, "reason": "the cohort lacks this table"}
    ascites, complications, survival = endpoint_results()
    liver = {"available": True, "results": {"ALB": {"unit": "g/L"}, "PTA": {"unit": "%"}, "TBIL": {"unit": "umol/L"}}}
    files = {"liver_function_json": liver, "ascites_json": ascites, "complications_json": complications,
             "survival_json": survival}
    tables = {"liver_function_csv": liver_table(), "complications_csv": cif_table(("HRS",)),
              "survival_csv": km_table(), "labs": labs_table(), "summary": sensitivity_table(),
              "tipping_point": tipping_table()}
    inputs = {}
    for name, data in files.items():
        inputs[name] = tmp_path / f"{name}.json"
        inputs[name].write_text(json.dumps({**data, **na} if not available else data))
    for name, table in tables.items():
        inputs[name] = tmp_path / f"{name}.csv"
        (table if available else pd.DataFrame({"endpoint": ["x"], "available": [False], "reason": ["r"]})
         ).to_csv(inputs[name], index=False)
    return inputs


def _svg_size(path: Path) -> tuple[str, str]:
    head = path.read_text(encoding="utf-8")[:2000]
    return re.search(r'<svg[^>]* width="([^"]+)" height="([^"]+)"', head, re.S).groups()


@pytest.mark.parametrize("name", FIGURES)
def test_every_step_writes_the_figure_or_a_placeholder_of_its_size(tmp_path, name):
    step = products.step(FIGURES[name].function)
    drawn, missing = tmp_path / "drawn.svg", tmp_path / "missing.svg"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    step(_write_inputs(tmp_path / "a", True), ARMS, ANALYSIS, drawn)
    step(_write_inputs(tmp_path / "b", False), ARMS, ANALYSIS, missing)
    drawn_svg, missing_svg = drawn.read_text(encoding="utf-8"), missing.read_text(encoding="utf-8")
    assert "Not available: " in missing_svg and missing_svg.count("<text") <= 3   # the one message
    assert drawn_svg.count("<text") > 5
    if name not in NO_REASON_COLUMN:
        assert "the cohort lacks this table" in missing_svg and "the cohort lacks" not in drawn_svg
    assert _svg_size(drawn) == _svg_size(missing)
    assert _svg_size(drawn)[0] == "453.543307pt"               # 16 cm


@pytest.mark.parametrize("name", FIGURES)
def test_same_inputs_same_bytes(tmp_path, name):
    step = products.step(FIGURES[name].function)
    inputs = _write_inputs(tmp_path, True)
    digests = []
    for out in ("a.svg", "b.svg"):
        step(inputs, ARMS, ANALYSIS, tmp_path / out)
        digests.append(hashlib.sha256((tmp_path / out).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    text = (tmp_path / "a.svg").read_text(encoding="utf-8")
    assert "<dc:date>" not in text
    assert "DejaVu Sans" in text and "<text" in text         # text stays text (svg.fonttype none)
    assert not list(tmp_path.glob(".*.tmp"))                  # written atomically


def test_style_does_not_leak_into_matplotlib_defaults():
    before = dict(matplotlib.rcParams)
    figures.km_survival(km_table(), ARMS, 730, km_risk_tables(km_table()))
    assert matplotlib.rcParams["svg.fonttype"] == before["svg.fonttype"]
    assert matplotlib.rcParams["svg.hashsalt"] == before["svg.hashsalt"]
    assert set(style.ARM_COLOURS) == set(contract.ARMS) == {"treatment", "control"}


def test_every_registered_figure_has_a_caption_a_height_and_a_step():
    # The registry against the code, not a rules file: each products.FIGURES entry names a write_
    # step of report.figures, reads results files, has a height and a caption without numbers;
    # no write_ step is left without an entry.
    for name, entry in FIGURES.items():
        assert entry.name == name and products.step(entry.function) is getattr(figures, f"write_{name}")
        assert entry.inputs and all(path.startswith("results/") for path in entry.inputs.values())
        assert entry.height_cm > 0 and entry.caption and not re.search(r"\d", entry.caption)
    steps = {name.removeprefix("write_") for name, value in vars(figures).items()
             if name.startswith("write_") and callable(value)}
    assert steps == set(FIGURES)


def test_ratio_and_p_formats_match_the_report():
    # One rule for a ratio, in the figures and the report's text (the "ratio" filter).
    assert [format_ratio(v) for v in (0.157, 0.0189, 55.486, 0.0031, 0.0, 1e-7, None)] == \
        ["0.16", "0.02", "55.49", "0.0031", "0.00", "<0.001", "∞"]
    assert figures.format_ratio is format_ratio and render_html.__globals__["format_ratio"] is format_ratio
    assert [figures._p_text(v) for v in (0.0491, 0.0004, None)] == ["p = 0.049", "p < 0.001", "p –"]


def test_km_table_names_transplants_when_they_count_as_events(tmp_path):
    inputs = _write_inputs(tmp_path, True)
    survival = json.loads(inputs["survival_json"].read_text())
    survival["parameters"] = {"transplant": "event", "competing_events": ["TRANSPLANT"]}
    inputs["survival_json"].write_text(json.dumps(survival))
    figures.write_km_survival(inputs, ARMS, ANALYSIS, tmp_path / "km.svg")
    svg = (tmp_path / "km.svg").read_text(encoding="utf-8")
    assert "Died or transplant" in svg and "censored and died or transplant before each time" in svg
    survival["parameters"]["transplant"] = "censor"
    inputs["survival_json"].write_text(json.dumps(survival))
    figures.write_km_survival(inputs, ARMS, ANALYSIS, tmp_path / "km.svg")
    assert "Died or" not in (tmp_path / "km.svg").read_text(encoding="utf-8")
