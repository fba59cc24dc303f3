"""Numbers the report prints that the analysis-results table (results/ard.csv) does not hold.

An orphan number is one a template or figure computed, re-typed or copied from somewhere the
auditor cannot trace. A printed number is held when some value of the table, or that value per
hundred (a proportion printed as a percentage), rounds to it at the decimals it is printed with.
Exempt are the provenance ids, hashes, commands and file names (class ``prov`` or ``mono``), the
cleaning-log listing (class ``log``: raw values, traced by file and line), the software versions
(``software``), citations (``citation``), numbers that name a thing (``name``: R's quantile type 7,
a listing's subject_id), the document's own numbering (Table 7, Figure 2, section 4, a heading's
"4."; "page 3 of 14"), the figures' axis ticks, and numbers inside a name (SHA-256, day 7N); a bound
after "<" or ">" ("p <0.001") is a format, not a result.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

from .plan import ARD

EXEMPT_CLASSES = {"prov", "mono", "log", "software", "citation", "name"}
HEADINGS = {"h1", "h2", "h3", "h4"}
#: What stands before a number of the document's own numbering, or of a name.
NUMBERING = re.compile(r"(?:\b(?:Table|Figure|[Ss]ections?|[Pp]age)\s|[A-Za-z]-)$")
PAGE_FOOTER = re.compile(r"\bpage \d+ of \d+")
VOID_TAGS = {"br", "img", "meta", "link", "hr", "col", "input", "wbr", "source"}
HIDDEN_TAGS = {"style", "head", "title", "script"}
#: A number standing alone: not part of a word (W48, 10⁹), a version (2.3.3) or a longer number;
#: negative where a minus sign stands before it after a space or bracket ("(-22.1", not "1-2").
NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.]*\d)(?![A-Za-z\u2070-\u2079\u00b2\u00b3\u00b9])")
NEGATIVE = re.compile(r"(?:^|[\s(\[=,;:/])-$")
SVG = "{http://www.w3.org/2000/svg}"
TICK_GROUP = re.compile(r"[xy]tick_\d+$")


class _VisibleText(HTMLParser):
    """The text a reader sees, each element's apart, with exempt elements blanked (or, with
    ``exempt_only``, only the exempt elements' text)."""

    def __init__(self, exempt_only: bool = False):
        super().__init__(convert_charrefs=True)
        self.exempt, self.parts, self.exempt_only = [], [], exempt_only
        self.heading_starts = False

    def handle_starttag(self, tag, attrs):
        self.parts.append(" ")
        if tag not in VOID_TAGS:
            classes = set((dict(attrs).get("class") or "").split())
            self.exempt.append(tag in HIDDEN_TAGS or bool(classes & EXEMPT_CLASSES))
        self.heading_starts = tag in HEADINGS

    def handle_endtag(self, tag):
        self.parts.append(" ")
        if tag not in VOID_TAGS and self.exempt:
            self.exempt.pop()

    def handle_data(self, data):
        if self.heading_starts:  # "4. Survival": the section's number is exempt
            self.heading_starts = False
            number = re.match(r"\s*\d+(?:\.\d+)*(?=\.?\s)", data)
            if number:
                self.parts.append(f" {number.group()} " if self.exempt_only else " ")
                data = data[number.end():]
        self.parts.append(data if any(self.exempt) == self.exempt_only else " ")


def html_text(html: str, exempt_only: bool = False) -> str:
    parser = _VisibleText(exempt_only)
    parser.feed(html)
    return "".join(parser.parts)


def svg_texts(path: Path, ticks: bool = False) -> list[str]:
    """A matplotlib SVG's text elements outside its axis ticks (or, with ``ticks``, inside them)."""
    texts = []

    def walk(element, in_tick):
        in_tick = in_tick or bool(TICK_GROUP.match(element.get("id", "")))
        if element.tag == f"{SVG}text" and in_tick == ticks:
            texts.append("".join(element.itertext()))
        for child in element:
            walk(child, in_tick)
    walk(ET.parse(path).getroot(), False)
    return texts


def printed_numbers(text: str) -> list[tuple[str, str]]:
    """(number as printed, the text around it) for every number of ``text`` that is not a bound."""
    found = []
    for match in NUMBER.finditer(text):
        before = text[max(0, match.start() - 10):match.start()]
        if before.rstrip()[-1:] in ("<", ">", "≤", "≥") or NUMBERING.search(before):
            continue
        number = ("-" if NEGATIVE.search(text[max(0, match.start() - 2):match.start()]) else "") + match.group(1)
        found.append((number, " ".join(text[max(0, match.start() - 60):match.end() + 20].split())))
    return found


class Held:
    """The values of an analysis-results table, to ask whether a printed number is one of them."""

    def __init__(self, ard: pd.DataFrame):
        values = ard["value"].astype(float).to_numpy()
        self.values = np.concatenate([values, values * 100])

    def __contains__(self, printed: str) -> bool:
        decimals = len(printed.partition(".")[2])
        return bool(np.any(np.abs(np.round(self.values, decimals) - float(printed)) < 0.5 * 10.0 ** -(decimals + 3)))


def orphans(ard: pd.DataFrame, html: str, figures: list[Path]) -> list[str]:
    """Each printed number the table does not hold, with where it is: "report: 84 (... W12 84 57-126)"."""
    held = Held(ard)
    places = [("report", html_text(html))] + [(Path(f).name, text) for f in figures for text in svg_texts(f)]
    return [f"{place}: {number} ({context})" for place, text in places
            for number, context in printed_numbers(text.replace("−", "-")) if number not in held]


def pdf_orphans(ard: pd.DataFrame, html: str, figures: list[Path], pdf: Path) -> list[str]:
    """Each number of the PDF's text the table does not hold, other than the numbers of the HTML's
    exempt elements, the figures' ticks and the page's own number: what the layout adds."""
    from pypdf import PdfReader  # only the audit of a PDF needs it

    held = Held(ard)
    exempt = {number for text in [html_text(html, exempt_only=True)] + [t for f in figures for t in svg_texts(f, True)]
              for number, _ in printed_numbers(text.replace("−", "-"))}
    return [f"{Path(pdf).name} page {page}: {number} ({context})"
            for page, content in enumerate(PdfReader(pdf).pages, start=1)
            for number, context in printed_numbers(PAGE_FOOTER.sub(" ", content.extract_text().replace("−", "-")))
            if number not in held and number not in exempt and number != str(page)]


def report_orphans(results: Path | str = "results") -> list[str]:
    """The orphans of a finished run's report (HTML and PDF) and figures."""
    results = Path(results)
    ard = pd.read_csv(results / ARD, dtype={"value": str}, keep_default_na=False)
    html = (results / "report.html").read_text(encoding="utf-8")
    figures = sorted((results / "figures").glob("*.svg"))
    return orphans(ard, html, figures) + pdf_orphans(ard, html, figures, results / "report.pdf")
