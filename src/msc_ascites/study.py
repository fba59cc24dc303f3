"""The study a raw folder comes from: its title, citation, design and published figures.

They travel with the data. A cohort's ``cohort.yaml`` may carry a ``study:`` block
(merged into ``config["cohort"]`` with the rest of that file), whose ``published``
names the file of the figures the study published, relative to the raw folder. A
cohort without one is described from its own data, and nothing is compared with
published values. Imports nothing heavy: the Snakefile reads it when it parses.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ConfigError
from .safe_files import load_yaml, present


def study_block(config: dict) -> dict:
    """The raw folder's ``study:`` block; empty for a cohort that names no study."""
    return config["cohort"].get("study") or {}


def published_figures(config: dict) -> Path | None:
    """The study's published-figures file, as a path from the project (None without one)."""
    name = study_block(config).get("published")
    if not name:
        return None
    path = Path(os.path.normpath(Path(config["raw_dir"]) / name))
    if not present(path):
        raise ConfigError(f"{Path(config['raw_dir']) / 'cohort.yaml'}: study.published {name!r}: "
                          f"no such file ({path})")
    raw = Path(os.path.realpath(config["raw_dir"]))
    if not Path(os.path.realpath(path)).is_relative_to(raw):
        raise ConfigError(f"{Path(config['raw_dir']) / 'cohort.yaml'}: study.published {name!r}: outside the raw "
                          f"folder ({path}); copy the file into {config['raw_dir']}")
    load_yaml(path, folder=config["raw_dir"])  # a directory, pipe, bad or oversized YAML: one line now
    return path


def arms_title(config: dict) -> str:
    """'<treatment> versus <control>': what a cohort without a study is about."""
    arms = config["cohort"]["arms"]
    return f"{arms['treatment']['label']} versus {arms['control']['label']}"


def study_title(config: dict, patients: int | None = None) -> str:
    """The study's own title, else one built from the data (with the number of patients when known)."""
    title = study_block(config).get("title")
    if title:
        return title
    return arms_title(config) + (f": {patients} patients" if patients is not None else "")


def project_path(path: Path | str) -> str:
    """A path as results name it: as the user gave it, relative when inside the project (the
    working directory), so that the same build in another checkout writes the same bytes."""
    path = Path(path)
    if path.is_absolute() and path.resolve().is_relative_to(Path.cwd().resolve()):
        path = path.resolve().relative_to(Path.cwd().resolve())
    return path.as_posix()


def reconstruction_seed(config: dict) -> int | None:
    """The generator seed when the raw folder is a reconstruction (its ``cohort.yaml`` names one),
    else None: the one place that decides whether the report calls the cohort reconstructed."""
    seed = config["cohort"].get("reconstruction_seed")
    return None if seed is None else int(seed)
