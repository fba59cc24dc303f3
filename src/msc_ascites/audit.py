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
import re
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd

from .contract import TABLES
from .endpoints import ENDPOINTS, lookup
from .outputs import FIXED_EPOCH, plain, write_json, write_text

PROVENANCE = "provenance.json"
MANIFEST = "manifest.json"
CRATE = "ro-crate-metadata.json"
#: Length of the provenance ids printed in the report: enough to name one file of a run.
SHORT_ID = 8


def sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def short_id(path: Path | str) -> str:
    """The provenance id of a file as the report prints it; `trace` accepts it."""
    return sha256(path)[:SHORT_ID]


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
    after = {shown(p) for p in plan["after_manifest"]}
    files = {}
    for path in sorted(p for p in results.rglob("*") if p.is_file()):
        name = shown(path)
        if name in after:
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
    write_text('{\n  "after_manifest": ' + json.dumps(sorted(after)) + ',\n  "files": {\n' + lines + "\n  }\n}\n",
               manifest_path)


def write_crate(manifest_path: Path | str, provenance_path: Path | str, workflow: Path | str, name: str,
                crate_path: Path | str) -> None:
    """Step `ro_crate`: a Workflow Run RO-Crate rooted at results/, dated by the fixed epoch, not now."""
    from rocrate.rocrate import ROCrate

    root = Path(crate_path).parent
    manifest = _json(manifest_path)["files"]
    date = pd.Timestamp(int(FIXED_EPOCH), unit="s", tz="UTC").isoformat()

    def entity(path: str, kind="File"):
        inside = (Path(path) if Path(path).is_absolute() else Path.cwd() / path).resolve()
        ident = inside.relative_to(root.resolve()).as_posix() if inside.is_relative_to(root.resolve()) \
            else inside.as_uri()
        entry = manifest.get(path, {})
        where = {"source": ident} if ident.startswith("file:") else {"dest_path": ident}
        return crate.add_file(**where, properties={
            "@type": kind, "name": path, "sha256": entry.get("sha256"), "contentSize": entry.get("size"),
            **({"description": f"made by rule {entry['rule']}"} if entry.get("rule") else
               {"description": f"{entry['role']} file"} if entry.get("role") else {})})

    crate = ROCrate()
    crate.root_dataset["datePublished"] = date
    crate.root_dataset["name"] = name
    crate.metadata.extra_contexts.append("https://w3id.org/ro/terms/workflow-run")
    crate.root_dataset["conformsTo"] = [{"@id": "https://w3id.org/ro/wfrun/process/0.5"},
                                        {"@id": "https://w3id.org/ro/wfrun/workflow/0.5"},
                                        {"@id": "https://w3id.org/ro/wfrun/provenance/0.5"}]
    workflow_entity = entity(shown(workflow), ["File", "SoftwareSourceCode", "ComputationalWorkflow"])
    workflow_entity["programmingLanguage"] = {"@id": "https://w3id.org/workflowhub/workflow-ro-crate#snakemake"}
    crate.root_dataset["mainEntity"] = workflow_entity
    inputs = [entity(p) for p, e in manifest.items() if "role" in e and p != shown(workflow)]
    outputs = [entity(p) for p, e in manifest.items() if "role" not in e]
    outputs.append(entity(str(manifest_path)))
    action = crate.add_action(workflow_entity, identifier="#run", object=inputs, result=outputs,
                              properties={"name": f"Run of {Path(workflow).name}", "endTime": date})
    crate.root_dataset["mentions"] = action
    write_text(json.dumps(crate.metadata.generate(), indent=2, sort_keys=True, ensure_ascii=False) + "\n",
               crate_path)


def _json(path: Path | str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
