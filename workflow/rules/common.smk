# Configuration: config.yaml, the raw folder's cohort.yaml merged over its
# `cohort` section, then the whole validated against the schema, then what it may
# leave out (the primary visit's sensitivity windows) filled in.
import sys
from pathlib import Path

from msc_ascites.data.contract import TABLES
from msc_ascites.errors import UserError, debugging
from msc_ascites.products import DATASETS, ENDPOINTS, FIGURES, dataset_file, endpoint_inputs
from msc_ascites.audit.provenance import module_files
from msc_ascites.safe_files import load_yaml, present
from msc_ascites.settings import check_published, check_schema, resolved, with_cohort_overrides
from msc_ascites.study import project_path, published_figures

# The study's own `cohort` defaults, before a raw folder's overrides (other reconstructions
# bring their own cohort.yaml).
STUDY_COHORT = config["cohort"]


def _from_command_line(path):
    """--configfile files are merged after the Snakefile's configfile (and --config after both)."""
    return str(Path(path).absolute()) in {str(Path(f).absolute()) for f in workflow.overwrite_configfiles}


try:  # a bad file or value: one line naming the file and key, before any job runs (MSC_DEBUG=1: traceback)
    # The raw folder as results name it: relative when inside the project, whatever the checkout's path.
    config["raw_dir"] = project_path(config["raw_dir"])
    config.update(with_cohort_overrides(config))
    _cohort_file = Path(config["raw_dir"]) / "cohort.yaml"
    check_schema(
        config,
        Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml",
        [(str(f), load_yaml(f)) for f in sorted(workflow.configfiles, key=_from_command_line)]
        + [("--config", workflow.config_settings.config)]
        + ([(str(_cohort_file), {"cohort": load_yaml(_cohort_file)})] if present(_cohort_file) else []),
    )
    _resolved, _notes = resolved(config)
    #: The published-figures file of the raw folder's study, or no file (then no scorecard rule).
    PUBLISHED = published_figures(_resolved) or []
    if PUBLISHED:  # a bad figures file: one line now, not a crash of paper_consistency
        check_published(PUBLISHED, Path(workflow.basedir) / "workflow" / "schemas" / "published.schema.yaml")
except UserError as _error:
    if debugging():
        raise
    print(f"config error: {_error}", file=sys.stderr)
    sys.exit(1)
config.update(_resolved)
for _note in _notes:
    print(f"warning: {_note}", file=sys.stderr)

RAW_DIR = Path(config["raw_dir"])
COHORT_FILE = RAW_DIR / "cohort.yaml"
TEMPLATES = Path(workflow.basedir) / "workflow" / "templates"
#: What the generator assumes beyond the published figures (the reconstruction cells and the report read it).
RECONSTRUCTION_ASSUMPTIONS = Path(workflow.basedir) / "resources" / "reconstruction" / "assumptions.yaml"


def raw_exports(wildcards=None):
    """The contract's files present in the raw folder (optional ones may be absent)."""
    files = [RAW_DIR / t.file for t in TABLES.values() if (RAW_DIR / t.file).exists()]
    return [str(f) for f in files] + ([str(COHORT_FILE)] if COHORT_FILE.exists() else [])


def code(*modules):
    """The package source files a step runs, joblog included (every script and run: block logs
    through it): a change to one reruns the step."""
    return [str(p) for p in module_files("joblog", *modules)]


def endpoint_datasets(wildcards):
    """Rule endpoint: the datasets its ENDPOINTS entry reads, and what the cohort collected."""
    return endpoint_inputs(wildcards.endpoint)


def figure_inputs(wildcards):
    """Rule figure: the results its FIGURES entry draws from, in the entry's order."""
    return list(FIGURES[wildcards.figure].inputs.values())


def figure_label(wildcards):
    """The figure's name as `snakemake --report` lists it."""
    return {"figure": wildcards.figure.replace("_", " ")}


def window_datasets(wildcards):
    """Rules sensitivity_imputations and sensitivity_primary: the analysis datasets of their window. The
    configured window's are the `datasets` step's own (sensitivity_datasets would write the same bytes
    again: 71 s and 3.9 GB at 100k subjects); any other window's, its sensitivity_datasets step's."""
    if wildcards.window == PRIMARY["window_days"]:  # sensitivity.smk sets PRIMARY
        return rules.datasets.output.availability
    return expand(rules.sensitivity_datasets.output.availability, window=wildcards.window)[0]


def cell_imputations(wildcards):
    """Rule sensitivity_primary: a multiple-imputation cell reads the imputations of its population
    and window; other cells read none."""
    if wildcards.missing != "multiple_imputation":
        return []
    return [f"results/sensitivity/imputations/{wildcards.population}/window{wildcards.window}.csv"]


def sensitivity_cells(wildcards=None):
    """Every cell of the grid in config.yaml (sensitivity.smk sets SENSITIVITY, WINDOWS and SEEDS)."""
    primary = expand(
        "results/sensitivity/cells/primary/{population}/{missing}/{window}/{test}/{adjustment}.json",
        population=SENSITIVITY["populations"],
        missing=SENSITIVITY["missing"],
        window=WINDOWS,
        test=SENSITIVITY["tests"],
        adjustment=SENSITIVITY["adjustments"],
    )
    survival = expand(
        "results/sensitivity/cells/survival/{population}/{adjustment}/{transplant}/{horizon}.json",
        population=SENSITIVITY["populations"],
        adjustment=SENSITIVITY["adjustments"],
        transplant=SENSITIVITY["transplant"],
        horizon=SENSITIVITY["horizons_days"],
    )
    seeds = expand("results/sensitivity/cells/reconstruction/seed{seed}.json", seed=SEEDS)
    return primary + survival + seeds
