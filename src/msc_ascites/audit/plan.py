"""The audit trail's plan: every job upstream of the targets, and the role of each file no job makes.

Kept free of Snakemake so it can be unit-tested: workflow/rules/audit.smk hands over each rule
as a `Step` (its name, which wildcards make it produce a path, its concrete files for those
wildcards) and the workflow's files as plain paths; msc_ascites.audit.trail turns the plan into
results/provenance.json and results/manifest.json, audit.crate those into an RO-Crate. Light on
purpose: the Snakefile imports it at every parse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

#: The audit trail's files, named once: audit.smk writes them, audit.trail, crate, verify and trace read them.
RESULTS = "results"
PROVENANCE = "provenance.json"
MANIFEST = "manifest.json"
CRATE = "ro-crate-metadata.json"
#: The analysis-results table (every number the report prints): report.smk writes it, trace reads it.
ARD = "ard.csv"
#: Files under results/ the manifest leaves out: itself and the crate, written after it, and what
#: other commands write there (`snakemake --report`, `make bench`), which are no part of the run.
UNLISTED = [f"{RESULTS}/{MANIFEST}", f"{RESULTS}/{CRATE}", f"{RESULTS}/workflow_report.zip",
            f"{RESULTS}/benchmark.csv", f"{RESULTS}/benchmark.svg"]


@dataclass(frozen=True)
class Step:
    """A rule as the plan needs it.

    ``match(path)`` gives the wildcards with which the rule makes ``path``, or None if it does
    not; ``files(wildcards)`` gives its concrete ``outputs``, ``inputs`` (code included),
    ``code`` (the inputs that are code), ``script`` (a list, empty for a run: rule),
    ``snakefile`` and ``params``.
    """

    name: str
    match: Callable[[str], dict | None]
    files: Callable[[dict], dict]


def job(name: str, wildcards: dict, files: dict) -> dict:
    """One job as provenance.json records it: data inputs apart from the code it ran."""
    code_inputs = set(files["code"])
    return {"rule": name, "wildcards": wildcards, "outputs": list(files["outputs"]),
            "inputs": [f for f in files["inputs"] if f not in code_inputs],
            "code": sorted(code_inputs) + list(files["script"]) + [str(files["snakefile"])],
            "params": files["params"]}


def _producer(steps: list[Step], path: str) -> tuple[Step, dict] | tuple[None, None]:
    """The first step that makes ``path`` (Snakemake's order), with its wildcards."""
    for step in steps:
        wildcards = step.match(path)
        if wildcards is not None:
            return step, wildcards
    return None, None


def walk(steps: Iterable[Step], targets: Iterable, raw_dir: Path | str) -> tuple[dict, dict]:
    """Jobs upstream of the targets by (rule, wildcards), and each file no job makes: raw
    (in the raw folder), resource, or code (a job's code)."""
    steps, raw = list(steps), Path(raw_dir).resolve()
    jobs, sources, todo = {}, {}, [str(t) for t in targets]
    while todo:
        path = todo.pop()
        step, wildcards = _producer(steps, path)
        if step is None:
            sources.setdefault(path, "raw" if Path(path).parent.resolve() == raw else "resource")
            continue
        key = (step.name, tuple(sorted(wildcards.items())))
        if key not in jobs:
            jobs[key] = job(step.name, wildcards, step.files(wildcards))
            sources.update({f: "code" for f in jobs[key]["code"]})
            todo.extend(jobs[key]["inputs"])
    return jobs, sources


def audit_plan(steps: Iterable[Step], targets: Iterable, raw_dir: Path | str, snakefiles: Iterable,
               configfiles: Iterable, workflow_file: Path | str, name: str) -> dict:
    """Every job upstream of ``targets`` (sorted by first output), the role of each file no job
    makes (every Snakefile read is code, the config files config), and the crate's root facts."""
    jobs, sources = walk(steps, targets, raw_dir)
    sources.update({str(f): "code" for f in snakefiles})
    config_files = [str(f) for f in configfiles]
    sources.update({f: "config" for f in config_files})
    for record in jobs.values():  # the config values a job read come from these files
        record["config_files"] = config_files if record["params"] else []
    return {"jobs": sorted(jobs.values(), key=lambda record: record["outputs"][0]), "sources": sources,
            "unlisted": UNLISTED, "crate": {"workflow": str(workflow_file), "name": name}}
