"""Following a result back: from a number, file, cell or provenance id of a finished run down to
the analysis rows, cleaned rows, raw lines and cleaning-log entries, with the steps that made them
(read from results/provenance.json and results/manifest.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from ..data.contract import ARMS, TABLES
from ..products import ENDPOINTS
from .plan import ARD, MANIFEST, PROVENANCE
from .provenance import SHORT_ID
from .trail import read_json


#: Words of a result path whose numbers use the baseline visit too (within-arm change, ANCOVA).
USES_BASELINE = {"baseline", "within", "change", "ancova", "between_change"}
QUERY_FORMS = ("an address (meld:primary.treatment.mean), a provenance id printed in the report (8 hex digits), "
               "a results file or figure/table name (km_survival, table1), a cell (results/scorecard.csv:ROW:COLUMN), "
               "an analysis-results row (results/ard.csv: table1:n:SMT.0) or a number as printed (14.41)")


def _endpoints():
    """msc_ascites.analysis.endpoints, imported when a trace needs it: it loads scipy, seconds that verify does without."""
    from ..analysis import endpoints
    return endpoints


class Trail:
    """A finished run's provenance and manifest, read to follow results back to raw rows."""

    def __init__(self, results: Path | str = "results"):
        self.results = Path(results)
        self.files = read_json(self.results / MANIFEST)["files"]
        self.provenance = read_json(self.results / PROVENANCE)
        self.job_of = {out: job for job in self.provenance["jobs"] for out in job["outputs"]}

    def trace(self, query: str) -> dict:
        """Everything ``query`` leads to; see QUERY_FORMS."""
        return {"query": query, "traces": [self._trace_one(kind, target) for kind, target in self.resolve(query)],
                "python": self.provenance["python"], "packages": self.provenance["packages"]}

    def resolve(self, query: str) -> list[tuple[str, str]]:
        if self._is_endpoint_result(query):
            return [("address", query)]
        if ":" in query and (self.results / ARD).exists() and query in set(self.ard()["address"]):
            return [("ard", query)]
        if query in self.files:
            return [("file", query)]
        if query.partition(":")[0] in self.files:
            return [("cell", query)]
        if re.fullmatch(r"[0-9a-f]{%d}" % SHORT_ID, query):
            found = [("file", name) for name, e in self.files.items() if e["sha256"].startswith(query)]
            if found:
                return found
        named = [("file", name) for name in self.files if name.startswith(f"{self.results.as_posix()}/")
                 and Path(name).stem == query]
        if named:
            return named
        if re.fullmatch(r"<?-?\d+(\.\d+)?", query):
            found = [("address" if self._is_endpoint_result(a) else "ard", a) for a in self.numbers(query)]
            if found:
                return found
            raise ValueError(f"no number of {self.results.as_posix()}/{ARD} prints as {query}")
        raise ValueError(f"cannot trace {query!r}: give {QUERY_FORMS}")

    def numbers(self, printed: str) -> list[str]:
        """Addresses of the analysis-results table (results/ard.csv) whose numbers print as
        ``printed``: the abstract's figures if any print so (the numbers an auditor picks first;
        those the abstract gives at this precision before the others), then the endpoint numbers,
        else every match."""
        decimals = len(printed.partition(".")[2])
        ard = self.ard()
        values = ard["value"].astype(float)
        if printed.startswith("<"):
            hit = (ard["statistic"] == "p") & (values < float(printed[1:]))
        else:
            hit = values.map(lambda value: f"{value:.{decimals}f}" == printed)
        found = list(ard.loc[hit, "address"])
        card = pd.read_csv(self.results / "scorecard.csv", dtype=str, keep_default_na=False) \
            if (self.results / "scorecard.csv").exists() else pd.DataFrame(columns=["address", "decimals"])
        abstract = [address for address in found if address in set(card["address"])]
        # "3" is HRS 3 %, not an SD of 3.39: among the abstract's figures, those it prints so.
        same_precision = set(card.loc[card["decimals"] == str(decimals), "address"])
        endpoint = [address for address in found if self._is_endpoint_result(address)]
        return [address for address in abstract if address in same_precision] or abstract or endpoint or found

    def ard(self) -> pd.DataFrame:
        return pd.read_csv(self.results / ARD, dtype=str, keep_default_na=False)

    @staticmethod
    def _is_endpoint_result(address: str) -> bool:
        endpoint, _, path = address.partition(":")
        return endpoint in ENDPOINTS and bool(path) and not path.startswith("@")

    def steps(self, name: str) -> list[dict]:
        """The jobs that made ``name``, and the jobs that made their inputs, down to the sources."""
        jobs, seen, todo = [], set(), [name]
        while todo:
            job = self.job_of.get(todo.pop(0))
            if job is None or id(job) in seen:
                continue
            seen.add(id(job))
            jobs.append(job)
            todo.extend(job["inputs"])
        return jobs

    def _trace_one(self, kind: str, target: str) -> dict:
        if kind == "address":
            return self.trace_address(target)
        if kind == "ard":
            return self.trace_ard(target)
        name, _, cell = target.partition(":")
        entry = self.files[name]
        out = {"kind": "file", "file": name, "sha256": entry["sha256"], "id": entry["sha256"][:SHORT_ID],
               "rule": entry.get("rule") or entry.get("role"), "steps": self.steps(name)}
        if kind == "cell":
            row, _, column = cell.partition(":")
            table = pd.read_csv(name, dtype=str, keep_default_na=False)
            record = table.iloc[int(row) - 2].to_dict()  # rows are file lines; line 1 is the header
            out.update(kind="cell", line=int(row), column=column or None,
                       value=record[column] if column else record)
            if record.get("address"):  # a scorecard row names the endpoint number it compares
                out["address"] = self.trace_address(record["address"])
        return out

    def trace_ard(self, address: str) -> dict:
        """A number of the analysis-results table that is not an endpoint result (a table cell, a
        grid summary, a parameter): its row, and the file it was read from with the steps that made it
        (for a configured number, the table itself: its step's params hold the configuration)."""
        ard = self.ard()
        row = ard[ard["address"] == address].iloc[0].to_dict()
        source = row["source"] if row["source"] in self.files else f"{self.results.as_posix()}/{ARD}"
        return {"kind": "ard", "address": address, "row": row, "file": self._trace_one("file", source)}

    def trace_address(self, address: str) -> dict:
        """An endpoint number, down to the analysis rows, cleaned rows, raw lines and cleaning log."""
        endpoint, _, path = address.partition(":")
        result_file = f"{self.results.as_posix()}/endpoints/{endpoint}.json"
        result = read_json(result_file)
        try:
            value = _endpoints().lookup(result, path)
        except (KeyError, TypeError):
            raise ValueError(f"{address} is not in {result_file}") from None
        parts, entry = path.split("."), ENDPOINTS[endpoint]
        dataset = f"{self.results.as_posix()}/datasets/{entry.traced}.csv"
        rows = self._csv(dataset)
        arms = [arm for arm in ARMS if arm in parts] or list(ARMS)
        rows = rows[rows["arm"].isin(arms)]
        week = result.get("parameters", {}).get("week")
        key = entry.traced_key or parts[0]
        if "test" in rows:
            rows = rows[rows["test"] == key]
        if "week" in rows and week is not None:
            weeks = {0} if parts[0] == "baseline" else {week} | ({0} if USES_BASELINE & set(parts) else set())
            rows = rows[rows["week"].astype(int).isin(weeks | ({0} if entry.traced_baseline else set()))]
        if "endpoint" in rows:
            rows = rows[rows["endpoint"] == key]
        raw_rows = {}
        default_file = f"{entry.traced}.csv"
        for _, row in rows.iterrows():
            file = row.get("source_file", default_file)
            lines = str(row.get("source_rows", row.get("source_row"))).split(";")
            raw_rows.setdefault(file, set()).update(int(line) for line in lines if line)
        subjects = self._csv(f"{self.results.as_posix()}/clean/subjects.csv")
        raw_rows.setdefault("subjects.csv", set()).update(
            subjects.loc[subjects["subject_id"].isin(rows["subject_id"]), "source_row"].astype(int))
        return {"kind": "address", "address": address, "value": value,
                "result": {"file": result_file, "sha256": self.files[result_file]["sha256"]},
                "dataset": {"file": dataset, "sha256": self.files[dataset]["sha256"], "rows": _records(rows)},
                **self._below(raw_rows), "steps": self.steps(result_file)}

    def _below(self, raw_rows: dict[str, set[int]]) -> dict:
        """Cleaned rows, raw lines and cleaning-log entries of the given raw lines of each file."""
        raw_paths = {Path(name).name: name for name, e in self.files.items() if e.get("role") == "raw"}
        log_file = f"{self.results.as_posix()}/cleaning_log.csv"
        log = self._csv(log_file)
        clean, raw, entries = [], [], []
        for file, lines in sorted(raw_rows.items()):
            clean_file = f"{self.results.as_posix()}/clean/{TABLES[Path(file).stem].name}.csv"
            cleaned = self._csv(clean_file)
            clean.append({"file": clean_file, "sha256": self.files[clean_file]["sha256"],
                          "rows": _records(cleaned[cleaned["source_row"].astype(int).isin(lines)])})
            text = Path(raw_paths[file]).read_text(encoding="utf-8-sig").split("\n")
            raw.append({"file": raw_paths[file], "sha256": self.files[raw_paths[file]]["sha256"],
                        "header": text[0].rstrip("\r"),
                        "lines": [{"line": n, "text": text[n - 1].rstrip("\r")} for n in sorted(lines)]})
            hits = log[(log["file"] == file) & log["row"].isin({str(n) for n in lines})]
            entries += _records(hits)
        return {"clean": clean, "raw": raw,
                "cleaning_log": {"file": log_file, "sha256": self.files[log_file]["sha256"], "entries": entries}}

    @staticmethod
    def _csv(path: str) -> pd.DataFrame:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        return frame.assign(line=range(2, len(frame) + 2))  # line 1 is the header


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{"line": int(r.pop("line")), **r} for r in frame.to_dict("records")]


