"""Every figure of the report fits: its texts lie on the canvas, do not overlap each
other, and no legend covers data; axis ranges follow the data; no ``-0``; outcomes
without variation are not plotted.

The extents are matplotlib's own (``Artist.get_window_extent`` with the Agg renderer)
of the figure as it is made, before ``savefig(bbox_inches="tight")`` would widen the
canvas to hide a text that sticks out.
"""

from __future__ import annotations

import itertools
import re

import matplotlib.text
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from regeval.reporting.effect_figures import love_plot
from regeval.reporting.figures import effect_figures, overlap_figure, spec_figures

from .report_tables import SPEC, write_tables


def _texts(fig: Figure) -> list[matplotlib.text.Text]:
    """The texts drawn on the figure (tick labels only of the ticks in view)."""
    out: list[matplotlib.text.Text] = list(fig.texts)
    if fig._suptitle is not None:
        out.append(fig._suptitle)
    for leg in fig.legends:
        out += leg.get_texts()
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        for axis in (ax.xaxis, ax.yaxis):  # the ticks drawn (those in view)
            out += [lab for tick in axis._update_ticks() for lab in (tick.label1, tick.label2)]
        out += ax.texts
        if ax.get_legend() is not None:
            out += ax.get_legend().get_texts()
    unique = {id(t): t for t in out}  # the suptitle is also among fig.texts
    return [t for t in unique.values() if t.get_visible() and t.get_text().strip()]


def _data_points(fig: Figure) -> list[np.ndarray]:
    """Display coordinates of the plotted points of every axes."""
    pts = []
    for ax in fig.axes:
        for line in ax.get_lines():
            xy = np.column_stack([line.get_xdata(orig=False), line.get_ydata(orig=False)]).astype(float)
            if len(xy) > 2 or line.get_marker() not in (None, "None", ""):
                pts.append(line.get_transform().transform(xy[np.isfinite(xy).all(axis=1)]))
        for coll in ax.collections:
            off = coll.get_offsets()
            if len(off):
                pts.append(coll.get_offset_transform().transform(np.asarray(off, dtype=float)))
    return pts


def fit_problems(fig: Figure, name: str) -> list[str]:
    """What does not fit in ``fig``: texts off the canvas, overlapping texts, legends over data, ``-0``."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    problems = []
    boxes = [(t, t.get_window_extent(renderer)) for t in _texts(fig)]
    for t, b in boxes:
        if b.x0 < canvas.x0 - 1 or b.y0 < canvas.y0 - 1 or b.x1 > canvas.x1 + 1 or b.y1 > canvas.y1 + 1:
            problems.append(f"{name}: text {t.get_text()!r} {b.bounds} is outside the canvas {canvas.bounds}")
        if re.fullmatch(r"[-\u2212]0([.,]0*)?", t.get_text().strip()):
            problems.append(f"{name}: text {t.get_text()!r} is a negative zero")
    for (t1, b1), (t2, b2) in itertools.combinations(boxes, 2):
        inter = Bbox.intersection(b1, b2)
        if inter is not None and inter.width > 1 and inter.height > 1:
            problems.append(f"{name}: texts {t1.get_text()!r} and {t2.get_text()!r} overlap")
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    points = _data_points(fig)
    for leg in legends:
        box = leg.get_window_extent(renderer)
        for pts in points:
            inside = (pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1)
            if inside.any():
                problems.append(f"{name}: the legend covers {int(inside.sum())} data point(s)")
    return problems


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return write_tables(tmp_path_factory.mktemp("fig"), draw=False)[0]


@pytest.mark.parametrize("language", ["en", "da"])
def test_every_figure_of_the_report_fits(tables, language):
    figs = spec_figures(tables, SPEC, language)
    figs.update(effect_figures(pd.read_parquet(tables / "effects.parquet"),
                               pd.read_parquet(tables / "group_means.parquet"), SPEC["effects"]["outcomes"],
                               language))
    assert len(figs) >= 14
    problems = [p for name, fig in figs.items() for p in fit_problems(fig, name)]
    assert problems == [], "\n".join(problems)
    if language == "da":
        from .test_report import english_left

        words = " ".join(t.get_text() for fig in figs.values() for t in _texts(fig))
        assert english_left(words) == []
        assert "kr." in words and "pct." not in words.replace("pct.-point", "")


def test_outcomes_without_variation_are_not_plotted(tables):
    figs = effect_figures(pd.read_parquet(tables / "effects.parquet"), pd.read_parquet(tables / "group_means.parquet"),
                          SPEC["effects"]["outcomes"])
    assert "effect_support_su.png" not in figs and "levels_support_su.png" not in figs
    assert "effect_employed.png" in figs


def test_a_long_balance_table_gets_labels_that_fit(tables):
    """All the report's 17 characteristics expand to some 45 terms: every label is
    readable (no dummy names) and fits."""
    from regeval.reporting.labels import catalogue

    levels = [k.split(":") for k in catalogue()["level"]]
    rows = [{"term": v + lv, "variable": v, "level": lv, "smd_before": 0.02 * i - 0.4, "smd_after": 0.001 * i}
            for i, (v, lv) in enumerate(levels)]
    fig = love_plot(pd.DataFrame(rows), language="da")
    assert fit_problems(fig, "love_plot") == []
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "Højeste uddannelse: kort videregående" in labels
    assert not any(lab.startswith(("education", "cohort_year", "support")) for lab in labels)


def test_the_overlap_axis_ends_where_the_mass_ends():
    edges = np.arange(0, 1, 0.025)
    counts = {"treated": [30, 40, 30, 20, 10, 5] + [0] * 34, "control": [900, 500, 200, 60, 9, 0] + [0] * 33 + [1]}
    df = pd.DataFrame([{"group": g, "bin_low": lo, "bin_high": lo + 0.025, "n": float(n)}
                       for g, c in counts.items() for lo, n in zip(edges, c, strict=False)])
    ax = overlap_figure(df).axes[0]
    assert ax.get_xlim()[1] == pytest.approx(0.15 * 1.05)  # 99.5 % of both groups lie below 0.15
    assert fit_problems(ax.figure, "overlap") == []


def test_the_check_finds_what_does_not_fit():
    """The checks can fail: a label off the canvas, overlapping texts, a legend on the data."""
    from regeval.reporting.plotting import new_figure

    fig = new_figure((4, 3))
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [0, 1, 2], "o", label="data")
    ax.legend(loc="center")
    ax.text(1.0, 1.0, "on top of the legend", ha="center")
    fig.text(0.9, 0.5, "a long text that runs off the canvas")
    problems = " ".join(fit_problems(fig, "bad"))
    assert "outside the canvas" in problems and "overlap" in problems and "legend covers" in problems
