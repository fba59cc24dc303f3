"""The report's pieces: number formats, the published-vs-reproduced abstract, the URL fetcher."""

import json

import pandas as pd
import pytest

from msc_ascites.report.ard import endpoint_rows
from msc_ascites.report.formatting import lower_first
from msc_ascites.report.render import (AbstractNumbers, LocalFilesOnly, format_number, format_p, format_p_eq,
                                      grid_endpoint)
from msc_ascites.data.labels import variable_name


def test_p_value_formats():
    assert (format_p(0.0491), format_p(0.0004), format_p(None)) == ("0.049", "<0.001", "–")
    assert (format_p_eq(0.0491), format_p_eq(0.0004)) == ("= 0.049", "< 0.001")
    assert (format_number(14.4087), format_number(3), format_number(float("nan"))) == ("14.41", "3", "–")


def test_names_in_tables_and_sentences():
    """Grid endpoints and covariates read as words, not codes; proper names keep their capitals."""
    assert grid_endpoint("primary_ALB", 48) == "Albumin at week 48"
    assert grid_endpoint("primary_MELD", 48) == "MELD score at week 48"
    assert grid_endpoint("ascites_disappearance", 48) == "Ascites disappearance"
    assert [variable_name(v) for v in ("baseline_ALB", "age_years", "child_pugh_score", "baseline_INR")] == [
        "Albumin", "Age", "Child-Pugh score", "INR"]
    assert [lower_first(w) for w in ("Albumin", "Child-Pugh score", "INR", "MELD-Na score")] == [
        "albumin", "Child-Pugh score", "INR", "MELD-Na score"]


def test_abstract_shows_published_value_only_where_it_differs():
    endpoints = {"meld": {"available": True, "results": {"primary": {"treatment": {"mean": 14.4087, "sd": None}}}},
                 "survival": {"available": True, "results": {"logrank": {"p": 0.0491}, "treatment": {"n": 39}}},
                 "complications": {"available": False, "reason": "no events.csv rows"}}
    rows = [{"figure": "meld_week48_treatment_mean", "reported": "14.41", "decimals": "2",
             "address": "meld:primary.treatment.mean", "status": "match"},
            {"figure": "survival_2y_p", "reported": "0.49", "decimals": "2", "address": "survival:logrank.p",
             "status": "mismatch (paper inconsistent)"}]
    ard = pd.DataFrame([row for name, result in endpoints.items() for row in endpoint_rows(name, f"{name}.json", result, "itt")])
    values = dict(zip(ard["address"], ard["value"]))
    numbers = AbstractNumbers(values, rows)
    assert numbers("meld:primary.treatment.mean", 0) == "14.41"  # the published precision wins
    assert numbers("survival:logrank.p") == '0.049 <span class="published">[published 0.49]</span>'
    assert numbers.p_eq("survival:logrank.p").startswith("=\u00a00.049")
    small = AbstractNumbers({"x:test.p": 0.0004}, [])
    assert small.p_eq("x:test.p") == "&lt;\u00a00.001"   # escaped once: the PDF shows "< 0.001"
    assert numbers("survival:treatment.n", 0) == "39"
    assert not numbers.has("meld:primary.treatment.sd")  # null: its sentence is left out
    assert not numbers.has("complications:HRS.treatment.percent") and not numbers.has("meld:primary.control.mean")
    with pytest.raises(KeyError):
        numbers("meld:primary.treatment.sd")
    unpublished = AbstractNumbers(values, [])
    assert unpublished("survival:logrank.p") == "0.049" and unpublished("meld:primary.treatment.mean", 1) == "14.4"


def test_fetcher_serves_only_files_inside_its_folder(tmp_path):
    inside = tmp_path / "figures" / "a.svg"
    inside.parent.mkdir()
    inside.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    outside = tmp_path.parent / "secret.txt"
    fetcher = LocalFilesOnly(tmp_path)
    response = fetcher.fetch(inside.as_uri())
    assert response is not None
    for url in ("http://example.invalid/x.png", "https://example.invalid/x.png", outside.as_uri(),
                (tmp_path / ".." / "secret.txt").as_uri()):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


# ---------------------------------------------------------------------------- the study travels with the data

