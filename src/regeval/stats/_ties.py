"""MatchIt's choice among exactly equally distant controls, replayed step by step.

For the treated units whose nearest candidates tie exactly, matching with replacement
replays MatchIt 4.7.1's search (``find_control_vec``) and GNU libstdc++'s
``std::partial_sort``/``std::sort`` (:mod:`regeval.stats._cxxsort`) to keep the same
controls in the same order as MatchIt built on R for Linux. See
:func:`regeval.stats.matching.match_nearest` (``ties="matchit"``).
"""

from __future__ import annotations

import numpy as np

from regeval.stats import _cxxsort


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
        if filtered:
            span_lo, span_hi = _spans_all_controls(dt, rows_t, d, t, codes, k)
        else:
            span_lo, span_hi = _spans_searched(dt, nb[f], lo[f], hi[f], ctrl_d, k)
        c_pos, c_rows, at, first_c, end_c, pt = _global_order(
            np.minimum(span_lo, dt), np.maximum(span_hi, dt), rows_t, d, t, codes, n_strata
        )

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
    return [
        _replay_unit(ok_i, step_i, dist_i, rows_i, k, cal)
        for ok_i, step_i, dist_i, rows_i in zip(ok.tolist(), step.tolist(), dist.tolist(), w_rows.tolist(), strict=True)
    ]


def _spans_all_controls(
    dt: np.ndarray, rows_t: np.ndarray, d: np.ndarray, t: np.ndarray, codes: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k-th nearest of *all* controls of the stratum on each side of each flagged
    unit, not counting the controls with the treated unit's own score (they may be on
    either side); the unit's own score where its stratum has no control."""
    span_lo = dt.copy()
    span_hi = dt.copy()
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
    return span_lo, span_hi


def _spans_searched(
    dt: np.ndarray, nb_f: np.ndarray, lo_f: np.ndarray, hi_f: np.ndarray, ctrl_d: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """All controls are in the search's arrays: the k-th on each side, or the last."""
    span_lo = dt.copy()
    span_hi = dt.copy()
    has_l = nb_f > lo_f
    has_r = hi_f > nb_f
    span_lo[has_l] = ctrl_d[np.maximum(nb_f - k, lo_f)[has_l]]
    span_hi[has_r] = ctrl_d[np.minimum(nb_f + k, hi_f)[has_r] - 1]
    return span_lo, span_hi


def _global_order(
    span_lo: np.ndarray,
    span_hi: np.ndarray,
    rows_t: np.ndarray,
    d: np.ndarray,
    t: np.ndarray,
    codes: np.ndarray,
    n_strata: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions in R's global (distance, row) order of every unit within the spans.

    Returns ``c_pos, c_rows`` (the controls among them, by stratum, each stratum in
    that order: positions and data rows), and per flagged unit ``at`` (its insertion
    point among its stratum's controls), ``first_c, end_c`` (its stratum's bounds in
    ``c_pos``) and ``pt`` (its own position).
    """
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
    pt = np.empty(len(rows_t), dtype=np.int64)
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
    return c_pos, c_rows, at, cb[s_t], cb[s_t + 1], pt


def _replay_unit(
    ok_i: list[bool], step_i: list[int], dist_i: list[float], rows_i: list[int], k: int, cal: float
) -> tuple[list[int], list[float]]:
    """MatchIt's scan and selection for one treated unit, over its window of 2k
    candidates (``ok_i``: candidate exists, ``step_i``: scan step at which it is met,
    ``dist_i``: its distance, ``rows_i``: its data row)."""
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
    return [rows_i[got_c[i]] for i in ind], [got_d[i] for i in ind]
