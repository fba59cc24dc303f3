"""Table 1: baseline characteristics by arm (the patient flow is flow.py).

The study was not randomised, so Table 1 reports standardised mean
differences beside the p-values: balance, not significance, is the question.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
from scipy import stats
from tableone import TableOne

from ..data.labels import variable_label
from ..outputs import read_csv, write_csv, write_json
from ..stats.comparisons import signif


def table_one(adsl: pd.DataFrame, arms: dict, continuous: list[str], categorical: list[str],
              skewed: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Table 1 as a flat frame (variable, level, one column per arm, p, SMD) and the
    variables left out because the cohort has no value for them."""
    present = [c for c in continuous + categorical if c in adsl and adsl[c].notna().any()]
    left_out = [c for c in continuous + categorical if c not in present]
    data = adsl[["arm", *present]].copy()
    order = list(arms)  # treatment first, then control
    data["arm"] = pd.Categorical(data["arm"].map(lambda a: arms[a]["label"]),
                                 categories=[arms[a]["label"] for a in order])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = TableOne(data, columns=present, categorical=[c for c in categorical if c in present],
                         continuous=[c for c in continuous if c in present],
                         nonnormal=[c for c in skewed if c in present], groupby="arm", pval=True,
                         htest={c: kruskal_wallis for c in skewed if c in present},
                         smd=True, htest_name=True, overall=False, missing=True,
                         rename={c: variable_label(c) for c in present}, decimals=2,
                         order={"arm": [arms[a]["label"] for a in order]})
    flat = table.tableone.copy()
    flat.columns = [col[-1] if isinstance(col, tuple) else col for col in flat.columns]
    flat = flat.reset_index()
    flat.columns = ["variable", "level", *flat.columns[2:]]
    flat = flat.rename(columns=lambda c: "SMD" if str(c).startswith("SMD") else c)
    flat = flat.rename(columns={"P-Value": "p", "Test": "test"})
    # tableone writes "nan" for an SD of one value, an arm without values, an SMD of constant values:
    # the report's dash (format_number's), never a number that is not one.
    flat = flat.apply(lambda col: col.map(lambda v: re.sub(r"\bnan\b", "–", v) if isinstance(v, str) else v))
    return flat, left_out


def kruskal_wallis(*groups) -> float:
    """Kruskal-Wallis p of a skewed variable, as R's kruskal.test on the values at 7
    significant digits (R's digits.rank = 7 of wilcox.test), so a unit conversion never
    makes or breaks a tie. NaN, as tableone leaves it, when an arm has no value."""
    groups = [signif(np.asarray(g, dtype=float)) for g in groups]
    if min(len(g) for g in groups) == 0 or len(np.unique(np.concatenate(groups))) < 2:
        return float("nan")
    return float(stats.kruskal(*groups).pvalue)


kruskal_wallis.__name__ = "Kruskal-Wallis"

def write_table_one(subjects_path, arms: dict, spec: dict, table_path, notes_path) -> None:
    """Step `table_one`."""
    table, left_out = table_one(read_csv(subjects_path), arms, spec["continuous"], spec["categorical"],
                                spec["skewed"])
    write_csv(table, table_path)
    write_json({"not_available": {variable_label(name): "no value in this cohort" for name in left_out},
                "skewed": [variable_label(name) for name in spec["skewed"]]}, notes_path)
