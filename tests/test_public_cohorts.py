"""Real public trials, mapped into the raw data contract (tests/public_cohorts.py), each built end
to end with only its cohort.yaml and config file: the report follows the cohort, not Hua 2020.

pbcseq: primary visit week 52, transplant competing with death; colon: no labs, recurrence
competing with death; cgd: no labs, no deaths, real calendar dates; ACTG 175: primary visit
week 20. One Snakemake build per trial (small grid), shared by its tests.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from msc_ascites.audit.printed import report_orphans
from msc_ascites.report.layout import beyond_text_block
from msc_ascites.report.render import laid_out
from public_cohorts import CONFIGS, WRITERS, r_survival_available
from workflow_runs import ROOT, SMALL_GRID, SNAKEMAKE

NEEDS_R_DATA = pytest.mark.skipif(
    not r_survival_available(),
    reason="R survival's data sets are absent (/usr/lib/R/library/survival/data: Debian r-cran-survival)")
TRIALS = [pytest.param("pbcseq", marks=NEEDS_R_DATA), pytest.param("colon", marks=NEEDS_R_DATA),
          pytest.param("cgd", marks=NEEDS_R_DATA), "actg175"]

#: What each trial has data for: endpoint -> available; the others must say why not.
AVAILABLE = {
    "pbcseq": {"liver_function", "survival", "complications"},
    "colon": {"survival", "complications"},
    "cgd": {"complications"},
    "actg175": {"liver_function", "complications"},
}
#: Outcomes each trial's cohort.yaml declares not collected (tests/data/public/<trial>/cohort.yaml).
NOT_COLLECTED = {"cgd": {"death"}, "actg175": {"death"}}
ENDPOINTS = ("liver_function", "meld", "survival", "ascites_resolution", "paracentesis", "complications",
             "adverse_events")
#: Words of Hua 2020 (title, citation, arms, complications, published brackets, its non-randomised design and
#: its cell infusions) no other cohort's outputs hold: the four trials are randomised and infuse no cells.
HUA_WORDS = ("Hua", "Am J Transl Med", "ABM-MSC", "mesenchymal", "stem cell", "refractory ascites", "[published",
             "SMT", "hepatorenal", "encephalopathy", "peritonitis", "abstract says", "published abstract",
             "not randomised", "the cells")


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """build(name) -> (name, raw folder, results folder): each trial built once on the small grid
    (a failed build too: its tests all report its error)."""
    done = {}

    def build(name):
        if name not in done:
            base = tmp_path_factory.mktemp(name)
            raw = WRITERS[name](base / "raw")
            run = subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(base / "work"),
                                  "--cores", "2", "--configfile", str(SMALL_GRID), str(CONFIGS[name]),
                                  "--config", f"raw_dir={raw}"], capture_output=True, text=True, timeout=600)
            done[name] = run, (name, raw, base / "work" / "results")
        run, trial = done[name]
        assert run.returncode == 0, f"{name}: {run.stderr[-3000:]}"
        return trial
    return build


@pytest.fixture(params=TRIALS)
def trial(request, built):
    return built(request.param)


def _pdf_text(results: Path) -> str:
    text = subprocess.run(["pdftotext", "-layout", str(results / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    return re.sub(r"\s+", " ", text)


def _endpoint(results: Path, name: str) -> dict:
    return json.loads((results / "endpoints" / f"{name}.json").read_text())


def _raw(raw: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(raw / f"{table}.csv", dtype=str, keep_default_na=False)


def _study_days(raw: Path, table: pd.DataFrame, date_column: str) -> pd.Series:
    enrolled = _raw(raw, "subjects").set_index("subject_id")["enrollment_date"]
    return (pd.to_datetime(table[date_column]) - pd.to_datetime(table["subject_id"].map(enrolled))).dt.days


def _arms(raw: Path) -> pd.Series:
    """Raw subject -> treatment/control, by the trial's cohort.yaml (read here, not by the package)."""
    import yaml
    arms = yaml.safe_load((raw / "cohort.yaml").read_text())["arms"]
    labels = {label: arm for arm, spec in arms.items() for label in spec["raw_labels"]}
    subjects = _raw(raw, "subjects")
    return subjects.set_index("subject_id")["arm"].map(labels)


def test_report_is_built_inside_the_text_block(trial):
    _, _, results = trial
    assert (results / "report.pdf").stat().st_size > 10_000
    html = (results / "report.html").read_text(encoding="utf-8")
    assert beyond_text_block(laid_out(html, results, ROOT / "workflow" / "templates" / "report.css")) == []


