"""Covariate balance before and after matching, and descriptive tables.

The statistics are those of MatchIt's ``summary.matchit()`` for the ATT (standardised
mean difference with the treated group's full-sample SD, variance ratio, mean and
maximum eCDF difference), computed on any DataFrame with optional matching weights.
Terms are :func:`regeval.stats.design.expand_covariates`'s: one per numeric column, one
per level of a categorical column, ``<column>TRUE`` for a bool column. The love plot is
drawn by :func:`regeval.reporting.effect_figures.love_plot`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from regeval.errors import MatchingError
from regeval.stats.design import expand_covariates, is_categorical, level_label, levels_of, treatment_indicator

__all__ = ["balance_table", "descriptive_table"]

_SQRT_EPS = float(np.sqrt(np.finfo(float).eps))
_STATS = ("mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max")


# --------------------------------------------------------------------------- statistics


def _wmean(x: np.ndarray, w: np.ndarray) -> float:
    sw = w.sum()
    return float((w * x).sum() / sw) if sw > 0 else float("nan")


def _wvar(x: np.ndarray, w: np.ndarray, binary: bool) -> float:
    """MatchIt's ``wvar``: p(1-p) for binary, else the reliability-weights variance."""
    sw = w.sum()
    if sw <= 0:
        return float("nan")
    wn = w / sw
    mx = float((wn * x).sum())
    if binary:
        return mx * (1.0 - mx)
    denom = 1.0 - float((wn**2).sum())
    if denom <= 0:
        return float("nan")
    return float((wn * (x - mx) ** 2).sum() / denom)


def _pooled_sd(x: np.ndarray, t: np.ndarray, binary: bool) -> float:
    """MatchIt's ``pooled_sd`` (proportional contribution, unit weights)."""
    n = len(x)
    if binary:
        v = 0.0
        for g in (True, False):
            xi = x[t == g]
            sxi = xi.sum()
            v += sxi * (1.0 - sxi / len(xi)) / n if len(xi) else 0.0
        return float(np.sqrt(v))
    xc = x.copy()
    for g in (True, False):
        m = t == g
        if m.any():
            xc[m] -= xc[m].mean()
    return float(np.sqrt((xc**2).sum() / (n - 2)))


