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

This module holds the API, the checks of the arguments and the assembly of the result
(reasons, pairs, MatchIt's weights); the search kernels are in
:mod:`regeval.stats._nearest` and the MatchIt tie replay in :mod:`regeval.stats._ties`.
See ``docs/matching.md`` for the choices and their reasons.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from regeval.errors import MatchingError, RegevalWarning
from regeval.parallel import using_threads
from regeval.stats._nearest import (
    _fewer_by_caliper,
    _nearest_with_replacement,
    _nearest_without_replacement,
    _nothing_within,
    _Search,
    _search_arrays,
)
from regeval.stats.design import treatment_indicator

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


# --------------------------------------------------------------------------- inputs


def _validate_choice(name: str, value: object, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise MatchingError(f"{name}={value!r} is not valid; valid values are {list(allowed)}")



def _check_arguments(
    data: pd.DataFrame,
    k: int,
    replace: bool,
    caliper: float | None,
    caliper_scale: str,
    m_order: str,
    ties: str,
) -> int:
    """Validate the options (the message lists the valid values); return ``k`` as int."""
    if not isinstance(data, pd.DataFrame):
        raise MatchingError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise MatchingError(f"k={k!r} is not valid; k must be a positive integer")
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
    return int(k)


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


# --------------------------------------------------------------------------- result


def _unmatched(
    s: _Search, n_matched: np.ndarray, k: int, cal_abs: float | None, replace: bool, index: pd.Index
) -> pd.DataFrame:
    """Treated units with fewer than k controls, and why."""
    available = s.n_c_stratum[s.code_t] if replace else None
    reasons: list[str] = []
    short = np.flatnonzero(n_matched < k)
    for i in short.tolist():
        m = int(n_matched[i])
        if s.n_c_stratum[s.code_t[i]] == 0:
            reasons.append(REASON_NO_CONTROLS)
        elif cal_abs is not None and m == 0 and (available is None or available[i] > 0):
            # nothing within the caliper (without replacement: possibly used up too)
            within = _nothing_within(i, s.d_t, s.lo, s.hi, s.ctrl_d, cal_abs)
            reasons.append(REASON_CALIPER if within else REASON_FEWER)
        elif m == 0:
            reasons.append(REASON_FEWER)
        elif cal_abs is not None and _fewer_by_caliper(i, m, s.d_t, s.lo, s.hi, s.ctrl_d, cal_abs, replace):
            reasons.append(REASON_FEWER_CALIPER)
        else:
            reasons.append(REASON_FEWER)
    return pd.DataFrame(
        {
            "treated": index.take(s.tr_rows[short]),
            "reason": pd.array(reasons, dtype="string"),
            "n_matched": n_matched[short].astype(np.int64),
        }
    )


def _shortfall_messages(
    unmatched: pd.DataFrame, n_t: int, k: int, exact: Sequence[str] | None,
    strata_labels: list[tuple], s: _Search,
) -> list[str]:
    msgs = []
    if len(unmatched):
        counts = unmatched["reason"].value_counts()
        detail = ", ".join(f"{int(v)} {kk}" for kk, v in counts.items())
        n_none = int((unmatched["n_matched"] == 0).sum())
        msgs.append(
            f"{len(unmatched)} of {n_t} treated units got fewer than k={k} controls ({detail}); "
            f"{n_none} of them got none and are left unmatched (weight 0)"
        )
    if exact:
        n_strata = len(strata_labels)
        empty = [
            strata_labels[g] for g in range(n_strata) if s.n_c_stratum[g] == 0 and np.any(s.code_t == g)
        ]
        if empty:
            msgs.append(f"exact strata without potential controls: {empty[:10]}")
    return msgs


def _att_weights(
    n: int, tr_rows: np.ndarray, matched_t: np.ndarray, ctrl_data_rows: np.ndarray,
    n_matched_per_pair: np.ndarray, t: np.ndarray,
) -> tuple[np.ndarray, int, int, float]:
    """MatchIt's ATT weights; also distinct controls used, largest reuse and Kish's ESS."""
    w = np.zeros(n)
    w[tr_rows[matched_t]] = 1.0
    cw = np.bincount(ctrl_data_rows, weights=1.0 / n_matched_per_pair, minlength=n)
    reuse = np.bincount(ctrl_data_rows, minlength=n)
    used = reuse > 0
    n_unique = int(used.sum())
    cw *= n_unique / cw.sum()
    w[used] = cw[used]
    wc = w[~t]
    ess = float(wc.sum() ** 2 / (wc**2).sum())
    return w, n_unique, int(reuse.max()), ess


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
    threads: int | None = None,
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
    threads : int, optional
        Threads for the per-stratum sorts of large data; default: the budget of the
        calling context (:func:`regeval.stats.using_threads`, 1 unless set). The
        result does not depend on it.

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
    k = _check_arguments(data, k, replace, caliper, caliper_scale, m_order, ties)
    if isinstance(exact, str):
        exact = [exact]
    msgs: list[str] = []
    if replace and m_order != "largest":
        msgs.append(f"m_order={m_order!r} has no effect with replace=True")
    if seed is not None and (replace or m_order != "random"):
        msgs.append("seed has no effect unless replace=False and m_order='random'")

    t = treatment_indicator(data, treatment, error=MatchingError) == 1.0
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

    with using_threads(threads):
        s = _search_arrays(d, t, codes, n_strata, k, replace)
    if replace:
        cj, cdist, cvalid = _nearest_with_replacement(s, d, t, codes, n_strata, k, cal_abs, ties)
    else:
        cj, cdist, cvalid = _nearest_without_replacement(s, d, k, cal_abs, ties, n_strata, m_order, seed)

    n_matched = cvalid.sum(axis=1)
    matched_t = n_matched > 0
    n_treated_matched = int(matched_t.sum())
    index = data.index
    unmatched = _unmatched(s, n_matched, k, cal_abs, replace, index)
    if n_treated_matched == 0:
        raise MatchingError(
            f"no treated unit could be matched ({n_t} treated, {n_c} potential controls"
            + (f", exact on {list(exact)}" if exact else "")
            + (f", caliper {cal_abs:.4g} on the distance scale" if cal_abs is not None else "")
            + "); widen or drop the caliper, or check the exact-matching columns"
        )
    msgs += _shortfall_messages(unmatched, n_t, k, exact, strata_labels, s)
    for m in msgs:
        warnings.warn(m, RegevalWarning, stacklevel=2)

    # pairs, row-major: by treated (data order), then rank
    ti, rk = np.nonzero(cvalid)
    subclass_of_t = np.cumsum(matched_t)  # 1-based among matched treated, data order
    ctrl_data_rows = s.ctrl_rows[cj[ti, rk]]
    pairs = pd.DataFrame(
        {
            "treated": index.take(s.tr_rows[ti]),
            "control": index.take(ctrl_data_rows),
            "rank": (rk + 1).astype(np.int64),
            "distance": cdist[ti, rk],
            "subclass": subclass_of_t[ti].astype(np.int64),
        }
    )
    w, n_unique, max_reuse, ess = _att_weights(n, s.tr_rows, matched_t, ctrl_data_rows, n_matched[ti], t)

    return MatchResult(
        pairs=pairs,
        weights=pd.Series(w, index=index, name="weights"),
        unmatched=unmatched,
        n_treated=n_t,
        n_treated_matched=n_treated_matched,
        n_controls_unique=n_unique,
        ess_control=ess,
        max_control_reuse=max_reuse,
        n_control=n_c,
        k=k,
        replace=bool(replace),
        caliper=cal_abs,
        m_order=m_order,
        ties=ties,
        warnings=tuple(msgs),
        treatment=treatment,
    )