def test_figures_are_numbered_in_order_where_some_cannot_be_drawn(trial):
    """colon and cgd have no labs: no lab or MELD figure, and the figures after them are numbered on
    (the template's fixed numbers printed "Figure 4" after Figure 1 there)."""
    name, _, results = trial
    numbers = [int(n) for n in re.findall(r"<b>Figure (\d+)\.</b>", (results / "report.html").read_text())]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 4, name


def test_report_prints_only_numbers_of_its_analysis_results_table(trial):
    """results/ard.csv holds every number of another trial's report and figures too."""
    name, _, results = trial
    assert report_orphans(results) == [], name


def test_report_holds_no_word_of_hua_2020(trial):
    name, _, results = trial
    outputs = {"report.pdf": _pdf_text(results)}
    outputs |= {f"endpoints/{p.name}": p.read_text() for p in sorted((results / "endpoints").glob("*.json"))}
    found = {file: [w for w in HUA_WORDS if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.IGNORECASE)]
             for file, text in outputs.items()}
    found = {file: words for file, words in found.items() if words}
    assert not found, (name, found)


def test_report_prints_no_unavailable_number(trial):
    """An endpoint that is not available is left out of the sentences, not printed as a number."""
    _, _, results = trial
    text = _pdf_text(results)
    for phrase in (r"not available ?%", r"P ?= ?not available", r"not available ?±", r"± ?not available"):
        assert not re.search(phrase, text, re.IGNORECASE), re.findall(rf".{{0,80}}{phrase}.{{0,20}}", text)


def test_every_endpoint_the_data_support_is_available(trial):
    name, _, results = trial
    status = {e: _endpoint(results, e) for e in ENDPOINTS}
    assert {e for e, r in status.items() if r["available"]} == AVAILABLE[name]
    assert all(r["reason"] for e, r in status.items() if not r["available"])


def test_report_names_the_configured_primary_visit(trial):
    """The text says the trial's own primary visit; the JSON key is the role, ``primary``."""
    name, _, results = trial
    text = _pdf_text(results).lower()
    week = {"pbcseq": 52, "actg175": 20}.get(name)
    if week is not None:
        assert f"week {week}" in text
        assert "week 48" not in text and "week-48" not in text, re.findall(r".{60}week.48.{30}", text)
        liver = _endpoint(results, "liver_function")["results"]
        assert all("primary" in by_test and f"week{week}" not in by_test for by_test in liver.values())


def _needs_deaths(name: str) -> None:
    if "death" in NOT_COLLECTED.get(name, ()):
        pytest.skip(f"{name} does not record deaths")


def test_arms_and_deaths_agree_with_the_raw_files(trial):
    """n per arm and deaths within the horizon and over the whole follow-up, counted here from the raw CSV files."""
    name, raw, results = trial
    _needs_deaths(name)
    arms = _arms(raw)
    survival = _endpoint(results, "survival")
    events = _raw(raw, "events")
    deaths = events[events["event"] == "DEATH"]
    horizon = survival["parameters"]["horizon_days"]
    within = deaths[_study_days(raw, deaths, "event_date") <= horizon]
    for arm in ("treatment", "control"):
        assert survival["n"][arm] == (arms == arm).sum()
        assert survival["results"][arm]["deaths_within_horizon"] == (within["subject_id"].map(arms) == arm).sum()
        assert survival["results"][arm]["deaths_total"] == (deaths["subject_id"].map(arms) == arm).sum()


def test_survival_at_horizon_agrees_with_lifelines(trial):
    """Kaplan-Meier at the horizon against lifelines' estimator on the raw files (transplant censored)."""
    from lifelines import KaplanMeierFitter
    name, raw, results = trial
    _needs_deaths(name)
    survival = _endpoint(results, "survival")
    horizon = survival["parameters"]["horizon_days"]
    subjects = _raw(raw, "subjects")
    events = _raw(raw, "events")
    first = {code: events[events["event"] == code].drop_duplicates("subject_id").set_index("subject_id")
             for code in ("DEATH", "TRANSPLANT")}
    last = _study_days(raw, subjects, "last_contact_date").set_axis(subjects["subject_id"])
    death = _study_days(raw, first["DEATH"].reset_index(), "event_date").set_axis(first["DEATH"].index)
    transplant = _study_days(raw, first["TRANSPLANT"].reset_index(), "event_date").set_axis(first["TRANSPLANT"].index)
    day = death.reindex(last.index).fillna(transplant.reindex(last.index)).fillna(last)
    died = last.index.isin(death.index)
    arms = _arms(raw)
    for arm in ("treatment", "control"):
        chosen = (arms.reindex(last.index) == arm).to_numpy()
        fit = KaplanMeierFitter().fit(day[chosen], died[chosen])
        expected = float(fit.survival_function_at_times(horizon).iloc[0])
        assert survival["results"][arm]["at_horizon"]["surv"] == pytest.approx(expected, rel=1e-9)


