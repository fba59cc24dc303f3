"""The auditor's trail: how each result was made, and whether anything changed since.

The workflow hands over its plan as plain data: every job with its outputs,
inputs, code files and params (the config values it read). From it,
`write_audit_trail` writes results/provenance.json (per job: inputs and code
with SHA-256, params, config files; the Python and package versions) and
results/manifest.json (every file under results/ and every source file with
SHA-256, size, producing rule and inputs). `Trail.trace` follows a number down
to the raw rows and cleaning-log entries; `verify` recomputes every hash.
Nothing here depends on the wall clock, so the same run gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd

from ..data.contract import ARMS, TABLES
from ..outputs import FIXED_EPOCH, plain, write_json, write_text
from ..products import ENDPOINTS
from .plan import CRATE, MANIFEST, PROVENANCE
from .provenance import SHORT_ID, sha256


def shown(path: Path | str) -> str:
    """A path as the trail records it: relative to the working directory when inside it."""
    path = Path(path)
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        path = path.relative_to(Path.cwd())
    return path.as_posix()


def installed_packages() -> dict[str, str]:
    """Every distribution in the environment, by name: what an auditor needs to rebuild it."""
    return dict(sorted({d.metadata["Name"]: d.version for d in metadata.distributions()}.items()))


# ---------------------------------------------------------------------------- writing the trail

def write_audit_trail(plan: dict, provenance_path: Path | str, manifest_path: Path | str) -> None:
    """Step `audit_trail`: provenance.json, then manifest.json (which lists provenance.json)."""
    hashes: dict[str, str] = {}

    def hashed(paths) -> dict[str, str]:
        for p in paths:
            hashes.setdefault(shown(p), sha256(p))
        return {shown(p): hashes[shown(p)] for p in paths}

    jobs = [{"rule": job["rule"], "wildcards": job["wildcards"], "outputs": hashed(job["outputs"]),
             "inputs": hashed(job["inputs"]), "code": hashed(job["code"]), "params": job["params"],
             "config_files": hashed(job["config_files"])} for job in plan["jobs"]]
    write_json({"python": sys.version.split()[0], "packages": installed_packages(), "jobs": jobs},
               provenance_path)

    results = Path(manifest_path).parent
    made_by = {out: job for job in jobs for out in job["outputs"]}
    unlisted = {shown(p) for p in plan["unlisted"]}
    files = {}
    for path in sorted(p for p in results.rglob("*") if p.is_file()):
        name = shown(path)
        if name in unlisted:
            continue
        job = made_by.get(name)
        entry = {"sha256": hashes.get(name) or sha256(path), "size": path.stat().st_size,
                 "rule": job["rule"] if job else ("audit_trail" if name == shown(provenance_path) else None)}
        if job:
            entry["inputs"] = [*job["inputs"], *job["code"], *job["config_files"]]
        files[name] = entry
    for path, role in sorted(plan["sources"].items()):
        files[shown(path)] = {"sha256": hashes.get(shown(path)) or sha256(path), "size": Path(path).stat().st_size,
                              "role": role}
    # One line per file: 137 sensitivity cells stay readable.
    lines = ",\n".join(f"    {json.dumps(name)}: {json.dumps(plain(entry), sort_keys=True)}"
                       for name, entry in files.items())
    crate = {"name": plan["crate"]["name"], "workflow": shown(plan["crate"]["workflow"])}
    write_text('{\n  "unlisted": ' + json.dumps(sorted(unlisted)) + ',\n  "crate": ' + json.dumps(crate)
               + ',\n  "files": {\n' + lines + "\n  }\n}\n", manifest_path)


def write_crate(manifest_path: Path | str, crate_path: Path | str) -> None:
    """Step `ro_crate`: a Workflow Run RO-Crate rooted at results/, dated by the fixed epoch, not now."""
    write_text(crate_text(manifest_path, crate_path), crate_path)


def crate_text(manifest_path: Path | str, crate_path: Path | str) -> str:
    """The crate's JSON, made from the manifest alone (which names the workflow and the study), so
    that `verify` can make it again and compare."""
    from rocrate.rocrate import ROCrate

    root = Path(crate_path).parent
    run = _json(manifest_path)
    manifest, workflow = run["files"], run["crate"]["workflow"]
    date = pd.Timestamp(int(FIXED_EPOCH), unit="s", tz="UTC").isoformat()

    def entity(path: str, kind="File"):
        ident = crate_id(path, root)
        entry = manifest.get(path) or {"sha256": sha256(path), "size": Path(path).stat().st_size}
        where = {"source": ident} if ident.startswith("file:") else {"dest_path": ident}
        return crate.add_file(**where, properties={
            "@type": kind, "name": path, "sha256": entry.get("sha256"), "contentSize": entry.get("size"),
            **({"description": f"made by rule {entry['rule']}"} if entry.get("rule") else
               {"description": f"{entry['role']} file"} if entry.get("role") else {})})

    crate = ROCrate()
    crate.root_dataset["datePublished"] = date
    crate.root_dataset["name"] = run["crate"]["name"]
    crate.metadata.extra_contexts.append("https://w3id.org/ro/terms/workflow-run")
    crate.root_dataset["conformsTo"] = [{"@id": "https://w3id.org/ro/wfrun/process/0.5"},
                                        {"@id": "https://w3id.org/ro/wfrun/workflow/0.5"},
                                        {"@id": "https://w3id.org/ro/wfrun/provenance/0.5"}]
    workflow_entity = entity(workflow, ["File", "SoftwareSourceCode", "ComputationalWorkflow"])
    workflow_entity["programmingLanguage"] = {"@id": "https://w3id.org/workflowhub/workflow-ro-crate#snakemake"}
    crate.root_dataset["mainEntity"] = workflow_entity
    inputs = [entity(p) for p, e in manifest.items() if "role" in e and p != workflow]
    outputs = [entity(p) for p, e in manifest.items() if "role" not in e]
    outputs.append(entity(shown(manifest_path)))  # its hash here lets `verify` check the manifest too
    action = crate.add_action(workflow_entity, identifier="#run", object=inputs, result=outputs,
                              properties={"name": f"Run of {Path(workflow).name}", "endTime": date})
    crate.root_dataset["mentions"] = action
    return json.dumps(crate.metadata.generate(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def crate_id(path: str, root: Path) -> str:
    """A file's id in the crate rooted at ``root``, from its name in the manifest: relative to the
    root (``../config.yaml`` for a project file outside results/), so that a copy of the project
    holds the same crate; a file the manifest names by an absolute path (read from outside the
    project) keeps its absolute URI."""
    if Path(path).is_absolute():
        return Path(path).as_uri()
    return Path(os.path.relpath(path, root)).as_posix()


def _json(path: Path | str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- verify

def verify(results: Path | str = "results") -> tuple[list[dict], int]:
    """Every difference between the files now and the manifest (changed, missing, or not listed),
    and how many files the manifest lists.

    Each difference names what depends on the file (every result made from it,
    directly or not). The manifest itself is checked against the hash the crate holds,
    and the crate against the one the manifest makes.
    """
    results = Path(results)
    manifest_path, crate = results / MANIFEST, results / CRATE
    recorded = _manifest_hash_in(crate)
    differences = []
    if recorded and recorded != sha256(manifest_path):
        differences.append({"file": shown(manifest_path), "change": "changed", "expected": recorded,
                            "actual": sha256(manifest_path), "used_by": [shown(crate)]})
    try:
        manifest = _json(manifest_path)
    except ValueError:  # an edit broke it: nothing else can be checked
        return differences or [{"file": shown(manifest_path), "change": "not valid JSON", "expected": recorded,
                                "actual": sha256(manifest_path), "used_by": []}], 0
    if not differences and crate.is_file():
        expected = hashlib.sha256(crate_text(manifest_path, crate).encode("utf-8")).hexdigest()
        if expected != sha256(crate):
            differences.append({"file": shown(crate), "change": "changed", "expected": expected,
                                "actual": sha256(crate), "used_by": []})
    files = manifest["files"]
    used_by: dict[str, set[str]] = {}
    for name, entry in files.items():
        for source in entry.get("inputs", []):
            used_by.setdefault(source, set()).add(name)

    def dependants(name: str) -> list[str]:
        found, todo = set(), [name]
        while todo:
            for user in used_by.get(todo.pop(), ()):
                if user not in found:
                    found.add(user)
                    todo.append(user)
        return sorted(found)

    for name, entry in files.items():
        actual = sha256(name) if Path(name).is_file() else None
        if actual != entry["sha256"]:
            differences.append({"file": name, "change": "changed" if actual else "missing",
                                "expected": entry["sha256"], "actual": actual, "used_by": dependants(name)})
    unlisted = set(manifest["unlisted"])
    for path in sorted(p for p in results.rglob("*") if p.is_file()):
        if shown(path) not in files and shown(path) not in unlisted:
            differences.append({"file": shown(path), "change": "not in the manifest", "expected": None,
                                "actual": sha256(path), "used_by": []})
    return differences, len(files)


def _manifest_hash_in(crate: Path) -> str | None:
    """The manifest's SHA-256 as the crate records it; None without a crate or when an edit broke it
    (then the crate, made again from the manifest, differs)."""
    try:
        return {e["@id"]: e.get("sha256") for e in _json(crate)["@graph"]}.get(MANIFEST)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def verify_text(differences: list[dict], checked: int) -> str:
    if not differences:
        return f"verified: {checked} files match the manifest\n"
    lines = [f"{len(differences)} difference(s) from the manifest:"]
    for d in differences:
        lines.append(f"  {d['file']}: {d['change']}")
        lines.append(f"    expected {d['expected'] or '(not listed)'}")
        lines.append(f"    actual   {d['actual'] or '(no file)'}")
        if d["used_by"]:
            shown_users = ", ".join(d["used_by"][:8]) + (f" and {len(d['used_by']) - 8} more"
                                                         if len(d["used_by"]) > 8 else "")
            lines.append(f"    used by {len(d['used_by'])}: {shown_users}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- trace

#: Words of a result path whose numbers use the baseline visit too (within-arm change, ANCOVA).
USES_BASELINE = {"baseline", "within", "change", "ancova", "between_change"}
QUERY_FORMS = ("an address (meld:primary.treatment.mean), a provenance id printed in the report (8 hex digits), "
               "a results file or figure/table name (km_survival, table1), a cell (results/scorecard.csv:ROW:COLUMN) "
               "or a number as printed (14.41)")


def _leaves(node, prefix=""):
    """(dotted path, number) of every number in a result."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}{key}.")
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield prefix[:-1], node


