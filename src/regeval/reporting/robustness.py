"""Plain-language verdicts of the report's robustness checks: balance, the choice of the
propensity score, the doubly robust estimates and rare outcomes, the placebo test before
start and the sensitivity to an unobserved confounder. Each note reads a checked export
table and returns an HTML paragraph (empty when the table is absent), in English or
Danish (:data:`regeval.reporting.labels.ROBUSTNESS_TEXTS`); :func:`confounding_figure`
draws the robustness values of the headline effects."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from regeval.reporting.labels import ROBUSTNESS_TEXTS, outcome_label, translate

__all__ = ["confounding_figure", "draw_robustness_figures", "section_note"]

CONFOUNDING_FIGURE = "confounding_sensitivity.png"


def _read(tables_dir: Path, name: str) -> pd.DataFrame | None:
    path = Path(tables_dir) / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else None


def _p(text: str, warn: bool = False) -> str:
    style = " style='color:#a00'" if warn else ""
    return f"<p class='caption'{style}>{text}</p>"


def _t(key: str, language: str, **fields: object) -> str:
    return html.escape(translate(ROBUSTNESS_TEXTS, key, language, **fields))


def balance_note(tables_dir: Path, language: str) -> str:
    bal = _read(tables_dir, "balance")
    if bal is None or "balanced" not in bal.columns:
        return ""
    bad = bal.loc[~bal["balanced"].fillna(True).astype(bool), "term"].astype(str).tolist()
    if not bad:
        return _p(_t("balance_ok", language))
    return _p(_t("balance_fail", language, n=len(bad), terms=", ".join(bad)), warn=True)


def propensity_note(tables_dir: Path, language: str) -> str:
    sel = _read(tables_dir, "score_selection")
    if sel is None or sel.empty:
        return ""
    chosen = sel.loc[sel["chosen"].astype(bool), "model"].astype(str).tolist()
    if not chosen:
        return ""
    if len(sel) == 1:
        return _p(_t("score_named", language, model=chosen[0]))
    return _p(_t("score_auto", language, model=chosen[0], models=", ".join(sel["model"].astype(str))))


def effects_note(tables_dir: Path, language: str) -> str:
    eff = _read(tables_dir, "effects")
    if eff is None:
        return ""
    out = []
    if "stars_withheld" in eff.columns and eff["stars_withheld"].fillna(False).astype(bool).any():
        n = int(eff["stars_withheld"].fillna(False).astype(bool).sum())
        out.append(_p(_t("rare", language, n=n)))
    if "dr_estimate" in eff.columns:
        diff = ((eff["estimate"] - eff["dr_estimate"]).abs() / eff["se"]).to_numpy(dtype=float)
        big = eff.loc[diff > 1.0]
        if len(big):
            cells = ", ".join(f"{o} {int(r)}" for o, r in big[["outcome", "rel_year"]].head(8).itertuples(index=False))
            out.append(_p(_t("dr_differ", language, n=len(big), cells=cells), warn=True))
        else:
            out.append(_p(_t("dr_agree", language)))
    return "".join(out)


def placebo_note(tables_dir: Path, language: str) -> str:
    pl = _read(tables_dir, "placebo_tests")
    if pl is None or pl.empty:
        return ""
    lo, hi = int(pl["year_from"].min()), int(pl["year_to"].max())
    failed = pl.loc[~pl["passed"].astype(bool), "outcome"].astype(str).tolist()
    if not failed:
        return _p(_t("placebo_ok", language, lo=lo, hi=hi))
    names = ", ".join(outcome_label(o, language)[0] for o in failed)
    return _p(_t("placebo_fail", language, lo=lo, hi=hi, outcomes=names), warn=True)


def confounding_note(tables_dir: Path, language: str) -> str:
    cs = _read(tables_dir, "confounding_sensitivity")
    if cs is None or cs.empty:
        return ""
    parts = [_p(_t("confounding_intro", language))]
    for r in cs[cs["kind"] == "window"].itertuples(index=False):
        if not (np.isfinite(r.rv) and np.isfinite(r.rv_alpha)):
            continue
        label = outcome_label(str(r.outcome), language)[0]
        parts.append(_p(_t("confounding_window", language, label=label, lo=int(r.year_from), hi=int(r.year_to),
                           rv=float(r.rv), rva=float(r.rv_alpha))))
    return "".join(parts)


NOTES: dict[str, Callable[[Path, str], str]] = {
    "balance": balance_note,
    "propensity": propensity_note,
    "effects": effects_note,
    "placebo": placebo_note,
    "confounding": confounding_note,
}


def section_note(key: str, tables_dir: Path, language: str) -> str:
    """The verdict paragraph(s) of report section ``key`` ('' if it has none)."""
    fn = NOTES.get(key)
    return fn(Path(tables_dir), language) if fn else ""


def confounding_figure(cs: pd.DataFrame, language: str = "en") -> Figure:
    """Horizontal bars of the robustness values ``rv`` and ``rv_alpha`` of the window
    averages and of each headline outcome's yearly effects from start."""
    d = cs.copy()
    d["label"] = [
        f"{outcome_label(str(o), language)[0][:38]}, {int(a)}–{int(b)}" if k == "window"
        else f"{outcome_label(str(o), language)[0][:38]}, {int(a)}"
        for o, k, a, b in d[["outcome", "kind", "year_from", "year_to"]].itertuples(index=False)
    ]
    fig = Figure(figsize=(7.0, 0.28 * len(d) + 1.4))
    ax = fig.subplots()
    y = np.arange(len(d))
    ax.barh(y - 0.2, d["rv"].astype(float), height=0.4, color="tab:blue",
            label=translate(ROBUSTNESS_TEXTS, "confounding_rv", language))
    ax.barh(y + 0.2, d["rv_alpha"].astype(float), height=0.4, color="tab:orange",
            label=translate(ROBUSTNESS_TEXTS, "confounding_rva", language))
    ax.set_yticks(y, d["label"], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(translate(ROBUSTNESS_TEXTS, "confounding_axis", language))
    ax.legend(fontsize=7, loc="lower right")
    return fig


def draw_robustness_figures(tables_dir: Path, figures_dir: Path, language: str = "en") -> list[Path]:
    """The robustness figures of a spec from its checked tables (none if the table is absent)."""
    cs = _read(Path(tables_dir), "confounding_sensitivity")
    if cs is None or cs.empty:
        return []
    p = Path(figures_dir) / CONFOUNDING_FIGURE
    fig = confounding_figure(cs, language)
    fig.savefig(p, dpi=100, bbox_inches="tight", metadata={"Software": None}, pil_kwargs={"compress_level": 1})
    return [p]
