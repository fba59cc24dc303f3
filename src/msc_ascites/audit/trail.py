"""The auditor's trail: how each result was made, written down when the run ends.

The workflow hands over its plan as plain data (`plan.audit_plan`): every job with its outputs,
inputs, code files and params (the config values it read). From it, `write_audit_trail` writes
results/provenance.json (per job: inputs and code with SHA-256, params, config files; the Python
and package versions) and results/manifest.json (every file under results/ and every source file
with SHA-256, size, producing rule and inputs). `crate` makes the RO-Crate from the manifest,
`verify` recomputes every hash, `trace` follows a number down to the raw rows. Nothing here
depends on the wall clock, so the same run gives the same bytes.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path

from ..outputs import plain, write_json, write_text
from .provenance import sha256


def shown(path: Path | str) -> str:
    """A path as the trail records it: relative to the working directory when inside it."""
    path = Path(path)
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        path = path.relative_to(Path.cwd())
    return path.as_posix()


def installed_packages() -> dict[str, str]:
    """Every distribution in the environment, by name: what an auditor needs to rebuild it."""
    return dict(sorted({d.metadata["Name"]: d.version for d in metadata.distributions()}.items()))


def read_json(path: Path | str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


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
