"""Figures of the statistical results (regeval.reporting.effect_figures): the effect and
levels figures of the effect tables and the love plot of a balance table.

The tables come from the statistical functions on simulated data (tests/test_effects.py's
panel with a known effect); the figures are checked for what they show (axes, labels,
lines, legends) and for drawing tables read back after disclosure control.
"""

from __future__ import annotations

import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from regeval.errors import EstimationError
from regeval.reporting.effect_figures import effect_figure, levels_figure, love_plot
from regeval.stats.balance import balance_table
from regeval.stats.effects import estimate_effects, group_means
from tests.test_effects import make_panel


@pytest.fixture(scope="module")
def panel():
    return make_panel()


def test_effect_and_levels_figures_can_be_labelled_in_danish(panel):
    eff = estimate_effects(panel, ["y"], covariates=["x"])
    fig = effect_figure(eff, "y", label="Timer pr. uge", unit="timer", language="da")
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("År i forhold til start")
    assert ax.get_ylabel() == "Effekt (timer)"
    assert ax.get_title() == "Timer pr. uge"
    means = group_means(panel, ["y"])
    lv = levels_figure(means, "y", label="Timer pr. uge", unit="hours/week", language="da")
    assert lv.axes[0].get_ylabel() == "timer om ugen"
    assert [t.get_text() for t in lv.legends[0].get_texts()] == ["Participants", "Controls"]


def test_effect_figure_draws_estimates_with_cis_and_reference_lines(panel):
    from matplotlib.figure import Figure

    eff = estimate_effects(panel, ["y", "z"], covariates=["x"])
    fig = effect_figure(eff, "y", label="Hours per week", unit="h")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert "Year relative to start" in ax.get_xlabel()
    assert ax.get_ylabel() == "Effect (h)"
    assert "Hours per week" in ax.get_title()
    # the zero line and the start line
    lines = ax.get_lines()
    assert any(np.allclose(line.get_ydata(), 0) for line in lines)
    assert any(np.allclose(line.get_xdata(), -0.5) for line in lines)
    fig.canvas.draw()  # renders with the Agg canvas, no file written
    # a table read back after disclosure control may have suppressed (missing) cells
    suppressed = eff.astype({"stars": object})
    suppressed.loc[suppressed["rel_year"] == 1, ["estimate", "ci_low", "ci_high", "stars"]] = np.nan
    effect_figure(suppressed, "y").canvas.draw()
    with pytest.raises(EstimationError, match="no rows for outcome 'nope'"):
        effect_figure(eff, "nope")


def test_levels_figure_shows_both_groups(panel):
    means = group_means(panel, ["y"])
    fig = levels_figure(means, "y", label="Outcome")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]  # below the axes, off the data
    assert labels == ["Participants", "Controls"]
    fig.canvas.draw()


def test_love_plot_draws_before_and_after_with_labelled_axes():
    small = pd.DataFrame(
        {
            "treat": [1, 1, 1, 0, 0, 0, 0],
            "age": [20.0, 30.0, 40.0, 25.0, 35.0, 45.0, 55.0],
            "male": [1, 0, 1, 0, 0, 1, 0],
            "region": ["n", "s", "s", "n", "e", "e", "s"],
        }
    )
    b = balance_table(small, "treat", ["age", "male", "region"], weights=pd.Series(1.0, index=small.index))
    fig = love_plot(b, threshold=0.1, title="Balance")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Absolute standardised mean difference"
    # labels, not dummy names; an unknown level is shown as it is
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Age", "male", "region: e", "region: n", "region: s"]
    assert ax.get_title() == "Balance"
    labels = ax.get_legend_handles_labels()[1]
    assert "Before matching" in labels and "After matching" in labels


def test_the_module_does_not_switch_the_global_matplotlib_backend():
    before = matplotlib.get_backend()
    import regeval.reporting.effect_figures  # noqa: F401

    assert matplotlib.get_backend() == before


def test_the_statistical_core_imports_neither_matplotlib_nor_the_reporting_layer():
    """stats is pure numerics: importing all of it loads no plotting and no reporting code."""
    code = (
        "import sys, regeval.stats, regeval.stats._panel, regeval.stats._ties; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib' "
        "or m.startswith('regeval.reporting') or m.startswith('regeval.pipeline')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