#: Words only Hua 2020's study block and published figures bring into a report.
HUA_WORDS = ("Hua", "Am J Transl", "mesenchymal", "MSC", "cirrhosis", "refractory", "[published", "The abstract says",
             "the abstract", "Paper's choices", "Reported versus reproduced")


def pdf_text(results) -> str:
    from pypdf import PdfReader
    return " ".join(" ".join(page.extract_text() for page in PdfReader(results / "report.pdf").pages).split())


def test_study_block_names_title_and_published_figures(config):
    from conftest import ROOT
    from msc_ascites.settings import load_config
    from msc_ascites.study import published_figures, study_title
    hua = load_config(ROOT / "config.yaml")  # raw_dir: resources/raw, whose cohort.yaml names the study
    assert str(published_figures(hua)) == "resources/raw/hua2020_abstract.yaml"
    assert study_title(hua, 78).startswith("Therapeutic effects of mesenchymal stem cells")
    assert published_figures(config) is None  # the mini cohort names no study
    assert study_title(config, 12) == "Treatment versus Control: 12 patients"


def test_study_naming_a_missing_published_file_is_one_clear_error(mini_copy):
    from conftest import ROOT
    from msc_ascites.errors import ConfigError
    from msc_ascites.settings import load_config
    from msc_ascites.study import published_figures
    with open(mini_copy / "cohort.yaml", "a") as handle:
        handle.write("study: {title: A trial, published: figures.yaml}\n")
    with pytest.raises(ConfigError, match=r"cohort\.yaml: study\.published 'figures\.yaml': no such file"):
        published_figures(load_config(ROOT / "config.yaml", raw_dir=str(mini_copy)))


def test_cohort_without_study_block_prints_no_word_of_hua(mini_build):
    """`--config raw_dir=...` alone: a title from the data, no published values, no scorecard."""
    _, results = mini_build
    text = pdf_text(results)
    flow = json.loads((results / "patient_flow.json").read_text())
    assert text.startswith(f"Treatment versus Control: {sum(a['enrolled'] for a in flow['arms'])} patients")
    assert [word for word in HUA_WORDS if word in text] == []
    assert "not available%" not in text and "P = not available" not in text and "p = not available" not in text
    assert "There are no published figures to compare" in text
    assert not (results / "scorecard.csv").exists() and not (results / "paper_consistency.csv").exists()
    assert "Hua" not in (results / "ro-crate-metadata.json").read_text()


def test_reconstructed_cohort_shows_its_study_and_scorecard(reconstructed_project):
    text = pdf_text(reconstructed_project / "results")
    assert text.startswith("Therapeutic effects of mesenchymal stem cells for refractory ascites")
    assert "Original: Hua. Am J Transl Med 2020;4(3):122-139" in text
    assert "8. Reported versus reproduced" in text and "The abstract checked against itself" in text
    assert "[published 0.49]" in text and "The abstract says prothrombin time 'increased'" in text
    assert "not available%" not in text and "P = not available" not in text


def test_paths_are_written_relative_to_the_project_when_inside_it(tmp_path, monkeypatch):
    from msc_ascites.study import project_path
    monkeypatch.chdir(tmp_path)
    assert project_path(tmp_path / "resources" / "raw") == "resources/raw"
    assert project_path("resources/raw") == "resources/raw"
    assert project_path(tmp_path.parent / "elsewhere") == (tmp_path.parent / "elsewhere").as_posix()  # as given


def test_no_deaths_is_said_only_when_deaths_are_collected_and_none_occurred():
    from msc_ascites.report.render import no_deaths
    none = {arm: {"deaths_total": 0} for arm in ("treatment", "control")}
    assert no_deaths({"available": True, "results": none})
    assert not no_deaths({"available": True, "results": {**none, "control": {"deaths_total": 1}}})
    assert not no_deaths({"available": False, "reason": "not collected: deaths are not recorded"})


def test_lab_endpoint_is_named_from_its_tests():
    from msc_ascites.data.labels import endpoint_words, lab_words
    assert lab_words(["ALB", "PTA", "PT", "TBIL", "INR", "CREA"]) == "liver function"
    assert lab_words(["CD4", "CD8"]) == "laboratory values"
    assert lab_words(["CREA", "NA"]) == "laboratory values"
    assert endpoint_words({"liver_function": {"available": True, "results": {"CD4": {}}}})["liver_function"] == \
        "laboratory values"


