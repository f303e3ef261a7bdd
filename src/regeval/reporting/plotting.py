"""Shared pieces of the figures: a figure on the Agg canvas with a constrained layout,
tick labels in the report's number format, wrapped titles, legends outside the data.

Every figure of the report is built with these, so that its texts fit the canvas and
do not overlap (tests/test_report_figures.py checks each figure's text extents).
"""

from __future__ import annotations

import textwrap

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

from regeval.reporting import numbers as nf


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure on the Agg canvas (no pyplot state) with a constrained layout."""
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


class NumberFormatter(Formatter):
    """Tick labels in the report's number format (``1.234,5`` in Danish, a true minus,
    never ``-0``), with as many decimals as the tick spacing needs; ``scale`` multiplies
    the value first (e.g. 100 for shares shown in per cent), ``suffix`` follows it."""

    def __init__(self, language: str = "en", scale: float = 1.0, suffix: str = "") -> None:
        self.language = language
        self.scale = scale
        self.suffix = suffix
        self._ticks: list[float] = []

    def set_locs(self, locs) -> None:  # the tick values, before the labels are asked for
        self._ticks = [float(x) for x in locs]

    def _decimals(self) -> int:
        """The fewest decimals (at most 4) that write every tick exactly."""
        ticks = [x * self.scale for x in self._ticks]
        for d in range(5):
            if all(abs(round(x, d) - x) <= 1e-9 * max(1.0, abs(x)) for x in ticks):
                return d
        return 4

    def __call__(self, x: float, pos: int | None = None) -> str:
        return nf.number(x * self.scale, self._decimals(), self.language) + self.suffix


def format_axis(axis, language: str, scale: float = 1.0, suffix: str = "") -> None:
    axis.set_major_formatter(NumberFormatter(language, scale, suffix))


def wrap(text: str, width: int = 60) -> str:
    """Break a long title or label into lines of at most ``width`` characters."""
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=False)) or text


def legend_below(fig: Figure, ax: Axes, ncols: int | None = None, fontsize: float = 8) -> None:
    """The axes' legend outside the data, below the figure's axes."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=ncols or min(len(labels), 3),
                   frameon=False, fontsize=fontsize)


__all__ = ["NumberFormatter", "format_axis", "legend_below", "new_figure", "wrap"]
