"""Loading the configuration: config.yaml with a cohort's own settings merged in.

A raw folder may carry ``cohort.yaml`` (date formats, arm labels, codes of that
cohort's exports); it is merged over config.yaml's ``cohort`` section, so the
study's choices stay in one file and each cohort's quirks stay with its data.

What the sensitivity grid derives from the configuration is here too: the
Snakefile reads it when it parses, and this module imports no analysis library.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from pathlib import Path

from .data.contract import DEATH, DERIVED_TEST, EVENT_CODES, TABLES, TRANSPLANT
from .data.units import LAB_NAMES
from .errors import ConfigError
from .products import ENDPOINTS
from .safe_files import load_yaml, present

#: Lab tests a comparison may name: the contract's tests and the MELD score derived from them.
LAB_TESTS = (*LAB_NAMES, DERIVED_TEST)
#: Columns results/datasets/subjects.csv derives beside the raw subjects' (datasets.subject_level).
DERIVED_SUBJECT_COLUMNS = ("last_contact_day", "death", "death_day", "transplant", "transplant_day", "withdrawal",
                           "withdrawal_day", "competing_day", "n_infusions", "infusion_day", "cells_per_kg")
#: Defaults of the analysis keys a config may leave out.
ANALYSIS_DEFAULTS = {"death_event": DEATH, "competing_events": [TRANSPLANT]}


def load_config(path: Path | str, **overrides) -> dict:
    """config.yaml (with top-level ``overrides``) and the raw folder's cohort.yaml."""
    config = load_yaml(path)
    config.update(overrides)
    config, notes = resolved(with_cohort_overrides(config))
    for note in notes:
        print(f"warning: {note}", file=sys.stderr)
    return config


def with_cohort_overrides(config: dict) -> dict:
    if not Path(config["raw_dir"]).is_dir():  # else each raw table would be "missing", one by one
        raise ConfigError(f"raw_dir: {config['raw_dir']} is not a folder "
                          f"({'a file' if present(config['raw_dir']) else 'no such folder'}); name the folder of "
                          "the raw exports (--config raw_dir=...)")
    override = Path(config["raw_dir"]) / "cohort.yaml"
    if present(override):
        cohort = load_yaml(override, folder=config["raw_dir"]) or {}
        if not isinstance(cohort, dict):
            raise ConfigError(f"{override}: expected a mapping of cohort settings, "
                              f"found a {type(cohort).__name__}")
        config = {**config, "cohort": merge(config["cohort"], cohort)}
    return config


def check_schema(config: dict, schema: Path | str, sources: list[tuple[str, object]]) -> None:
    """The config against the JSON schema; the first error as one line naming the source that set the
    key and the key path, not the whole schema and instance. ``sources``: (name, data) in the order
    they were merged. Raises ConfigError."""
    import jsonschema  # only when the Snakefile parses: settings is imported by analysis steps too

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(load_yaml(schema)).iter_errors(config))
    if error is None:
        return
    keys = list(error.absolute_path)
    path = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys).lstrip(".") or "(top level)"
    problem = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    if error.validator == "additionalProperties":  # the source of the unexpected key, not of its parent
        keys.append(min(set(error.instance) - set(error.schema.get("properties", {}))))
    depth = [(_depth(data, keys), i) for i, (_, data) in enumerate(sources)]
    raise ConfigError(f"{sources[max(depth)[1]][0]}: {path}: {problem}")


def check_published(path: Path | str, schema: Path | str) -> None:
    """A study's published figures as the comparison reads them: the schema's structure (an arm of
    n 0 ended paper_consistency in a ZeroDivisionError), then what it cannot state: each figure
    once, each percentage a number from 0 to 100, each other value a number or a bound '<x'.
    Raises ConfigError naming the file and key."""
    data = load_yaml(path)
    check_schema(data, schema, [(str(path), data)])
    seen = set()
    for i, figure in enumerate(data["figures"]):
        if figure["id"] in seen:
            raise ConfigError(f"{path}: figures[{i}].id: {figure['id']!r} is given twice; keep one")
        seen.add(figure["id"])
        value = figure["value"]
        if figure["id"].endswith("_pct") and (isinstance(value, str) or not 0 <= value <= 100):
            raise ConfigError(f"{path}: figures[{i}].value: {value!r} is not a percentage from 0 to 100 "
                              f"({figure['id']} is a per cent of patients)")
        if isinstance(value, str) and not re.fullmatch(r"<\s*\d*\.?\d+", value):
            raise ConfigError(f"{path}: figures[{i}].value: {value!r} is neither a number nor a bound such as "
                              "'<0.05'")


def _depth(data, keys: list) -> int:
    """How many leading keys of the path ``keys`` ``data`` holds: the deepest holder set the value."""
    for depth, key in enumerate(keys):
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return depth
    return len(keys)


