"""Checks of the laid-out report: nothing printed beyond the text block.

WeasyPrint does not cut what is too wide; a table, a figure or an unbreakable
line wider than the page's text block runs into the margin or off the page,
where a reader loses its last column. The report is rendered once, these
checks read its boxes, and the same document is then written as PDF.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

#: How far (CSS px, 1/96 in) a box may reach past the text block: rounding of the layout.
TOLERANCE_PX = 0.5
MM_PER_PX = 25.4 / 96


class Overflow(NamedTuple):
    page: int
    tag: str
    beyond_mm: float
    text: str


def _boxes(box) -> Iterator:
    yield box
    for child in getattr(box, "children", None) or []:
        yield from _boxes(child)


def _text_of(box, limit: int = 60) -> str:
    words = [getattr(inner, "text", "") for inner in _boxes(box)]
    return " ".join(" ".join(w for w in words if w).split())[:limit]


def beyond_text_block(document) -> list[Overflow]:
    """The outermost boxes of each page that reach past the right edge of its text block."""
    found = []
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        right = page_box.content_box_x() + page_box.width
        body = [child for child in page_box.children if type(child).__name__ != "MarginBox"]
        found.extend(_outermost_beyond(body, right, number))
    return found


def _outermost_beyond(boxes, right: float, page: int) -> list[Overflow]:
    found = []
    for box in boxes:
        excess = box.position_x + box.margin_width() - right
        if excess > TOLERANCE_PX and getattr(box, "element_tag", None) not in (None, "html", "body"):
            found.append(Overflow(page, box.element_tag, round(excess * MM_PER_PX, 1), _text_of(box)))
        else:
            found.extend(_outermost_beyond(getattr(box, "children", None) or [], right, page))
    return found
