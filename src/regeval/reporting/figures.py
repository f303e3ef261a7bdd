"""Figures of a spec, drawn only from the disclosure-checked export tables.

Nothing here reads person-level data: every figure is made from a table in the
spec's ``export/tables`` folder, so what a figure shows has passed the same
disclosure control as the tables. Texts come from the translation catalogue.

:func:`effect_figures` and :func:`spec_figures` return the figures by file name (the
figure test checks every one of them); the ``draw_*`` functions save them.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from regeval.reporting.effect_figures import effect_figure, levels_figure, love_plot
from regeval.reporting.labels import outcome_label, t
from regeval.reporting.plotting import format_axis, legend_below, new_figure


def _save(fig: Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight", metadata={"Software": None}, pil_kwargs={"compress_level": 1})


def _ft(key: str, language: str, **kw: object) -> str:
    return t(key, language, "figure", **kw)


def overlap_figure(overlap: pd.DataFrame, language: str = "en", mass: float = 0.995) -> Figure:
    """Histogram of the propensity score by group (from binned counts); the x-axis ends
    where both groups have ``mass`` of their persons (not at 1 when all lie far below)."""
    fig = new_figure((6.4, 4.2))
    ax = fig.add_subplot()
    upper = 0.0
    for group, colour, key in (("treated", "tab:red", "participants"), ("control", "tab:blue", "potential_controls")):
        g = overlap[overlap["group"] == group].sort_values("bin_low")
        n = g["n"].astype(float).fillna(0.0).to_numpy()
        total = n.sum()
        width = (g["bin_high"] - g["bin_low"]).to_numpy(dtype=float)
        dens = n / total / width if total > 0 else n
        ax.stairs(dens, np.append(g["bin_low"].to_numpy(dtype=float), g["bin_high"].to_numpy(dtype=float)[-1:]),
                  color=colour, label=_ft(key, language), linewidth=1.4)
        if total > 0:
            reach = int(np.searchsorted(np.cumsum(n) / total, mass))
            upper = max(upper, float(g["bin_high"].to_numpy(dtype=float)[min(reach, len(n) - 1)]))
    ax.set_xlim(0, min(1.0, upper * 1.05) if upper > 0 else 1.0)
    ax.set_ylim(bottom=0)
    format_axis(ax.xaxis, language)
    format_axis(ax.yaxis, language)
    ax.set_xlabel(_ft("propensity_x", language))
    ax.set_ylabel(_ft("density", language))
    ax.set_title(_ft("overlap_title", language), fontsize=10)
    legend_below(fig, ax, ncols=2)
    return fig


EFFECT_FIGURE_PREFIXES = ("effect_", "levels_")
"""File-name prefixes of the figures :func:`draw_effect_figures` draws."""


def without_variation(means: pd.DataFrame, outcome: str) -> bool:
    """True when an outcome's levels are the same for both groups in every year (e.g.
    zero for everybody): there is nothing to plot and no effect to estimate."""
    m = means.loc[means["outcome"] == outcome, "mean"].to_numpy(dtype=float)
    m = m[np.isfinite(m)]
    return bool(len(m)) and float(m.max() - m.min()) == 0.0


def effect_figures(effects: pd.DataFrame, means: pd.DataFrame, outcomes: list[str],
                   language: str = "en") -> dict[str, Figure]:
    """Event-time effect figure and levels figure per outcome with variation, by file name."""
    figs: dict[str, Figure] = {}
    for outcome in outcomes:
        if without_variation(means, outcome):
            continue
        label, unit = outcome_label(outcome, language)
        if (effects["outcome"] == outcome).any():
            figs[f"effect_{outcome}.png"] = effect_figure(effects, outcome, label=label, unit=unit, language=language)
        if (means["outcome"] == outcome).any():
            figs[f"levels_{outcome}.png"] = levels_figure(
                means, outcome, label=label, unit=unit,
                group_labels=(_ft("participants", language), _ft("controls", language)), language=language)
    return figs


def draw_effect_figures(
    effects: pd.DataFrame, means: pd.DataFrame, outcomes: list[str], figures_dir: Path, language: str = "en"
) -> list[Path]:
    """Save :func:`effect_figures` in ``figures_dir``."""
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, fig in effect_figures(effects, means, outcomes, language).items():
        _save(fig, figures_dir / name)
        written.append(figures_dir / name)
    return written


CONTROL_GROUP_FIGURES = ("propensity_overlap.png", "love_plot.png")


def control_group_figures(tables_dir: Path, language: str = "en") -> dict[str, Figure]:
    tables_dir = Path(tables_dir)
    return {
        "propensity_overlap.png": overlap_figure(pd.read_parquet(tables_dir / "propensity_overlap.parquet"), language),
        "love_plot.png": love_plot(pd.read_parquet(tables_dir / "balance.parquet"), language=language),
    }


def spec_figures(tables_dir: Path, spec: Mapping[str, Any], language: str = "en",
                 control_group: bool = True) -> dict[str, Figure]:
    """Overlap, love plot (``control_group``) and budget figures of a spec, by file name."""
    figs = control_group_figures(tables_dir, language) if control_group else {}
    figs.update(budget_spec_figures(Path(tables_dir), spec, language))
    return figs


def draw_spec_figures(
    tables_dir: Path, figures_dir: Path, spec: Mapping[str, Any], language: str = "en",
    shared_from: Path | None = None,
) -> list[Path]:
    """Overlap, love plot and budget figures of a spec from its export tables.

    ``shared_from``: figures folder of a spec with the same control group (same
    checked propensity and balance tables); its overlap and love plot are copied.
    """
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if shared_from is not None:
        for name in CONTROL_GROUP_FIGURES:
            shutil.copyfile(Path(shared_from) / name, figures_dir / name)
            written.append(figures_dir / name)
    for name, fig in spec_figures(tables_dir, spec, language, control_group=shared_from is None).items():
        _save(fig, figures_dir / name)
        written.append(figures_dir / name)
    return written


def draw_all(tables_dir: Path, figures_dir: Path, spec: Mapping[str, Any], language: str = "en") -> list[Path]:
    """Draw every figure of a spec from its export tables; returns the files."""
    tables_dir = Path(tables_dir)
    written = draw_spec_figures(tables_dir, figures_dir, spec, language)
    written += draw_effect_figures(
        pd.read_parquet(tables_dir / "effects.parquet"),
        pd.read_parquet(tables_dir / "group_means.parquet"),
        list(spec["effects"]["outcomes"]),
        Path(figures_dir),
        language,
    )
    return written


def budget_spec_figures(tables_dir: Path, spec: Mapping[str, Any], language: str = "en") -> dict[str, Figure]:
    """Budget figures from the exported budget tables, by file name."""
    from regeval.budget import BudgetAssumptions
    from regeval.budget.som import BudgetResult
    from regeval.reporting.budget_figures import budget_figures

    def read(name: str) -> pd.DataFrame:
        df = pd.read_parquet(tables_dir / f"{name}.parquet")
        return df.drop(columns=["suppressed"], errors="ignore")

    b = spec["budget"]
    assumptions = BudgetAssumptions.from_mapping(
        {k: b[k] for k in ("price_year", "discount_rate", "horizon", "effects_rule", "cost_multiplier") if k in b}
    )
    result = BudgetResult(
        assumptions=assumptions,
        prices=pd.DataFrame(),
        effects_used=pd.DataFrame(),
        by_item=read("budget_by_item"),
        by_actor=read("budget_by_actor"),
        by_year=read("budget_by_year"),
        by_group=read("budget_by_group"),
        net=read("budget_net"),
    )
    figs = budget_figures(result, read("budget_sensitivity"), spec=spec["name"], language=language)
    return {f"budget_{name}.png": fig for name, fig in figs.items()}


__all__ = ["CONTROL_GROUP_FIGURES", "EFFECT_FIGURE_PREFIXES", "budget_spec_figures", "control_group_figures",
           "draw_all", "draw_effect_figures", "draw_spec_figures", "effect_figures", "overlap_figure",
           "spec_figures", "without_variation"]