def trace_text(trace: dict) -> str:
    """The trace as an auditor reads it: each level, then the steps with code, params and versions."""
    out = []
    for item in trace["traces"]:
        if item["kind"] == "address":
            out += _address_text(item)
        elif item["kind"] == "ard":
            row = item["row"]
            out.append(f"{item['address']} = {row['value']} ({ARD}: {row['statistic']} of {row['endpoint']}, "
                       f"{row['group']}, by {row['method'] or 'no named method'}; read from {row['source']})")
            file = item["file"]
            out.append(f"{file['file']} (id {file['id']}, sha256 {file['sha256']}), made by {file['rule']}")
            out += _steps_text(file["steps"])
        else:
            where = f" line {item['line']}" + (f", column {item['column']}" if item["column"] else "") \
                if item["kind"] == "cell" else ""
            out.append(f"{item['file']}{where} (id {item['id']}, sha256 {item['sha256']}), made by {item['rule']}")
            if item["kind"] == "cell":
                out.append(f"  value: {item['value']}")
            out += _steps_text(item["steps"])
            if "address" in item:
                out += _address_text(item["address"])
        out.append("")
    versions = ", ".join(f"{name} {version}" for name, version in trace["packages"].items())
    out.append(f"Python {trace['python']}; packages: {versions}")
    return "\n".join(out) + "\n"


