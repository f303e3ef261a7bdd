"""The long matched panel and its cells: shared machinery of the effect functions.

:func:`_effect_sample` and :func:`_effect_clusters` check one DataFrame for
:func:`regeval.stats.effects.estimate_effect` and build its design and clusters.
:func:`_prepare_panel` checks a long panel (one row per matched unit and relative year)
once and builds the arrays every cell uses; :func:`_cell_fit` fits one (outcome,
relative year) cell -- counts, weighted means, the baseline rule and the regression --
reusing the QR of the design across the outcomes that share an estimation sample
(:class:`_CellCache`). Used by :mod:`regeval.stats.effects`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from regeval.errors import EstimationError
from regeval.stats.design import (
    INTERCEPT,
    build_design,
    design_matrix,
    require_columns,
    require_treatment_column,
    treatment_indicator,
)
from regeval.stats.results import CLUSTERED_VCOVS, _wald, stars_for
from regeval.stats.wls import _Base, _blas_single_thread, _Clusters, _codes, _Core, _finish, _make_base, _solve

# --------------------------------------------------------------------------------------
# checked inputs
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Design:
    matrix: np.ndarray  # (n, p) covariate columns, float
    names: tuple[str, ...]
    dummy: tuple[bool, ...]  # True for dummy columns of categorical covariates


def _check_missing_covariates(data: pd.DataFrame, covariates: Sequence[str], rows: np.ndarray) -> None:
    for c in covariates:
        n_missing = int(data[c].isna().to_numpy()[rows].sum())
        if n_missing:
            raise EstimationError(
                f"covariate {c!r} is missing in {n_missing} row(s) of the estimation sample "
                "(positive weight, non-missing outcome); impute it or drop those rows before estimating"
            )


def _covariate_design(
    data: pd.DataFrame,
    covariates: Sequence[str],
    categorical: Sequence[str] | None,
    rows: np.ndarray,
) -> _Design:
    """The covariate columns of the effect regressions (:mod:`regeval.stats.design`'s
    coding, levels from ``rows``), C-ordered like the intercept and treatment columns
    they are stacked with."""
    design = build_design(data, covariates, categorical=categorical, rows=rows, error=EstimationError)
    matrix, names = design_matrix(data, design, intercept=False, rows=rows, error=EstimationError)
    dummy = tuple(d.kind == "categorical" for d in design for _ in d.terms)
    return _Design(np.ascontiguousarray(matrix), tuple(names), dummy)


def _weights_array(data: pd.DataFrame, weights: str | None) -> np.ndarray:
    if weights is None:
        return np.ones(len(data))
    w = data[weights].to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(w).any():
        raise EstimationError(
            f"weights column {weights!r} has {int(np.isnan(w).sum())} missing value(s); use 0 to exclude a row"
        )
    if (w < 0).any() or not np.isfinite(w).all():
        raise EstimationError(f"weights column {weights!r} must be finite and >= 0")
    return w


def _n_persons(cluster_values: np.ndarray | None, mask: np.ndarray) -> int:
    if cluster_values is None:
        return int(mask.sum())
    return int(pd.unique(cluster_values[mask]).size)


def _wmean(y: np.ndarray, w: np.ndarray) -> float:
    sw = float(w.sum())
    return float(np.dot(w, y) / sw) if sw > 0 else math.nan


def _effect_sample(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    weights: str | None,
    covariates: list[str],
    categorical: Sequence[str] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Weights, outcome, estimation sample (positive weight, non-missing outcome),
    treatment and the design ``[1, treatment, covariates]`` of the sample's rows."""
    w = _weights_array(data, weights)
    try:
        y_all = data[outcome].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise EstimationError(f"outcome {outcome!r} must be numeric; got dtype {data[outcome].dtype}") from exc
    rows = (w > 0) & ~np.isnan(y_all)
    t = treatment_indicator(data, treatment, error=EstimationError, rows=rows)
    _check_missing_covariates(data, covariates, rows)
    design = _covariate_design(data, covariates, categorical, rows)

    n_t_rows = int((rows & (t == 1)).sum())
    n_c_rows = int((rows & (t == 0)).sum())
    if n_t_rows == 0 or n_c_rows == 0:
        raise EstimationError(
            f"the estimation sample for {outcome!r} has {n_t_rows} treated and {n_c_rows} control row(s) "
            "with positive weight and non-missing outcome; both groups are needed"
        )
    names = [INTERCEPT, treatment, *design.names]
    X = np.column_stack([np.ones(int(rows.sum())), t[rows], design.matrix[rows]])
    return w, y_all, rows, t, X, names


