# The auditor's trail, included after every other stage: each job that makes TARGETS is
# found as Snakemake finds it (the rule whose output matches, with its wildcards) and
# written down as plain data (outputs, inputs, code, params), which msc_ascites.audit
# turns into results/provenance.json, results/manifest.json and an RO-Crate.
import os

from snakemake.io import apply_wildcards
from snakemake.iocontainers import Wildcards

from msc_ascites.study import study_title

AUDIT_RULES = ("audit_trail", "ro_crate", "all")
RESULTS = "results"
MANIFEST = f"{RESULTS}/manifest.json"
CRATE = f"{RESULTS}/ro-crate-metadata.json"
#: Files under results/ the manifest leaves out: itself and the crate, written after it, and what
#: other commands write there (`snakemake --report`, `make bench`), which are no part of the run.
UNLISTED = [MANIFEST, CRATE, f"{RESULTS}/workflow_report.zip", f"{RESULTS}/benchmark.csv", f"{RESULTS}/benchmark.svg"]


def _as_list(value):
    return [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]


def _job(step, wildcards: dict) -> dict:
    """One job of the rule ``step``: concrete outputs, inputs, code and params."""
    w = Wildcards(fromdict=wildcards)
    concrete = lambda item: _as_list(item(w) if callable(item) else apply_wildcards(item, wildcards))
    code_inputs = set(_as_list(getattr(step.input, "code", [])))
    inputs = [f for item in step.input for f in concrete(item)]
    script = [os.path.normpath(Path(step.snakefile).parent / step.script)] if step.script else []
    return {"rule": step.name, "wildcards": wildcards,
            "outputs": [f for item in step.output for f in concrete(item)],
            "inputs": [f for f in inputs if f not in code_inputs],
            "code": sorted(code_inputs) + script + [str(step.snakefile)],
            "params": {name: value(w) if callable(value) else value for name, value in step.params.items()}}


def audit_plan(targets) -> dict:
    """Every job upstream of ``targets``, and the role of each file no job makes."""
    rules = [r for r in workflow.rules if r.name not in AUDIT_RULES and r.output]
    jobs, sources, todo = {}, {}, [str(t) for t in targets]
    while todo:
        path = todo.pop()
        producer = next((r for r in rules if r.is_producer(path)), None)
        if producer is None:
            sources.setdefault(path, "raw" if Path(path).parent.resolve() == RAW_DIR.resolve() else "resource")
            continue
        wildcards = producer.get_wildcards(path)
        key = (producer.name, tuple(sorted(wildcards.items())))
        if key not in jobs:
            jobs[key] = _job(producer, wildcards)
            sources.update({f: "code" for f in jobs[key]["code"]})
            todo.extend(jobs[key]["inputs"])
    # Every Snakefile read (the rules' own are already there), and the config files.
    sources.update({f.get_path_or_uri(secret_free=False): "code" for f in workflow.included})
    sources.update({str(f): "config" for f in workflow.configfiles})
    config_files = [str(f) for f in workflow.configfiles]
    for job in jobs.values():  # the config values a job read come from these files
        job["config_files"] = config_files if job["params"] else []
    return {"jobs": sorted(jobs.values(), key=lambda job: job["outputs"][0]), "sources": sources,
            "unlisted": UNLISTED,
            "crate": {"workflow": str(Path(workflow.basedir) / "Snakefile"), "name": study_title(config)}}


AUDIT_PLAN = audit_plan(TARGETS)


rule audit_trail:
    """How every result was made (provenance.json) and the hash of every file (manifest.json)."""
    input:
        results=[f for job in AUDIT_PLAN["jobs"] for f in job["outputs"]],
        sources=list(AUDIT_PLAN["sources"]),
        code=code("audit"),
    output:
        provenance=f"{RESULTS}/provenance.json",
        manifest=MANIFEST,
    params:
        plan=AUDIT_PLAN,
    script:
        "../scripts/audit_trail.py"


rule ro_crate:
    """A Workflow Run RO-Crate of the run, with results/ as its root."""
    input:
        manifest=rules.audit_trail.output.manifest,
        code=code("audit"),
    output:
        CRATE,
    script:
        "../scripts/ro_crate.py"