def _endpoints():
    """msc_ascites.analysis.endpoints, imported when a trace needs it: it loads scipy, seconds that verify does without."""
    from ..analysis import endpoints
    return endpoints


class Trail:
    """A finished run's provenance and manifest, read to follow results back to raw rows."""

    def __init__(self, results: Path | str = "results"):
        self.results = Path(results)
        self.files = _json(self.results / MANIFEST)["files"]
        self.provenance = _json(self.results / PROVENANCE)
        self.job_of = {out: job for job in self.provenance["jobs"] for out in job["outputs"]}

    def trace(self, query: str) -> dict:
        """Everything ``query`` leads to; see QUERY_FORMS."""
        return {"query": query, "traces": [self._trace_one(kind, target) for kind, target in self.resolve(query)],
                "python": self.provenance["python"], "packages": self.provenance["packages"]}

    def resolve(self, query: str) -> list[tuple[str, str]]:
        endpoint, _, path = query.partition(":")
        if endpoint in ENDPOINTS and path:
            return [("address", query)]
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
            found = [("address", address) for address in self.numbers(query)]
            if found:
                return found
            raise ValueError(f"no endpoint result prints as {query}")
        raise ValueError(f"cannot trace {query!r}: give {QUERY_FORMS}")

    def numbers(self, printed: str) -> list[str]:
        """Addresses of the endpoint numbers that print as ``printed``: the abstract's figures if any
        print so (the numbers an auditor picks first; those the abstract gives at this precision
        before the others), else every match."""
        decimals = len(printed.partition(".")[2])
        found = []
        for endpoint in ENDPOINTS:
            result = _json(self.results / "endpoints" / f"{endpoint}.json")
            if not result.get("available"):
                continue
            for path, value in _leaves(result["results"]):
                if printed.startswith("<"):
                    hit = path.split(".")[-1] == "p" and value < float(printed[1:])
                else:
                    hit = f"{value:.{decimals}f}" == printed
                if hit:
                    found.append(f"{endpoint}:{path}")
        card = pd.read_csv(self.results / "scorecard.csv", dtype=str, keep_default_na=False)
        abstract = [address for address in found if address in set(card["address"])]
        # "3" is HRS 3 %, not an SD of 3.39: among the abstract's figures, those it prints so.
        same_precision = set(card.loc[card["decimals"] == str(decimals), "address"])
        return [address for address in abstract if address in same_precision] or abstract or found

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

    def trace_address(self, address: str) -> dict:
        """An endpoint number, down to the analysis rows, cleaned rows, raw lines and cleaning log."""
        endpoint, _, path = address.partition(":")
        result_file = f"{self.results.as_posix()}/endpoints/{endpoint}.json"
        result = _json(result_file)
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