def _effect_clusters(
    data: pd.DataFrame, cluster: str | None, cluster2: str | None, rows: np.ndarray
) -> tuple[_Clusters | None, np.ndarray | None]:
    """Cluster structure of the estimation sample and the cluster ids of all rows."""
    if cluster is None:
        return None, None
    cl_values = data[cluster].to_numpy()
    if pd.isna(data[cluster]).to_numpy()[rows].any():
        raise EstimationError(
            f"cluster column {cluster!r} is missing in {int(pd.isna(data[cluster]).to_numpy()[rows].sum())} "
            "row(s) of the estimation sample"
        )
    codes, g = _codes(cl_values[rows])
    codes2 = g2 = None
    if cluster2 is not None:
        codes2, g2 = _codes(data[cluster2].to_numpy()[rows])
    return _Clusters(codes, g, codes2, g2), cl_values


# --------------------------------------------------------------------------------------
# the panel and its cells
# --------------------------------------------------------------------------------------


@dataclass
class _Panel:
    """Arrays of a validated long panel, shared by the panel functions."""

    data: pd.DataFrame
    t: np.ndarray
    w: np.ndarray
    year: np.ndarray
    cl_values: np.ndarray | None
    cl_codes: np.ndarray | None  # global codes
    design: _Design
    years_present: list[int]


def _prepare_panel(
    panel: pd.DataFrame,
    outcomes: Sequence[str],
    *,
    treatment: str,
    rel_year: str,
    weights: str | None,
    cluster: str | None,
    covariates: Sequence[str],
    categorical: Sequence[str] | None,
) -> _Panel:
    """Check the panel's columns and build the arrays shared by all cells."""
    covariates = list(covariates)
    require_treatment_column(panel, treatment, error=EstimationError)
    require_columns(
        panel, [treatment, rel_year, weights, cluster, *outcomes, *covariates],
        what="required", table="panel", error=EstimationError,
    )
    for o in outcomes:
        if not (pd.api.types.is_numeric_dtype(panel[o].dtype) or pd.api.types.is_bool_dtype(panel[o].dtype)):
            raise EstimationError(f"outcome {o!r} must be numeric; got dtype {panel[o].dtype}")
    w = _weights_array(panel, weights)
    ry = panel[rel_year]
    if ry.isna().any():
        raise EstimationError(f"relative-year column {rel_year!r} has {int(ry.isna().sum())} missing value(s)")
    year = ry.to_numpy(dtype=float)
    if not np.all(year == np.round(year)):
        raise EstimationError(f"relative-year column {rel_year!r} must hold whole numbers")
    year = year.astype(np.int64)
    positive = w > 0
    t = treatment_indicator(panel, treatment, error=EstimationError, rows=positive)
    _check_missing_covariates(panel, covariates, positive)
    design = _covariate_design(panel, covariates, categorical, positive)
    cl_values = cl_codes = None
    if cluster is not None:
        cl = panel[cluster]
        n_missing = int(cl.isna().to_numpy()[positive].sum())
        if n_missing:
            raise EstimationError(f"cluster column {cluster!r} is missing in {n_missing} row(s) with positive weight")
        cl_values = cl.to_numpy()
        cl_codes = pd.factorize(cl, use_na_sentinel=True)[0].astype(np.intp)
    years_present = sorted(int(v) for v in np.unique(year[positive]))
    return _Panel(panel, t, w, year, cl_values, cl_codes, design, years_present)


class _CellCache:
    """QR bases of one year, keyed by estimation sample: outcomes that share their
    missingness pattern share the base (design, QR, cluster structure)."""

    def __init__(self, max_items: int = 16) -> None:
        self._store: dict[tuple[int, bytes], _Base | str] = {}
        self._max = max_items

    def get(self, key: tuple[int, bytes]) -> _Base | str | None:
        return self._store.get(key)

    def put(self, key: tuple[int, bytes], value: _Base | str) -> None:
        if len(self._store) >= self._max:
            self._store.pop(next(iter(self._store)))
        self._store[key] = value


