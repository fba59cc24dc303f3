"""The report's pieces: number formats, the published-vs-reproduced abstract, the URL fetcher."""

import pytest

from msc_ascites.report import LocalFilesOnly, abstract_figures, format_number, format_p, format_p_eq


def test_p_value_formats():
    assert (format_p(0.0491), format_p(0.0004), format_p(None)) == ("0.049", "<0.001", "–")
    assert (format_p_eq(0.0491), format_p_eq(0.0004)) == ("= 0.049", "<0.001")
    assert (format_number(14.4087), format_number(3), format_number(float("nan"))) == ("14.41", "3", "–")


def test_abstract_shows_published_value_only_where_it_differs():
    rows = [{"figure": "meld_week48_treatment_mean", "reported": "14.41", "decimals": "2", "reproduced": "14.4087",
             "status": "match"},
            {"figure": "survival_2y_p", "reported": "0.49", "decimals": "2", "reproduced": "0.0491",
             "status": "mismatch (paper inconsistent)"},
            {"figure": "hrs_control_pct", "reported": "15", "decimals": "0", "reproduced": "",
             "status": "not available"}]
    got = abstract_figures(rows)
    assert got["meld_week48_treatment_mean"] == {"value": "14.41", "published": None, "status": "match"}
    assert got["survival_2y_p"]["value"] == "0.049" and got["survival_2y_p"]["published"] == "0.49"
    assert got["hrs_control_pct"]["value"] == "not available"


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
