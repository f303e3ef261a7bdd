"""Placebo verdict: a joint test that the effects before start are all zero.

Before start the programme cannot have had an effect, so the yearly "effects" of the
pre-period (from the first year of the panel to two years before start; the year
before start is the baseline) estimate the bias of the comparison. Each is small by
chance, so a verdict needs a joint test: the Wald statistic
``W = b' V^-1 b`` of the ``T`` pre-period coefficients ``b`` with their joint
person-clustered covariance ``V`` (the stacked regression of
:func:`regeval.stats.effects.window_summary`, every year with its own coefficients,
``V = G/(G-1) (N-1)/(N-K) sum_g psi_g psi_g'``), referred as ``W / T`` to the F
distribution with ``T`` and ``G - 1`` degrees of freedom (chi-squared with ``T`` in large
samples; the F reference keeps the size near its nominal level with few persons, where a
cluster-robust Wald statistic rejects too often). A small p-value says the participants and their matched controls
differed before start by more than chance: the post-start effects are then suspect.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats

from regeval.errors import EstimationError
from regeval.stats._panel import _n_persons, _prepare_panel, _window_cells
from regeval.stats.design import require_columns
from regeval.stats.wls import _codes

__all__ = ["PLACEBO_COLUMNS", "joint_pretest"]

PLACEBO_COLUMNS = (
    "outcome", "year_from", "year_to", "n_years", "chi2", "df", "p", "max_abs_z", "passed",
    "n_treated", "n_control", "note",
)


def joint_pretest(
    panel: pd.DataFrame,
    outcome: str,
    *,
    years: Iterable[int],
    treatment: str = "treated",
    rel_year: str = "rel_year",
    weights: str | None = "weight",
    cluster: str | None = "person_id",
    covariates: Sequence[str] = (),
    baseline_suffix: str | None = "_pre",
    alpha: float = 0.05,
    categorical: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Joint Wald test of zero effects of ``outcome`` in the relative ``years`` (a row of
    :data:`PLACEBO_COLUMNS`; ``passed`` is ``p >= alpha``). Years that cannot be
    estimated are left out and named in ``note``; with none left every statistic is
    ``nan``."""
    yrs = sorted({int(y) for y in years})
    bcol = outcome + baseline_suffix if baseline_suffix is not None else None
    require_columns(panel, [bcol], what="baseline", table="panel", error=EstimationError)
    P = _prepare_panel(panel, [outcome], treatment=treatment, rel_year=rel_year, weights=weights,
                       cluster=cluster, covariates=covariates, categorical=categorical)
    usable = [y for y in yrs if y in P.years_present]
    note = ""
    cells = []
    for y in usable:
        try:
            cells.extend(_window_cells(P, panel, outcome, [y], treatment=treatment, bcol=bcol))
        except EstimationError:
            note += f"rel_year {y} not estimable; "
    row: dict[str, Any] = dict.fromkeys(PLACEBO_COLUMNS, math.nan)
    row.update(outcome=outcome, year_from=yrs[0] if yrs else math.nan, year_to=yrs[-1] if yrs else math.nan,
               n_years=len(cells), note=note.strip("; "), n_treated=0, n_control=0, passed=True)
    if not cells:
        row["note"] = (row["note"] + "; " if row["note"] else "") + "no pre-period year estimable"
        return row
    ids = np.concatenate([c.ids for c in cells])
    codes, G = _codes(ids)
    T = len(cells)
    psi = np.zeros((G, T))
    pos = 0
    for j, c in enumerate(cells):
        m = len(c.ids)
        psi[:, j] = np.bincount(codes[pos:pos + m], weights=c.contrib, minlength=G)
        pos += m
    n_rows = sum(c.nobs for c in cells)
    k_total = sum(c.k for c in cells)
    b = np.array([c.estimate for c in cells])
    V = G / (G - 1) * (n_rows - 1) / (n_rows - k_total) * (psi.T @ psi) if G > 1 and n_rows > k_total else None
    allr = np.concatenate([c.rows for c in cells])
    clv = P.cl_values[allr] if P.cl_values is not None else None
    row.update(n_treated=_n_persons(clv, P.t[allr] == 1), n_control=_n_persons(clv, P.t[allr] == 0))
    if V is None:
        return row
    try:
        w = float(b @ linalg.solve(V, b, assume_a="pos"))
    except (linalg.LinAlgError, ValueError):
        w = float(b @ np.linalg.pinv(V) @ b)
    p = float(stats.f.sf(w / T, T, G - 1))
    se = np.sqrt(np.diag(V))
    row.update(chi2=w, df=T, p=p, max_abs_z=float(np.max(np.abs(b / se))), passed=bool(p >= alpha))
    return row


def placebo_table(panel: pd.DataFrame, outcomes: Sequence[str], years: Iterable[int], **options: Any) -> pd.DataFrame:
    """:func:`joint_pretest` for every outcome (one row each, :data:`PLACEBO_COLUMNS`)."""
    yrs = list(years)
    rows = [joint_pretest(panel, o, years=yrs, **options) for o in outcomes]
    df = pd.DataFrame(rows, columns=list(PLACEBO_COLUMNS))
    df["passed"] = df["passed"].astype(bool)
    for c in ("n_treated", "n_control"):
        df[c] = df[c].astype("int64")
    return df
