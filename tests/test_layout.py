"""The laid-out report: no table, figure or line reaches past the text block (a reader would lose
its last column in the margin or off the page)."""

from pathlib import Path

from msc_ascites.report.layout import beyond_text_block
from msc_ascites.report.render import laid_out

STYLESHEET = Path(__file__).resolve().parents[1] / "workflow" / "templates" / "report.css"


def _overflows(html: str, base_dir: Path) -> list:
    return beyond_text_block(laid_out(html, base_dir, STYLESHEET))


def test_a_table_wider_than_the_text_block_is_named(tmp_path):
    cells = "".join(f'<td class="num">{"9" * 12}</td>' for _ in range(14))
    html = (f"<html><body><p>fits</p><table><tbody><tr>{cells}</tr></tbody></table>"
            f'<p class="mono" style="white-space: nowrap">{"x" * 300}</p></body></html>')
    found = _overflows(html, tmp_path)
    assert [(o.page, o.tag) for o in found] == [(1, "table"), (1, "p")]
    assert all(o.beyond_mm > 10 for o in found) and found[0].text.startswith("999999999999")


def test_text_that_wraps_fits(tmp_path):
    html = "<html><body><table><tr><td>" + "word " * 400 + "</td><td>x</td></tr></table></body></html>"
    assert _overflows(html, tmp_path) == []


def test_the_reports_fit_the_text_block(shared_results):
    html = (shared_results / "report.html").read_text(encoding="utf-8")
    assert _overflows(html, shared_results) == [], shared_results
