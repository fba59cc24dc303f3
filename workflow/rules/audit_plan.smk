# The audit trail's plan (included by audit.smk, after every other stage): each Snakemake rule
# handed to msc_ascites.audit.plan as plain data, which walks the jobs upstream of TARGETS.
# Functions only, apart from audit.smk's rules (as `snakemake --lint` asks).
import os

from snakemake.io import apply_wildcards
from snakemake.iocontainers import Wildcards

from msc_ascites.audit.plan import CRATE, MANIFEST, PROVENANCE, RESULTS, Step, audit_plan
from msc_ascites.study import study_title

AUDIT_RULES = ("audit_trail", "ro_crate", "all")


def _as_list(value):
    return [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]


def _files(step, wildcards: dict) -> dict:
    """The rule ``step``'s concrete files and params for these wildcards, as plain data."""
    w = Wildcards(fromdict=wildcards)
    concrete = lambda item: _as_list(item(w) if callable(item) else apply_wildcards(item, wildcards))
    return {
        "outputs": [f for item in step.output for f in concrete(item)],
        "inputs": [f for item in step.input for f in concrete(item)],
        "code": _as_list(getattr(step.input, "code", [])),
        "script": [os.path.normpath(Path(step.snakefile).parent / step.script)] if step.script else [],
        "snakefile": str(step.snakefile),
        "params": {name: value(w) if callable(value) else value for name, value in step.params.items()},
    }


def _step(rule_):
    """A Snakemake rule as msc_ascites.audit.plan sees it."""
    return Step(
        name=rule_.name,
        match=lambda path: rule_.get_wildcards(path) if rule_.is_producer(path) else None,
        files=lambda wildcards: _files(rule_, wildcards),
    )


AUDIT_PLAN = audit_plan(
    [_step(r) for r in workflow.rules if r.name not in AUDIT_RULES and r.output],
    TARGETS,
    raw_dir=RAW_DIR,
    snakefiles=[f.get_path_or_uri(secret_free=False) for f in workflow.included],
    configfiles=workflow.configfiles,
    workflow_file=Path(workflow.basedir) / "Snakefile",
    name=study_title(config),
)