def merge(base: dict, override: dict) -> dict:
    """``override`` over ``base``, recursively for nested mappings."""
    out = dict(base)
    for key, value in override.items():
        nested = isinstance(value, dict) and isinstance(base.get(key), dict)
        out[key] = merge(base[key], value) if nested else value
    return out


#: Config keys still read under their old name: old dotted path -> new one.
DEPRECATED_KEYS = {"sensitivity.week48_windows": "sensitivity.primary_windows"}


def resolved(config: dict) -> tuple[dict, list[str]]:
    """The config with what it may leave out filled in: ``sensitivity.primary_windows``
    taken from its deprecated name or derived from the primary visit's window.
    Returns the config and the deprecation notes to show the user."""
    check_config(config)
    grid, notes = dict(config["sensitivity"]), []
    for old, new in DEPRECATED_KEYS.items():
        old_key, new_key = old.split(".")[1], new.split(".")[1]
        if old_key in grid:
            if new_key in grid:
                raise ConfigError(f"{old} and {new}: give only {new} ({old} is its deprecated name)")
            notes.append(f"config key {old} is deprecated; call it {new}")
            grid[new_key] = grid.pop(old_key)
    if "primary_windows" not in grid:
        grid["primary_windows"] = default_windows(config)
    analysis = {"landmark_days": [config["analysis"]["horizon_days"]], **ANALYSIS_DEFAULTS, **config["analysis"]}
    return {**config, "sensitivity": grid, "analysis": analysis}, notes


def check_config(config: dict) -> None:
    """The rules across fields the schema cannot state, checked before any job runs.
    Raises ConfigError naming the key path and its value."""
    _check_cohort_mappings(config.get("cohort", {}))
    scheduled = config["visits"]["scheduled"]
    for i, visit in enumerate(scheduled):
        _check_window(f"visits.scheduled[{i}].window_days", visit["window_days"], 7 * visit["week"])
    week = config["analysis"]["primary_week"]
    if week not in [v["week"] for v in scheduled]:
        raise ConfigError(f"analysis.primary_week: {week} is not the week of a visit in visits.scheduled "
                          f"(weeks {', '.join(str(v['week']) for v in scheduled)})")
    if config["analysis"]["horizon_days"] <= 0:
        raise ConfigError(f"analysis.horizon_days: {config['analysis']['horizon_days']} must be positive")
    for i, day in enumerate(config["analysis"].get("landmark_days", [])):
        if day <= 0:
            raise ConfigError(f"analysis.landmark_days[{i}]: {day} must be a positive number of days")
    grid = config["sensitivity"]
    for i, window in enumerate(grid.get("primary_windows", grid.get("week48_windows", []))):
        key = "primary_windows" if "primary_windows" in grid else "week48_windows"
        _check_window(f"sensitivity.{key}[{i}]", window, 7 * week)
    columns = {c.name for c in TABLES["subjects"].columns} | set(DERIVED_SUBJECT_COLUMNS)
    for i, name in enumerate(grid["covariates"]):
        if name not in columns and not name.startswith("baseline_"):
            raise ConfigError(f"sensitivity.covariates[{i}]: {name!r} is not a column results/datasets/subjects.csv "
                              f"can have (raw subjects' columns, baseline_<test>, n_infusions, ...)")
    for key, tests in (("sensitivity.outcomes", grid["outcomes"]),
                       ("endpoints.liver_function.tests", config["endpoints"]["liver_function"]["tests"])):
        for i, test in enumerate(tests):
            _check_test_code(f"{key}[{i}]", test)
    for i, test in enumerate(config["endpoints"]["liver_function"]["log_scale"]):
        _check_test_code(f"endpoints.liver_function.log_scale[{i}]", test)
    _check_event_roles(config)
    _check_primary_tests(config["endpoints"])


def _check_primary_tests(endpoints: dict) -> None:
    """Each endpoint's pre-specified test is one it computes (its ENDPOINTS entry's ``tests``)."""
    for name, spec in endpoints.items():
        allowed = ENDPOINTS[name].tests if name in ENDPOINTS else ()
        if "primary_test" in spec and spec["primary_test"] not in allowed:
            raise ConfigError(f"endpoints.{name}.primary_test: {spec['primary_test']!r} is not a test of this "
                              f"endpoint; choose one of {', '.join(allowed)}")


