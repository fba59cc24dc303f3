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

import jinja2
import pandas as pd
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

from .cleaning import RULES
from .outputs import atomic_path, fixed_timestamps, read_csv, write_text

#: Packages whose versions the reproducibility appendix lists.
PACKAGES = ("snakemake", "pandas", "numpy", "scipy", "lifelines", "statsmodels", "matplotlib", "jinja2",
            "weasyprint", "tableone", "pandera")


class LocalFilesOnly(URLFetcher):
    """Serve ``file:`` URLs under one folder; refuse everything else."""

    def __init__(self, root: Path):
        super().__init__(allowed_protocols={"file"})
        self.root = Path(root).resolve()

    def fetch(self, url, headers=None):
        from urllib.parse import unquote, urlparse
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
    return env.get_template(template).render(**context)


def format_number(value, decimals: int = 2) -> str:
    """A number as printed in the report; missing shows as an en dash."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{decimals}f}"


def write_pdf(html: str, base_dir: Path, pdf_path: Path, stylesheet: Path) -> None:
    """PDF with fixed metadata and identifier, so the same HTML gives the same bytes."""
    document = HTML(string=html, base_url=str(base_dir), url_fetcher=LocalFilesOnly(base_dir))
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    css = CSS(filename=str(stylesheet), url_fetcher=LocalFilesOnly(base_dir))
    with atomic_path(pdf_path) as tmp, fixed_timestamps():
        document.write_pdf(tmp, stylesheets=[css], pdf_identifier=identifier)


def package_versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in PACKAGES}


def config_digest(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode("utf-8")).hexdigest()


def build_context(inputs: dict, config: dict) -> dict:
    """Everything the template shows, read from the results files named in ``inputs``."""
    log = read_csv(inputs["cleaning_log"]).fillna("")
    summary = json.loads(Path(inputs["clean_summary"]).read_text(encoding="utf-8"))
    inventory = json.loads(Path(inputs["inventory"]).read_text(encoding="utf-8"))
    table1 = read_csv(inputs["table1"]).fillna("")
    arms = config["cohort"]["arms"]
    return {
        "study": config["study"],
        "arms": arms,
        "flow": json.loads(Path(inputs["patient_flow"]).read_text(encoding="utf-8")),
        "table1": {"columns": list(table1.columns), "rows": table1.to_dict("records"),
                   "notes": json.loads(Path(inputs["table1_notes"]).read_text(encoding="utf-8"))},
        "availability": json.loads(Path(inputs["availability"]).read_text(encoding="utf-8")),
        "cleaning": {
            "counts": [{"rule": rule, "n": n, "meaning": RULES[rule]}
                       for rule, n in summary["cleaning_log_rules"].items()],
            "total": int(len(log)),
            "first_rows": log.head(25).to_dict("records"),
            "absent": summary["absent_optional_tables"],
        },
        "inventory": inventory["files"],
        "raw_dir": config["raw_dir"],
        "versions": package_versions(),
        "config_sha256": config_digest(config),
    }


def write_report(inputs: dict, config: dict, template_dir: Path, base_dir: Path, html_path: Path,
                 pdf_path: Path) -> None:
    """Step `report`: results/report.html and results/report.pdf."""
    html = render_html(Path(template_dir), "report.html.j2", build_context(inputs, config))
    write_text(html, html_path)
    write_pdf(html, Path(base_dir), Path(pdf_path), Path(template_dir) / "report.css")
