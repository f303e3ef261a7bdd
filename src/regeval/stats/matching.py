"""Nearest-neighbour matching on a scalar distance (propensity score or its logit).

Reproduces MatchIt's ``method = "nearest"`` for a vector distance (``nn_matchC_vec``
in MatchIt 4.7): k:1 matching with or without replacement, exact matching within
strata, a caliper in standard deviations of the distance, the same greedy order
without replacement, MatchIt's choice among exactly equally distant controls (as
MatchIt does it when built with GNU libstdc++, i.e. R on Linux), and MatchIt's ATT
weights.

With replacement each treated unit independently takes its k nearest controls. The
search never builds a treated-by-control distance matrix: units are sorted once per
stratum, each treated unit's position among the sorted controls is found by binary
search, and only the k controls on either side are compared (memory and time linear
in the number of controls). On large data, controls that cannot be among any treated
unit's k nearest (farther than a bound taken from a subsample) are left out before the
sort, which does not change the result. Only for the treated units whose nearest
candidates tie exactly is MatchIt's search then replayed step by step, to pick the same
one of the tied controls. Without replacement the matching is greedy, in rounds, as
in MatchIt; the next free control on either side is found with path-compressed skip
links.

See ``docs/matching.md`` for the choices and their reasons.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from regeval.stats import _cxxsort
from regeval.errors import MatchingError, RegevalWarning

__all__ = ["MatchResult", "match_nearest", "MOrder", "CaliperScale", "Ties", "UNMATCHED_REASONS"]

MOrder = Literal["largest", "smallest", "data", "random"]
CaliperScale = Literal["sd", "absolute"]
#: Rule for choosing among controls at exactly the same distance (see :func:`match_nearest`).
Ties = Literal["matchit", "scan"]

REASON_NO_CONTROLS = "no controls in stratum"
REASON_FEWER = "fewer than k controls available"
REASON_CALIPER = "outside caliper"
REASON_FEWER_CALIPER = "fewer than k controls within caliper"
#: Every value the ``reason`` column of :attr:`MatchResult.unmatched` can take.
UNMATCHED_REASONS: tuple[str, ...] = (
    REASON_NO_CONTROLS,
    REASON_FEWER,
    REASON_CALIPER,
    REASON_FEWER_CALIPER,
)

#: With at least this many potential controls, matching with replacement first leaves
#: out controls that cannot be among any k nearest (see :func:`_candidate_units`).
_FILTER_MIN_CONTROLS = 50_000
#: Above this many units the per-stratum sorts run on a thread pool.
_PARALLEL_SORT_MIN = 100_000


@dataclass(frozen=True, eq=False)
class MatchResult:
    """Result of :func:`match_nearest`.

    Attributes
    ----------
    pairs : pandas.DataFrame
        One row per (treated, control) match with columns ``treated`` and
        ``control`` (index labels of the input data), ``rank`` (1 = nearest),
        ``distance`` (absolute difference in the matching distance) and
        ``subclass`` (1, 2, ... numbering matched treated units in data order).
        Sorted by subclass, then rank.
    weights : pandas.Series
        MatchIt's ATT matching weights, indexed like the input data; 0 for units
        not matched.
    unmatched : pandas.DataFrame
        Treated units that got fewer than ``k`` controls: ``treated`` (label),
        ``reason`` (one of :data:`UNMATCHED_REASONS`) and ``n_matched``. Units with
        ``n_matched > 0`` are matched (with fewer controls) and kept.
    n_treated : int
        Treated units in the data.
    n_treated_matched : int
        Treated units with at least one control.
    n_controls_unique : int
        Distinct controls used.
    ess_control : float
        Kish's effective sample size of the control weights, (sum w)^2 / sum w^2.
    max_control_reuse : int
        Largest number of treated units sharing one control.
    n_control : int
        Potential controls in the data.
    k : int
        Controls requested per treated unit.
    replace : bool
        Whether controls could be reused.
    caliper : float or None
        Caliper on the distance scale (after converting from SD units).
    m_order : str
        Matching order used (only matters without replacement).
    ties : str
        Rule used for controls at exactly the same distance (``"matchit"`` or
        ``"scan"``, see :func:`match_nearest`).
    warnings : tuple of str
        Messages of the warnings emitted.
    treatment : str
        Name of the treatment column.
    """

    pairs: pd.DataFrame
    weights: pd.Series
    unmatched: pd.DataFrame
    n_treated: int
    n_treated_matched: int
    n_controls_unique: int
    ess_control: float
    max_control_reuse: int
    n_control: int = 0
    k: int = 1
    replace: bool = True
    caliper: float | None = None
    m_order: str = "largest"
    ties: str = "matchit"
    warnings: tuple[str, ...] = ()
    treatment: str = ""

    @property
    def n_treated_full(self) -> int:
        """Treated units that got all ``k`` controls."""
        return self.n_treated - len(self.unmatched)

    def summary(self) -> dict[str, float | int | None]:
        """Return the counts as a flat dict (aggregate figures only)."""
        return {
            "n_treated": self.n_treated,
            "n_control": self.n_control,
            "n_treated_matched": self.n_treated_matched,
            "n_treated_full": self.n_treated_full,
            "n_controls_unique": self.n_controls_unique,
            "ess_control": self.ess_control,
            "max_control_reuse": self.max_control_reuse,
            "k": self.k,
            "caliper": self.caliper,
        }

    def matched_data(
        self,
        data: pd.DataFrame,
        *,
        weights_name: str = "weights",
        subclass_name: str = "subclass",
    ) -> pd.DataFrame:
        """Return the matched rows of ``data`` with their weights and subclass.

        The analogue of MatchIt's ``match.data()``: rows with weight > 0 in data
        order, plus a weights column and a subclass column. Without replacement
        every matched unit belongs to one subclass (its pair or set). With
        replacement a control may serve several treated units, so only treated
        units get a subclass and controls get ``<NA>`` (MatchIt omits the column
        then); use :meth:`matched_pairs` for pair-level analyses.

        Parameters
        ----------
        data : pandas.DataFrame
            The data passed to :func:`match_nearest` (same index).
        weights_name, subclass_name : str
            Names of the added columns; they must not exist in ``data``.

        Returns
        -------
        pandas.DataFrame
        """
        self._check_data(data, (weights_name, subclass_name))
        keep = self.weights.to_numpy() > 0
        out = data.loc[keep].copy()
        out[weights_name] = self.weights.to_numpy()[keep]
        sub = pd.Series(pd.NA, index=data.index, dtype="Int64")
        first = self.pairs.drop_duplicates("treated")
        sub.loc[first["treated"].to_numpy()] = first["subclass"].to_numpy()
        if not self.replace:
            sub.loc[self.pairs["control"].to_numpy()] = self.pairs["subclass"].to_numpy()
        out[subclass_name] = sub.to_numpy()[keep]
        return out

    def matched_pairs(
        self,
        data: pd.DataFrame,
        *,
        weights_name: str = "weights",
        subclass_name: str = "subclass",
        unit_name: str = "unit",
    ) -> pd.DataFrame:
        """Return one row per subclass member, the analogue of MatchIt's ``get_matches()``.

        Each matched treated unit appears once with weight 1 and each of its
        controls once with weight ``1 / n_i`` (``n_i`` = its number of controls);
        a control matched to several treated units appears several times. The
        column ``unit`` holds the original index label (for clustering on unit).

        Parameters
        ----------
        data : pandas.DataFrame
            The data passed to :func:`match_nearest` (same index).
        weights_name, subclass_name, unit_name : str
            Names of the added columns; they must not exist in ``data``.

        Returns
        -------
        pandas.DataFrame
            With a fresh RangeIndex, ordered by subclass, treated first.
        """
        self._check_data(data, (weights_name, subclass_name, unit_name))
        p = self.pairs
        n_i = p.groupby("subclass")["control"].transform("size").to_numpy()
        tr = p.drop_duplicates("subclass")
        labels = np.concatenate([tr["treated"].to_numpy(dtype=object), p["control"].to_numpy(dtype=object)])
        sub = np.concatenate([tr["subclass"].to_numpy(), p["subclass"].to_numpy()])
        w = np.concatenate([np.ones(len(tr)), 1.0 / n_i])
        order_key = np.concatenate([np.zeros(len(tr)), p["rank"].to_numpy()])
        idx = np.lexsort((order_key, sub))
        labels, sub, w = labels[idx], sub[idx], w[idx]
        out = data.loc[list(labels)].reset_index(drop=True)
        out[unit_name] = labels
        out[weights_name] = w
        out[subclass_name] = sub
        return out

    def _check_data(self, data: pd.DataFrame, new_cols: Sequence[str]) -> None:
        if len(data) != len(self.weights) or not data.index.equals(self.weights.index):
            raise MatchingError(
                "data does not have the rows (index) the matching was done on; pass the "
                "same DataFrame that was given to match_nearest"
            )
        clash = [c for c in new_cols if c in data.columns]
        if clash:
            raise MatchingError(
                f"data already has column(s) {clash}; choose other names with "
                "weights_name= / subclass_name= / unit_name="
            )


# --------------------------------------------------------------------------- helpers


def _validate_choice(name: str, value: object, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise MatchingError(f"{name}={value!r} is not valid; valid values are {list(allowed)}")


def _treatment_mask(data: pd.DataFrame, treatment: str) -> np.ndarray:
    if treatment not in data.columns:
        raise MatchingError(f"treatment column {treatment!r} not in data")
    s = data[treatment]
    if s.isna().any():
        raise MatchingError(f"treatment column {treatment!r} has {int(s.isna().sum())} missing value(s)")
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=bool)
    if not pd.api.types.is_numeric_dtype(s.dtype):
        raise MatchingError(f"treatment column {treatment!r} must be 0/1 or bool, has dtype {s.dtype}")
    v = s.to_numpy(dtype=np.float64)
    if not np.isin(v, (0.0, 1.0)).all():
        raise MatchingError(f"treatment column {treatment!r} must hold only 0/1 (or bool)")
    return v == 1.0


def _distance_vector(data: pd.DataFrame, distance: str | np.ndarray | pd.Series) -> np.ndarray:
    if isinstance(distance, str):
        if distance not in data.columns:
            raise MatchingError(
                f"distance column {distance!r} not in data; pass a column name or an array "
                "with one value per row"
            )
        d = data[distance].to_numpy(dtype=np.float64, na_value=np.nan)
    elif isinstance(distance, pd.Series):
        if not distance.index.equals(data.index):
            distance = distance.reindex(data.index)
        d = distance.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        d = np.asarray(distance, dtype=np.float64)
        if d.ndim != 1 or len(d) != len(data):
            raise MatchingError(
                f"distance array has shape {d.shape}; it needs one value per row of data "
                f"({len(data)})"
            )
    bad = ~np.isfinite(d)
    if bad.any():
        raise MatchingError(
            f"distance has {int(bad.sum())} missing or non-finite value(s); every treated "
            "unit and potential control needs a score"
        )
    return d


def _strata_codes(data: pd.DataFrame, exact: Sequence[str] | None) -> tuple[np.ndarray, list[tuple]]:
    if not exact:
        return np.zeros(len(data), dtype=np.int16), [()]
    missing = [c for c in exact if c not in data.columns]
    if missing:
        raise MatchingError(f"exact column(s) {missing} not in data")
    for c in exact:
        n_na = int(data[c].isna().sum())
        if n_na:
            raise MatchingError(
                f"exact column {c!r} has {n_na} missing value(s); give them a level of their "
                "own or drop the rows"
            )
    if len(exact) == 1:
        codes, uniques = pd.factorize(data[exact[0]], sort=True)
        labels = [(u,) for u in uniques]
    else:
        grouped = data.groupby(list(exact), sort=True, observed=True)
        codes = grouped.ngroup().to_numpy()
        labels = [k if isinstance(k, tuple) else (k,) for k in grouped.groups.keys()]
    dtype = np.int16 if len(labels) < np.iinfo(np.int16).max else np.int64
    return codes.astype(dtype), labels


def _sort_units(d: np.ndarray, codes: np.ndarray, n_strata: int) -> np.ndarray:
    """Row indices sorted by (stratum, distance, row number); stable throughout."""
    by_stratum = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n_strata))])
    out = np.empty_like(by_stratum)

    def sort_one(s: int) -> None:
        a, b = bounds[s], bounds[s + 1]
        sub = by_stratum[a:b]
        out[a:b] = sub[np.argsort(d[sub], kind="stable")]

    if len(d) >= _PARALLEL_SORT_MIN and n_strata > 1:
        workers = min(os.cpu_count() or 1, n_strata)
        with ThreadPoolExecutor(max_workers=workers) as ex:
            list(ex.map(sort_one, range(n_strata)))
    else:
        for s in range(n_strata):
            sort_one(s)
    return out


def _candidate_units(
    d: np.ndarray, t: np.ndarray, codes: np.ndarray, n_strata: int, k: int
) -> np.ndarray | None:
    """Rows that can matter for k-nearest matching with replacement, or None for all.

    For each treated unit, the distance to its k-th nearest control in a systematic
    subsample of the controls (every s-th in row order, same stratum) is an upper
    bound ``U`` on the distance to its k-th nearest control overall (a subset has no
    closer k-th neighbour). Only controls within ``U`` of some treated unit of their
    stratum can be matched or tie with a match, so the others are left out before the
    full sort. Every unit between a treated unit and such a control in the sorted
    order is itself within ``U``, so positions used by the scan-order tie rule are
    unchanged and the result is identical to matching on all rows (the brute-force
    tests check it). MatchIt's tie rule counts units of every stratum and can look at
    candidates beyond ``U``, so its replay (:func:`_matchit_ties_with_replacement`)
    goes back to all rows for the few treated units at a tie.
    The subsample rate ``sqrt(2 k n_t / n_c)`` balances its own sort against the
    number of controls kept.
    """
    ctrl = np.flatnonzero(~t)
    n_c = len(ctrl)
    n_t = len(t) - n_c
    if n_c < _FILTER_MIN_CONTROLS or n_t == 0:
        return None
    rate = float(np.sqrt(2.0 * k * n_t / n_c))
    if rate > 0.5:
        return None
    step = int(1.0 / rate)
    tr = np.flatnonzero(t)

    def grouped(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = codes[rows]
        return rows[np.argsort(c, kind="stable")], np.concatenate(
            [[0], np.cumsum(np.bincount(c, minlength=n_strata))]
        )

    tr_g, tr_b = grouped(tr)
    sub_g, sub_b = grouped(ctrl[::step])
    ctrl_g, ctrl_b = grouped(ctrl)
    keep = t.copy()
    offs = np.arange(-k, k)
    for s in range(n_strata):
        if tr_b[s] == tr_b[s + 1]:
            continue  # no treated unit: these controls can never be matched
        cs = ctrl_g[ctrl_b[s] : ctrl_b[s + 1]]
        sv = np.sort(d[sub_g[sub_b[s] : sub_b[s + 1]]])
        if len(sv) < k:
            keep[cs] = True
            continue
        xt = d[tr_g[tr_b[s] : tr_b[s + 1]]]
        win = np.searchsorted(sv, xt)[:, None] + offs
        ok = (win >= 0) & (win < len(sv))
        diff = np.where(ok, np.abs(sv[np.clip(win, 0, len(sv) - 1)] - xt[:, None]), np.inf)
        bound = np.partition(diff, k - 1, axis=1)[:, k - 1]
        bound = bound * (1.0 + 1e-9) + 1e-12 * np.maximum(1.0, np.abs(xt))  # rounding slack
        lo = xt - bound
        hi = xt + bound
        o = np.argsort(lo)
        lo, hi = lo[o], np.maximum.accumulate(hi[o])
        starts = np.flatnonzero(np.r_[True, lo[1:] > hi[:-1]])
        m_lo = lo[starts]
        m_hi = hi[np.r_[starts[1:] - 1, len(lo) - 1]]
        dc = d[cs]
        j = np.searchsorted(m_lo, dc, side="right") - 1
        inside = (j >= 0) & (dc <= m_hi[np.maximum(j, 0)])
        keep[cs[inside]] = True
    return np.flatnonzero(keep)


def _match_with_replacement(
    d_t: np.ndarray,
    p_t: np.ndarray,
    nb: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    ctrl_pos: np.ndarray,
    ctrl_d: np.ndarray,
    k: int,
    caliper: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised k-nearest search in a 2k window around each treated unit.

    Returns (control index into the sorted-control arrays, |difference|, valid mask),
    each of shape (n_treated, k), ordered nearest first (equal differences in scan
    order, see ``ties="scan"``), and a boolean vector marking the treated units whose
    k+1 nearest candidates include two at exactly the same difference: only for these
    can the rule for ties change the matched set or its order.
    """
    n_t = len(d_t)
    if n_t == 0 or len(ctrl_pos) == 0:
        empty = np.zeros((n_t, k))
        return empty.astype(np.int64), empty, empty.astype(bool), np.zeros(n_t, dtype=bool)
    offs = np.arange(-k, k)
    win = nb[:, None] + offs[None, :]
    valid = (win >= lo[:, None]) & (win < hi[:, None])
    jj = np.clip(win, 0, len(ctrl_pos) - 1)
    cpos = ctrl_pos[jj]
    diff = np.abs(ctrl_d[jj] - d_t[:, None])
    left = win < nb[:, None]
    # the order in which MatchIt's outward scan meets each candidate (left first)
    scan = np.where(left, 2 * (p_t[:, None] - cpos) - 1, 2 * (cpos - p_t[:, None]))
    if caliper is not None:
        valid &= diff <= caliper
    diff_key = np.where(valid, diff, np.inf)
    scan_key = np.where(valid, scan, np.iinfo(np.int64).max)
    rows = np.repeat(np.arange(n_t), 2 * k)
    order = np.lexsort((scan_key.ravel(), diff_key.ravel(), rows)).reshape(n_t, 2 * k)
    order_cols = order - (np.arange(n_t) * 2 * k)[:, None]
    take = np.take_along_axis
    # a tie among the k+1 nearest (the window holds 2k >= k+1 candidates)
    first = take(diff_key, order_cols[:, : k + 1], axis=1)
    tied = ((first[:, 1:] == first[:, :-1]) & np.isfinite(first[:, 1:])).any(axis=1)
    order_cols = order_cols[:, :k]
    return (
        take(jj, order_cols, axis=1),
        take(diff, order_cols, axis=1),
        take(valid, order_cols, axis=1),
        tied,
    )


