"""The whole workflow, run by Snakemake in temporary folders, on several cohorts."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from public_cohorts import write_actg175

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


#: The sensitivity grid of these builds: one cell per family (the full one is built by `make report`).
SMALL_GRID = ROOT / "tests" / "data" / "small_grid.yaml"


def snakemake(workdir: Path, raw_dir: Path, *args: str, cores: int = 2) -> subprocess.CompletedProcess:
    return subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
                           "--cores", str(cores), "--configfile", str(SMALL_GRID),
                           "--config", f"raw_dir={raw_dir}", *args],
                          capture_output=True, text=True, timeout=600)


def build(workdir: Path, raw_dir: Path, cores: int = 2) -> Path:
    run = snakemake(workdir, raw_dir, cores=cores)
    assert run.returncode == 0, run.stderr[-4000:]
    return workdir / "results"


def digests(results: Path) -> dict[str, str]:
    return {str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(results.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def mini_build(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("mini")
    return workdir, build(workdir, ROOT / "tests" / "data" / "mini_cohort")


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


def test_clean_rebuild_is_byte_identical_whatever_the_cores(mini_build, tmp_path):
    _, first = mini_build
    again = build(tmp_path, ROOT / "tests" / "data" / "mini_cohort", cores=1)
    assert digests(again) == digests(first)


def test_reconstructed_cohort_reproduces_the_abstract(tmp_path):
    """The default build: every figure of the abstract matches, except the p the abstract
    itself gets wrong (0.49 for 1 vs 6 deaths), which the scorecard says."""
    results = build(tmp_path, ROOT / "resources" / "raw")
    card = pd.read_csv(results / "scorecard.csv", dtype=str, keep_default_na=False).set_index("figure")
    assert len(card) == 24
    assert (card["status"] == "match").sum() == 23
    assert card.loc["survival_2y_p", "status"] == "mismatch (paper inconsistent)"
    # The PDF's text carries the numbers of the endpoint results, formatted as the report prints them.
    from pypdf import PdfReader
    text = " ".join(page.extract_text() for page in PdfReader(results / "report.pdf").pages)
    endpoint = {name: json.loads((results / "endpoints" / f"{name}.json").read_text())["results"]
                for name in ("meld", "survival", "ascites_resolution", "complications", "paracentesis")}
    expected = [
        f"{endpoint['meld']['week48']['treatment']['mean']:.2f} ({endpoint['meld']['week48']['treatment']['sd']:.2f})",
        f"{endpoint['meld']['week48']['control']['mean']:.2f} ({endpoint['meld']['week48']['control']['sd']:.2f})",
        f"{100 * endpoint['survival']['treatment']['at_horizon']['surv']:.1f}",
        f"{endpoint['survival']['treatment']['rmst']['rmst']:.1f}",
        f"{endpoint['survival']['cox']['hr']:.2f} (95 % CI {endpoint['survival']['cox']['lower']:.2f}",
        f"Log-rank p = {endpoint['survival']['logrank']['p']:.3f}",
        f"{endpoint['ascites_resolution']['treatment']['events']}/{endpoint['ascites_resolution']['treatment']['n']}",
        f"Fisher's exact p = {endpoint['ascites_resolution']['fisher_exact']['p']:.3f}",
        f"{endpoint['complications']['HRS']['control']['events']} "
        f"({endpoint['complications']['HRS']['control']['percent']:.1f})",
        f"{endpoint['paracentesis']['control']['rate_per_patient_year']:.2f}",
    ]
    missing = [number for number in expected if number not in text]
    assert not missing, missing
    assert "[published 0.49]" in text
    # The sensitivity section: the grid's cells (small grid: one per family) and the robustness table.
    summary = pd.read_csv(results / "sensitivity" / "summary.csv", dtype={"seed": str})
    assert set(summary["family"]) == {"week48", "survival", "reconstruction"}
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


def test_cohort_without_optional_tables(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "tests" / "data" / "mini_cohort", raw)
    for name in ("ascites", "paracentesis", "adverse_events", "infusions"):
        (raw / f"{name}.csv").unlink()
    results = build(tmp_path / "work", raw)
    availability = json.loads((results / "datasets" / "availability.json").read_text())
    assert availability["ascites"] == {"available": False, "reason": "ascites.csv is not in the raw data folder"}
    assert (results / "report.pdf").exists()


def test_labs_header_only(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "tests" / "data" / "mini_cohort", raw)
    (raw / "labs.csv").write_text("subject_id,sample_date,visit,test,value,unit\n")
    results = build(tmp_path / "work", raw)
    assert pd.read_csv(results / "datasets" / "labs.csv").empty
    assert (results / "report.pdf").exists()


def test_real_public_cohort_actg175(tmp_path):
    raw = write_actg175(tmp_path / "raw")
    results = build(tmp_path / "work", raw)
    flow = json.loads((results / "patient_flow.json").read_text())
    # ACTG 175 arms: 532 on zidovudine alone, 522 + 524 + 561 = 1607 on the others.
    assert [arm["enrolled"] for arm in flow["arms"]] == [1607, 532]
    log = pd.read_csv(results / "cleaning_log.csv", dtype=str, keep_default_na=False)
    # cd496 is missing for 797 patients: each such lab row is removed and logged.
    assert (log["rule"] == "lab_value_missing_row_removed").sum() == 797
    assert set(log.loc[log["rule"] == "extra_column_ignored", "column"]) == {"karnofsky"}


def test_bad_value_stops_with_file_row_column_value_and_no_output(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "tests" / "data" / "mini_cohort", raw)
    path = raw / "labs.csv"
    path.write_text(path.read_text().replace("ALB,31.0,g/L", "ALB,31..0,g/L"))
    run = snakemake(tmp_path / "work", raw)
    assert run.returncode != 0
    assert "labs.csv, row 19, column 'value', value '31..0': not a finite number" in run.stderr
    assert not (tmp_path / "work" / "results" / "cleaning_log.csv").exists()
    assert not (tmp_path / "work" / "results" / "clean" / "labs.csv").exists()


def test_no_calendar_date_of_a_patient_leaves_cleaning(mini_build):
    """Every date in the raw files, in any of the contract's formats, is absent from results/."""
    import re
    workdir, results = mini_build
    raw = ROOT / "tests" / "data" / "mini_cohort"
    dates = set()
    for path in raw.glob("*.csv"):
        dates |= set(re.findall(r"\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4}", path.read_text()))
    assert len(dates) > 20
    for path in results.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json", ".html", ".svg"):
            text = path.read_text(encoding="utf-8")
            leaked = sorted(d for d in dates if d in text)
            assert not leaked, f"{path.relative_to(results)} holds patient dates {leaked[:5]}"


@pytest.mark.parametrize("override, words", [
    ("bogus_key=1", "'bogus_key' was unexpected"),
    ("analysis={'primary_week': 'forty-eight', 'horizon_days': 730, 'confidence_level': 0.95, "
     "'meld_score': 'MELD'}", "'forty-eight' is not of type 'integer'"),
])
def test_config_errors_name_the_key(tmp_path, override, words):
    run = subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path), "-n",
                          "--config", override], capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert words in run.stdout + run.stderr
