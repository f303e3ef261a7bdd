"""Search kernels of nearest-neighbour matching on a scalar distance.

Units are sorted by (stratum, distance, row); each treated unit's position among the
sorted controls of its stratum is found by binary search. With replacement the k
nearest are then taken from a window of 2k controls around that position
(:func:`_match_with_replacement`); without replacement the matching is greedy, in
rounds, with path-compressed skip links over used controls
(:func:`_match_without_replacement`). On large data, controls that cannot be among any
treated unit's k nearest are left out before the sort (:func:`_candidate_units`).
:func:`_search_arrays` sets up the sorted arrays and
:func:`_nearest_with_replacement` / :func:`_nearest_without_replacement` run a search on
them. The MatchIt tie replay is in :mod:`regeval.stats._ties`; the public function is
:func:`regeval.stats.matching.match_nearest`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from regeval.parallel import thread_budget
from regeval.stats._ties import _matchit_ties_with_replacement

#: With at least this many potential controls, matching with replacement first leaves
#: out controls that cannot be among any k nearest (see :func:`_candidate_units`).
_FILTER_MIN_CONTROLS = 50_000
#: Above this many units the per-stratum sorts run on a thread pool.
_PARALLEL_SORT_MIN = 100_000


def _sort_units(d: np.ndarray, codes: np.ndarray, n_strata: int) -> np.ndarray:
    """Row indices sorted by (stratum, distance, row number); stable throughout."""
    by_stratum = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n_strata))])
    out = np.empty_like(by_stratum)

    def sort_one(s: int) -> None:
        a, b = bounds[s], bounds[s + 1]
        sub = by_stratum[a:b]
        out[a:b] = sub[np.argsort(d[sub], kind="stable")]

    if len(d) >= _PARALLEL_SORT_MIN and n_strata > 1 and thread_budget() > 1:
        workers = min(thread_budget(), n_strata)
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


# --------------------------------------------------------------------------- search


@dataclass(frozen=True, eq=False)
class _Search:
    """Units sorted by (stratum, distance, row) and each treated unit's place among them.

    ``ctrl_*`` describe the sorted controls (position in the sorted units, data row,
    distance); per treated unit (data order): ``tr_rows`` data row, ``d_t`` distance,
    ``p_t`` position, ``code_t`` stratum, ``nb`` insertion point among the sorted
    controls and ``lo, hi`` the bounds of its stratum's controls. ``units`` are the
    rows kept by the candidate filter (``None``: all rows).
    """

    units: np.ndarray | None
    ctrl_pos: np.ndarray
    ctrl_rows: np.ndarray
    ctrl_d: np.ndarray
    n_c_stratum: np.ndarray  # all potential controls per stratum
    tr_rows: np.ndarray
    d_t: np.ndarray
    p_t: np.ndarray
    code_t: np.ndarray
    nb: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def _search_arrays(
    d: np.ndarray, t: np.ndarray, codes: np.ndarray, n_strata: int, k: int, replace: bool
) -> _Search:
    # with replacement, leave out controls that cannot be among any k nearest
    units = _candidate_units(d, t, codes, n_strata, k) if replace else None
    if units is None:
        du, tu, cu = d, t, codes
    else:
        du, tu, cu = d[units], t[units], codes[units]

    # sort the units by (stratum, distance, row); locate treated among controls
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
    p_t = pos[tr_local]
    code_t = codes[tr_rows].astype(np.int64)
    return _Search(
        units=units,
        ctrl_pos=ctrl_pos,
        ctrl_rows=ctrl_rows,
        ctrl_d=ctrl_d,
        n_c_stratum=n_c_stratum,
        tr_rows=tr_rows,
        d_t=d[tr_rows],
        p_t=p_t,
        code_t=code_t,
        nb=np.searchsorted(ctrl_pos, p_t),
        lo=c_bounds[code_t],
        hi=c_bounds[code_t + 1],
    )


def _nearest_with_replacement(
    s: _Search, d: np.ndarray, t: np.ndarray, codes: np.ndarray, n_strata: int, k: int,
    cal_abs: float | None, ties: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """k nearest per treated unit; MatchIt's choice replayed where candidates tie."""
    cj, cdist, cvalid, tied = _match_with_replacement(
        s.d_t, s.p_t, s.nb, s.lo, s.hi, s.ctrl_pos, s.ctrl_d, k, cal_abs
    )
    flagged = np.flatnonzero(tied) if ties == "matchit" else np.zeros(0, dtype=np.int64)
    if not len(flagged):
        return cj, cdist, cvalid
    exact_sel = _matchit_ties_with_replacement(
        flagged, d, t, codes, n_strata, s.tr_rows, s.p_t, s.nb, s.lo, s.hi,
        s.ctrl_pos, s.ctrl_rows, s.ctrl_d, s.units is not None, k, cal_abs,
    )
    kept_index = np.full(len(d), -1, dtype=np.int64)
    kept_index[s.ctrl_rows] = np.arange(len(s.ctrl_rows))
    for i, (sel_rows, sel_d) in zip(flagged.tolist(), exact_sel, strict=False):
        j = kept_index[np.asarray(sel_rows, dtype=np.int64)]
        if (j < 0).any():  # cannot happen: such controls are never among the k nearest
            raise RuntimeError("internal error: a left-out control was selected at a tie")
        m = len(j)
        cj[i, :m] = j
        cdist[i, :m] = sel_d
        cvalid[i, :m] = True
        cvalid[i, m:] = False
    return cj, cdist, cvalid


def _nearest_without_replacement(
    s: _Search, d: np.ndarray, k: int, cal_abs: float | None, ties: str, n_strata: int,
    m_order: str, seed: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy matching in ``m_order``, steps counted as MatchIt's rule or the scan rule needs."""
    n_t = len(s.d_t)
    if m_order == "largest":
        order = np.argsort(-s.d_t, kind="stable")
    elif m_order == "smallest":
        order = np.argsort(s.d_t, kind="stable")
    elif m_order == "data":
        order = np.arange(n_t)
    else:
        order = np.random.default_rng(seed).permutation(n_t)
    scan_t, scan_c = s.p_t, s.ctrl_pos
    if ties == "matchit" and n_strata > 1:
        # MatchIt scans one order of all units (every stratum): steps count them all
        gpos = np.empty(len(d), dtype=np.int64)
        gpos[np.argsort(d, kind="stable")] = np.arange(len(d))
        scan_t, scan_c = gpos[s.tr_rows], gpos[s.ctrl_rows]
    return _match_without_replacement(
        s.d_t, scan_t, s.nb, s.lo, s.hi, scan_c, s.ctrl_d, k, cal_abs, order
    )
