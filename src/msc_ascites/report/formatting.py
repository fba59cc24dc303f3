"""How numbers are printed, in the report's text and in the figures alike (one place)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from markupsafe import Markup, escape


def format_number(value, decimals: int = 2) -> str:
    """A number as printed in the report; missing shows as an en dash."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(value)
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.000"


def format_ratio(value) -> str:
    """A ratio as the report and its figures print it: two decimals (0.16, 55.49); below 0.01 two
    significant figures (0.0083) rather than a misleading 0.01, below 0.001 '<0.001'; an unbounded
    limit (JSON null) as '∞'."""
    if value is None or not np.isfinite(value):
        return "∞"
    if 0 < abs(value) < 0.001:
        return "<0.001"
    if 0 < abs(value) < 0.01:
        return f"{value:.2g}"
    return f"{value:.2f}"


def format_p(value) -> str:
    """A p-value as clinical papers print it: 3 decimals, or <0.001."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def format_p_eq(value, space: str = " ") -> str:
    """A p-value after "p" in running text, spaced alike: "= 0.049" or "< 0.001" (the report's
    text puts a no-break space there, so the sign never ends a line)."""
    text = format_p(value)
    return f"<{space}{text[1:]}" if text.startswith("<") else f"={space}{text}"


def join_words(words) -> Markup:
    """Items of a sentence: "a", "a and b", "a, b and c" (HTML-safe: items already marked up stay so)."""
    words = [escape(w) for w in words]
    if len(words) < 2:
        return Markup("").join(words)
    return Markup(", ").join(words[:-1]) + Markup(" and ") + words[-1]


def lower_first(text: str) -> str:
    """A name inside a sentence: "Total bilirubin" -> "total bilirubin"; acronyms ("INR", "MELD") and
    names with a capital inside ("Child-Pugh score") stay."""
    first = str(text).split(" ")[0]
    return text if first.isupper() or first[1:] != first[1:].lower() or not text else text[0].lower() + text[1:]


def upper_first(text: str) -> str:
    """The start of a sentence: "survival" -> "Survival"."""
    return text[:1].upper() + text[1:]
