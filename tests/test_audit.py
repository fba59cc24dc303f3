"""The auditor's trail on the build of the reconstructed cohort that conftest.py makes in a copy
of the project (Snakefile, workflow, config, resources, src), so that tests may edit its raw files,
config and scripts (each restores what it edits); and a second build of it, as another clone would make.

Expected values come from the files themselves: the numbers an auditor reads in the PDF's text,
the addresses resources/published/hua2020_abstract.yaml gives them, and the raw files' own lines.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from msc_ascites.__main__ import main
from msc_ascites.audit.verify import verify
from workflow_runs import in_checkout

ROOT = Path(__file__).resolve().parents[1]


def run(project: Path, *args: str) -> tuple[int, str]:
    """`python -m msc_ascites ARGS` in the project folder, in this process: exit status and output."""
    out = io.StringIO()
    with contextlib.chdir(project), contextlib.redirect_stdout(out):
        status = main(list(args))
    return status, out.getvalue()


@pytest.fixture(scope="module")
def project(reconstructed_project):
    """The build shared with tests/test_workflow.py (conftest.py)."""
    return reconstructed_project


@pytest.fixture(scope="module")
def pdf_text(project):
    return " ".join(page.extract_text() for page in PdfReader(project / "results" / "report.pdf").pages)


def trace(project: Path, what: str) -> dict:
    status, out = run(project, "trace", what, "--json")
    assert status == 0
    return json.loads(out)


#: The regenerated abstract's sentences, as workflow/templates/report.html.j2 writes them: each
#: printed number {N}, in order, is the figure of resources/published/hua2020_abstract.yaml named here.
ABSTRACT_SENTENCES = [
    (r"Methods\. {N} patients received .+? and {N} received", ["n_treatment", "n_control"]),
    (r"Serious adverse events: {N} in the .+? group and {N} in the",
     ["serious_adverse_events_treatment", "serious_adverse_events_control"]),
    (r"albumin \w+ \([^)]*; P =? ?{N}\), prothrombin activity \w+ \([^)]*; P =? ?{N}\), .*?"
     r"total bilirubin \w+ \([^)]*; P =? ?{N}\)",
     ["alb_week48_within_treatment_p", "pta_week48_within_treatment_p", "tbil_week48_within_treatment_p"]),
    (r"MELD at week 48: {N}±{N} vs {N}±{N}, p =? ?{N}",
     ["meld_week48_treatment_mean", "meld_week48_treatment_sd", "meld_week48_control_mean", "meld_week48_control_sd",
      "meld_week48_p"]),
    (r"2-year survival: {N}% and {N}%, log-rank test p =? ?{N}",
     ["survival_2y_treatment_pct", "survival_2y_control_pct", "survival_2y_p"]),
    (r"Disappearance of ascites at week 48: {N}% and {N}%, p =? ?{N}",
     ["ascites_disappearance_treatment_pct", "ascites_disappearance_control_pct", "ascites_disappearance_p"]),
    (r"hepatorenal syndrome: {N}% vs {N}%; hepatic encephalopathy: {N}% vs {N}%; "
     r"spontaneous bacterial peritonitis: {N}% vs {N}%",
     ["hrs_treatment_pct", "hrs_control_pct", "he_treatment_pct", "he_control_pct", "sbp_treatment_pct",
      "sbp_control_pct"]),
]


def test_every_number_of_the_abstract_traces_from_the_pdf_to_raw_rows(project, pdf_text):
    """Each number the PDF's abstract prints, typed as printed, leads to the address the published
    abstract file gives its figure, then to raw lines that are the raw files' own lines."""
    abstract = " ".join(pdf_text[pdf_text.index("Abstract (regenerated)"):pdf_text.index("1. Methods")].split())
    printed = {}
    for pattern, figures in ABSTRACT_SENTENCES:
        found = re.search(pattern.replace("{N}", r"((?:< ?)?\d+(?:\.\d+)?)"), abstract)  # 14.41, 23, < 0.001
        assert found, pattern
        printed.update(zip(figures, (number.replace(" ", "") for number in found.groups())))  # typed "<0.001"
    published = {f["id"]: f["reproduced_by"] for f in
                 yaml.safe_load((ROOT / "resources" / "published" / "hua2020_abstract.yaml").read_text())["figures"]}
    assert set(printed) == set(published)
    traced = {number: trace(project, number)["traces"] for number in set(printed.values())}
    for figure, number in printed.items():
        item = next((t for t in traced[number] if t["address"] == published[figure]), None)
        assert item, (figure, number, [t["address"] for t in traced[number]])
        if number.startswith("<"):
            assert item["value"] < float(number[1:])
        else:
            assert f"{item['value']:.{len(number.partition('.')[2])}f}" == number
        assert item["dataset"]["rows"], figure
        raw = {Path(t["file"]).name: t for t in item["raw"]}
        assert "subjects.csv" in raw  # the arm each patient was counted in
        for table in raw.values():
            lines = (project / table["file"]).read_text(encoding="utf-8-sig").split("\n")
            assert table["lines"] and all(lines[x["line"] - 1] == x["text"] for x in table["lines"])
        assert [job["rule"] for job in item["steps"]][-3:] == ["datasets", "clean", "ingest"]
        assert all(job["code"] for job in item["steps"])


