"""The propensity score of a spec: the named model, or the one chosen by balance.

With ``propensity.model: auto`` every model of :data:`regeval.stats.scores.SCORE_MODELS`
is fitted, each score is used for a reference matching (:data:`REFERENCE_MATCHING`: 5
nearest neighbours with replacement on the logit of the score, exact on cohort), and the
model whose matched sample balances best is used. Best is: fewest terms failing the
balance verdict (the characteristics and the
distribution terms of the continuous ones, :mod:`regeval.stats.balance_check`), then the
smallest largest |SMD|, then the smallest largest eCDF difference; on a tie the earlier
model (the report's logit first). Only the characteristics enter the choice, never an
outcome, and the reference matching is the same for every spec, so that the matching
variants of a spec (k, replacement, caliper) share one score. The balance after the matching actually used is
judged again by the control-group rule. A model that cannot be fitted (e.g. separation
in a flexible logit) is recorded and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from regeval.disclosure.meta import Aggregate, AggregateMeta
from regeval.errors import PropensityError
from regeval.pipeline.spec import PropensitySpec
from regeval.population import characteristics as chars_mod
from regeval.stats.balance import balance_table
from regeval.stats.balance_check import balance_score, balance_verdict, distribution_terms
from regeval.stats.scores import SCORE_MODELS, ScoreFit, fit_score

log = logging.getLogger("regeval")

__all__ = ["choose_score", "score_frame"]


def score_frame(units: pd.DataFrame, sf: ScoreFit) -> pd.DataFrame:
    """The scores file: unit, score, logit."""
    return pd.DataFrame({"unit": units["unit"].to_numpy(), "score": sf.score, "logit": sf.logit})


REFERENCE_MATCHING: dict[str, Any] = {"k": 5, "replace": True, "exact": ["cohort"], "caliper": None,
                                      "distance": "logit"}
"""The matching every candidate score is judged with (the same for every spec)."""


def reference_weights(units: pd.DataFrame, sf: ScoreFit) -> np.ndarray:
    """Matching weights of every unit (0: not matched) under :data:`REFERENCE_MATCHING`."""
    from regeval.pipeline.evaluate import match_units

    ref = dict(REFERENCE_MATCHING)
    ref["exact"] = [c for c in ref["exact"] if c in units.columns]
    _, matched = match_units(units, score_frame(units, sf), ref)
    return units["unit"].map(matched.set_index("unit")["weight"]).fillna(0.0).to_numpy()


def matched_balance(
    units: pd.DataFrame, weights: np.ndarray, columns: list[str], categorical: list[str]
) -> pd.DataFrame:
    """The balance verdict of a weighted sample (characteristics and distribution terms)."""
    data, extra = distribution_terms(units[["treated", *columns]], [c for c in columns if c not in set(categorical)])
    data = data.assign(_w=weights)
    bal = balance_table(data, "treated", [*columns, *extra], weights="_w", categorical=categorical)
    return balance_verdict(bal)


def choose_score(
    units: pd.DataFrame,
    characteristics: list[str],
    diagnosis_groups: list[str],
    propensity: PropensitySpec | Mapping[str, Any],
    threads: int = 1,
) -> tuple[ScoreFit, Aggregate]:
    """The score of ``propensity.model`` (or, for ``auto``, the model whose reference
    matching balances best) and the table of the candidates."""
    ps = propensity if isinstance(propensity, PropensitySpec) else PropensitySpec.from_mapping(propensity)
    cols, cat = chars_mod.expand(characteristics, diagnosis_groups)
    candidates = SCORE_MODELS if ps.model == "auto" else (ps.model,)
    rows: list[dict[str, Any]] = []
    fits: dict[str, ScoreFit] = {}
    ranks: dict[str, tuple[int, float, float]] = {}
    errors: list[str] = []
    for m in candidates:
        try:
            sf = fit_score(units, m, cols, cat, seed=int(ps.seed), threads=threads)
        except PropensityError as exc:
            if len(candidates) == 1:
                raise
            log.warning("score model %s cannot be fitted and is skipped: %s", m, exc)
            rows.append({"model": m, "auc": np.nan, "n_unbalanced": np.nan, "max_abs_smd": np.nan,
                         "max_ecdf": np.nan, "chosen": False, "note": "not_fitted"})
            errors.append(f"{m}: {exc}")
            continue
        fits[m] = sf
        row: dict[str, Any] = {"model": m, "auc": sf.auc, "n_unbalanced": np.nan, "max_abs_smd": np.nan,
                               "max_ecdf": np.nan, "chosen": False, "note": ""}
        if len(candidates) > 1:
            ranks[m] = balance_score(matched_balance(units, reference_weights(units, sf), cols, cat))
            row.update(n_unbalanced=ranks[m][0], max_abs_smd=ranks[m][1], max_ecdf=ranks[m][2])
        rows.append(row)
    if not fits:
        raise PropensityError("no propensity-score model could be fitted: " + "; ".join(errors))
    chosen = min(fits, key=lambda m: (ranks.get(m, (0, 0.0, 0.0)), candidates.index(m)))
    for r in rows:
        r["chosen"] = r["model"] == chosen
    n_t = int((units["treated"] == 1).sum())
    table = pd.DataFrame(rows)
    table.insert(0, "n_treated", n_t)
    table.insert(1, "n_control", len(units) - n_t)
    # auto: fewest unbalanced terms after the reference matching, then the smallest largest |SMD|
    table["rule"] = "auto" if ps.model == "auto" else "named"
    log.info("propensity score: model %s%s", chosen, " (chosen by balance)" if ps.model == "auto" else "")
    return fits[chosen], Aggregate(
        table,
        AggregateMeta(
            name="score_selection",
            title="Propensity-score models and the balance of their reference matching (the chosen one is used)",
            kind="model",
            counts={c: ["n_treated", "n_control"] for c in ("auc", "n_unbalanced", "max_abs_smd", "max_ecdf")},
            count_columns=("n_treated", "n_control"),
        ),
    )
