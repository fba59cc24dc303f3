"""The analysis-results table (ARD, results/ard.csv): one row per number the report may print.

Every statistic, count and parameter the templates lay out is here once, with an address an
auditor can give to ``trace``, the endpoint, population, arm, statistic and method it belongs to,
and its full-precision value. Endpoint numbers keep the addresses the scorecard and the abstract
use (``meld:primary.treatment.mean``); other files' numbers are addressed by source and path
(``safety_json:adverse_events.rows.3.treatment_percent``, ``table1:Age, years, mean (SD):SMT.1``,
``visits:W12.target_day``).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd

from ..data import meld as meld_scores
from ..data.contract import ARMS
from ..data.visits import visits_from_config
from ..outputs import parsed_number, read_csv, write_csv
from ..safe_files import load_yaml
from ..sensitivity.grid import grid_endpoints, overview, read_summary
from ..settings import settings_from_config

COLUMNS = ["address", "endpoint", "population", "group", "statistic", "value", "method", "source"]
#: The JSON results the report prints, by the name their addresses start with.
JSON_SOURCES = ("safety_json", "patient_flow", "robustness", "table1_notes", "availability", "clean_summary",
                "inventory")
#: The numeric tables the report prints, by name; each row keyed by its position (line - 2).
TABLE_SOURCES = ("covariate_balance", "safety_adverse_events", "safety_exposure", "safety_lab_shifts",
                 "safety_listing", "consistency")
#: Subtrees that list subjects or raw material, not statistics.
NOT_STATISTICS = {"inputs", "available"}
#: Columns that name a patient, a record or a cell, whatever digits they hold.
IDENTIFIERS = {"subject_id", "data_sha256", "same_analysis_as"}
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
#: The source of a configured number: config.yaml merged with the raw folder's cohort.yaml and any
#: --configfile, as the step's params (results/provenance.json) record it.
CONFIGURATION = "configuration"


def _numbers(node, path=()):
    """(path, number) of every finite number under ``node``; lists are indexed by position."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in NOT_STATISTICS:
                yield from _numbers(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _numbers(value, (*path, str(index)))
    elif isinstance(node, (int, float)) and not isinstance(node, bool) and math.isfinite(node):
        yield path, node


def _named(path: tuple[str, ...]) -> list[str]:
    """The parts of a path that name something: not arm codes, positions or the "@" of a side key."""
    return [part.lstrip("@") for part in path if part not in ARMS and not part.isdigit()]


def _method(document: dict, path: tuple[str, ...]) -> str:
    """The method that made the number at ``path``: the nearest enclosing ``method`` text, else the
    test a node names (``primary_test``), else the enclosing key (``fisher_exact``, ``ancova``)."""
    node, found = document, ""
    for part in path[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, dict):
            text = node.get("method", node.get("test"))
            found = text if isinstance(text, str) else found
    return found or next(iter(_named(path[:-1])[-1:]), "")


def _row(address, endpoint, path, value, method, source, population="") -> dict:
    group = next((arm for arm in ARMS if arm in path), "both arms")
    return {"address": address, "endpoint": endpoint, "population": population, "group": group,
            "statistic": next(iter(_named(path)[-1:]), ""), "value": value, "method": method, "source": source}


def _endpoint_path(path: tuple[str, ...]) -> tuple[str, ...]:
    """Where an endpoint's number is addressed: under ``results`` as the scorecard's addresses
    (endpoint:path), the rest (n per arm, parameters) as ``endpoint:@key.path``."""
    return path[1:] if path[0] == "results" else ("@" + path[0], *path[1:])


def endpoint_rows(name: str, source: str, result: dict, population: str) -> list[dict]:
    rows = []
    for path, value in _numbers(result):
        inside = _endpoint_path(path)
        rows.append(_row(f"{name}:{'.'.join(inside)}", name, inside, value, _method(result, path), source,
                         population))
    return rows


def json_rows(name: str, source: str, document: dict) -> list[dict]:
    return [_row(f"{name}:{'.'.join(path)}", name, path, value, _method(document, path), source)
            for path, value in _numbers(document)]


def endpoint_address(name: str):
    return lambda path: f"{name}:{'.'.join(_endpoint_path(path))}"


def json_address(name: str):
    return lambda path: f"{name}:{'.'.join(path)}"


def table_address(name: str):
    """A numeric cell of a table's records (row position, column), as `table_rows` addresses it."""
    return lambda path: f"{name}:{path[0]}:{path[1]}"


def from_ard(document, values: dict, address):
    """``document`` (a result a step wrote: JSON, or a table's records) with each of its numbers
    replaced by the analysis-results table's value at ``address(path)``: what the report prints is
    then what ard.csv holds, and a number the table lacks stops the report rather than printing
    unlisted."""
    copy = json.loads(json.dumps(document))
    for path, _ in _numbers(document):
        key = address(path)
        if path[-1] in IDENTIFIERS:
            continue
        if key not in values:
            raise KeyError(f"results/ard.csv has no row {key!r}: rebuild it (snakemake results/ard.csv)")
        node = copy
        for part in path[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(path[-1]) if isinstance(node, list) else path[-1]] = values[key]
    return copy


def table_rows(name: str, source: str, table: pd.DataFrame) -> list[dict]:
    """A table's numbers, addressed ``name:row:column`` (row = line - 2); each number inside a text
    cell ("LLN 35 g/L", "38/39") as ``name:row:column.k``. Identifiers are not numbers."""
    rows = []
    for index, record in enumerate(table.to_dict("records")):
        context = (str(record.get("arm", "")), str(record.get("method", "")), str(record.get("population", "")))
        for column, value in record.items():
            if column in IDENTIFIERS:
                continue
            if isinstance(value, str):
                found = [(f"{column}.{k}", parsed_number(m.group())) for k, m in enumerate(NUMBER.finditer(value))]
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                found = [(column, value)]
            else:
                found = []
            rows += [_row(f"{name}:{index}:{key}", name, (context[0], column), number, context[1], source, context[2])
                     for key, number in found]
    return rows


def table1_rows(source: str, table: pd.DataFrame, arm_labels: dict[str, str]) -> list[dict]:
    """Table 1 as its step wrote it (formatted cells, "47.69 (8.12)"): each number of a cell,
    addressed ``table1:variable level:column.k``, named by the summary its row states ("mean (SD)":
    mean, SD) and, in an arm's column, given that arm."""
    rows = []
    for record in table.to_dict("records"):
        label = " ".join(part for part in (record["variable"], record["level"]) if part)
        summary = re.findall(r"[A-Za-z0-9%]+", record["variable"].rpartition(", ")[2]) if ", " in label else ["n"]
        for column in [c for c in table.columns if c not in ("variable", "level", "test")]:
            arm = arm_labels.get(column, "")
            for k, match in enumerate(NUMBER.finditer(record[column])):
                statistic = (summary[k] if k < len(summary) else f"number {k + 1}") if arm else column
                rows.append({**_row(f"table1:{label}:{column}.{k}", "baseline", (arm,), parsed_number(match.group()),
                                    record.get("test", ""), source, "itt"), "statistic": statistic})
    return rows


def grid_rows(source: str, config: dict) -> list[dict]:
    """The sensitivity grid as the report summarises it (per endpoint and per axis value), and
    every cell of it at ``sensitivity_summary:row:column``."""
    summary = read_summary(source)
    summarised = overview(summary, config["analysis"]["confidence_level"],
                          grid_endpoints(settings_from_config(config)), ("primary_MELD", "death"))
    return [*json_rows("sensitivity_overview", source, summarised),
            *table_rows("sensitivity_summary", source, summary)]


def parameter_rows(config: dict) -> list[dict]:
    """The configuration's numbers, the analysis visits derived from it (target days) and the fixed
    constants of the methods (MELD's coefficients)."""
    visits = {visit.label: {"week": visit.week, "target_day": visit.target_day, "first_day": visit.first_day,
                            "last_day": visit.last_day} for visit in visits_from_config(config["visits"])}
    constants = {"COEFFICIENTS": meld_scores.COEFFICIENTS, "SODIUM_COEFFICIENTS": meld_scores.SODIUM_COEFFICIENTS,
                 "CREATININE_CAP_MG_DL": meld_scores.CREATININE_CAP_MG_DL,
                 "SODIUM_BOUNDS_MMOL_L": list(meld_scores.SODIUM_BOUNDS_MMOL_L)}
    return [*[{**row, "method": "configuration"} for row in json_rows("config", CONFIGURATION, config)],
            *[{**row, "method": "analysis visits"} for row in json_rows("visits", CONFIGURATION, visits)],
            *[{**row, "method": "MELD (UNOS)"} for row in json_rows("meld_formula", meld_scores.__name__, constants)]]


def published_rows(source: str, published: dict) -> list[dict]:
    """The published figures the report sets beside the reproduced ones, by figure
    (``published:meld_week48_p``; a figure printed with several numbers numbers them ``.1``, ``.2``):
    the scorecard reads them here with the reproduced numbers."""
    rows = []
    for figure in published["figures"]:
        endpoint = str(figure.get("reproduced_by") or "").partition(":")[0]
        for k, number in enumerate(NUMBER.findall(str(figure["value"]))):
            rows.append(_row(f"published:{figure['id']}" + (f".{k}" if k else ""), endpoint, ("published",),
                             parsed_number(number), "published", source))
    return rows


def analysis_results(inputs: dict, config: dict) -> pd.DataFrame:
    """The ARD of the results named in ``inputs`` (paths as the workflow names them, relative to
    the project folder: they are the rows' sources)."""
    population = "itt"  # the endpoints analyse every enrolled patient with the value (the estimands table)
    rows = [row for path in inputs["endpoints"]
            for row in endpoint_rows(Path(path).stem, str(path), _json(path), population)]
    rows += [row for name in JSON_SOURCES if name in inputs for row in json_rows(name, str(inputs[name]),
                                                                              _json(inputs[name]))]
    rows += [row for name in TABLE_SOURCES if name in inputs
             for row in table_rows(name, str(inputs[name]), read_csv(inputs[name]))]
    arm_labels = {arm["label"]: code for code, arm in config["cohort"]["arms"].items()}
    rows += table1_rows(str(inputs["table1"]), pd.read_csv(inputs["table1"], dtype=str, keep_default_na=False),
                        arm_labels)
    rows += grid_rows(inputs["sensitivity_summary"], config)
    if "published" in inputs:
        rows += published_rows(str(inputs["published"]), load_yaml(inputs["published"]))
    return ard_table([*rows, *parameter_rows(config)])


def ard_table(rows: list[dict]) -> pd.DataFrame:
    """The rows as the table ard.csv holds: a count stays 39, not 39.0; each address once."""
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["value"] = pd.Series([row["value"] for row in rows], dtype=object)
    repeated = table["address"][table["address"].duplicated()]
    if len(repeated):
        raise ValueError(f"the analysis-results table has address {repeated.iloc[0]!r} twice")
    return table


def _json(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_analysis_results(inputs: dict, config: dict, path: Path) -> None:
    """Step `analysis_results`: results/ard.csv."""
    write_csv(analysis_results(inputs, config), path)