def test_meld_trace_shows_rows_log_code_config_and_versions(project):
    text = run(project, "trace", "meld:primary.treatment.mean")[1]
    item = trace(project, "meld:primary.treatment.mean")["traces"][0]
    endpoint = json.loads((project / "results" / "endpoints" / "meld.json").read_text())
    # One week-48 MELD row per treatment patient the endpoint lists, each from three raw lab lines.
    assert sorted(r["subject_id"] for r in item["dataset"]["rows"]) == endpoint["inputs"]["subjects"]["treatment"]
    labs = next(t for t in item["raw"] if t["file"].endswith("labs.csv"))
    assert len(labs["lines"]) == 3 * len(item["dataset"]["rows"])
    log = [e for e in item["cleaning_log"]["entries"]]
    assert log and all(e["rule"] for e in log)
    assert "param analysis:" in text and "src/msc_ascites/analysis/endpoints.py" in text and "pandas" in text


def test_pdf_provenance_ids_name_the_files_they_show(project, pdf_text):
    meld_id = re.search(r"Table\s+\d+\.\s+MELD\s+score\s+\[trace\s+([0-9a-f]{8})\]", pdf_text)[1]
    assert trace(project, meld_id)["traces"][0]["file"] == "results/endpoints/meld.json"
    ids = re.findall(r"\[trace\s+([0-9a-f]{8})\]", pdf_text)
    assert len(ids) >= 20
    assert all(run(project, "trace", i)[0] == 0 for i in set(ids[:3]))


def test_verify_passes_on_a_fresh_build(project):
    status, out = run(project, "verify")
    assert status == 0 and "verified" in out, out


@pytest.mark.parametrize("path, dependant", [
    ("resources/raw/labs.csv", "results/clean/labs.csv"),
    ("results/endpoints/meld.json", "results/report.pdf"),
    ("small_grid.yaml", "results/endpoints/meld.json"),  # the config file the tests build with
    ("workflow/scripts/endpoint.py", "results/endpoints/meld.json"),
    ("results/manifest.json", "results/ro-crate-metadata.json"),  # by the hash the crate holds
    ("results/ro-crate-metadata.json", None),  # made again from the manifest
])
def test_verify_names_a_file_edited_by_one_byte(project, path, dependant):
    target = project / path
    original = target.read_bytes()
    target.write_bytes(original[:-2] + bytes([original[-2] ^ 1]) + original[-1:])
    try:
        status, out = run(project, "verify")
        with contextlib.chdir(project):
            differences, _ = verify()
    finally:
        target.write_bytes(original)
    assert status == 1 and f"  {path}: changed" in out, out
    assert [d["file"] for d in differences] == [path]
    assert dependant in differences[0]["used_by"] if dependant else not differences[0]["used_by"]


