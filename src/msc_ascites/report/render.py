"""The report: results rendered through a jinja2 template into HTML and PDF.

Every number in the report comes from a results file; the template only lays
them out. WeasyPrint may read files inside the project folder and nothing
else, so text from the data (say an AE term holding an <img> tag) prints as
text, and no URL is ever fetched.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

import jinja2
from markupsafe import Markup, escape
import pandas as pd
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

from ..audit.provenance import SHORT_ID, short_id
from ..data.cleaning import RULES
from ..data.contract import ARMS
from ..data.visits import visits_from_config
from ..data.labels import (EVENT_NAMES, LIVER_PANELS, UNIT_DISPLAY, endpoint_words, horizon_words,
                           table1_test_phrases, variable_name)
from ..outputs import ard_values, atomic_path, fixed_timestamps, read_csv, write_text
from ..sensitivity.grid import CHOICES, DATA_AXES, grid_endpoints, population_texts, overview, read_summary
from ..settings import settings_from_config
from ..products import FIGURES
from ..safe_files import load_yaml
from ..study import project_path, published_figures, reconstruction_seed, study_block, study_title
from .ard import endpoint_address, from_ard, json_address, table_address
from .estimands import departures, estimands
from .layout import beyond_text_block
from .formatting import format_number, format_p, format_p_eq, format_ratio, join_words, lower_first, upper_first

#: Between "=" or "<" and a p-value in the report's text: the two never part at a line end.
NBSP = "\u00a0"

#: The cleaning log's rows the data-quality section shows (the whole log is results/cleaning_log.csv).
CLEANING_LOG_ROWS_SHOWN = 20

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


def grid_endpoint(endpoint: str, week: int) -> str:
    """A grid endpoint as the report names it: "primary_ALB" -> "Albumin at week 48", "death" -> "Death"."""
    if endpoint.startswith("primary_"):
        return f"{variable_name(endpoint.removeprefix('primary_'))} at week {week}"
    return upper_first(endpoint.replace("_", " "))


def render_html(template_dir: Path, template: str, context: dict) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_dir)),
                             autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = format_number
    env.filters["p"] = format_p
    env.filters["ratio"] = format_ratio
    env.filters["p_eq"] = lambda value: format_p_eq(value, NBSP)
    env.filters["join_words"] = join_words
    env.filters["upper_first"] = upper_first
    env.filters["lower_first"] = lower_first
    env.filters["variable_name"] = variable_name
    env.filters["grid_endpoint"] = grid_endpoint
    return env.get_template(template).render(**context)


def laid_out(html: str, base_dir: Path, stylesheet: Path):
    """The report laid out in pages, reading files only inside ``base_dir``."""
    document = HTML(string=html, base_url=Path(base_dir).as_uri() + "/", url_fetcher=LocalFilesOnly(base_dir))
    css = CSS(filename=str(stylesheet), url_fetcher=LocalFilesOnly(base_dir))
    return document.render(stylesheets=[css])


def write_pdf(html: str, base_dir: Path, pdf_path: Path, stylesheet: Path) -> None:
    """PDF with fixed metadata and identifier, so the same HTML gives the same bytes; what the layout
    pushes past the text block is named in the job's log."""
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    with atomic_path(pdf_path) as tmp, fixed_timestamps():
        document = laid_out(html, base_dir, stylesheet)
        for overflow in beyond_text_block(document):
            print(f"warning: page {overflow.page}: <{overflow.tag}> reaches {overflow.beyond_mm} mm past the "
                  f"text block ({overflow.text!r})", file=sys.stderr)
        document.write_pdf(tmp, pdf_identifier=identifier)


def package_versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in PACKAGES}


def config_digest(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode("utf-8")).hexdigest()


