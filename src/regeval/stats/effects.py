"""Effect estimation on a matched sample: weighted least squares with robust variances.

The method (KLAPjob; see ``docs/effects.md``): for each outcome and each year relative
to start, regress the outcome on the treatment indicator, background characteristics
and the outcome in the year before start, weighting every matched unit by its matching
weight, and report the treatment coefficient with a 95 % confidence interval and stars.

* :func:`estimate_effect` -- the treatment coefficient from one DataFrame.
* :func:`estimate_effects` -- one tidy row per (outcome, relative year) from a long
  matched panel; :func:`group_means` -- the weighted levels per group;
  :func:`window_summary` -- the average effect over a window of years.

The regressions are :mod:`regeval.stats.wls`'s (``fit_wls`` and its reusable QR
pieces), the covariates are coded by :mod:`regeval.stats.design`, the result types are
in :mod:`regeval.stats.results` and the panel machinery in :mod:`regeval.stats._panel`.
The figures of these results are drawn by :mod:`regeval.reporting.effect_figures`.
The module is pure pandas/numpy; it knows nothing about registers or Snakemake.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from regeval.errors import EstimationError, RegevalWarning
from regeval.stats._panel import (
    _cell_fit,
    _CellCache,
    _effect_clusters,
    _effect_record,
    _effect_sample,
    _group_mean,
    _n_persons,
    _prepare_panel,
    _window_cells,
    _wmean,
    _year_index,
)
from regeval.stats.design import INTERCEPT, require_columns, require_treatment_column
from regeval.stats.results import (
    CI_DISTS,
    CLUSTERED_VCOVS,
    VCOV_TYPES,
    CiDist,
    EffectEstimate,
    VcovType,
    _check_alpha,
    _check_choice,
    _wald,
    stars_for,
)
from regeval.stats.wls import _blas_single_thread, _codes, _finish, _make_base, _solve

__all__ = [
    "EFFECT_COLUMNS",
    "MEANS_COLUMNS",
    "estimate_effect",
    "estimate_effects",
    "group_means",
    "window_summary",
]


# --------------------------------------------------------------------------------------
# estimate_effect
# --------------------------------------------------------------------------------------


def estimate_effect(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    covariates: Sequence[str] = (),
    weights: str | None = None,
    cluster: str | None = None,
    cluster2: str | None = None,
    vcov: VcovType = "CR1",
    alpha: float = 0.05,
    categorical: Sequence[str] | None = None,
    ci_dist: CiDist = "normal",
) -> EffectEstimate:
    """Weighted regression of ``outcome`` on ``treatment`` (+ covariates): the treatment coefficient.

    Fits ``outcome ~ 1 + treatment + covariates`` by weighted least squares (the matching
    weights) with the requested covariance, like ``lm(y ~ treat + ..., weights = w)`` on
    MatchIt's ``match_data()`` followed by ``sandwich``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per matched unit.
    outcome, treatment : str
        Column names; treatment is 0/1 or boolean.
    covariates : sequence of str
        Adjustment variables. Columns with object/str/category/bool dtype, and any listed
        in ``categorical``, are expanded to 0/1 dummies for every level present in the
        estimation sample except the first (the reference: the first category of a
        ``category`` column, else the smallest value, ``False`` for booleans -- R's
        ``factor`` default).
    weights : str, optional
        Weight column (matching weights). Rows with weight 0 are not used.
    cluster, cluster2 : str, optional
        Cluster id column(s) for ``vcov="CR1"`` (e.g. the person id; with both, two-way)
        and ``"CR1-SATT"`` (one-way). Without ``cluster``, ``CR1`` treats every row as
        its own cluster (= ``HC1``).
    vcov : {"iid", "HC1", "HC3", "CR1", "CR1-SATT"}, default "CR1"
        See :func:`fit_wls`.
    alpha : float, default 0.05
        ``1 - confidence level`` of the interval.
    categorical : sequence of str, optional
        Covariates to treat as categorical whatever their dtype (e.g. a cohort year).
    ci_dist : {"normal", "t"}, default "normal"
        Reference distribution for the interval and p-value: the normal (as
        ``marginaleffects``/MatchIt's vignette) or t with ``G - 1`` (clustered) or
        ``n - k`` degrees of freedom.

    Returns
    -------
    EffectEstimate

    Raises
    ------
    EstimationError
        Unknown columns, missing covariates/treatment/cluster ids in the estimation
        sample (named, with the count), no treated or no controls, the treatment
        column aliased, too few rows.

    Notes
    -----
    Rows with a missing outcome are excluded (in the outcome panel a missing outcome
    means the year lies outside the data or after death or emigration); their number is
    returned in ``n_missing_outcome``. Missing covariates are an error rather than a
    silent complete-case drop, because dropping would change the matched comparison.

    The MatchIt estimating-effects vignette (Greifer) recommends exactly this model --
    the outcome regressed on the treatment (and covariates, for precision and double
    robustness) in the matched sample with the matching weights -- with cluster-robust
    standard errors on the matched pair/unit (Abadie & Spiess 2022) or ``HC3`` after
    matching with replacement (Hill & Reiter 2006).
    """
    _check_choice("vcov", vcov, VCOV_TYPES)
    _check_choice("ci_dist", ci_dist, CI_DISTS)
    _check_alpha(alpha)
    covariates = list(covariates)
    require_treatment_column(data, treatment, error=EstimationError)
    require_columns(
        data, [outcome, treatment, weights, cluster, cluster2, *covariates],
        what="required", error=EstimationError,
    )
    if treatment in covariates or outcome in covariates:
        raise EstimationError("covariates must not include the outcome or the treatment column")
    if cluster2 is not None and cluster is None:
        raise EstimationError("cluster2 given without cluster")
    if vcov not in CLUSTERED_VCOVS and (cluster is not None or cluster2 is not None):
        warnings.warn(
            f"cluster={cluster!r} is ignored with vcov={vcov!r} (only 'CR1' clusters)", RegevalWarning, stacklevel=2
        )
        cluster = cluster2 = None
    if vcov == "CR1-SATT" and cluster2 is not None:
        raise EstimationError("vcov='CR1-SATT' clusters one way only; drop cluster2 or use vcov='CR1'")

    w, y_all, rows, t, X, names = _effect_sample(data, outcome, treatment, weights, covariates, categorical)
    clusters, cl_values = _effect_clusters(data, cluster, cluster2, rows)
    base = _make_base(X, w[rows], names, clusters, protect=(treatment, INTERCEPT))
    core = _solve(base, y_all[rows], vcov, treat_col=base.names.index(treatment))
    dropped = core.dropped
    if core.nobs <= core.k:
        raise EstimationError(f"{core.nobs} row(s) for {core.k} coefficient(s) in the regression of {outcome!r}")
    if dropped:
        warnings.warn(
            f"regression of {outcome!r}: dropped aliased (collinear) term(s) {dropped}", RegevalWarning, stacklevel=2
        )
    fit = _finish(core, vcov, clusters)
    est, se = fit.coef(treatment), fit.se(treatment)
    lo, hi, p = _wald(est, se, alpha, ci_dist, fit.df_inference)
    tr, co = rows & (t == 1), rows & (t == 0)
    positive = w > 0
    return EffectEstimate(
        outcome=outcome,
        treatment=treatment,
        estimate=est,
        se=se,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        stars=stars_for(p),
        n_treated=_n_persons(cl_values, tr),
        n_control=_n_persons(cl_values, co),
        n_obs=int(rows.sum()),
        n_clusters=fit.n_clusters,
        vcov=vcov,
        alpha=float(alpha),
        ci_dist=ci_dist,
        mean_treated=_wmean(y_all[tr], w[tr]),
        mean_control=_wmean(y_all[co], w[co]),
        n_missing_outcome=int((positive & np.isnan(y_all)).sum()),
        fit=fit,
    )


# --------------------------------------------------------------------------------------
# the panel: estimate_effects, window_summary, group_means
# --------------------------------------------------------------------------------------

EFFECT_COLUMNS: tuple[str, ...] = (
    "outcome",
    "rel_year",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p",
    "stars",
    "n_treated",
    "n_control",
    "n_obs",
    "n_clusters",
    "n_missing_outcome",
    "mean_treated",
    "mean_control",
    "vcov",
    "adjusted_for_baseline",
    "baseline_note",
    "dropped",
    "note",
)
"""Columns of :func:`estimate_effects`, in order."""


def estimate_effects(
    panel: pd.DataFrame,
    outcomes: Sequence[str],
    *,
    treatment: str = "treated",
    rel_year: str = "rel_year",
    weights: str | None = "weight",
    cluster: str | None = "person_id",
    covariates: Sequence[str] = (),
    baseline_suffix: str | None = "_pre",
    vcov: VcovType = "CR1",
    alpha: float = 0.05,
    categorical: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    ci_dist: CiDist = "normal",
) -> pd.DataFrame:
    """Effect of the treatment on each outcome in each year relative to start.

    For each outcome ``o`` and relative year ``r``: the weighted regression, on the rows
    of year ``r`` with positive weight and non-missing ``o``, of
    ``o ~ 1 + treatment + covariates + o<baseline_suffix>`` (the outcome in the year
    before start), with the matching weights and the requested covariance.

    Parameters
    ----------
    panel : pandas.DataFrame
        Long matched panel: one row per (matched unit, relative year). A control matched
        to several treated units (or cohorts) may appear several times; ``cluster``
        (the person id) ties its rows together.
    outcomes : sequence of str
        Outcome columns (numeric; ``nan`` = not observed).
    treatment, rel_year, weights, cluster : str
        Column names. ``weights=None``: unweighted; ``cluster=None``: no clustering
        (``CR1`` then equals ``HC1``).
    covariates : sequence of str
        Background characteristics (time-invariant per unit); categorical ones are
        expanded to dummies with the first level (over the whole panel) as reference.
    baseline_suffix : str or None, default "_pre"
        The baseline of outcome ``o`` is the column ``o + baseline_suffix``; it must
        exist (make it all-missing to estimate without it). ``None``: no baseline control.
    vcov : {"iid", "HC1", "HC3", "CR1", "CR1-SATT"}, default "CR1"
        Covariance type (see :func:`fit_wls`); ``CR1`` and ``CR1-SATT`` cluster on
        ``cluster``. ``CR1-SATT`` is the variance around the sample ATT of the treated
        in the cell (the treated units' error variance taken from the controls); the
        simulation study (``benchmarks/results_simulation.md``) compares the two.
    alpha : float, default 0.05
        ``1 - confidence level``.
    categorical : sequence of str, optional
        Covariates to expand to dummies whatever their dtype.
    years : sequence of int, optional
        Relative years to report. Default: every year present in the panel (rows with
        positive weight). A listed year without data gives a row of ``nan`` with a note.
    ci_dist : {"normal", "t"}, default "normal"
        Reference distribution of the interval and the p-value.

    Returns
    -------
    pandas.DataFrame
        One row per (outcome, rel_year), ordered by the position of the outcome in
        ``outcomes`` and then by ``rel_year``, with the columns :data:`EFFECT_COLUMNS`:
        ``outcome, rel_year, estimate, se, ci_low, ci_high, p, stars, n_treated,
        n_control`` (persons with positive weight and non-missing outcome)``, n_obs``
        (rows)``, n_clusters, n_missing_outcome, mean_treated, mean_control`` (weighted
        means of the outcome)``, vcov, adjusted_for_baseline, baseline_note, dropped``
        (aliased terms, comma-separated)``, note`` (why a cell is ``nan``).

    Raises
    ------
    EstimationError
        Missing columns; missing treatment, covariates, cluster ids or a partially
        missing baseline in an estimation sample (named, with counts).

    Warns
    -----
    RegevalWarning
        Once, listing the cells in which aliased terms were dropped.

    Notes
    -----
    *Baseline.* In year ``-1`` the outcome *is* its own baseline (the year before
    start), so controlling for it would fit perfectly (estimate 0, SE 0). There, and in
    any cell where the outcome equals the baseline on every row, the baseline is left out:
    the year ``-1`` row is the covariate-adjusted pre-start difference, a placebo check.
    The baseline is also left out where it is entirely missing or constant;
    ``adjusted_for_baseline`` and ``baseline_note`` say so.

    *Cells that cannot be estimated* (no data, no treated or no controls, the treatment
    aliased) give a row with ``nan`` estimates and the reason in ``note``; they never
    raise, so one empty year does not stop a pipeline.

    Each cell is an ``lm(y ~ treat + covariates + baseline, weights)`` with
    ``vcovCL(cluster = ~person)`` (Abadie & Spiess 2022; MatchIt estimating-effects
    vignette). The building blocks of a cell (design without the baseline, weights,
    cluster structure) are computed once per (year, estimation sample) and reused by the
    outcomes that share that sample.
    """
    _check_choice("vcov", vcov, VCOV_TYPES)
    _check_choice("ci_dist", ci_dist, CI_DISTS)
    _check_alpha(alpha)
    outcomes = list(outcomes)
    if len(set(outcomes)) != len(outcomes):
        raise EstimationError(f"outcomes must be unique; got {outcomes}")
    base_cols = {o: (o + baseline_suffix if baseline_suffix is not None else None) for o in outcomes}
    require_columns(
        panel, [b for b in base_cols.values() if b is not None],
        what="baseline", table="panel", error=EstimationError,
    )
    # with vcov other than CR1 the cluster column is still used to count persons
    P = _prepare_panel(
        panel, outcomes, treatment=treatment, rel_year=rel_year, weights=weights,
        cluster=cluster, covariates=covariates, categorical=categorical,
    )
    year_rows = _year_index(P.year)
    report_years = sorted(int(y) for y in years) if years is not None else P.years_present
    records: list[dict[str, Any]] = []
    warned: list[str] = []
    empty_rows = np.empty(0, dtype=np.intp)
    y_cols = {o: panel[o].to_numpy(dtype=float, na_value=np.nan) for o in outcomes}
    b_cols = {
        o: (panel[b].to_numpy(dtype=float, na_value=np.nan) if b is not None else None) for o, b in base_cols.items()
    }
    with _blas_single_thread():
        # year-major, so that only one year's designs are held in memory
        for r in report_years:
            rows = year_rows.get(r, empty_rows)
            cache = _CellCache()
            for pos, o in enumerate(outcomes):
                cell = _cell_fit(
                    P, y_cols[o], b_cols[o], rows, r, vcov=vcov, treatment=treatment,
                    baseline_name=base_cols[o] or "", cache=cache,
                )
                if cell["dropped"]:
                    warned.append(f"{o}@{r}: {cell['dropped']}")
                records.append(_effect_record(pos, o, r, cell, vcov, alpha, ci_dist))
    records.sort(key=lambda rec: (rec["_pos"], rec["rel_year"]))
    if warned:
        shown = "; ".join(warned[:10]) + (f"; ... ({len(warned) - 10} more)" if len(warned) > 10 else "")
        warnings.warn(
            f"aliased (collinear) terms dropped in {len(warned)} cell(s): {shown}", RegevalWarning, stacklevel=2
        )
    return _effects_frame(records)


def _effects_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(
        [{k: rec[k] for k in EFFECT_COLUMNS} for rec in records], columns=list(EFFECT_COLUMNS)
    )
    df["rel_year"] = df["rel_year"].astype("int64")
    for c in ("n_treated", "n_control", "n_obs", "n_missing_outcome"):
        df[c] = df[c].astype("int64")
    df["n_clusters"] = df["n_clusters"].astype("Int64")
    for c in ("estimate", "se", "ci_low", "ci_high", "p", "mean_treated", "mean_control"):
        df[c] = df[c].astype("float64")
    df["adjusted_for_baseline"] = df["adjusted_for_baseline"].astype(bool)
    for c in ("outcome", "stars", "vcov", "baseline_note", "dropped", "note"):
        df[c] = df[c].astype("str")
    return df.reset_index(drop=True)


def window_summary(
    panel: pd.DataFrame,
    outcome: str,
    *,
    years: Iterable[int] = range(0, 8),
    treatment: str = "treated",
    rel_year: str = "rel_year",
    weights: str | None = "weight",
    cluster: str | None = "person_id",
    covariates: Sequence[str] = (),
    baseline_suffix: str | None = "_pre",
    alpha: float = 0.05,
    categorical: Sequence[str] | None = None,
    ci_dist: CiDist = "normal",
) -> pd.DataFrame:
    """Average effect over a window of relative years, with a person-clustered SE.

    The estimate is the plain average over the window's years of the yearly treatment
    coefficients of :func:`estimate_effects` (same sample, covariates and baseline rule).
    Its standard error comes from the joint cluster-robust covariance of the yearly
    coefficients, clustering on the person across years.

    Parameters
    ----------
    panel : pandas.DataFrame
        The long matched panel (see :func:`estimate_effects`).
    outcome : str
        Outcome column.
    years : iterable of int, default range(0, 8)
        Relative years to average (each counts once). Years in the window without an
        estimable effect raise :class:`EstimationError` (the average would change meaning).
    treatment, rel_year, weights, cluster, covariates, baseline_suffix, categorical
        As in :func:`estimate_effects`.
    alpha : float, default 0.05
    ci_dist : {"normal", "t"}, default "normal"
        ``t`` uses ``G - 1`` degrees of freedom.

    Returns
    -------
    pandas.DataFrame
        One row: ``outcome, year_from, year_to, n_years, estimate, se, ci_low, ci_high,
        p, stars, n_treated, n_control`` (persons with at least one used row in the
        window)``, n_obs`` (person-years)``, n_clusters, vcov`` (``"CR1"``)``,
        adjusted_for_baseline`` (in every year of the window).

    Notes
    -----
    The joint covariance is that of the *stacked* regression in which every year has
    its own coefficients (all covariates interacted with year) and the errors are
    clustered by person, ``vcovCL(cluster = ~person)`` on the stacked rows:
    ``V = G/(G-1) * (N-1)/(N-K) * sum_g psi_g psi_g'`` where ``psi_g`` stacks the
    person's score contributions ``(X_t'W_tX_t)^-1 sum_i x_it w_it e_it`` over the
    years, ``N`` is the number of person-years and ``K`` the total number of
    coefficients. Yearly point estimates are identical to the year-by-year fits; only
    the small-sample factor differs slightly from each year's own CR1 factor. This
    accounts for the correlation of a person's outcomes across years, which a naive
    average of yearly SEs would ignore (Abadie & Spiess 2022 on clustering; Cameron &
    Miller 2015 on clustering across time).
    """
    _check_choice("ci_dist", ci_dist, CI_DISTS)
    _check_alpha(alpha)
    years = sorted({int(y) for y in years})
    if not years:
        raise EstimationError("years is empty; give at least one relative year for the window")
    bcol = outcome + baseline_suffix if baseline_suffix is not None else None
    require_columns(panel, [bcol], what="baseline", table="panel", error=EstimationError)
    P = _prepare_panel(
        panel, [outcome], treatment=treatment, rel_year=rel_year, weights=weights,
        cluster=cluster, covariates=covariates, categorical=categorical,
    )
    cells = _window_cells(P, panel, outcome, years, treatment=treatment, bcol=bcol)
    T = len(years)
    n_rows_total = sum(c.nobs for c in cells)
    k_total = sum(c.k for c in cells)
    ids = np.concatenate([c.ids for c in cells])
    contrib = np.concatenate([c.contrib for c in cells]) / T
    codes, G = _codes(ids)
    psi = np.bincount(codes, weights=contrib, minlength=G)
    if G > 1 and n_rows_total > k_total:
        var = G / (G - 1) * (n_rows_total - 1) / (n_rows_total - k_total) * float(np.dot(psi, psi))
    else:
        var = math.nan
    est = float(np.mean([c.estimate for c in cells]))
    se = math.sqrt(var) if var >= 0 else math.nan
    lo, hi, p = _wald(est, se, alpha, ci_dist, G - 1)
    allr = np.concatenate([c.rows for c in cells])
    clv = P.cl_values[allr] if P.cl_values is not None else None
    record = {
        "outcome": outcome,
        "year_from": years[0],
        "year_to": years[-1],
        "n_years": T,
        "estimate": est,
        "se": se,
        "ci_low": lo,
        "ci_high": hi,
        "p": p,
        "stars": stars_for(p),
        "n_treated": _n_persons(clv, P.t[allr] == 1),
        "n_control": _n_persons(clv, P.t[allr] == 0),
        "n_obs": int(n_rows_total),
        "n_clusters": int(G),
        "vcov": "CR1",
        "adjusted_for_baseline": all(c.adjusted for c in cells),
    }
    return pd.DataFrame([record])


MEANS_COLUMNS: tuple[str, ...] = (
    "outcome", "rel_year", "group", "mean", "se", "ci_low", "ci_high", "n", "n_obs",
)
"""Columns of :func:`group_means`, in order."""


def group_means(
    panel: pd.DataFrame,
    outcomes: Sequence[str],
    *,
    treatment: str = "treated",
    rel_year: str = "rel_year",
    weights: str | None = "weight",
    cluster: str | None = "person_id",
    alpha: float = 0.05,
    years: Sequence[int] | None = None,
    ci_dist: CiDist = "normal",
) -> pd.DataFrame:
    """Weighted outcome levels per (outcome, relative year, group) with cluster-robust CIs.

    Parameters
    ----------
    panel : pandas.DataFrame
        Long matched panel (see :func:`estimate_effects`).
    outcomes : sequence of str
        Outcome columns.
    treatment, rel_year, weights, cluster : str
        Column names.
    alpha : float, default 0.05
    years : sequence of int, optional
        Years to report (default: every year present).
    ci_dist : {"normal", "t"}, default "normal"

    Returns
    -------
    pandas.DataFrame
        Columns :data:`MEANS_COLUMNS`: ``outcome, rel_year, group`` (``"treated"`` then
        ``"control"``)``, mean`` (weighted)``, se, ci_low, ci_high, n`` (persons with
        positive weight and non-missing outcome)``, n_obs`` (rows). ``se`` is ``nan``
        with fewer than two clusters; ``mean`` is ``nan`` with no rows.

    Notes
    -----
    ``se`` is the CR1 standard error of the intercept in the weighted regression of the
    outcome on a constant, clustered by person: with ``u_g = sum_{i in g} w_i (y_i -
    mean)``, ``se^2 = G/(G-1) * sum_g u_g^2 / (sum_i w_i)^2`` (the ``(n-1)/(n-k)``
    factor is 1 for ``k = 1``). This accounts for controls that appear several times.
    """
    _check_choice("ci_dist", ci_dist, CI_DISTS)
    _check_alpha(alpha)
    outcomes = list(outcomes)
    P = _prepare_panel(
        panel, outcomes, treatment=treatment, rel_year=rel_year, weights=weights,
        cluster=cluster, covariates=(), categorical=None,
    )
    year_rows = _year_index(P.year)
    report_years = sorted(int(y) for y in years) if years is not None else P.years_present
    records = []
    for o in outcomes:
        y_all = panel[o].to_numpy(dtype=float, na_value=np.nan)
        for r in report_years:
            rows = year_rows.get(r, np.empty(0, dtype=np.intp))
            for group, gv in (("treated", 1.0), ("control", 0.0)):
                sel = rows[(P.w[rows] > 0) & ~np.isnan(y_all[rows]) & (P.t[rows] == gv)]
                records.append(
                    {"outcome": o, "rel_year": r, "group": group, **_group_mean(P, y_all, sel, alpha, ci_dist)}
                )
    df = pd.DataFrame.from_records(records, columns=list(MEANS_COLUMNS))
    df["rel_year"] = df["rel_year"].astype("int64")
    df["n"] = df["n"].astype("int64")
    df["n_obs"] = df["n_obs"].astype("int64")
    for c in ("mean", "se", "ci_low", "ci_high"):
        df[c] = df[c].astype("float64")
    for c in ("outcome", "group"):
        df[c] = df[c].astype("str")
    return df
