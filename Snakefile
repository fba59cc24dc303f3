# Rebuild of Hua, Am J Transl Med 2020;4:122-139: from the raw exports in
# config["raw_dir"] to results/report.pdf. Each stage is one file in workflow/rules.
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


# The study configuration beside this file; `--configfile`/`--config` add to it.
configfile: Path(workflow.basedir) / "config.yaml"


# `snakemake --report results/workflow_report.zip`: this page first, then the outputs marked report().
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/clean.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/baseline.smk"
include: "workflow/rules/endpoints.smk"
include: "workflow/rules/safety.smk"
include: "workflow/rules/scorecard.smk"
include: "workflow/rules/sensitivity.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


#: What the workflow makes; audit.smk records how each of these files, and all they came from, was made.
TARGETS = [
    "results/report.pdf",
    *expand("results/endpoints/{endpoint}.json", endpoint=ENDPOINTS),
    *PUBLISHED_TARGETS,
    *rules.sensitivity.input,
]


include: "workflow/rules/audit.smk"


rule all:
    input:
        TARGETS,
        rules.ro_crate.output,
