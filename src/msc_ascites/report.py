"""The report: results rendered through a jinja2 template into HTML and PDF.

Every number in the report comes from a results file; the template only lays
them out. WeasyPrint may read files inside the project folder and nothing
else, so text from the data (say an AE term holding an <img> tag) prints as
text, and no URL is ever fetched.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

import jinja2
import pandas as pd
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

from .cleaning import RULES
from .figures import CAPTIONS
from .formatting import format_number, format_p, format_p_eq
from .outputs import atomic_path, fixed_timestamps, read_csv, write_text
from .provenance import SHORT_ID, short_id
from .sensitivity import CHOICES, POPULATIONS, grid_endpoints, overview, read_summary
from .settings import settings_from_config

#: Packages whose versions the reproducibility appendix lists.
PACKAGES = ("snakemake", "pandas", "numpy", "scipy", "lifelines", "statsmodels", "matplotlib", "jinja2",
            "weasyprint", "tableone", "pandera")


class LocalFilesOnly(URLFetcher):
    """Serve ``file:`` URLs under one folder; refuse everything else."""

    def __init__(self, root: Path):
        super().__init__(allowed_protocols={"file"})
        self.root = Path(root).resolve()

    def fetch(self, url, headers=None):
        parsed = urlparse(url)
        path = Path(unquote(parsed.path)).resolve()
        if parsed.scheme != "file" or not path.is_relative_to(self.root):
            raise ValueError(f"report may only read files inside {self.root}, not {url}")
        return super().fetch(url, headers)


def render_html(template_dir: Path, template: str, context: dict) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_dir)),
                             autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = format_number
    env.filters["p"] = format_p
    env.filters["p_eq"] = format_p_eq
    return env.get_template(template).render(**context)


def write_pdf(html: str, base_dir: Path, pdf_path: Path, stylesheet: Path) -> None:
    """PDF with fixed metadata and identifier, so the same HTML gives the same bytes."""
    document = HTML(string=html, base_url=Path(base_dir).as_uri() + "/", url_fetcher=LocalFilesOnly(base_dir))
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    css = CSS(filename=str(stylesheet), url_fetcher=LocalFilesOnly(base_dir))
    with atomic_path(pdf_path) as tmp, fixed_timestamps():
        document.write_pdf(tmp, stylesheets=[css], pdf_identifier=identifier)


def package_versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in PACKAGES}


def config_digest(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode("utf-8")).hexdigest()


def _json(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _records(path) -> list[dict]:
    return pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")


def abstract_figures(scorecard: list[dict]) -> dict:
    """Per published figure: the reproduced value as printed, and the published one where they differ."""
    out = {}
    for row in scorecard:
        if row["status"] in ("not available", "not reproduced"):
            out[row["figure"]] = {"value": "not available", "published": row["reported"], "status": row["status"]}
            continue
        decimals = int(row["decimals"])
        value = float(row["reproduced"])
        shown = format_p(value) if row["figure"].endswith("_p") else f"{value:.{decimals}f}"
        out[row["figure"]] = {"value": shown, "status": row["status"],
                              "published": None if row["status"] == "match" else row["reported"]}
    return out


def _sensitivity(inputs: dict, config: dict) -> dict:
    """The grid's overview, the covariate balance and the robustness analyses."""
    summary = read_summary(inputs["sensitivity_summary"])
    order = grid_endpoints(settings_from_config(config))
    return {"overview": overview(summary, config["analysis"]["confidence_level"], order, ("primary_MELD", "death")),
            "balance": read_csv(inputs["covariate_balance"]).to_dict("records"),
            "robustness": _json(inputs["robustness"]), "grid": config["sensitivity"],
            "populations": POPULATIONS, "choices": CHOICES}


def provenance_ids(inputs: dict) -> dict[str, str]:
    """The id each table and figure prints: by input name, or name/stem for a list of files."""
    ids = {}
    for name, value in inputs.items():
        for path in [value] if isinstance(value, (str, Path)) else value:
            ids[name if isinstance(value, (str, Path)) else f"{name}/{Path(path).stem}"] = short_id(path)
    return ids


def build_context(inputs: dict, config: dict, git: str) -> dict:
    """Everything the template shows, read from the results files named in ``inputs``."""
    log = read_csv(inputs["cleaning_log"]).fillna("")
    summary = _json(inputs["clean_summary"])
    table1 = read_csv(inputs["table1"]).fillna("")
    endpoints = {Path(p).stem: _json(p) for p in inputs["endpoints"]}
    scorecard = _records(inputs["scorecard"])
    ae_table = read_csv(inputs["adverse_events_table"]).fillna("") if endpoints["adverse_events"]["available"] \
        else pd.DataFrame()
    figures = {Path(p).stem: Path(p).name for p in inputs["figures"]}
    return {
        "study": config["study"],
        "arms": config["cohort"]["arms"],
        "analysis": config["analysis"],
        "visits": config["visits"],
        "endpoint_config": config["endpoints"],
        "flow": _json(inputs["patient_flow"]),
        "table1": {"columns": list(table1.columns), "rows": table1.to_dict("records"),
                   "notes": _json(inputs["table1_notes"])},
        "availability": _json(inputs["availability"]),
        "endpoints": endpoints,
        "ae_terms": ae_table[ae_table["by"] == "term"].to_dict("records") if len(ae_table) else [],
        "scorecard": scorecard,
        "abstract": abstract_figures(scorecard),
        "consistency": _records(inputs["consistency"]),
        "figures": figures,
        "captions": CAPTIONS,
        "ids": provenance_ids(inputs),
        "ids_length": SHORT_ID,
        "cleaning": {
            "counts": [{"rule": rule, "n": n, "meaning": RULES[rule]}
                       for rule, n in summary["cleaning_log_rules"].items()],
            "total": int(len(log)),
            "first_rows": log.head(20).to_dict("records"),
            "absent": summary["absent_optional_tables"],
        },
        "sensitivity": _sensitivity(inputs, config),
        "inventory": _json(inputs["inventory"])["files"],
        "raw_dir": config["raw_dir"],
        "versions": package_versions(),
        "config_sha256": config_digest(config),
        "git": git,
    }


def write_report(inputs: dict, config: dict, git: str, template_dir: Path, html_path: Path,
                 pdf_path: Path) -> None:
    """Step `report`: results/report.html and results/report.pdf (figures found beside the HTML)."""
    html = render_html(Path(template_dir), "report.html.j2", build_context(inputs, config, git))
    write_text(html, html_path)
    write_pdf(html, Path(html_path).resolve().parent, Path(pdf_path), Path(template_dir) / "report.css")