def test_complications_are_the_trials_own_events_with_death_competing(trial):
    """The configured event codes, counted here within the horizon, and the Aalen-Johansen incidence
    at the horizon computed here (death the competing event)."""
    import yaml
    name, raw, results = trial
    codes = yaml.safe_load(CONFIGS[name].read_text())["endpoints"]["complications"]["events"]
    complications = _endpoint(results, "complications")
    assert sorted(complications["results"]) == sorted(codes)
    horizon = complications["parameters"]["horizon_days"]
    subjects = _raw(raw, "subjects")
    events = _raw(raw, "events")
    last = _study_days(raw, subjects, "last_contact_date").set_axis(subjects["subject_id"])
    arms = _arms(raw).reindex(last.index)

    def first_day(code):
        rows = events[events["event"] == code]
        return _study_days(raw, rows, "event_date").set_axis(rows["subject_id"]).groupby(level=0).min()

    death = first_day("DEATH").reindex(last.index)
    for code in codes:
        event = first_day(code).reindex(last.index)
        first = event.notna() & ~(death < event)
        counted = first & (event <= horizon)
        status = pd.Series(0, index=last.index).mask(death.notna() & ~first, 2).mask(first, 1)
        day = event.where(first, death.where(status == 2, last))
        for arm in ("treatment", "control"):
            result = complications["results"][code][arm]
            assert result["events"] == (counted & (arms == arm)).sum(), (code, arm)
            chosen = (arms == arm).to_numpy()
            expected = _aalen_johansen(day[chosen].to_numpy(), status[chosen].to_numpy(), horizon)
            assert result["cumulative_incidence_at_horizon"] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def _aalen_johansen(day, status, horizon: float) -> float:
    """Cumulative incidence of status 1 at ``horizon``, status 2 competing: the textbook sum of
    S(t-) d1(t) / n(t) over event days up to the horizon (written out here, not the package's)."""
    cif, surv = 0.0, 1.0
    for t in sorted(set(day[(status > 0) & (day <= horizon)])):
        at_risk = (day >= t).sum()
        d1, d_all = ((day == t) & (status == 1)).sum(), ((day == t) & (status > 0)).sum()
        cif += surv * d1 / at_risk
        surv *= 1 - d_all / at_risk
    return cif


def test_primary_visit_comparison_agrees_with_the_raw_files(trial):
    """Each lab test at the primary visit, chosen here from the raw rows by the configured window
    (closest to day 7N, ties to the earlier day; baseline the last value on or before day 0):
    n and mean at the visit, pairs with a baseline, and the paired t-test within each arm (scipy)."""
    import yaml
    from scipy import stats
    name, raw, results = trial
    if "liver_function" not in AVAILABLE[name]:
        pytest.skip(f"{name} has no labs")
    config = yaml.safe_load(CONFIGS[name].read_text())
    week = config["analysis"]["primary_week"]
    first, last = next(v["window_days"] for v in config["visits"]["scheduled"] if v["week"] == week)
    labs = _raw(raw, "labs")
    labs = labs[~labs["value"].isin(["NA", ""])].assign(day=_study_days(raw, labs, "sample_date"))
    labs["value"] = labs["value"].astype(float) * labs["unit"].map({"g/dL": 10.0, "mg/dL": 17.104}).fillna(1.0)
    arms = _arms(raw)
    liver = _endpoint(results, "liver_function")
    for test in config["endpoints"]["liver_function"]["tests"]:
        rows = labs[labs["test"] == test].assign(distance=lambda r: (r["day"] - 7 * week).abs())
        chosen = rows[rows["day"].between(first, last)].sort_values(["distance", "day"])
        chosen = chosen[chosen.groupby("subject_id")["day"].transform("first") == chosen["day"]]
        at_visit = chosen.groupby("subject_id")["value"].mean()
        before = rows[rows["day"].between(-config["visits"]["baseline"]["lookback_days"], 0)]
        before = before[before.groupby("subject_id")["day"].transform("max") == before["day"]]
        baseline = before.groupby("subject_id")["value"].mean()
        pairs = pd.concat({"visit": at_visit, "baseline": baseline}, axis=1).dropna()
        primary = liver["results"][test]["primary"]
        for arm in ("treatment", "control"):
            mine = pairs[pairs.index.map(arms) == arm]
            within = primary["within"][arm]
            assert within["n_pairs"] == len(mine), (test, arm)
            values = at_visit[at_visit.index.map(arms) == arm]
            assert primary["describe"][arm]["n"] == len(values), (test, arm)
            assert primary["describe"][arm]["mean"] == pytest.approx(values.mean(), rel=1e-9), (test, arm)
            expected = stats.ttest_rel(mine["visit"], mine["baseline"]).pvalue
            assert within["paired_t"]["p"] == pytest.approx(expected, rel=1e-6), (test, arm)


