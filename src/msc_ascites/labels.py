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


#: The endpoints as the regenerated abstract names them.
ENDPOINT_WORDS = {"liver_function": "liver function", "meld": "MELD", "survival": "survival",
                  "ascites_resolution": "ascites", "paracentesis": "the need for paracentesis",
                  "complications": "complications", "adverse_events": "adverse events"}


def horizon_words(days: int) -> str:
    """A follow-up horizon as a sentence names it: "2-year" for 730 days, else "90-day"."""
    return f"{days // 365}-year" if days % 365 == 0 else f"{days}-day"
