"""Canonical units of the laboratory tests the analyses use.

One place for these facts: cleaning converts every known test to its canonical
unit with the factors below, and MELD converts back to the conventional units
its formula was fitted on. A unit not listed for a known test is an error.
"""

from __future__ import annotations

# Molar masses give the factors: bilirubin 584.66 g/mol, creatinine 113.12 g/mol.
BILIRUBIN_UMOL_PER_MG_DL = 17.104
CREATININE_UMOL_PER_MG_DL = 88.42

#: test code -> (canonical unit, {accepted unit spelling: factor to canonical})
LAB_UNITS: dict[str, tuple[str, dict[str, float]]] = {
    "ALB": ("g/L", {"g/L": 1.0, "g/dL": 10.0}),
    "TBIL": ("umol/L", {"umol/L": 1.0, "µmol/L": 1.0, "mg/dL": BILIRUBIN_UMOL_PER_MG_DL}),
    "CREA": ("umol/L", {"umol/L": 1.0, "µmol/L": 1.0, "mg/dL": CREATININE_UMOL_PER_MG_DL}),
    "PT": ("s", {"s": 1.0, "sec": 1.0}),
    "PTA": ("%", {"%": 1.0}),
    "INR": ("1", {"1": 1.0, "": 1.0, "ratio": 1.0}),
    "NA": ("mmol/L", {"mmol/L": 1.0, "mEq/L": 1.0}),
    "ALT": ("U/L", {"U/L": 1.0, "IU/L": 1.0}),
    "AST": ("U/L", {"U/L": 1.0, "IU/L": 1.0}),
    "PLT": ("10^9/L", {"10^9/L": 1.0, "x10^9/L": 1.0, "G/L": 1.0, "10^3/uL": 1.0}),
}

#: Readable names, used in tables and figures.
LAB_NAMES: dict[str, str] = {
    "ALB": "Albumin",
    "TBIL": "Total bilirubin",
    "CREA": "Creatinine",
    "PT": "Prothrombin time",
    "PTA": "Prothrombin activity",
    "INR": "INR",
    "NA": "Sodium",
    "ALT": "ALT",
    "AST": "AST",
    "PLT": "Platelets",
}


def canonical_unit(test: str) -> str:
    return LAB_UNITS[test][0]


def unit_factor(test: str, unit: str) -> float | None:
    """Factor that takes ``unit`` to the canonical unit of ``test``; None if unknown."""
    return LAB_UNITS[test][1].get(unit)
