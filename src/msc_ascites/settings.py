"""Loading the configuration: config.yaml with a cohort's own settings merged in.

A raw folder may carry ``cohort.yaml`` (date formats, arm labels, codes of that
cohort's exports); it is merged over config.yaml's ``cohort`` section, so the
study's choices stay in one file and each cohort's quirks stay with its data.

What the sensitivity grid derives from the configuration is here too: the
Snakefile reads it when it parses, and this module imports no analysis library.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import ConfigError


def load_config(path: Path | str, **overrides) -> dict:
    """config.yaml (with top-level ``overrides``) and the raw folder's cohort.yaml."""
    config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    config.update(overrides)
    return with_cohort_overrides(config)


def with_cohort_overrides(config: dict) -> dict:
    override = Path(config["raw_dir"]) / "cohort.yaml"
    if override.exists():
        cohort = yaml.safe_load(override.read_text(encoding="utf-8")) or {}
        if not isinstance(cohort, dict):
            raise ConfigError(f"{override}: expected a mapping of cohort settings, "
                              f"found a {type(cohort).__name__}")
        config = {**config, "cohort": merge(config["cohort"], cohort)}
    return config


def merge(base: dict, override: dict) -> dict:
    """``override`` over ``base``, recursively for nested mappings."""
    out = dict(base)
    for key, value in override.items():
        nested = isinstance(value, dict) and isinstance(base.get(key), dict)
        out[key] = merge(base[key], value) if nested else value
    return out


def window_label(window) -> str:
    """A window [first, last] as it appears in paths and the summary, e.g. '295-378'."""
    return f"{int(window[0])}-{int(window[1])}"


def visits_with_window(visits_cfg: dict, week: int, window) -> dict:
    """The visit configuration with the window of ``week`` replaced."""
    scheduled = [{**v, "window_days": list(window)} if v["week"] == week else v for v in visits_cfg["scheduled"]]
    return {**visits_cfg, "scheduled": scheduled}


def settings_from_config(config: dict) -> dict:
    """What the cells need, gathered from the validated config (one place for each fact)."""
    grid = config["sensitivity"]
    week = config["analysis"]["primary_week"]
    scheduled = {v["week"]: v for v in config["visits"]["scheduled"]}
    return {"week": week, "week_label": scheduled[week]["label"],
            "visit_labels": [config["visits"]["baseline"]["label"],
                             *[scheduled[w]["label"] for w in sorted(scheduled)]],
            "week_first_day": int(scheduled[week]["window_days"][0]),
            "level": config["analysis"]["confidence_level"], "horizon_days": config["analysis"]["horizon_days"],
            "outcomes": grid["outcomes"], "covariates": grid["covariates"], "populations": grid["populations"],
            "min_infusions": grid["per_protocol"]["min_infusions"], "imputation": grid["imputation"],
            "ascites": config["endpoints"]["ascites_resolution"]}


def primary_spec(config: dict) -> dict:
    """The paper's own choices, as a cell: the reference every other cell is read against."""
    week = config["analysis"]["primary_week"]
    window = next(v["window_days"] for v in config["visits"]["scheduled"] if v["week"] == week)
    return {"population": "itt", "missing": "complete_case", "window_days": window_label(window),
            "test": "parametric", "adjustment": "unadjusted",
            "transplant": config["endpoints"]["survival"]["transplant"],
            "horizon_days": config["analysis"]["horizon_days"]}
