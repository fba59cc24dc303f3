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


def variable_name(name: str) -> str:
    """The label without its unit, for lists and tables where the unit says nothing ("Age")."""
    return variable_label(name).split(", ")[0]


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


#: Table 1's test names (tableone's, and kruskal_wallis's) as the report's note explains them; a
#: name is matched by its start ("Chi-squared (warning: expected count < 5)").
TEST_PHRASES = {"Welch’s T-test": "Welch's t-test for means",
                "One-way ANOVA": "one-way ANOVA for means (with two arms, Student's t-test)",
                "Kruskal-Wallis": "Kruskal-Wallis for medians (with two arms, the Mann-Whitney test by its normal "
                                  "approximation without continuity correction)",
                "Chi-squared": "the chi-squared test for categories (flagged where an expected count is small)",
                "Fisher's exact": "Fisher's exact test for categories"}


def table1_test_phrases(tests) -> list[str]:
    """What the tests named in Table 1's test column are, once each, in their order; "Not tested" is none."""
    phrases = [next((phrase for name, phrase in TEST_PHRASES.items() if test.startswith(name)), test)
               for test in tests if test and test != "Not tested"]
    return list(dict.fromkeys(phrases))