def test_crate_loads_and_lists_every_input_and_output(project):
    from rocrate.rocrate import ROCrate

    crate = ROCrate(project / "results")
    manifest = json.loads((project / "results" / "manifest.json").read_text())["files"]
    listed = {entity["name"] for entity in crate.data_entities}
    assert set(manifest) | {"results/manifest.json"} == listed
    run_action = crate.get("#run")
    assert len(run_action["object"]) + len(run_action["result"]) + 1 == len(listed)  # + the workflow
    assert crate.root_dataset["datePublished"].startswith("1980-01-01")


def test_snakemake_report_builds(project):
    done = in_checkout(project, "--report", "results/workflow_report.zip")
    assert done.returncode == 0, done.stderr[-2000:]
    assert (project / "results" / "workflow_report.zip").stat().st_size > 10_000
    assert run(project, "verify")[0] == 0  # the report zip comes after the manifest


# ---------------------------------------------------------------------------- where the checkout lives

def test_two_checkout_paths_and_core_counts_give_identical_results(reconstructed_build, elsewhere_build):
    """The build of another clone, at a deeper path, on 4 cores instead of 2, gives the same bytes: every
    file under results/, the PDF, figures and the audit trail included, with no path of either folder."""
    from workflow_runs import digests
    project, first = reconstructed_build
    run, elsewhere, _ = elsewhere_build
    assert run.returncode == 0, run.stderr[-4000:]
    assert digests(elsewhere / "results") == first
    assert {"report.pdf", "figures/km_survival.svg", "cleaning_log.csv", "provenance.json", "manifest.json",
            "ro-crate-metadata.json"} <= set(first)
    for folder in (project, elsewhere):
        for name in ("provenance.json", "manifest.json", "ro-crate-metadata.json", "report.html"):
            text = (folder / "results" / name).read_text(encoding="utf-8")
            assert str(folder) not in text and str(ROOT) not in text, name


def test_build_fetches_nothing_from_the_network(elsewhere_build):
    """The second build ran in a network namespace with no interface up: nothing is fetched at
    run time (fonts, images, schemas, packages), or the build would have failed."""
    run, elsewhere, why_not = elsewhere_build
    if why_not:
        pytest.skip(f"cannot build without network: {why_not}")
    assert run.returncode == 0, run.stderr[-4000:]
    assert (elsewhere / "results" / "report.pdf").exists()


def test_verify_passes_in_a_copy_of_the_built_project(elsewhere_build, tmp_path):
    copy = tmp_path / "received" / "by" / "an" / "auditor"
    shutil.copytree(elsewhere_build[1], copy)
    status, out = run(copy, "verify")
    assert status == 0 and "verified" in out, out
    (copy / "config.yaml").write_text((copy / "config.yaml").read_text() + "\n")
    status, out = run(copy, "verify")
    assert status == 1 and "  config.yaml: changed" in out, out


def test_trace_follows_any_row_of_the_analysis_results_table(project):
    """A number at risk under the KM curve (an endpoint result in a list) goes down to raw rows; a
    configured visit's target day and a Table 1 cell are shown with their row and where they came from."""
    at_risk = trace(project, "survival:treatment.risk_table.0.at_risk")["traces"][0]
    assert at_risk["kind"] == "address" and at_risk["value"] == 39 and at_risk["raw"]
    item = trace(project, "visits:W12.target_day")["traces"][0]
    assert item["kind"] == "ard" and item["row"]["value"] == "84" and item["row"]["source"] == "configuration"
    step = item["file"]["steps"][0]  # the table's own step, whose params are the configuration
    assert item["file"]["file"] == "results/ard.csv" and step["rule"] == "analysis_results"
    assert step["params"]["config"]["visits"]["scheduled"][1]["window_days"] == [57, 126]
    cell = trace(project, "table1:n:SMT.0")["traces"][0]
    assert cell["file"]["file"] == "results/tables/table1.csv" and cell["file"]["rule"] == "table_one"