def _cell_fit(
    P: _Panel,
    y_all: np.ndarray,
    base_all: np.ndarray | None,
    year_rows: np.ndarray,
    year_value: int,
    *,
    vcov: str,
    treatment: str,
    baseline_name: str,
    cache: _CellCache,
    keep_scores: bool = False,
) -> dict[str, Any]:
    """Fit one (outcome, year) cell. Never raises for estimability problems: they are
    reported in ``note`` with ``nan`` estimates. ``year_rows`` are row positions."""
    yy = y_all[year_rows]
    ww = P.w[year_rows]
    positive = ww > 0
    sample = positive & ~np.isnan(yy)
    out: dict[str, Any] = {
        "n_missing_outcome": int((positive & np.isnan(yy)).sum()),
        "dropped": "",
        "note": "",
        "baseline_note": "",
        "adjusted_for_baseline": False,
    }
    tt = P.t[year_rows]
    tr, co = sample & (tt == 1), sample & (tt == 0)
    clv = P.cl_values[year_rows] if P.cl_values is not None else None
    out["n_treated"] = _n_persons(clv, tr)
    out["n_control"] = _n_persons(clv, co)
    out["n_obs"] = int(sample.sum())
    out["mean_treated"] = _wmean(yy[tr], ww[tr])
    out["mean_control"] = _wmean(yy[co], ww[co])
    nan_fit = {"estimate": math.nan, "se": math.nan, "n_clusters": None, "df": None, "core": None}

    use_base, out["baseline_note"] = _baseline_rule(
        base_all, year_rows, sample, yy, year_value, baseline_name
    )
    out["adjusted_for_baseline"] = use_base

    if out["n_obs"] == 0:
        out.update(nan_fit, note="no observations")
        return out
    if not tr.any() or not co.any():
        out.update(nan_fit, note="no treated" if not tr.any() else "no controls")
        return out

    base = _cell_base(P, year_rows, sample, tt, ww, year_value, vcov=vcov, treatment=treatment, cache=cache)
    if isinstance(base, str):
        out.update(nan_fit, note=base)
        return out
    core = _solve(
        base, yy[sample], vcov,
        extra=base_all[year_rows[sample]] if use_base else None,  # type: ignore[index]
        extra_name=baseline_name, keep_scores=keep_scores, treat_col=base.names.index(treatment),
    )
    if core.nobs <= core.k:
        out.update(nan_fit, note=f"too few observations ({core.nobs}) for {core.k} coefficients")
        return out
    fit = _finish(core, vcov, base.clusters)
    dropped = list(core.dropped)
    j = fit.index(treatment)
    out.update(
        estimate=float(fit.params[j]),
        se=float(fit.bse[j]),
        n_clusters=fit.n_clusters,
        df=fit.df_inference,
        dropped=", ".join(dropped),
        core=core,
        treat_pos=j,
        sample_rows=year_rows[sample],
    )
    if dropped and baseline_name in dropped:
        out["adjusted_for_baseline"] = False
        out["baseline_note"] = "baseline aliased"
    return out


def _baseline_rule(
    base_all: np.ndarray | None,
    year_rows: np.ndarray,
    sample: np.ndarray,
    yy: np.ndarray,
    year_value: int,
    baseline_name: str,
) -> tuple[bool, str]:
    """Whether the cell controls for the baseline, and the note saying why not."""
    if base_all is None:
        return False, "no baseline"
    bb = base_all[year_rows][sample]
    if year_value == -1:
        return False, "baseline year: outcome is its own baseline"
    if bb.size and np.isnan(bb).all():
        return False, "baseline entirely missing"
    if np.isnan(bb).any():
        raise EstimationError(
            f"baseline column {baseline_name!r} is missing in {int(np.isnan(bb).sum())} row(s) of the "
            f"estimation sample for rel_year {year_value} (positive weight, non-missing outcome); "
            "fill it, or set it entirely missing to estimate without the baseline control"
        )
    if bb.size and np.all(bb == bb[0]):
        return False, "baseline constant"
    if np.array_equal(bb, yy[sample]):
        return False, "outcome identical to baseline"
    return True, ""


def _cell_base(
    P: _Panel,
    year_rows: np.ndarray,
    sample: np.ndarray,
    tt: np.ndarray,
    ww: np.ndarray,
    year_value: int,
    *,
    vcov: str,
    treatment: str,
    cache: _CellCache,
) -> _Base | str:
    """The QR base of a cell's design without the baseline (cached per estimation
    sample), or the reason it cannot be estimated."""
    key = (year_value, np.packbits(sample).tobytes())
    base = cache.get(key)
    if base is not None:
        return base
    X0 = np.column_stack([np.ones(int(sample.sum())), tt[sample], P.design.matrix[year_rows[sample]]])
    # dummy levels absent from this cell carry no information: drop them silently
    names0 = [INTERCEPT, treatment, *P.design.names]
    dummy0 = [False, False, *P.design.dummy]
    keep0 = [j for j in range(X0.shape[1]) if not (dummy0[j] and not X0[:, j].any())]
    if len(keep0) < X0.shape[1]:
        X0 = X0[:, keep0]
    names0 = [names0[j] for j in keep0]
    clusters = None
    if vcov in CLUSTERED_VCOVS and P.cl_codes is not None:
        codes, g = _codes(P.cl_codes[year_rows[sample]])
        clusters = _Clusters(codes, g)
    try:
        base = _make_base(X0, ww[sample], names0, clusters, protect=(treatment, INTERCEPT))
    except EstimationError as exc:
        base = f"not estimable: {exc}"
    cache.put(key, base)
    return base


