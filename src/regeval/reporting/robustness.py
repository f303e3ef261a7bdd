"""Plain-language verdicts of the report's robustness checks: balance, the choice of the
propensity score, the placebo test before start, the doubly robust estimates and the
sensitivity to an unobserved confounder. Each function reads a checked export table and
returns an HTML paragraph (empty when the table is absent), in English or Danish
(:data:`regeval.reporting.labels.ROBUSTNESS_TEXTS`)."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from regeval.reporting.labels import ROBUSTNESS_TEXTS, outcome_label, translate

__all__ = ["section_note"]


def _read(tables_dir: Path, name: str) -> pd.DataFrame | None:
    path = Path(tables_dir) / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else None


def _p(text: str, warn: bool = False) -> str:
    style = " style='color:#a00'" if warn else ""
    return f"<p class='caption'{style}>{text}</p>"


def balance_note(tables_dir: Path, language: str) -> str:
    bal = _read(tables_dir, "balance")
    if bal is None or "balanced" not in bal.columns:
        return ""
    bad = bal.loc[~bal["balanced"].fillna(True).astype(bool), "term"].astype(str).tolist()
    if not bad:
        return _p(translate(ROBUSTNESS_TEXTS, "balance_ok", language))
    return _p(translate(ROBUSTNESS_TEXTS, "balance_fail", language, n=len(bad),
                        terms=html.escape(", ".join(bad))), warn=True)


def section_note(key: str, tables_dir: Path, language: str) -> str:
    """The verdict paragraph of report section ``key`` ('' if it has none)."""
    notes = {"balance": balance_note}
    fn = notes.get(key)
    return fn(Path(tables_dir), language) if fn else ""


_ = outcome_label  # used by the notes of later sections
