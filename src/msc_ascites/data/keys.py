"""Rows as integer keys: millions of rows compared, grouped or sorted by several columns at the cost of one
int64 column (cleaning's duplicates, the visit values' groups)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def row_codes(frame: pd.DataFrame, columns, sort: bool = False) -> np.ndarray:
    """One integer per row, equal where the rows are equal in ``columns`` (a missing value equal to a
    missing one): each column's codes folded in, the key factorized again before the product could
    overflow. With ``sort``, the keys order as the rows sort column by column (missing values last)."""
    key, size = np.zeros(len(frame), dtype=np.int64), 1
    for column in columns:
        codes, uniques = pd.factorize(frame[column], sort=sort, use_na_sentinel=False)
        distinct_values = max(len(uniques), 1)
        if size * distinct_values >= 2 ** 62:
            key, distinct_keys = pd.factorize(key, sort=sort)
            size = len(distinct_keys)
        key = key * distinct_values + codes
        size *= distinct_values
    return key