def _year_index(year: np.ndarray) -> dict[int, np.ndarray]:
    order = np.argsort(year, kind="stable")
    ys = year[order]
    cuts = np.flatnonzero(np.diff(ys)) + 1
    bounds = zip(np.r_[0, cuts], np.r_[cuts, len(ys)], strict=False)
    return {int(ys[s]): order[s:e] for s, e in bounds if e > s}


# --------------------------------------------------------------------------------------
# rows of the result tables
# --------------------------------------------------------------------------------------


def _effect_record(
    pos: int, outcome: str, rel_year: int, cell: dict[str, Any], vcov: str, alpha: float, ci_dist: str
) -> dict[str, Any]:
    """One row of :func:`estimate_effects` from a fitted cell (``_pos``: outcome order)."""
    lo, hi, p = _wald(cell["estimate"], cell["se"], alpha, ci_dist, cell["df"])
    return {
        "_pos": pos,
        "outcome": outcome,
        "rel_year": rel_year,
        "estimate": cell["estimate"],
        "se": cell["se"],
        "ci_low": lo,
        "ci_high": hi,
        "p": p,
        "stars": stars_for(p),
        "n_treated": cell["n_treated"],
        "n_control": cell["n_control"],
        "n_obs": cell["n_obs"],
        "n_clusters": cell["n_clusters"],
        "n_missing_outcome": cell["n_missing_outcome"],
        "mean_treated": cell["mean_treated"],
        "mean_control": cell["mean_control"],
        "vcov": vcov,
        "adjusted_for_baseline": bool(cell["adjusted_for_baseline"]),
        "baseline_note": cell["baseline_note"],
        "dropped": cell["dropped"],
        "note": cell["note"],
    }


class _WindowCell(NamedTuple):
    """One year of a window: the treatment coefficient and its score contributions."""

    estimate: float
    contrib: np.ndarray  # psi contribution per row for the treatment coefficient
    ids: np.ndarray  # global cluster codes (or row ids) of those rows
    rows: np.ndarray  # panel rows used
    nobs: int
    k: int
    adjusted: bool


def _window_cells(
    P: _Panel, panel: pd.DataFrame, outcome: str, years: list[int], *, treatment: str, bcol: str | None
) -> list[_WindowCell]:
    """The yearly CR1 fits of a window (raises if a year cannot be estimated)."""
    year_rows = _year_index(P.year)
    y_all = panel[outcome].to_numpy(dtype=float, na_value=np.nan)
    base_all = panel[bcol].to_numpy(dtype=float, na_value=np.nan) if bcol is not None else None
    out: list[_WindowCell] = []
    failed: list[str] = []
    with _blas_single_thread():
        for r in years:
            rows = year_rows.get(r, np.empty(0, dtype=np.intp))
            cell = _cell_fit(
                P, y_all, base_all, rows, r, vcov="CR1", treatment=treatment,
                baseline_name=bcol or "", cache=_CellCache(), keep_scores=True,
            )
            if cell["core"] is None:
                failed.append(f"{r} ({cell['note']})")
                continue
            core: _Core = cell["core"]
            j = cell["treat_pos"]
            srows = cell["sample_rows"]
            out.append(
                _WindowCell(
                    estimate=float(core.params[j]),
                    contrib=core.scores @ core.bread[j],
                    ids=P.cl_codes[srows] if P.cl_codes is not None else srows,
                    rows=srows,
                    nobs=core.nobs,
                    k=core.k,
                    adjusted=bool(cell["adjusted_for_baseline"]),
                )
            )
    if failed:
        raise EstimationError(
            f"window_summary for {outcome!r}: rel_year {', '.join(failed)} cannot be estimated; "
            "choose a window of years that all have data"
        )
    return out


def _group_mean(P: _Panel, y_all: np.ndarray, sel: np.ndarray, alpha: float, ci_dist: str) -> dict[str, Any]:
    """Weighted mean of the rows ``sel`` with its person-clustered CR1 interval."""
    yv, wv = y_all[sel], P.w[sel]
    m = _wmean(yv, wv)
    se = math.nan
    G = 0
    if sel.size:
        ids = P.cl_codes[sel] if P.cl_codes is not None else np.arange(sel.size)
        codes, G = _codes(ids)
        if G > 1:
            u = np.bincount(codes, weights=wv * (yv - m), minlength=G)
            se = math.sqrt(G / (G - 1) * float(np.dot(u, u))) / float(wv.sum())
    lo, hi, _ = _wald(m, se, alpha, ci_dist, G - 1 if G else None)
    if np.isfinite(m) and se == 0:
        lo = hi = m
    return {
        "mean": m, "se": se, "ci_low": lo, "ci_high": hi,
        "n": _n_persons(P.cl_values[sel] if P.cl_values is not None else None, np.ones(sel.size, bool)),
        "n_obs": int(sel.size),
    }