@pytest.mark.parametrize("trial", ["actg175"], indirect=True)
def test_actg175_flow_and_cleaning_log(trial):
    """ACTG 175 at its week-20 visit: the arms as the trial randomised them, and what cleaning did."""
    _, _, results = trial
    flow = json.loads((results / "patient_flow.json").read_text())
    # 532 on zidovudine alone, 522 + 524 + 561 = 1607 on the others.
    assert [arm["enrolled"] for arm in flow["arms"]] == [1607, 532]
    log = pd.read_csv(results / "cleaning_log.csv", dtype=str, keep_default_na=False)
    # cd496 is missing for 797 patients: each such lab row is removed and logged.
    assert (log["rule"] == "lab_value_missing_row_removed").sum() == 797
    assert set(log.loc[log["rule"] == "extra_column_ignored", "column"]) == {"karnofsky"}


def test_outcome_not_collected_is_named_once_with_its_reason(trial):
    """Deaths not recorded: survival is not available, left out of the sentences (no "100% vs 100%")
    and its reason is printed once, in the methods."""
    import yaml
    name, raw, results = trial
    if name not in NOT_COLLECTED:
        pytest.skip(f"{name} collects every outcome it has")
    reason = yaml.safe_load((raw / "cohort.yaml").read_text())["not_collected"]["death"]
    survival = _endpoint(results, "survival")
    assert not survival["available"] and survival["reason"] == f"not collected: {reason}"
    text = _pdf_text(results)
    assert text.count(reason) == 1, text.count(reason)
    assert not re.search(r"survival: 100", text, re.IGNORECASE)
    # Nothing competes with the complications where no death was recorded, and the report says so.
    complications = _endpoint(results, "complications")
    if complications["available"]:
        assert complications["parameters"]["deaths_collected"] is False
        assert "death as a competing risk" not in text and "deaths were not collected, so none competes" in text


def test_report_shows_landmarks_and_whole_follow_up(trial):
    """Landmark rows (survival, cumulative incidence) and events over the whole follow-up are printed;
    the curve tables run to the last follow-up day, past the horizon."""
    name, _, results = trial
    text = _pdf_text(results)
    assert "First episodes over the whole follow-up" in text
    horizon = _endpoint(results, "complications")["parameters"]["horizon_days"]
    last = pd.read_csv(results / "datasets" / "time_to_event.csv")["day"].max()
    curves = pd.read_csv(results / "endpoints" / "complications.csv")
    assert curves["time"].max() == last and horizon in set(curves["time"])
    if "survival" in AVAILABLE[name]:
        assert "Kaplan-Meier survival at each landmark" in text and "Deaths over the whole follow-up" in text
        km = pd.read_csv(results / "endpoints" / "survival.csv")
        assert km["time"].max() > horizon


def test_lab_endpoint_is_named_from_its_tests(trial):
    """"Liver function" only for liver tests (pbcseq); ACTG's CD4/CD8 are "laboratory values"."""
    name, _, results = trial
    text = _pdf_text(results)
    if name == "actg175":
        assert "liver function" not in text.lower() and "Laboratory values and MELD" in text
    if name == "pbcseq":
        assert "Liver function and MELD" in text
    flow = json.loads((results / "patient_flow.json").read_text())
    assert all("with_primary_meld" in arm and not any(k.startswith("with_week") for k in arm) for arm in flow["arms"])
    for endpoint in ENDPOINTS:
        assert "`" not in _endpoint(results, endpoint).get("definition", ""), endpoint