def _check_event_roles(config: dict) -> None:
    """Event codes by role: each a contract code or the cohort's own (not a near-miss of a contract
    code), death neither competing with itself nor a complication."""
    analysis = {**ANALYSIS_DEFAULTS, **config["analysis"]}
    death = analysis["death_event"]
    keyed = [("analysis.death_event", death),
             *[(f"analysis.competing_events[{i}]", c) for i, c in enumerate(analysis["competing_events"])],
             *[(f"endpoints.complications.events[{i}]", c)
               for i, c in enumerate(config.get("endpoints", {}).get("complications", {}).get("events", []))]]
    known = {code.replace(" ", "").upper(): code for code in EVENT_CODES}
    for key, code in keyed:
        near = known.get(code.replace(" ", "").upper())
        if near is not None and near != code:
            raise ConfigError(f"{key}: {code!r} is not an event code; the contract's code is {near!r}")
        if key != "analysis.death_event" and code == death:
            raise ConfigError(f"{key}: {code!r} is analysis.death_event; death is not its own competing "
                              "event or a complication (death is already the competing risk of each)")


def _check_cohort_mappings(cohort: dict) -> None:
    """A raw arm label or sex code listed under two values makes the mapping no function: cleaning
    would silently pick one (37 of 39 treated patients became controls). Compared as cleaning reads
    the raw values: spaces stripped (a no-break space too), case folded."""
    arms = {arm: spec.get("raw_labels", []) for arm, spec in cohort.get("arms", {}).items()}
    for key, mapping in (("arms", arms), ("sex_codes", cohort.get("sex_codes", {}))):
        owner = {}
        for value, codes in mapping.items():
            for code in codes:
                other = owner.setdefault(unicodedata.normalize("NFKC", str(code)).strip().casefold(), value)
                if other != value:
                    path = f"cohort.{key}.{value}" + (".raw_labels" if key == "arms" else "")
                    raise ConfigError(f"{path}: {code!r} is also listed under {other!r}; a raw "
                                      f"{'arm label' if key == 'arms' else 'sex code'} must map to one value "
                                      "(cohort.yaml of the raw folder, merged over config.yaml)")


def _check_test_code(key: str, test: str) -> None:
    """A cohort may analyse tests of its own (the contract keeps unknown codes), but a near-miss of a
    known code (``alb`` for ``ALB``) would silently analyse nothing: name it."""
    known = {code.replace(" ", "").upper(): code for code in LAB_TESTS}
    near = known.get(test.replace(" ", "").upper())
    if near is not None and near != test:
        raise ConfigError(f"{key}: {test!r} is not a lab test code; the contract's code is {near!r}")


def _check_window(key: str, window, target: int) -> None:
    first, last = window
    if not first <= target <= last:
        raise ConfigError(f"{key}: window {list(window)} must contain the target day {target}")


def primary_visit(config: dict) -> dict:
    """The scheduled visit of ``analysis.primary_week``."""
    week = config["analysis"]["primary_week"]
    return next(v for v in config["visits"]["scheduled"] if v["week"] == week)


def default_windows(config: dict) -> list[list[int]]:
    """Narrower, as configured and wider windows for the primary visit, from its own window
    [first, last] around the target day 7 x week: the narrower keeps half of each side
    (rounded up), the wider stretches the last day as far again past the target."""
    first, last = (int(d) for d in primary_visit(config)["window_days"])
    target = 7 * int(config["analysis"]["primary_week"])
    narrower = [target - math.ceil((target - first) / 2), target + math.ceil((last - target) / 2)]
    windows = []
    for window in (narrower, [first, last], [first, last + (last - target)]):
        if window not in windows:
            windows.append(window)
    return windows


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
            "outcomes": grid["outcomes"], "covariates": grid["covariates"],
            "covariate_selection": grid["covariate_selection"], "populations": grid["populations"],
            "min_infusions": grid["per_protocol"]["min_infusions"], "imputation": grid["imputation"],
            "ascites": config["endpoints"]["ascites_resolution"]}


#: The grid's `test` axis value that runs an endpoint's pre-specified test; every other is "parametric".
GRID_TEST_OF = {"fisher_exact": "nonparametric", "mann_whitney": "nonparametric"}


def paper_tests(config: dict) -> dict[str, str]:
    """Grid endpoint -> the `test` value of its paper's-choices cell: the cell that runs the endpoint's
    pre-specified test (Fisher's exact test of the ascites risk ratio is the non-parametric cell's)."""
    endpoints = config["endpoints"]
    labs = GRID_TEST_OF.get(endpoints["liver_function"]["primary_test"], "parametric")
    tests = {f"primary_{test}": labs for test in config["sensitivity"]["outcomes"]}
    tests["primary_MELD"] = GRID_TEST_OF.get(endpoints["meld"]["primary_test"], "parametric")
    tests["ascites_disappearance"] = GRID_TEST_OF.get(endpoints["ascites_resolution"]["primary_test"], "parametric")
    return tests


def primary_spec(config: dict) -> dict:
    """The paper's own choices, as a cell: the reference every other cell is read against."""
    return {"population": "itt", "missing": "complete_case", "window_days": window_label(primary_visit(config)["window_days"]),
            "test": "parametric", "adjustment": "unadjusted",
            "transplant": config["endpoints"]["survival"]["transplant"],
            "horizon_days": config["analysis"]["horizon_days"]}