def _json(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _as_written(path, rows: int | None = None) -> pd.DataFrame:
    """A CSV's cells as written: a count column with blanks stays "2", not "2.0"; only the first
    ``rows`` lines when given (the cleaning log of 100k subjects has millions)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, nrows=rows)


def _records(path) -> list[dict]:
    return _as_written(path).to_dict("records")


class AbstractNumbers:
    """The regenerated abstract's numbers, by address (``endpoint:path``), read from the
    analysis-results table (results/ard.csv). A number the study published is printed to the
    precision it was published at, and its published value follows in brackets where they differ;
    any other to the precision asked. A number the table does not hold is not printed at all: its
    sentence is left out."""

    def __init__(self, values: dict, scorecard: list[dict]):
        self.values = values
        self.published = {row["address"]: row for row in scorecard}

    def value(self, address: str) -> float | None:
        return float(self.values[address]) if address in self.values else None

    def has(self, *addresses: str) -> bool:
        return all(self.value(a) is not None for a in addresses)

    def __call__(self, address: str, decimals: int = 2) -> Markup:
        """The number as printed; a p as '0.049' or '<0.001'."""
        value, row = self._checked(address), self.published.get(address)
        if address.endswith(".p"):
            return escape(format_p(value)) + self._published_note(address)
        return escape(f"{value:.{int(row['decimals']) if row else decimals}f}") + self._published_note(address)

    def p_eq(self, address: str) -> Markup:
        """A p after "p" in running text: "= 0.049" or "< 0.001"."""
        return escape(format_p_eq(self._checked(address), NBSP)) + self._published_note(address)

    def _checked(self, address: str) -> float:
        if not self.has(address):
            raise KeyError(f"{address}: the template prints only numbers it checked with has()")
        return self.value(address)

    def _published_note(self, address: str) -> Markup:
        """The published value in brackets, after a number that does not match it."""
        row = self.published.get(address)
        if row and row["status"] != "match":
            return Markup(' <span class="published">[published {}]</span>').format(row["reported"])
        return Markup("")


def lab_changes(numbers: AbstractNumbers, liver_function: dict, visit: str) -> list[str]:
    """Each lab test's mean change from baseline in the treatment arm, its canonical unit named, and its
    paired p where there is one: "albumin increased (+3.20 g/L; P < 0.001)"."""
    phrases = []
    results = liver_function.get("results", {}) if liver_function["available"] else {}
    for test in [t for t in liver_function.get("parameters", {}).get("tests", []) if t in results]:
        result = results[test]
        at = f"liver_function:{test}.{visit}.within.treatment"
        if not numbers.has(f"{at}.mean_change"):
            continue
        change = numbers.value(f"{at}.mean_change")
        unit = UNIT_DISPLAY.get(result["unit"], result["unit"])
        p = Markup("; P {}").format(numbers.p_eq(f"{at}.paired_t.p")) if numbers.has(f"{at}.paired_t.p") else ""
        phrases.append(Markup("{} {} (<span class=\"nowrap\">{:+.2f}{}</span>{})").format(
            lower_first(result["name"]), "increased" if change > 0 else "decreased" if change < 0 else "did not change",
            change, f"\u00a0{unit}" if unit else "", p))
    return phrases


def abstract_context(endpoints: dict, numbers: AbstractNumbers, config: dict, visit: str) -> dict:
    """What the regenerated abstract says, from what the cohort has: the endpoints compared, those
    not available (their reasons are in the methods), the lab changes, the complications."""
    words = endpoint_words(endpoints)
    compared = [words[name] for name, result in endpoints.items()
                if result["available"] and name != "adverse_events"]
    complications = endpoints["complications"].get("results", {}) if endpoints["complications"]["available"] else {}
    order = [*config["endpoints"]["complications"].get("events", []), *sorted(complications)]
    events = [e for e in dict.fromkeys(order) if e in complications and numbers.has(f"complications:{e}.treatment.percent",
                                                       f"complications:{e}.control.percent")]
    return {"compared": compared,
            "not_available": [words[name] for name, result in endpoints.items() if not result["available"]],
            "endpoint_words": words,
            "no_deaths": no_deaths(endpoints["survival"]),
            "lab_changes": lab_changes(numbers, endpoints["liver_function"], visit),
            "horizon_name": horizon_words(config["analysis"]["horizon_days"]),
            "complication_events": [(e, lower_first(EVENT_NAMES.get(e, e))) for e in events]}


def no_deaths(survival: dict) -> bool:
    """Deaths are collected and none occurred: the text says so rather than "100% vs 100%"."""
    results = survival.get("results", {}) if survival["available"] else {}
    return bool(results) and all(results[arm]["deaths_total"] == 0 for arm in ARMS)


def figure_captions(endpoints: dict, published: bool, reconstruction: bool) -> dict[str, str]:
    """The figures' captions, naming what this cohort's figures show: the lab tests it has, the
    primary analysis as the paper's own choices only beside published figures, seeds only for a
    reconstruction."""
    lf = endpoints["liver_function"]
    tests = [next(t for t in group if t in lf["results"]) for group in LIVER_PANELS
             if lf["available"] and any(t in lf["results"] for t in group)]
    names = [lower_first(lf["results"][t]["name"]) for t in tests]
    primary = "the paper's own choices" if published else "the primary analysis"
    complications = endpoints["complications"]
    competing = ("with death as a competing risk" if complications.get("parameters", {}).get("deaths_collected", True)
                 else "deaths not collected")
    return {**{name: figure.caption for name, figure in FIGURES.items()},
            "complications_incidence": f"Cumulative incidence of each complication by arm, {competing} "
                                       "(Aalen-Johansen), with confidence bands, the numbers at risk and Gray's test.",
            "liver_trajectories": upper_first(str(join_words(names or ["lab tests"]))) + " by analysis visit and arm: mean with "
                                  "t-based confidence interval.",
            "sensitivity_estimates": "Every cell of the sensitivity grid, sorted by its estimate, with its confidence "
                                     "interval: filled, and dark in the strip under each panel, where p is below the "
                                     f"significance level; {primary} ringed"
                                     + ("; the reconstruction seeds as grey diamonds." if reconstruction else ".")}


def _sensitivity(inputs: dict, config: dict, values: dict) -> dict:
    """The grid's overview, the covariate balance and the robustness analyses, their numbers as
    the analysis-results table holds them."""
    summary = read_summary(inputs["sensitivity_summary"])
    order = grid_endpoints(settings_from_config(config))
    balance = read_csv(inputs["covariate_balance"])
    summarised = from_ard(overview(summary, config["analysis"]["confidence_level"], order, ("primary_MELD", "death")),
                          values, json_address("sensitivity_overview"))
    return {"overview": summarised, "identical_data": [DATA_AXES[axis] for axis in summarised["identical_data"]],
            "balance": from_ard(balance.to_dict("records"), values, table_address("covariate_balance")),
            "adjusted": list(dict.fromkeys(balance.loc[balance["adjusted"].astype(bool), "covariate"])),
            "robustness": _printed(inputs, "robustness", values), "grid": config["sensitivity"],
            "populations": population_texts(config["analysis"]["primary_week"]), "choices": CHOICES}


def reconstruction_context(inputs: dict, config: dict) -> dict | None:
    """What the generator was given, for a cohort it drew (None for real data): the published
    figures it was redrawn until it met (its targets, with any target it was told to use instead),
    the assumptions file for everything else, and the seeds."""
    seed = reconstruction_seed(config)
    if seed is None:
        return None
    assumptions = load_yaml(inputs["reconstruction_assumptions"])
    overrides = {figure: {"value": entry["value"], "rationale": entry.get("rationale", "")}
                 for figure, entry in assumptions.get("target_overrides", {}).items() if isinstance(entry, dict)
                 and "value" in entry}
    published = published_figures(config)
    return {"seed": seed, "published": project_path(published) if published else None,
            "assumptions": project_path(inputs["reconstruction_assumptions"]),
            "assumed": [name.replace("_", " ") for name in assumptions if name != "target_overrides"],
            "overrides": overrides, "other_seeds": config["sensitivity"]["reconstruction_seeds"]}


def limitations_context(endpoints: dict, config: dict) -> dict:
    """The counts the limitations section cites: deaths, first complications within the horizon and
    ascites resolutions per arm, from the endpoint results (None where an endpoint is not available)."""
    def per_arm(endpoint, read):
        result = endpoints[endpoint]
        return {arm: read(result["results"], arm) for arm in ARMS} if result["available"] else None
    complications = per_arm("complications", lambda r, arm: {code: r[code][arm]["events"] for code in r
                                                             if r[code].get("available", True)})
    design = study_block(config).get("design") or ""
    return {"deaths": per_arm("survival", lambda r, arm: r[arm]["deaths_total"]),
            "complications": complications,
            "resolutions": per_arm("ascites_resolution", lambda r, arm: r[arm]["events"]),
            "not_randomised": bool(re.search(r"\b(not|non-)\s*randomi[sz]ed", design, re.IGNORECASE))}


def provenance_ids(inputs: dict) -> dict[str, str]:
    """The id each table and figure prints: by input name, or name/stem for a list of files."""
    ids = {}
    for name, value in inputs.items():
        for path in [value] if isinstance(value, (str, Path)) else value:
            ids[name if isinstance(value, (str, Path)) else f"{name}/{Path(path).stem}"] = short_id(path)
    return ids


def study_context(config: dict, flow: dict, published: bool) -> dict:
    """The study as the report names it: its own title, citation and design sentence, or a title
    from the data; notes on the published wording only beside the published figures."""
    block = study_block(config)
    patients = sum(arm["enrolled"] for arm in flow["arms"])
    return {"title": study_title(config, patients), "citation": block.get("citation"),
            "design": block.get("design"), "notes": block.get("notes", {}) if published else {}}


def supplementary_tests(endpoints: dict) -> list[dict]:
    """Each comparison's pre-specified test, with the other tests computed for it, in the endpoints'
    order. A comparison is a results node holding ``primary_test``: the endpoint's own, or one per lab
    test (under its primary visit) or per complication, labelled with that test's name or event."""
    rows = []
    for name, result in endpoints.items():
        results = result.get("results", {}) if result.get("available") else {}
        for key, node in [("", results), *results.items()]:
            if key != "primary" and isinstance(node, dict) and isinstance(node.get("primary"), dict):
                node = node["primary"]
            if isinstance(node, dict) and "primary_test" in node:
                label = results[key].get("name", key) if key and key != "primary" else ""
                rows.append({"endpoint": name, "comparison": label, "primary": node["primary_test"]})
    return rows


def _printed(inputs: dict, name: str, values: dict):
    """A JSON result as the report prints it: its text and structure as its step wrote them, its
    numbers those of the analysis-results table."""
    return from_ard(_json(inputs[name]), values, json_address(name))


def build_context(inputs: dict, config: dict, git: str) -> dict:
    """Everything the template shows: the numbers from the analysis-results table (results/ard.csv),
    the words and the structure from the results files named in ``inputs``."""
    values = ard_values(inputs["ard"])
    log = _as_written(inputs["cleaning_log"], CLEANING_LOG_ROWS_SHOWN)
    summary = _printed(inputs, "clean_summary", values)
    table1 = _as_written(inputs["table1"])
    endpoints = {Path(p).stem: from_ard(_json(p), values, endpoint_address(Path(p).stem)) for p in inputs["endpoints"]}
    published = "scorecard" in inputs
    scorecard = _records(inputs["scorecard"]) if published else []
    flow = _printed(inputs, "patient_flow", values)
    figures = {Path(p).stem: Path(p).name for p in inputs["figures"]}
    numbers = AbstractNumbers(values, scorecard)
    visit = "primary"
    return {
        **abstract_context(endpoints, numbers, config, visit),
        "study": study_context(config, flow, published),
        "published": published,
        "arms": config["cohort"]["arms"],
        "arm_codes": ARMS,
        "analysis": config["analysis"],
        "visits": config["visits"],
        "visit_windows": [visit for visit in visits_from_config(config["visits"]) if not visit.is_baseline],
        "endpoint_config": config["endpoints"],
        "flow": flow,
        "table1": {"columns": list(table1.columns), "rows": table1.to_dict("records"),
                   "notes": _printed(inputs, "table1_notes", values), "tests": table1_test_phrases(table1["test"])},
        "availability": _printed(inputs, "availability", values),
        "endpoints": endpoints,
        "supplementary_tests": supplementary_tests(endpoints),
        "estimands": estimands(endpoints, config, endpoint_words(endpoints)),
        "departures": departures(config["sensitivity"]),
        "safety": _printed(inputs, "safety_json", values),
        "scorecard": scorecard,
        "numbers": numbers,
        "consistency": _records(inputs["consistency"]) if published else [],
        "figures": figures,
        "captions": figure_captions(endpoints, published, reconstruction_seed(config) is not None),
        "reconstruction": reconstruction_context(inputs, config),
        "limitations": limitations_context(endpoints, config),
        "event_names": EVENT_NAMES,
        "ids": provenance_ids(inputs),
        "ids_length": SHORT_ID,
        "cleaning": {
            "counts": [{"rule": rule, "n": n, "meaning": RULES[rule]}
                       for rule, n in summary["cleaning_log_rules"].items()],
            "total": summary["cleaning_log_entries"],
            "first_rows": log.to_dict("records"),
            "absent": summary["absent_optional_tables"],
        },
        "sensitivity": _sensitivity(inputs, config, values),
        "inventory": _printed(inputs, "inventory", values)["files"],
        "raw_dir": project_path(config["raw_dir"]),
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
