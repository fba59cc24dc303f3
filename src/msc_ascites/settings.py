"""Loading the configuration: config.yaml with a cohort's own settings merged in.

A raw folder may carry ``cohort.yaml`` (date formats, arm labels, codes of that
cohort's exports); it is merged over config.yaml's ``cohort`` section, so the
study's choices stay in one file and each cohort's quirks stay with its data.
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