# ---------------------------------------------------------------------------- a reconstruction says so

#: The running header a reconstructed cohort's pages carry (report.html.j2's h1 feeds report.css's @top-center).
RECONSTRUCTED = "Reconstructed cohort (seed "


def pdf_pages(results) -> list[str]:
    from pypdf import PdfReader
    return [" ".join(page.extract_text().split()) for page in PdfReader(results / "report.pdf").pages]


def table_numbers(results) -> list[int]:
    """The numbers of the report's "Table N." labels, in document order ("(continued)" aside)."""
    import re
    return [int(n) for n in re.findall(r"Table (\d+)\.", (results / "report.html").read_text())]


def test_numbers_never_print_a_negative_zero():
    assert (format_number(-0.0004, 3), format_number(-0.004), format_number(-0.4, 0)) == ("0.000", "0.00", "0")
    assert (format_number(-0.0006, 3), format_number(0.0004, 3)) == ("-0.001", "0.000")


def test_the_cohort_config_alone_says_whether_it_is_a_reconstruction(config):
    from conftest import ROOT
    from msc_ascites.settings import load_config
    from msc_ascites.study import reconstruction_seed
    assert reconstruction_seed(load_config(ROOT / "config.yaml")) == 20200715  # resources/raw/cohort.yaml names it
    assert reconstruction_seed(config) is None  # the mini cohort names none


def test_reconstructed_cohort_says_so_on_every_page(reconstructed_project):
    results = reconstructed_project / "results"
    pages, text = pdf_pages(results), pdf_text(results)
    assert len(pages) > 5 and all(RECONSTRUCTED in page for page in pages)
    assert "Every number below is computed from the raw files" not in text
    assert "These raw files are a reconstruction" in text and "How the cohort was reconstructed" in text
    assert "the assumptions in resources/reconstruction/assumptions.yaml" in text and "the seed 20200715" in text
    assert "Figures the generator was constrained to reproduce" in text and "Free figures: this draw" in text
    assert "it was given 0.049 instead of the printed figure" in text  # the target the generator met for 0.49
    assert "Limitations" in text and "Non-randomised design." in text and "Reconstructed data." in text
    survival = json.loads((results / "endpoints" / "survival.json").read_text())["results"]
    assert f"rest on {survival['treatment']['deaths_total']} and {survival['control']['deaths_total']} deaths" in text


def test_reconstructed_report_prints_no_zero_p_and_no_negative_zero(reconstructed_project):
    import re
    text = pdf_text(reconstructed_project / "results")
    assert re.findall(r"(?<![\d.])0\.00 match", text) == []  # the scorecard's "<0.05" rows: "<0.001 match"
    assert "<0.001 match" in text
    assert re.findall(r"-0\.0+(?![\d]*[1-9])", text) == []
    assert "Adverse events within 730 days" not in text  # the old by-term table, repeated by the SOC/PT table


def test_every_table_is_numbered_in_order(shared_results):
    numbers = table_numbers(shared_results)
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) > 10


def test_real_cohort_carries_no_reconstruction_text(mini_build):
    _, results = mini_build
    pages, text = pdf_pages(results), pdf_text(results)
    assert not any(RECONSTRUCTED in page for page in pages)
    assert "How the cohort was reconstructed" not in text and "generator" not in text
    assert "Every number below is computed from the raw files" in text
    assert "Limitations" in text and "Non-randomised design." not in text  # the mini cohort names no design


def test_table1_note_names_each_test_its_column_holds_once():
    from msc_ascites.data.labels import table1_test_phrases
    column = ["", "Welch’s T-test", "Welch’s T-test", "Kruskal-Wallis", "Chi-squared (warning: expected count < 5)",
              "Not tested", "Some other test"]
    assert table1_test_phrases(column) == [
        "Welch's t-test for means", "Kruskal-Wallis for medians (with two arms, the Mann-Whitney test by its normal "
        "approximation without continuity correction)",
        "the chi-squared test for categories (flagged where an expected count is small)", "Some other test"]