def _matchit_ties_with_replacement(
    flagged: np.ndarray,
    d: np.ndarray,
    t: np.ndarray,
    codes: np.ndarray,
    n_strata: int,
    tr_rows: np.ndarray,
    p_t: np.ndarray,
    nb: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    ctrl_pos: np.ndarray,
    ctrl_rows: np.ndarray,
    ctrl_d: np.ndarray,
    filtered: bool,
    k: int,
    caliper: float | None,
) -> list[tuple[list[int], list[float]]]:
    """MatchIt's controls, in MatchIt's order, for the treated units ``flagged``.

    A step-by-step emulation of MatchIt 4.7.1's search for one treated unit with
    replacement (``find_control_vec`` called with ``ratio = k``), for the treated units
    whose nearest candidates tie exactly (for all others the k nearest are unambiguous
    and the vectorised search has them already):

    * All units (every stratum, treated and controls) are in R's stable
      ``order(distance)``, i.e. by (distance, row). From the treated unit's position the
      scan steps alternately one position to the left and one to the right, left first;
      a step onto a treated unit or a unit of another stratum finds nothing but counts.
      So the control ``a`` positions to the left is met at step ``2a - 1`` and the one
      ``b`` positions to the right at step ``2b``.
    * Each side collects at most k controls of the unit's stratum and stops at the
      first control beyond the caliper, or at one with k collected candidates strictly
      closer.
    * More than k candidates: the first k after ``std::partial_sort``; otherwise the
      candidates as collected if already in order, else after ``std::sort`` (both as in
      GNU libstdc++, :mod:`regeval.stats._cxxsort`).

    ``p_t, nb, lo, hi, ctrl_pos, ctrl_rows, ctrl_d`` are the vectorised search's arrays:
    positions in the (stratum, distance, row) order of the units it sorted. With one
    stratum and no controls left out these are the global positions, and they are
    used directly. Otherwise the global order is built for the units whose distance
    lies between a flagged unit's k-th nearest control of its stratum on the left and
    on the right (a union of intervals of the distance, so every unit between two of
    them in the global order is one of them too and differences of positions are
    exact). When far controls were left out (``filtered``), those k-th nearest are
    taken from the sorted scores of all controls of the stratum, since a control left
    out can still be collected by MatchIt's scan (and so change the heap) although it
    is never among the k nearest.

    Returns, per flagged unit, the data rows of its controls and their distances.
    """
    f = np.asarray(flagged)
    rows_t = tr_rows[f]
    dt = d[rows_t]
    if not filtered and n_strata == 1:
        c_pos, c_rows = ctrl_pos, ctrl_rows
        at, first_c, end_c, pt = nb[f], lo[f], hi[f], p_t[f]
    else:
        span_lo = dt.copy()
        span_hi = dt.copy()
        if filtered:
            # the k-th nearest of *all* controls of the stratum on each side, not counting
            # the controls with the treated unit's own score (they may be on either side)
            code_f = codes[rows_t]
            for s in np.unique(code_f):
                sv = np.sort(d[~t & (codes == s)])
                if len(sv) == 0:
                    continue
                in_s = np.flatnonzero(code_f == s)
                x = dt[in_s]
                i_lo = np.maximum(np.searchsorted(sv, x, side="left") - k, 0)
                i_hi = np.minimum(np.searchsorted(sv, x, side="right") + k - 1, len(sv) - 1)
                span_lo[in_s] = sv[i_lo]
                span_hi[in_s] = sv[i_hi]
        else:
            # all controls are in the search's arrays: the k-th on each side, or the last
            nb_f, lo_f, hi_f = nb[f], lo[f], hi[f]
            has_l = nb_f > lo_f
            has_r = hi_f > nb_f
            span_lo[has_l] = ctrl_d[np.maximum(nb_f - k, lo_f)[has_l]]
            span_hi[has_r] = ctrl_d[np.minimum(nb_f + k, hi_f)[has_r] - 1]
        span_lo = np.minimum(span_lo, dt)
        span_hi = np.maximum(span_hi, dt)
        # every unit whose distance lies in the union of the spans, in (distance, row) order
        o = np.argsort(span_lo, kind="stable")
        ilo, ihi = span_lo[o], np.maximum.accumulate(span_hi[o])
        starts = np.flatnonzero(np.r_[True, ilo[1:] > ihi[:-1]])
        m_lo = ilo[starts]
        m_hi = ihi[np.r_[starts[1:] - 1, len(ilo) - 1]]
        j = np.searchsorted(m_lo, d, side="right") - 1
        rel = np.flatnonzero((j >= 0) & (d <= m_hi[np.maximum(j, 0)]))
        ordered = rel[np.argsort(d[rel], kind="stable")]
        # the flagged units' positions in that order
        by_row = np.argsort(rows_t)
        is_f = np.zeros(len(d), dtype=bool)
        is_f[rows_t] = True
        fpos = np.flatnonzero(is_f[ordered])  # in the order of ordered[fpos]
        pt = np.empty(len(f), dtype=np.int64)
        pt[by_row[np.searchsorted(rows_t[by_row], ordered[fpos])]] = fpos
        # the controls among them, by stratum, each stratum in that order
        c_pos = np.flatnonzero(~t[ordered])
        c_code = codes[ordered[c_pos]]
        g = np.argsort(c_code, kind="stable")
        c_pos, c_code = c_pos[g], c_code[g]
        c_rows = ordered[c_pos]
        cb = np.concatenate([[0], np.cumsum(np.bincount(c_code, minlength=n_strata))])
        width = len(ordered) + 1
        s_t = codes[rows_t].astype(np.int64)
        at = np.searchsorted(c_code.astype(np.int64) * width + c_pos, s_t * width + pt)
        first_c, end_c = cb[s_t], cb[s_t + 1]

    # the k controls of the stratum on either side (window columns 0..k-1 left, nearest
    # first; k..2k-1 right, nearest first)
    offs = np.r_[-1 - np.arange(k), np.arange(k)]
    win = at[:, None] + offs[None, :]
    ok = (win >= first_c[:, None]) & (win < end_c[:, None])
    win = np.where(ok, win, 0)
    step = np.where(offs < 0, 2 * (pt[:, None] - c_pos[win]) - 1, 2 * (c_pos[win] - pt[:, None]))
    dist = np.abs(dt[:, None] - d[c_rows[win]])
    w_rows = c_rows[win]

    cal = np.inf if caliper is None else float(caliper)
    out: list[tuple[list[int], list[float]]] = []
    for ok_i, step_i, dist_i, rows_i in zip(ok.tolist(), step.tolist(), dist.tolist(), w_rows.tolist()):
        cand = sorted((step_i[c], c) for c in range(2 * k) if ok_i[c])
        got_d: list[float] = []
        got_c: list[int] = []
        stop = [False, False]  # indexed by step parity: 0 right, 1 left
        n_side = [0, 0]
        for st, c in cand:
            side = st & 1
            if stop[side]:
                continue
            dc = dist_i[c]
            if dc > cal:
                stop[side] = True
                continue
            if len(got_d) >= k and sum(1 for g_ in got_d if g_ < dc) >= k:
                stop[side] = True
                continue
            got_d.append(dc)
            got_c.append(c)
            n_side[side] += 1
            if n_side[side] == k:
                stop[side] = True
        m = len(got_d)
        ind = list(range(m))
        if m > k:
            _cxxsort.partial_sort(ind, got_d, k)
            ind = ind[:k]
        elif m > 1 and any(got_d[i + 1] < got_d[i] for i in range(m - 1)):
            _cxxsort.sort(ind, got_d)
        out.append(([rows_i[got_c[i]] for i in ind], [got_d[i] for i in ind]))
    return out


