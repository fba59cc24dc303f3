"""One style for every figure: a colour per arm, the font, sizes, line widths, and the SVG writer.

The settings apply inside `styled()` only (the figure functions and `save_svg` use
it), so importing this module changes nothing for other code. Figures are plain
`matplotlib.figure.Figure` objects: no pyplot, no global figure list, no backend.
"""

from __future__ import annotations

import textwrap
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from ..outputs import atomic_path, fixed_timestamps

#: One colour per arm code (colour-blind safe pair, distinct in greyscale too).
ARM_COLOURS = {"treatment": "#1f5fa8", "control": "#c8541b"}
#: Lines and text that belong to no arm.
INK = "#222222"
REFERENCE = "#8c8c8c"    # null-effect lines, whiskers
NOT_AVAILABLE = "#8a4b00"
BAND_ALPHA = 0.15        # confidence bands

FONT = "DejaVu Sans"
FONT_SIZE = 8.0          # pt at 16 cm; the report prints the figure at about that width
SMALL = 7.0              # tick labels, legends, annotations
CM = 1 / 2.54
WIDTH_CM = 16.0
LINE_WIDTH = 1.3
MARKER_SIZE = 3.5

#: The SVG element ids are hashed with this salt instead of random ones: same figure, same bytes.
SVG_HASHSALT = "msc-ascites"

RC = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "font.size": FONT_SIZE,
    "axes.titlesize": FONT_SIZE,
    "axes.titleweight": "bold",
    "axes.labelsize": FONT_SIZE,
    "axes.linewidth": 0.7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "text.color": INK,
    "xtick.labelsize": SMALL,
    "ytick.labelsize": SMALL,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.major.width": 0.7,
    "ytick.major.width": 0.7,
    "legend.fontsize": SMALL,
    "legend.frameon": False,
    "lines.linewidth": LINE_WIDTH,
    "lines.markersize": MARKER_SIZE,
    "errorbar.capsize": 2.0,
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "figure.constrained_layout.h_pad": 0.04,
    "figure.constrained_layout.w_pad": 0.04,
    "svg.fonttype": "none",       # text stays text: pdftotext finds the numbers in the report
    "svg.hashsalt": SVG_HASHSALT,
    "svg.image_inline": True,
    "path.simplify": True,
}


@contextmanager
def styled():
    """The figures' matplotlib settings, for the duration of the block."""
    with matplotlib.rc_context(RC):
        yield


def uses_style(draw):
    """Decorator: the figure function ``draw`` runs inside `styled()`."""
    @wraps(draw)
    def wrapper(*args, **kwargs):
        with styled():
            return draw(*args, **kwargs)
    return wrapper


def new_figure(height_cm: float) -> Figure:
    """An empty figure, 16 cm wide, laid out by matplotlib's constrained layout."""
    with styled():
        return Figure(figsize=(WIDTH_CM * CM, height_cm * CM), layout="constrained")


def arm_colour(arm: str) -> str:
    return ARM_COLOURS[arm]


@uses_style
def not_available_figure(reason: str, height_cm: float) -> Figure:
    """A figure of the given height that says why it cannot be drawn, in the place it would be."""
    figure = new_figure(height_cm)
    axis = figure.add_subplot()
    axis.set_axis_off()
    text = "\n".join(textwrap.wrap(f"Not available: {reason}", width=95))
    axis.text(0.5, 0.5, text, ha="center", va="center", color=NOT_AVAILABLE, fontsize=FONT_SIZE,
              fontstyle="italic", transform=axis.transAxes)
    return figure


def save_svg(figure: Figure, path: Path | str) -> None:
    """Write ``figure`` as deterministic SVG: fixed ids, no date, text as text, atomically.

    The page keeps the figure's size (no tight bounding box): every figure is 16 cm wide,
    and a figure that could not be drawn has the size of the one it stands for.
    """
    with styled(), fixed_timestamps(), atomic_path(path) as tmp:
        figure.savefig(tmp, format="svg", metadata={"Date": None})
