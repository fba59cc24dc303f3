"""Readable names of analysis variables, for tables and figures (one place)."""

from __future__ import annotations

from .units import LAB_NAMES, LAB_UNITS

_FIXED = {
    "age_years": "Age, years",
    "weight_kg": "Weight, kg",
    "child_pugh_score": "Child-Pugh score",
    "sex": "Sex",
    "etiology": "Etiology",
    "baseline_MELD": "MELD score",
    "MELD": "MELD score",
}


def variable_label(name: str) -> str:
    if name in _FIXED:
        return _FIXED[name]
    test = name.removeprefix("baseline_")
    if test in LAB_UNITS:
        unit = LAB_UNITS[test][0]
        return LAB_NAMES[test] if unit in ("1", "") else f"{LAB_NAMES[test]}, {unit}"
    return name
