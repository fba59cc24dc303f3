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


#: The endpoints as the regenerated abstract names them (the lab endpoint by ``lab_words``).
ENDPOINT_WORDS = {"liver_function": "liver function", "meld": "MELD", "survival": "survival",
                  "ascites_resolution": "ascites", "paracentesis": "the need for paracentesis",
                  "complications": "complications", "adverse_events": "adverse events"}
#: The contract's liver tests: synthesis (albumin, prothrombin), excretion (bilirubin), injury (enzymes).
LIVER_TESTS = ("ALB", "TBIL", "PT", "PTA", "INR", "ALT", "AST")
#: The liver tests the report shows, one panel each: albumin, prothrombin activity (prothrombin time
#: where the cohort has no activity), bilirubin.
LIVER_PANELS = (("ALB",), ("PTA", "PT"), ("TBIL",))
#: Readable names of the complications (the endpoint's codes); others are shown as coded.
EVENT_NAMES = {"HRS": "Hepatorenal syndrome", "HE": "Hepatic encephalopathy",
               "SBP": "Spontaneous bacterial peritonitis"}
#: Units as printed in the report and on an axis.
UNIT_DISPLAY = {"umol/L": "µmol/L", "1": "", "10^9/L": "10⁹/L"}


def lab_words(tests) -> str:
    """What the lab endpoint is about, from its tests: "liver function" when they are the contract's
    tests and include a liver test, else "laboratory values" (ACTG 175's CD4 and CD8 counts)."""
    tests = list(tests)
    liver = all(t in LAB_UNITS for t in tests) and any(t in LIVER_TESTS for t in tests)
    return "liver function" if liver else "laboratory values"


def endpoint_words(endpoints: dict) -> dict[str, str]:
    """Each endpoint's name in sentences; the lab endpoint named from the tests it has."""
    lf = endpoints.get("liver_function", {})
    tests = lf.get("results") or lf.get("parameters", {}).get("tests") or []
    return {**ENDPOINT_WORDS, "liver_function": lab_words(tests)}


def horizon_words(days: int) -> str:
    """A follow-up horizon as a sentence names it: "2-year" for 730 days, else "90-day"."""
    return f"{days // 365}-year" if days % 365 == 0 else f"{days}-day"
