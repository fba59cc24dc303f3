"""The auditor's trail on the build of the reconstructed cohort that conftest.py makes in a copy
of the project (Snakefile, workflow, config, resources), so that tests may edit its raw files,
config and scripts (each restores what it edits).

Expected values come from the files themselves: the numbers an auditor reads in the PDF's text,
the addresses resources/published/hua2020_abstract.yaml gives them, and the raw files' own lines.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from msc_ascites.__main__ import main
from msc_ascites.audit.trail import verify

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def run(project: Path, *args: str) -> tuple[int, str]:
    """`python -m msc_ascites ARGS` in the project folder, in this process: exit status and output."""
    out = io.StringIO()
    with contextlib.chdir(project), contextlib.redirect_stdout(out):
        status = main(list(args))
    return status, out.getvalue()


def snakemake(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SNAKEMAKE), "--cores", "2", "--configfile", "small_grid.yaml", *args], cwd=project,
                          capture_output=True, text=True, timeout=600)


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
    (r"2-year survival: {N}% and {N}%, p =? ?{N}",
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
        found = re.search(pattern.replace("{N}", r"(<?\d+(?:\.\d+)?)"), abstract)  # 14.41, 23, <0.001
        assert found, pattern
        printed.update(zip(figures, found.groups()))
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
    done = snakemake(project, "--report", "results/workflow_report.zip")
    assert done.returncode == 0, done.stderr[-2000:]
    assert (project / "results" / "workflow_report.zip").stat().st_size > 10_000
    assert run(project, "verify")[0] == 0  # the report zip comes after the manifest


# ---------------------------------------------------------------------------- where the checkout lives

def checkout(target: Path) -> Path:
    """A checkout of the project at ``target``: its code (package included), config and the reconstructed cohort."""
    from workflow_runs import SMALL_GRID
    target.mkdir(parents=True)
    for name in ("Snakefile", "config.yaml"):
        shutil.copy(ROOT / name, target / name)
    for name in ("workflow", "resources", "src"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(SMALL_GRID, target / "small_grid.yaml")
    return target


@pytest.fixture(scope="module")
def two_checkouts(tmp_path_factory):
    """The reconstructed cohort built in two checkouts at paths of different lengths, each running its own
    package (PYTHONPATH), as two clones would."""
    base = tmp_path_factory.mktemp("checkouts")
    projects = [checkout(base / "a"), checkout(base / "somewhere" / "much" / "deeper" / "b")]
    for project in projects:
        built = subprocess.run([str(SNAKEMAKE), "--cores", "2", "--configfile", "small_grid.yaml"], cwd=project,
                               capture_output=True, text=True, timeout=600,
                               env={**os.environ, "PYTHONPATH": str(project / "src")})
        assert built.returncode == 0, built.stderr[-4000:]
    return projects


def test_two_checkout_paths_give_identical_results(two_checkouts):
    from workflow_runs import digests
    first, second = (digests(project / "results") for project in two_checkouts)
    assert first == second
    assert {"report.pdf", "provenance.json", "manifest.json", "ro-crate-metadata.json"} <= set(first)
    for project in two_checkouts:
        for name in ("provenance.json", "manifest.json", "ro-crate-metadata.json", "report.html"):
            text = (project / "results" / name).read_text(encoding="utf-8")
            assert str(project) not in text and str(ROOT) not in text, name


def test_verify_passes_in_a_copy_of_the_built_project(two_checkouts, tmp_path):
    copy = tmp_path / "received" / "by" / "an" / "auditor"
    shutil.copytree(two_checkouts[0], copy)
    status, out = run(copy, "verify")
    assert status == 0 and "verified" in out, out
    (copy / "config.yaml").write_text((copy / "config.yaml").read_text() + "\n")
    status, out = run(copy, "verify")
    assert status == 1 and "  config.yaml: changed" in out, out
