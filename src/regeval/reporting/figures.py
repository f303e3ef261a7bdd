"""Figures of a spec, drawn only from the disclosure-checked export tables.

Nothing here reads person-level data: every figure is made from a table in the
spec's ``export/tables`` folder, so what a figure shows has passed the same
disclosure control as the tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from regeval.reporting.effect_figures import effect_figure, levels_figure, love_plot  # noqa: E402
from regeval.reporting.labels import heading, outcome_label  # noqa: E402
from regeval.reporting.robustness import draw_robustness_figures  # noqa: E402


def _save(fig, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight", metadata={"Software": None}, pil_kwargs={"compress_level": 1})
    plt.close(fig)


def overlap_figure(overlap: pd.DataFrame, language: str = "en"):
    """Histogram of the propensity score by group (from binned counts)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for group, colour in (("treated", "tab:red"), ("control", "tab:blue")):
        g = overlap[overlap["group"] == group]
        n = g["n"].astype(float).fillna(0.0)
        total = n.sum()
        dens = n / total / (g["bin_high"] - g["bin_low"]) if total > 0 else n
        label = heading("participants" if group == "treated" else "controls", language)
        if group == "control":
            label = "Base population (potential controls)" if language == "en" else "Grundpopulation (potentielle kontroller)"
        ax.step(g["bin_low"], dens, where="post", color=colour, label=label)
    ax.set_xlabel("Propensity score" if language == "en" else "Propensity score")
    ax.set_ylabel("Density" if language == "en" else "Tæthed")
    ax.set_title(heading("propensity", language))
    ax.legend()
    ax.text(0.99, -0.18, "Bins with fewer than the minimum number of persons are suppressed.",
            transform=ax.transAxes, ha="right", fontsize=7)
    return fig


EFFECT_FIGURE_PREFIXES = ("effect_", "levels_")
"""File-name prefixes of the figures :func:`draw_effect_figures` draws."""


def draw_effect_figures(
    effects: pd.DataFrame, means: pd.DataFrame, outcomes: list[str], figures_dir: Path, language: str = "en"
) -> list[Path]:
    """Event-time effect figure and levels figure per outcome (from checked tables)."""
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for outcome in outcomes:
        label, unit = outcome_label(outcome, language)
        if (effects["outcome"] == outcome).any():
            p = figures_dir / f"effect_{outcome}.png"
            _save(effect_figure(effects, outcome, label=label, unit=unit, language=language), p)
            written.append(p)
        if (means["outcome"] == outcome).any():
            fig = levels_figure(
                means, outcome, label=label, unit=unit,
                group_labels=(heading("participants", language), heading("controls", language)),
                language=language,
            )
            p = figures_dir / f"levels_{outcome}.png"
            _save(fig, p)
            written.append(p)
    return written


CONTROL_GROUP_FIGURES = ("propensity_overlap.png", "love_plot.png")


def draw_spec_figures(
    tables_dir: Path, figures_dir: Path, spec: Mapping[str, Any], language: str = "en",
    shared_from: Path | None = None,
) -> list[Path]:
    """Overlap, love plot and budget figures of a spec from its export tables.

    ``shared_from``: figures folder of a spec with the same control group (same
    checked propensity and balance tables); its overlap and love plot are copied.
    """
    import shutil

    tables_dir = Path(tables_dir)
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if shared_from is not None:
        for name in CONTROL_GROUP_FIGURES:
            shutil.copyfile(Path(shared_from) / name, figures_dir / name)
            written.append(figures_dir / name)
    else:
        p = figures_dir / "propensity_overlap.png"
        _save(overlap_figure(pd.read_parquet(tables_dir / "propensity_overlap.parquet"), language), p)
        written.append(p)
        p = figures_dir / "love_plot.png"
        _save(love_plot(pd.read_parquet(tables_dir / "balance.parquet"), title="Standardised mean differences before and after matching"), p)
        written.append(p)
    written += _budget_figures(tables_dir, figures_dir, spec, language)
    written += draw_robustness_figures(tables_dir, figures_dir, language)
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


def _budget_figures(tables_dir: Path, figures_dir: Path, spec: Mapping[str, Any], language: str = "en") -> list[Path]:
    """Budget figures from the exported budget tables."""
    from regeval.budget import BudgetAssumptions
    from regeval.reporting.budget_figures import budget_figures
    from regeval.budget.som import BudgetResult

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
    out = []
    for name, fig in figs.items():
        p = figures_dir / f"budget_{name}.png"
        _save(fig, p)
        out.append(p)
    return out


__all__ = ["EFFECT_FIGURE_PREFIXES", "draw_all", "draw_effect_figures", "draw_spec_figures", "overlap_figure"]
