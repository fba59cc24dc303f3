"""The run as a Workflow Run RO-Crate (results/ro-crate-metadata.json), made from the manifest alone.

Dated by the fixed epoch, not now, and with ids relative to results/: the same run in another
folder gives the same bytes, and `verify` can make it again and compare.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ..outputs import FIXED_EPOCH, write_text
from .provenance import sha256
from .trail import read_json, shown


def write_crate(manifest_path: Path | str, crate_path: Path | str) -> None:
    """Step `ro_crate`: a Workflow Run RO-Crate rooted at results/, dated by the fixed epoch, not now."""
    write_text(crate_text(manifest_path, crate_path), crate_path)


def crate_text(manifest_path: Path | str, crate_path: Path | str) -> str:
    """The crate's JSON, made from the manifest alone (which names the workflow and the study), so
    that `verify` can make it again and compare."""
    from rocrate.rocrate import ROCrate

    root = Path(crate_path).parent
    run = read_json(manifest_path)
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
