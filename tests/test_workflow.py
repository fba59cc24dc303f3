"""The whole workflow, run by Snakemake in temporary folders, on several cohorts."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from msc_ascites.report.formatting import format_ratio
from workflow_runs import MINI_COHORT, build, digests, snakemake, snakemake_command

ROOT = Path(__file__).resolve().parents[1]


def test_report_built(mini_build):
    _, results = mini_build
    pdf = (results / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    flow = json.loads((results / "patient_flow.json").read_text())
    assert [arm["enrolled"] for arm in flow["arms"]] == [2, 2]


def test_second_run_does_nothing(mini_build):
    workdir, _ = mini_build
    run = snakemake(workdir, ROOT / "tests" / "data" / "mini_cohort", "--dry-run")
    assert run.returncode == 0 and "Nothing to be done" in run.stdout + run.stderr


def test_the_configured_window_reuses_the_analysis_datasets(tmp_path):
    """A grid window equal to the configured week-48 window reads results/datasets: no step writes
    the same datasets again; another window gets its own."""
    grid = (ROOT / "tests" / "data" / "small_grid.yaml").read_text()
    config = tmp_path / "two_windows.yaml"
    config.write_text(grid.replace("primary_windows: [[295, 378]]", "primary_windows: [[315, 357], [295, 378]]"))
    run = snakemake(tmp_path / "work", MINI_COHORT, "--configfile", str(config), "--dry-run")
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    assert "results/sensitivity/datasets/window315-357/availability.json" in output
    assert "results/sensitivity/datasets/window295-378" not in output
    assert "results/sensitivity/cells/primary/per_protocol/multiple_imputation/295-378/" in output
    other = "results/sensitivity/cells/primary/per_protocol/multiple_imputation/315-357/nonparametric/iptw.json"
    # built, not only planned ("--cores" ends the lists of configfiles and config before the target)
    built = snakemake(tmp_path / "work", MINI_COHORT, "--configfile", str(config), "--cores", "2", other)
    assert built.returncode == 0, (built.stdout + built.stderr)[-3000:]
    assert json.loads((tmp_path / "work" / other).read_text())["spec"]["window_days"] == "315-357"


#: The interrupted build is killed when each of these appears under results/: while cleaning runs,
#: while the other figures are drawn, while the PDF is written.
KILL_WHEN = ["ingest/raw_inventory.json", "figures/km_survival.svg", "report.html"]


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid: (parent pid, process group, state) of every process, from /proc."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue  # ended meanwhile
        out[int(stat.parent.name)] = (int(ppid), int(pgrp), state)
    return out


def _descendants(pid: int) -> dict[int, int]:
    """Process group of each living descendant of ``pid``."""
    processes = _processes()
    found, todo = {}, [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, pgrp, state) in processes.items():
            if ppid == parent and state != "Z" and child not in found:
                found[child] = pgrp
                todo.append(child)
    return found


def test_killed_build_resumes_to_the_same_bytes(mini_build, tmp_path):
    """SIGKILL to Snakemake and all its jobs at several points, each time resuming with
    --rerun-incomplete; at every kill the files visible under results/ are complete (the bytes
    of the uninterrupted build), and the resumed build ends byte-identical to it."""
    _, reference = mini_build
    expected = digests(reference)
    workdir = tmp_path / "killed"
    results = workdir / "results"
    for marker in KILL_WHEN:
        # --nolock: SIGKILL leaves Snakemake's lock, which `--unlock` would remove (a start more).
        process = subprocess.Popen(snakemake_command(workdir, MINI_COHORT, "--rerun-incomplete", "--nolock"),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        while not (results / marker).exists() and process.poll() is None:
            time.sleep(0.05)
        assert process.poll() is None, f"the build ended before {marker} appeared"
        jobs = _descendants(process.pid)
        assert jobs and set(jobs.values()) == {process.pid}, "a job outside Snakemake's process group"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        while set(jobs) & {pid for pid, (_, _, state) in _processes().items() if state != "Z"}:
            time.sleep(0.05)  # SIGKILL is delivered; wait until the jobs are gone
        visible = {name: digest for name, digest in digests(results).items()
                   if not Path(name).name.startswith(".")}
        assert visible == {name: expected[name] for name in visible}, f"killed at {marker}"
    resumed = snakemake(workdir, MINI_COHORT, "--rerun-incomplete", "--nolock")
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    assert digests(results) == expected


def test_reconstructed_cohort_reproduces_the_abstract(reconstructed_project):
    """The default build: every figure of the abstract matches, except the p the abstract
    itself gets wrong (0.49 for 1 vs 6 deaths), which the scorecard says."""
    results = reconstructed_project / "results"
    card = pd.read_csv(results / "scorecard.csv", dtype=str, keep_default_na=False).set_index("figure")
    assert len(card) == 24
    assert (card["status"] == "match").sum() == 23
    assert card.loc["survival_2y_p", "status"] == "mismatch (paper inconsistent)"
    # The PDF's text carries the numbers of the endpoint results, formatted as the report prints them
    # (wherever its lines break).
    from pypdf import PdfReader
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(results / "report.pdf").pages).split())
    endpoint = {name: json.loads((results / "endpoints" / f"{name}.json").read_text())["results"]
                for name in ("meld", "survival", "ascites_resolution", "complications", "paracentesis")}
    expected = [
        f"{endpoint['meld']['primary']['treatment']['mean']:.2f} ({endpoint['meld']['primary']['treatment']['sd']:.2f})",
        f"{endpoint['meld']['primary']['control']['mean']:.2f} ({endpoint['meld']['primary']['control']['sd']:.2f})",
        f"{100 * endpoint['survival']['treatment']['at_horizon']['surv']:.1f}",
        f"{endpoint['survival']['treatment']['rmst']['rmst']:.1f}",
        f"{format_ratio(endpoint['survival']['cox']['hr'])} (95 % profile-likelihood CI "
        f"{format_ratio(endpoint['survival']['cox']['lower'])}",  # 0.0083: a ratio under 0.01 in 2 significant figures
        f"Pre-specified test: log-rank test, p = {endpoint['survival']['logrank']['p']:.3f}",
        f"{endpoint['ascites_resolution']['treatment']['events']}/{endpoint['ascites_resolution']['treatment']['n']}",
        f"Fisher's exact test p = {endpoint['ascites_resolution']['fisher_exact']['p']:.3f}",
        f"{endpoint['complications']['HRS']['control']['events']} "
        f"({endpoint['complications']['HRS']['control']['percent']:.1f})",
        f"{endpoint['paracentesis']['control']['rate_per_patient_year']:.2f}",
    ]
    missing = [number for number in expected if number not in text]
    assert not missing, missing
    assert "[published 0.49]" in text
    # The sensitivity section: the grid's cells (small grid: one per family) and the robustness table.
    summary = pd.read_csv(results / "sensitivity" / "summary.csv", dtype={"seed": str})
    assert set(summary["family"]) == {"primary", "survival", "reconstruction"}
    assert summary.loc[summary["family"] == "reconstruction", "seed"].unique().tolist() == ["1"]
    robustness = json.loads((results / "sensitivity" / "robustness.json").read_text())
    assert "7. Sensitivity analyses" in text
    assert f"fragility index {robustness['fragility']['ascites_disappearance']['index']}" in text
    log = pd.read_csv(results / "cleaning_log.csv", dtype=str, keep_default_na=False)
    # Every kind of injected messiness is in the cleaning log.
    assert {"unit_converted", "date_format_from_config", "censored_value_bound", "lab_value_missing_row_removed",
            "missing_code", "duplicate_row_removed", "visit_label_disagrees_with_date", "whitespace_stripped",
            "arm_label_recoded", "sex_recoded", "extra_column_ignored"} <= set(log["rule"])


def test_injected_html_in_data_prints_as_text(mini_build):
    """An AE term holding an <img> tag is escaped, prints as text, and nothing is fetched."""
    _, results = mini_build
    html = (results / "report.html").read_text()
    assert '&lt;img src=&#34;http://example.invalid/x.png&#34;&gt;' in html
    assert "example.invalid" not in html.replace('&lt;img src=&#34;http://example.invalid/x.png&#34;&gt;', "")
    from pypdf import PdfReader
    text = " ".join(page.extract_text() for page in PdfReader(results / "report.pdf").pages)
    assert '<img src="http://example.invalid/x.png">' in text


def test_degenerate_cohort_gets_its_report(tmp_path):
    """One build of a cohort short of most things: a labs table with its header only; no ascites,
    paracentesis, adverse-event or infusion table; every control patient dead before day 730. The
    endpoints that need the tables say why they are absent; survival there is 0 with no confidence
    interval (R's NaN, null in survival.json), printed as a dash (the template raised TypeError);
    the report is built. (Absent labs are the public trials colon and cgd, tests/test_public_cohorts.py.)"""
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "tests" / "data" / "mini_cohort", raw)
    for name in ("ascites", "paracentesis", "adverse_events", "infusions"):
        (raw / f"{name}.csv").unlink()
    (raw / "labs.csv").write_text("subject_id,sample_date,visit,test,value,unit\n")
    subjects = raw / "subjects.csv"
    subjects.write_text(subjects.read_text().replace("003,SMT,2012-03-05,F,60,2014-03-10",
                                                     "003,SMT,2012-03-05,F,60,2013-05-02"))
    with open(raw / "events.csv", "a") as events:
        events.write("003,DEATH,2013-05-02\n")
    results = build(tmp_path / "work", raw)
    availability = json.loads((results / "datasets" / "availability.json").read_text())
    assert availability["ascites"] == {"available": False, "reason": "ascites.csv is not in the raw data folder"}
    assert pd.read_csv(results / "datasets" / "labs.csv").empty
    row = re.search(r"Survival at 730 days, % \(95 % CI\)</td>(.*?)</tr>",
                    (results / "report.html").read_text(encoding="utf-8"))
    assert row[1] == '<td class="num">100.0 (100.0 to 100.0)</td><td class="num">0.0 (–)</td>'
    assert (results / "report.pdf").exists()


def test_no_calendar_date_or_identifier_leaves_cleaning(mini_build):
    """No date of the raw files, written in any of the contract's formats, is in any output after
    the cleaning step (the PDF's text included); the cleaned tables hold only the contract's
    columns, so an extra column (an identifier, say) goes no further."""
    from datetime import datetime
    from pypdf import PdfReader
    from msc_ascites.data.cleaning import cleaned_columns
    from msc_ascites.data.contract import TABLES
    _, results = mini_build
    for name, table in TABLES.items():
        header = (results / "clean" / f"{name}.csv").read_text().split("\n", 1)[0]
        assert header.split(",") == cleaned_columns(table), name
    found = set()
    for path in MINI_COHORT.glob("*.csv"):
        text = path.read_text()
        found |= {datetime.strptime(d, "%Y-%m-%d") for d in re.findall(r"\d{4}-\d{2}-\d{2}", text)}
        found |= {datetime.strptime(d, "%d/%m/%Y") for d in re.findall(r"\d{2}/\d{2}/\d{4}", text)}
    assert len(found) > 20
    dates = {d.strftime(f) for d in found for f in ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y", "%m/%d/%Y")}
    before = {"ingest/raw_inventory.json", "cleaning_log.csv"}
    scanned = 0
    for path in sorted(results.rglob("*")):
        name = str(path.relative_to(results))
        if not path.is_file() or name in before or name.startswith("clean/"):
            continue
        if path.suffix == ".pdf":
            text = " ".join(page.extract_text() for page in PdfReader(path).pages)
        else:
            text = path.read_text(encoding="utf-8")
        leaked = sorted(d for d in dates if d in text)
        assert not leaked, f"{name} holds patient dates {leaked[:5]}"
        scanned += 1
    assert scanned == len(digests(results)) - len(before) - len(list((results / "clean").iterdir()))


@pytest.mark.parametrize("args, files, words", [
    pytest.param(["bogus_key=1"], {}, ["'bogus_key' was unexpected"], id="unknown_top_level_key"),
    pytest.param(["analysis={'primary_week': 'forty-eight', 'horizon_days': 730, 'confidence_level': 0.95, "
                  "'meld_score': 'MELD'}"], {},
                 ["'forty-eight' is not of type 'integer'", "config error: --config: analysis.primary_week: "], id="wrong_type"),
    # A list replaces the configured one: this visit lacks its window.
    pytest.param(["--configfile", "extra.yaml"], {"extra.yaml": "visits:\n  scheduled:\n  - {week: 48, label: W48}\n"},
                 ["'window_days' is a required property", "extra.yaml: visits.scheduled[0]: "],
                 id="missing_required_key"),
    pytest.param([], {"raw/cohort.yaml": "date_format:\n  labs: DD/MM/YYYY\n"},
                 ["'date_format' was unexpected", "cohort.yaml: cohort: "], id="unknown_nested_key_in_cohort_yaml"),
    pytest.param(["--configfile", "extra.yaml"], {"extra.yaml": "sensitivity:\n  primary_windows: [[315, 330]]\n"},
                 ["config error: sensitivity.primary_windows[0]: window [315, 330] must contain the target day 336"],
                 id="cross_field_rule_at_parse_time"),
    pytest.param([], {"raw/cohort.yaml": "date_formats: {labs: DD/MM/YYYY}\nstudy: {title: T, published: gone.yaml}\n"},
                 ["config error: ", "cohort.yaml: study.published 'gone.yaml': no such file"],
                 id="published_figures_file_missing"),
    pytest.param([], {"raw/cohort.yaml": "- labs: DD/MM/YYYY\n"},
                 ["cohort.yaml: expected a mapping of cohort settings, found a list"], id="cohort_yaml_not_a_mapping"),
])
def test_config_errors_name_the_key(tmp_path, args, files, words):
    shutil.copytree(MINI_COHORT, tmp_path / "raw")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    # snakemake() ends with `--config raw_dir=...`: a value joins it, an option follows it.
    args = [str(tmp_path / a) if a.endswith(".yaml") else a for a in args]
    run = snakemake(tmp_path / "work", tmp_path / "raw", *args, "-n")
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert all(w in output for w in words), output[-3000:]
