"""How much do results move between equally consistent reconstructions?

The shipped cohort is one draw of the generator; any seed gives a cohort that
reproduces every published figure. Rebuilding the primary analysis on cohorts
from other seeds shows which results the reconstruction pins down and which
it leaves free. This module writes such a cohort, cleans it and derives its
datasets exactly as the workflow does, then hands it to the analysis, which
never sees the published values.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from ..data.cleaning import write_clean_cohort
from ..data.datasets import write_datasets
from ..errors import user_errors_exit
from ..outputs import write_json
from ..sensitivity.grid import reconstruction_rows
from ..settings import merge
from .generate import generate, load_assumptions, load_yaml, write_cohort


@user_errors_exit
def write_seed_cell(seed: int, published, assumptions, config_file, study_cohort: dict, visits_cfg: dict,
                    meld_score: str, settings: dict, primary: dict, out_json) -> None:
    """Step `sensitivity_reconstruction`: the primary analysis on the cohort of ``seed``."""
    tables = generate(load_yaml(published), load_assumptions(assumptions, config_file), int(seed))
    with tempfile.TemporaryDirectory() as tmp:
        raw, clean, datasets = Path(tmp, "raw"), Path(tmp, "clean"), Path(tmp, "datasets")
        write_cohort(tables, raw)
        cohort = merge(study_cohort, yaml.safe_load((raw / "cohort.yaml").read_text(encoding="utf-8")) or {})
        write_clean_cohort(raw, cohort, visits_cfg, clean, Path(tmp, "cleaning_log.csv"), clean / "summary.json")
        write_datasets(clean, clean / "summary.json", visits_cfg, meld_score, datasets)
        rows = reconstruction_rows(datasets, settings, primary, int(seed))
    write_json({"spec": {"seed": int(seed)}, "rows": rows}, out_json)