def _match_without_replacement(
    d_t: np.ndarray,
    p_t: np.ndarray,
    nb: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    ctrl_pos: np.ndarray,
    ctrl_d: np.ndarray,
    k: int,
    caliper: float | None,
    order: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy matching in rounds (MatchIt's algorithm for ``reuse.max = 1``).

    In round r = 1..k every treated unit still eligible, in ``order``, takes the
    nearest control not yet used. A unit that finds none in round 1 stays unmatched.
    At equal distances the candidate the outward scan meets first wins; ``p_t`` and
    ``ctrl_pos`` are the positions the scan counts (in the order of all units for
    MatchIt's rule, within the stratum for ``ties="scan"``).
    """
    n_t = len(d_t)
    n_c = len(ctrl_pos)
    out_j = np.zeros((n_t, k), dtype=np.int64)
    out_d = np.zeros((n_t, k))
    out_v = np.zeros((n_t, k), dtype=bool)
    # skip links over used controls; sentinels -1 and n_c
    left_link = list(range(n_c))
    right_link = list(range(n_c))
    used = [False] * n_c
    cpos = ctrl_pos.tolist()
    cd = ctrl_d.tolist()

    def find_left(j: int) -> int:
        root = j
        while root >= 0 and used[root]:
            root = left_link[root]
        while j >= 0 and used[j] and left_link[j] != root:
            left_link[j], j = root, left_link[j]
        return root

    def find_right(j: int) -> int:
        root = j
        while root < n_c and used[root]:
            root = right_link[root]
        while j < n_c and used[j] and right_link[j] != root:
            right_link[j], j = root, right_link[j]
        return root

    eligible = [True] * n_t
    iil = p_t.tolist()
    iir = p_t.tolist()
    dt = d_t.tolist()
    nbl = nb.tolist()
    lol = lo.tolist()
    hil = hi.tolist()
    cal = np.inf if caliper is None else float(caliper)
    order_l = order.tolist()
    for r in range(k):
        for i in order_l:
            if not eligible[i]:
                continue
            jl = find_left(nbl[i] - 1) if nbl[i] - 1 >= 0 else -1
            jr = find_right(nbl[i]) if nbl[i] < n_c else n_c
            cand = []
            if jl >= lol[i]:
                dl = abs(cd[jl] - dt[i])
                if dl <= cal:
                    cand.append((dl, 2 * (iil[i] - cpos[jl]) - 1, jl))
            if jr < hil[i]:
                dr = abs(cd[jr] - dt[i])
                if dr <= cal:
                    cand.append((dr, 2 * (cpos[jr] - iir[i]), jr))
            if not cand:
                if r == 0:
                    eligible[i] = False
                continue
            dist, _, j = min(cand)
            out_j[i, r] = j
            out_d[i, r] = dist
            out_v[i, r] = True
            used[j] = True
            left_link[j] = j - 1
            right_link[j] = j + 1
            if cpos[j] < iil[i]:
                iil[i] = cpos[j]
            if cpos[j] > iir[i]:
                iir[i] = cpos[j]
    return out_j, out_d, out_v


# --------------------------------------------------------------------------- public API


def match_nearest(
    data: pd.DataFrame,
    treatment: str,
    distance: str | np.ndarray | pd.Series,
    *,
    k: int = 10,
    replace: bool = True,
    exact: Sequence[str] | None = None,
    caliper: float | None = None,
    caliper_scale: CaliperScale = "sd",
    m_order: MOrder = "largest",
    seed: int | None = None,
    ties: Ties = "matchit",
) -> MatchResult:
    """Match each treated unit to its ``k`` nearest controls on a scalar distance.

    Parameters
    ----------
    data : pandas.DataFrame
        Treated units and potential controls, one row each, with a unique index
        (its labels identify units in the result).
    treatment : str
        Column with 1/True for treated and 0/False for potential controls.
    distance : str or array-like
        Column name, array or Series (aligned with ``data``) holding the value to
        match on: usually the propensity score or its logit.
    k : int, default 10
        Controls per treated unit (MatchIt's ``ratio``).
    replace : bool, default True
        Whether a control may be matched to several treated units.
    exact : sequence of str, optional
        Columns to match exactly on: treated units only meet controls with the
        same values (e.g. cohort year).
    caliper : float, optional
        Largest allowed distance difference; pairs further apart are not made.
    caliper_scale : {"sd", "absolute"}, default "sd"
        ``"sd"``: ``caliper`` is in standard deviations of ``distance`` over all
        units (MatchIt's ``std.caliper = TRUE``); ``"absolute"``: on the
        distance's own scale.
    m_order : {"largest", "smallest", "data", "random"}, default "largest"
        Order in which treated units pick controls when ``replace=False``
        (largest distance first is MatchIt's default for a propensity score).
        Has no effect with replacement.
    seed : int, optional
        Seed for ``m_order="random"``.
    ties : {"matchit", "scan"}, default "matchit"
        Which of several controls at exactly the same distance is taken (and the
        order of equally distant controls in ``pairs``). ``"matchit"``: MatchIt
        4.7.1's choice as built with GNU libstdc++ (R on Linux), replayed exactly
        (see Notes). ``"scan"``: the control fewer positions away from the treated
        unit in the (stratum, distance, row) order, the lower side first at equal
        steps; deterministic and independent of any C++ library, but not always
        MatchIt's choice. Distances and weights differ between the two only where
        distances tie exactly.

    Returns
    -------
    MatchResult
        Pairs, MatchIt's ATT weights, unmatched treated units and counts.

    Raises
    ------
    MatchingError
        On invalid arguments (the message lists the valid values), missing or
        non-finite distances, missing exact values, a non-unique index, or when no
        treated unit can be matched at all.

    Warns
    -----
    RegevalWarning
        When some treated units get fewer than ``k`` controls (none in their
        stratum, too few available, or too few within the caliper), or when an
        option has no effect.

    Notes
    -----
    The algorithm is MatchIt's nearest-neighbour matching on a vector distance
    (Ho, Imai, King & Stuart 2011; ``nn_matchC_vec`` in MatchIt 4.7):

    * With replacement every treated unit takes its ``k`` nearest controls
      independently. Without replacement matching is greedy in rounds: in round
      r every treated unit, in ``m_order``, takes the nearest control still free;
      a unit with no control within reach in round 1 stays unmatched.
    * Ties (``ties="matchit"``). MatchIt orders all units (every stratum, treated
      and controls) by distance, ties by row (R's stable ``order()``), and scans
      outward from the treated unit alternately one position left and one right,
      left first, collecting at most ``k`` controls of the unit's stratum per side.
      With replacement it keeps the ``k`` closest collected candidates with C++
      ``std::partial_sort`` (or orders up to ``k`` with ``std::sort``); in GNU
      libstdc++ that is a heap selection which does not keep equally distant
      candidates in the order found, so which of them MatchIt keeps is the heap's
      choice. Here that search and libstdc++'s algorithms (:mod:`regeval.stats._cxxsort`)
      are replayed for exactly the treated units with a tie among their ``k + 1``
      nearest candidates. Without replacement each pick takes one control, and the
      candidate the scan meets first wins (counting positions over all strata).
      MatchIt built with another C++ library (libc++ on macOS) may choose otherwise.
    * The caliper applies to ``|distance_t - distance_c|``; with
      ``caliper_scale="sd"`` it is ``caliper * sd(distance)`` over all units
      (Austin 2011 recommends 0.2 SD of the logit of the score).
    * ATT weights (MatchIt's ``weights.matrix``): matched treated 1; control j gets
      the sum over treated units i it is matched to of ``1 / n_i``; control
      weights are then scaled to sum to the number of distinct matched controls.
    """
    if not isinstance(data, pd.DataFrame):
        raise MatchingError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise MatchingError(f"k={k!r} is not valid; k must be a positive integer")
    k = int(k)
    if not isinstance(replace, (bool, np.bool_)):
        raise MatchingError(f"replace={replace!r} is not valid; valid values are [True, False]")
    _validate_choice("caliper_scale", caliper_scale, get_args(CaliperScale))
    _validate_choice("m_order", m_order, get_args(MOrder))
    _validate_choice("ties", ties, get_args(Ties))
    if caliper is not None:
        if isinstance(caliper, bool) or not isinstance(caliper, (int, float, np.floating, np.integer)):
            raise MatchingError(f"caliper={caliper!r} is not valid; give a positive number or None")
        if not (np.isfinite(caliper) and caliper > 0):
            raise MatchingError(f"caliper={caliper!r} is not valid; give a positive number or None")
    if not data.index.is_unique:
        raise MatchingError(
            "data index has duplicate labels; matches are reported by index label, so "
            "reset or deduplicate the index first"
        )
    if isinstance(exact, str):
        exact = [exact]
    msgs: list[str] = []
    if replace and m_order != "largest":
        msgs.append(f"m_order={m_order!r} has no effect with replace=True")
    if seed is not None and (replace or m_order != "random"):
        msgs.append("seed has no effect unless replace=False and m_order='random'")

    t = _treatment_mask(data, treatment)
    d = _distance_vector(data, distance)
    codes, strata_labels = _strata_codes(data, exact)
    n_strata = len(strata_labels)
    n = len(data)
    n_t = int(t.sum())
    n_c = n - n_t
    if n_t == 0:
        raise MatchingError(f"no treated units (treatment column {treatment!r} has no 1s)")

    cal_abs: float | None = None
    if caliper is not None:
        cal_abs = float(caliper) * float(np.std(d, ddof=1)) if caliper_scale == "sd" else float(caliper)

    # ---- with replacement, leave out controls that cannot be among any k nearest
    units = _candidate_units(d, t, codes, n_strata, k) if replace else None
    if units is None:
        du, tu, cu = d, t, codes
    else:
        du, tu, cu = d[units], t[units], codes[units]

    # ---- sort the units by (stratum, distance, row); locate treated among controls
    sorted_local = _sort_units(du, cu, n_strata)
    pos = np.empty(len(du), dtype=np.int64)
    pos[sorted_local] = np.arange(len(du))
    is_ctrl_sorted = ~tu[sorted_local]
    ctrl_pos = np.flatnonzero(is_ctrl_sorted)
    ctrl_local = sorted_local[ctrl_pos]
    ctrl_rows = ctrl_local if units is None else units[ctrl_local]
    ctrl_d = du[ctrl_local]
    n_c_stratum = np.bincount(codes[~t], minlength=n_strata)  # all potential controls
    c_bounds = np.concatenate([[0], np.cumsum(np.bincount(cu[~tu], minlength=n_strata))])

    tr_rows = np.flatnonzero(t)  # data order
    tr_local = np.flatnonzero(tu)  # the same units, all treated are kept
    d_t = d[tr_rows]
    p_t = pos[tr_local]
    code_t = codes[tr_rows].astype(np.int64)
    nb = np.searchsorted(ctrl_pos, p_t)
    lo = c_bounds[code_t]
    hi = c_bounds[code_t + 1]

    if replace:
        cj, cdist, cvalid, tied = _match_with_replacement(d_t, p_t, nb, lo, hi, ctrl_pos, ctrl_d, k, cal_abs)
        flagged = np.flatnonzero(tied) if ties == "matchit" else np.zeros(0, dtype=np.int64)
        if len(flagged):
            exact_sel = _matchit_ties_with_replacement(
                flagged, d, t, codes, n_strata, tr_rows, p_t, nb, lo, hi,
                ctrl_pos, ctrl_rows, ctrl_d, units is not None, k, cal_abs,
            )
            kept_index = np.full(n, -1, dtype=np.int64)
            kept_index[ctrl_rows] = np.arange(len(ctrl_rows))
            for i, (sel_rows, sel_d) in zip(flagged.tolist(), exact_sel):
                j = kept_index[np.asarray(sel_rows, dtype=np.int64)]
                if (j < 0).any():  # cannot happen: such controls are never among the k nearest
                    raise RuntimeError("internal error: a left-out control was selected at a tie")
                m = len(j)
                cj[i, :m] = j
                cdist[i, :m] = sel_d
                cvalid[i, :m] = True
                cvalid[i, m:] = False
    else:
        if m_order == "largest":
            order = np.argsort(-d_t, kind="stable")
        elif m_order == "smallest":
            order = np.argsort(d_t, kind="stable")
        elif m_order == "data":
            order = np.arange(n_t)
        else:
            order = np.random.default_rng(seed).permutation(n_t)
        scan_t, scan_c = p_t, ctrl_pos
        if ties == "matchit" and n_strata > 1:
            # MatchIt scans one order of all units (every stratum): steps count them all
            gpos = np.empty(n, dtype=np.int64)
            gpos[np.argsort(d, kind="stable")] = np.arange(n)
            scan_t, scan_c = gpos[tr_rows], gpos[ctrl_rows]
        cj, cdist, cvalid = _match_without_replacement(
            d_t, scan_t, nb, lo, hi, scan_c, ctrl_d, k, cal_abs, order
        )

    n_matched = cvalid.sum(axis=1)
    matched_t = n_matched > 0
    n_treated_matched = int(matched_t.sum())

    # ---- reasons for treated with fewer than k controls
    available = n_c_stratum[code_t] if replace else None
    reasons: list[str] = []
    short = np.flatnonzero(n_matched < k)
    for i in short:
        m = int(n_matched[i])
        if n_c_stratum[code_t[i]] == 0:
            reasons.append(REASON_NO_CONTROLS)
        elif cal_abs is not None and m == 0 and (not replace or available[i] > 0):
            # nothing within the caliper (without replacement: possibly used up too)
            reasons.append(REASON_CALIPER if _nothing_within(i, d_t, lo, hi, ctrl_d, cal_abs) else REASON_FEWER)
        elif m == 0:
            reasons.append(REASON_FEWER)
        elif cal_abs is not None and _fewer_by_caliper(i, m, d_t, lo, hi, ctrl_d, cal_abs, replace):
            reasons.append(REASON_FEWER_CALIPER)
        else:
            reasons.append(REASON_FEWER)
    index = data.index
    unmatched = pd.DataFrame(
        {
            "treated": index.take(tr_rows[short]),
            "reason": pd.array(reasons, dtype="string"),
            "n_matched": n_matched[short].astype(np.int64),
        }
    )

    if n_treated_matched == 0:
        raise MatchingError(
            f"no treated unit could be matched ({n_t} treated, {n_c} potential controls"
            + (f", exact on {list(exact)}" if exact else "")
            + (f", caliper {cal_abs:.4g} on the distance scale" if cal_abs is not None else "")
            + "); widen or drop the caliper, or check the exact-matching columns"
        )
    if len(short):
        counts = unmatched["reason"].value_counts()
        detail = ", ".join(f"{int(v)} {kk}" for kk, v in counts.items())
        n_none = int((unmatched["n_matched"] == 0).sum())
        msgs.append(
            f"{len(short)} of {n_t} treated units got fewer than k={k} controls ({detail}); "
            f"{n_none} of them got none and are left unmatched (weight 0)"
        )
    if exact:
        empty = [strata_labels[s] for s in range(n_strata) if n_c_stratum[s] == 0 and np.any(code_t == s)]
        if empty:
            msgs.append(f"exact strata without potential controls: {empty[:10]}")
    for m in msgs:
        warnings.warn(m, RegevalWarning, stacklevel=2)

    # ---- pairs
    ti, rk = np.nonzero(cvalid)  # row-major: by treated (data order), then rank
    subclass_of_t = np.cumsum(matched_t)  # 1-based among matched treated, data order
    ctrl_data_rows = ctrl_rows[cj[ti, rk]]
    pairs = pd.DataFrame(
        {
            "treated": index.take(tr_rows[ti]),
            "control": index.take(ctrl_data_rows),
            "rank": (rk + 1).astype(np.int64),
            "distance": cdist[ti, rk],
            "subclass": subclass_of_t[ti].astype(np.int64),
        }
    )

    # ---- MatchIt ATT weights
    w = np.zeros(n)
    w[tr_rows[matched_t]] = 1.0
    cw = np.bincount(ctrl_data_rows, weights=1.0 / n_matched[ti], minlength=n)
    reuse = np.bincount(ctrl_data_rows, minlength=n)
    used = reuse > 0
    n_unique = int(used.sum())
    cw *= n_unique / cw.sum()
    w[used] = cw[used]
    wc = w[~t]
    ess = float(wc.sum() ** 2 / (wc**2).sum())

    return MatchResult(
        pairs=pairs,
        weights=pd.Series(w, index=index, name="weights"),
        unmatched=unmatched,
        n_treated=n_t,
        n_treated_matched=n_treated_matched,
        n_controls_unique=n_unique,
        ess_control=ess,
        max_control_reuse=int(reuse.max()),
        n_control=n_c,
        k=k,
        replace=bool(replace),
        caliper=cal_abs,
        m_order=m_order,
        ties=ties,
        warnings=tuple(msgs),
        treatment=treatment,
    )


def _nothing_within(
    i: int, d_t: np.ndarray, lo: np.ndarray, hi: np.ndarray, ctrl_d: np.ndarray, cal: float
) -> bool:
    """True if no control of unit i's stratum lies within the caliper at all."""
    seg = ctrl_d[lo[i] : hi[i]]
    if len(seg) == 0:
        return True
    j = np.searchsorted(seg, d_t[i])
    near = []
    if j > 0:
        near.append(abs(seg[j - 1] - d_t[i]))
    if j < len(seg):
        near.append(abs(seg[j] - d_t[i]))
    return min(near) > cal


def _fewer_by_caliper(
    i: int,
    m: int,
    d_t: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    ctrl_d: np.ndarray,
    cal: float,
    replace: bool,
) -> bool:
    """True if the caliper (rather than the stratum size) limited unit i to m controls."""
    seg = ctrl_d[lo[i] : hi[i]]
    within = int(np.count_nonzero(np.abs(seg - d_t[i]) <= cal))
    if replace:
        return within < len(seg)
    return within <= m and within < len(seg)