def _address_text(item: dict) -> list[str]:
    def csv_rows(rows):
        columns = ["    columns: " + ",".join(k for k in rows[0] if k != "line")] if rows else []
        return columns + [f"    line {r['line']}: " + ",".join(str(v) for k, v in r.items() if k != "line")
                          for r in rows]

    out = [f"{item['address']} = {item['value']}",
           f"  result: {item['result']['file']} (sha256 {item['result']['sha256']})",
           f"  analysis dataset: {item['dataset']['file']}, {len(item['dataset']['rows'])} rows"]
    out += csv_rows(item["dataset"]["rows"])
    for table in item["clean"]:
        out.append(f"  cleaned: {table['file']}, {len(table['rows'])} rows")
        out += csv_rows(table["rows"])
    for table in item["raw"]:
        out.append(f"  raw: {table['file']} (sha256 {table['sha256']}), {len(table['lines'])} lines")
        out.append(f"    {Path(table['file']).name}:1: {table['header']}")
        out += [f"    {Path(table['file']).name}:{line['line']}: {line['text']}" for line in table["lines"]]
    log = item["cleaning_log"]
    out.append(f"  cleaning log: {log['file']}, {len(log['entries'])} entries on these rows")
    out += csv_rows(log["entries"])
    return out + _steps_text(item["steps"])


def _steps_text(steps: list[dict]) -> list[str]:
    out = ["  steps (from the result down):"]
    for job in steps:
        wildcards = "".join(f" {k}={v}" for k, v in job["wildcards"].items())
        out.append(f"    rule {job['rule']}{wildcards} -> {', '.join(job['outputs'])}")
        for label in ("inputs", "code", "config_files"):
            out += [f"      {label[:-1] if label != 'code' else 'code'}: {p} {h[:12]}" for p, h in job[label].items()]
        out += [f"      param {name}: {json.dumps(value, sort_keys=True)}" for name, value in job["params"].items()]
    return out