def _ecdf_stats(x: np.ndarray, t: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Mean and maximum absolute difference of the weighted eCDFs (MatchIt's ``qqsum``).

    Weights are normalised to sum to one within each group; the difference is
    evaluated at every distinct value of ``x`` in the whole sample (units with zero
    weight included), so the mean runs over distinct values.
    """
    w = w.astype(np.float64).copy()
    for g in (True, False):
        m = t == g
        s = w[m].sum()
        if s > 0:
            w[m] /= s
    order = np.argsort(x, kind="stable")
    xo = x[order]
    wo = w[order]
    to = t[order]
    signed = np.where(to == to[0], -wo, wo)
    cum = np.abs(np.cumsum(signed))
    last_of_run = np.append(np.diff(xo) != 0, True)
    e = cum[last_of_run]
    return float(e.mean()), float(e.max())


def _balance_one(
    x: np.ndarray, t: np.ndarray, w: np.ndarray, std: float, binary: bool
) -> dict[str, float]:
    t1 = t
    t0 = ~t
    too_small = np.count_nonzero(w[t1]) < 2 and np.count_nonzero(w[t0]) < 2
    m1 = _wmean(x[t1], w[t1])
    m0 = _wmean(x[t0], w[t0])
    mdiff = m1 - m0
    if abs(mdiff) > _SQRT_EPS:
        smd = mdiff / std if not too_small else float("nan")
    else:
        smd = mdiff
    vr = float("nan")
    em = ex = float("nan")
    if binary:
        em = ex = abs(mdiff)
    elif not too_small:
        v0 = _wvar(x[t0], w[t0], False)
        vr = _wvar(x[t1], w[t1], False) / v0 if v0 > 0 else float("nan")
        em, ex = _ecdf_stats(x, t, w)
    return {
        "mean_treated": m1,
        "mean_control": m0,
        "smd": smd,
        "var_ratio": vr,
        "ecdf_mean": em,
        "ecdf_max": ex,
    }


def _weights_vector(data: pd.DataFrame, weights: str | pd.Series | np.ndarray) -> np.ndarray:
    if isinstance(weights, str):
        if weights not in data.columns:
            raise MatchingError(f"weights column {weights!r} not in data")
        w = data[weights].to_numpy(dtype=np.float64, na_value=np.nan)
    elif isinstance(weights, pd.Series):
        ws = weights if weights.index.equals(data.index) else weights.reindex(data.index)
        w = ws.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(data),):
            raise MatchingError(f"weights array has shape {w.shape}; need one value per row ({len(data)})")
    if not np.all(np.isfinite(w)):
        raise MatchingError(
            f"weights have {int((~np.isfinite(w)).sum())} missing or non-finite value(s) "
            "(a Series must cover every row of data)"
        )
    if (w < 0).any():
        raise MatchingError("weights must be non-negative")
    return w


# --------------------------------------------------------------------------- public API


def balance_table(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    *,
    weights: str | pd.Series | None = None,
    categorical: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Balance statistics per covariate term, before and (with weights) after matching.

    Parameters
    ----------
    data : pandas.DataFrame
        All units (treated and potential controls), before matching.
    treatment : str
        Column with 1/True for treated, 0/False for controls.
    covariates : sequence of str
        Columns to assess. Categorical columns (object, string, category, or named
        in ``categorical``) give one row per level; bool columns one 0/1 row. To
        include the propensity score, add it as a column and list it.
    weights : str or pandas.Series, optional
        Matching weights (column name or Series aligned with ``data``; 0 for
        unmatched units). When given, the ``*_after`` columns are added.
    categorical : sequence of str, optional
        Numeric columns to treat as categorical.

    Returns
    -------
    pandas.DataFrame
        One row per term with ``term``, ``variable``, ``level``, ``kind``
        (``"binary"``/``"continuous"``), ``mean_treated_before``,
        ``mean_control_before``, ``smd_before``, ``var_ratio_before``,
        ``ecdf_mean_before``, ``ecdf_max_before`` and, with weights, the same with
        ``_after``.

    Raises
    ------
    MatchingError
        On missing columns, missing values in a covariate, or invalid weights.

    Notes
    -----
    Definitions are those of MatchIt's ``summary.matchit()`` for the ATT (Ho, Imai,
    King & Stuart 2011; Stuart 2010):

    * SMD = (weighted mean treated - weighted mean control) / SD of the treated
      group in the full, unweighted sample; binary (0/1) terms use sqrt(p(1-p)),
      continuous terms the n-1 SD. The same denominator is used before and after,
      so the change reflects only the means. A mean difference below sqrt(eps) is
      reported unstandardised, as MatchIt does.
    * Variance ratio = weighted variance treated / weighted variance control, with
      the reliability-weights formula of ``cov.wt()``:
      ``sum(w (x - m)^2) / (1 - sum(w^2))`` for weights normalised to sum to one;
      not computed for binary terms.
    * eCDF mean / max = mean and maximum over the distinct values of the term of the
      absolute difference between the groups' weighted empirical CDFs (weights
      normalised within group; zero-weight units still contribute their values);
      for binary terms both equal the absolute difference in proportions.
    """
    t = treatment_indicator(data, treatment, error=MatchingError, require_both=True) == 1.0
    terms = expand_covariates(data, covariates, categorical=categorical, error=MatchingError)
    for _term, var, _, x in terms:
        if np.isnan(x).any():
            raise MatchingError(
                f"covariate {var!r} has {int(np.isnan(x).sum())} missing value(s); balance "
                "statistics need complete data"
            )
    w_after = _weights_vector(data, weights) if weights is not None else None
    ones = np.ones(len(data))
    rows = []
    for term, var, level, x in terms:
        binary = bool(np.all((x == 0) | (x == 1)))
        std = np.sqrt(_wvar(x[t], ones[t], binary))
        if not np.isfinite(std) or std < _SQRT_EPS:
            std = _pooled_sd(x, t, binary)
        row: dict[str, Any] = {
            "term": term,
            "variable": var,
            "level": None if level is None else level_label(level),
            "kind": "binary" if binary else "continuous",
        }
        for k, v in _balance_one(x, t, ones, std, binary).items():
            row[f"{k}_before"] = v
        if w_after is not None:
            for k, v in _balance_one(x, t, w_after, std, binary).items():
                row[f"{k}_after"] = v
        rows.append(row)
    cols = ["term", "variable", "level", "kind"] + [f"{s}_before" for s in _STATS]
    if w_after is not None:
        cols += [f"{s}_after" for s in _STATS]
    out = pd.DataFrame(rows, columns=cols)
    for c in ("term", "variable", "level", "kind"):
        out[c] = out[c].astype("string")
    return out


def descriptive_table(
    groups: Mapping[str, pd.DataFrame],
    variables: Sequence[str],
    *,
    weights: Mapping[str, pd.Series | None] | None = None,
    categorical: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Means and shares per group, one row per variable or level.

    Builds the report's table "participants / matched controls / whole population":
    pass one DataFrame per column (e.g. ``{"participants": ..., "controls": ...,
    "population": ...}``) and, for weighted groups such as matched controls, their
    matching weights.

    Parameters
    ----------
    groups : mapping of str to DataFrame
        Column label -> rows of that group.
    variables : sequence of str
        Variables to describe. Numeric: (weighted) mean; bool: share of True;
        categorical: share per level (levels from all groups together).
    weights : mapping of str to Series or None, optional
        Weights per group label, aligned with that group's rows; rows with weight 0
        are excluded. Groups not in the mapping are unweighted.
    categorical : sequence of str, optional
        Numeric variables to treat as categorical.

    Returns
    -------
    pandas.DataFrame
        Columns ``term``, ``variable``, ``level``, ``kind`` (``"count"``, ``"mean"``
        or ``"share"``) and one column per group. The first row (``term = "n"``,
        kind ``"count"``) holds the number of persons (rows with positive weight).

    Notes
    -----
    Missing values are left out of the mean or share of that variable (the
    denominator is the weight of the non-missing rows). Weighted means use the
    matching weights as frequency weights, as in MatchIt's balance tables, so the
    matched-control column describes the controls as they enter the effect
    estimates.
    """
    if not groups:
        raise MatchingError("groups is empty; pass at least one DataFrame")
    weights = dict(weights or {})
    unknown = set(weights) - set(groups)
    if unknown:
        raise MatchingError(f"weights given for unknown group(s) {sorted(unknown)}; groups are {list(groups)}")
    forced = set(categorical or ())
    # levels from all groups together
    levels: dict[str, list[Any]] = {}
    for var in variables:
        for g, df in groups.items():
            if var not in df.columns:
                raise MatchingError(f"variable {var!r} not in group {g!r}")
        s0 = next(iter(groups.values()))[var]
        if var in forced or is_categorical(s0):
            allv = pd.concat([df[var] for df in groups.values()], ignore_index=True)
            if isinstance(s0.dtype, pd.CategoricalDtype):
                allv = allv.astype(s0.dtype)
            levels[var] = list(levels_of(allv))
    table: dict[str, list[Any]] = {}
    meta: list[tuple[str, str, str | None, str]] = [("n", "n", None, "count")]
    first = True
    for g, df in groups.items():
        w = weights.get(g)
        wv = np.ones(len(df)) if w is None else _weights_vector(df, w)
        keep = wv > 0
        col = [float(keep.sum())]
        expanded = expand_covariates(df, variables, categorical=list(forced), levels=levels, error=MatchingError)
        for term, var, level, x in expanded:
            ok = keep & ~np.isnan(x)
            col.append(_wmean(x[ok], wv[ok]) if ok.any() else float("nan"))
            if first:
                is_share = level is not None or pd.api.types.is_bool_dtype(df[var].dtype)
                meta.append((term, var, None if level is None else level_label(level), "share" if is_share else "mean"))
        first = False
        table[g] = col
    out = pd.DataFrame(
        {
            "term": pd.array([m[0] for m in meta], dtype="string"),
            "variable": pd.array([m[1] for m in meta], dtype="string"),
            "level": pd.array([m[2] for m in meta], dtype="string"),
            "kind": pd.array([m[3] for m in meta], dtype="string"),
        }
    )
    for g, col in table.items():
        out[g] = col
    return out
