"""Nearest-neighbour matching: hand-made cases where the right match is obvious,
edge cases, invalid arguments, and agreement with a brute-force search."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from regeval.errors import MatchingError, RegevalWarning
from regeval.stats.matching import UNMATCHED_REASONS, MatchResult, match_nearest


def frame(treated: list[float], controls: list[float], **extra: list) -> pd.DataFrame:
    """Treated rows first (labels t0, t1, ...), then controls (c0, c1, ...)."""
    idx = [f"t{i}" for i in range(len(treated))] + [f"c{i}" for i in range(len(controls))]
    df = pd.DataFrame(
        {"treat": [1] * len(treated) + [0] * len(controls), "ps": treated + controls}, index=idx
    )
    for k, v in extra.items():
        df[k] = v
    return df


def controls_of(result: MatchResult, treated: str) -> list[str]:
    p = result.pairs
    return p.loc[p["treated"] == treated].sort_values("rank")["control"].tolist()


def quiet(*args, **kwargs) -> MatchResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RegevalWarning)
        return match_nearest(*args, **kwargs)


# --------------------------------------------------------------------------- obvious matches


def test_each_treated_unit_gets_its_nearest_control():
    df = frame([0.2, 0.8], [0.1, 0.25, 0.7, 0.95])
    m = match_nearest(df, "treat", "ps", k=1)
    assert controls_of(m, "t0") == ["c1"]
    assert controls_of(m, "t1") == ["c2"]


def test_k_nearest_controls_come_in_order_of_distance():
    df = frame([0.5], [0.1, 0.45, 0.9, 0.53, 0.6, 0.3])
    m = match_nearest(df, "treat", "ps", k=3)
    assert controls_of(m, "t0") == ["c3", "c1", "c4"]
    np.testing.assert_allclose(m.pairs["distance"], [0.03, 0.05, 0.1])
    assert m.pairs["rank"].tolist() == [1, 2, 3]


def test_with_replacement_two_treated_units_can_share_one_control():
    df = frame([0.50, 0.51], [0.505, 0.9])
    m = match_nearest(df, "treat", "ps", k=1, replace=True)
    assert controls_of(m, "t0") == ["c0"] and controls_of(m, "t1") == ["c0"]
    assert m.max_control_reuse == 2
    assert m.n_controls_unique == 1


def test_without_replacement_the_largest_score_chooses_first():
    # both want c0; t1 has the larger score, so it gets c0 and t0 takes the next one
    df = frame([0.50, 0.52], [0.515, 0.40, 0.70])
    m = match_nearest(df, "treat", "ps", k=1, replace=False, m_order="largest")
    assert controls_of(m, "t1") == ["c0"]
    assert controls_of(m, "t0") == ["c1"]
    m2 = match_nearest(df, "treat", "ps", k=1, replace=False, m_order="smallest")
    assert controls_of(m2, "t0") == ["c0"]
    assert controls_of(m2, "t1") == ["c1"]  # 0.12 away, nearer than c2 (0.18)


def test_without_replacement_k_matches_are_taken_in_rounds():
    # round 1: t1 (larger) takes c1 (0.61), t0 takes c0 (0.39);
    # round 2: t1 takes c2 (0.65), t0 takes c3 (0.35)
    df = frame([0.40, 0.60], [0.39, 0.61, 0.65, 0.35, 0.10])
    m = match_nearest(df, "treat", "ps", k=2, replace=False)
    assert controls_of(m, "t1") == ["c1", "c2"]
    assert controls_of(m, "t0") == ["c0", "c3"]


def test_rounds_differ_from_taking_k_at_once():
    # taking both of its matches at once, t1 would take c0 and c1; in rounds t0
    # (processed second) gets c1 in round 1 before t1 returns for its second control
    df = frame([0.30, 0.50], [0.49, 0.32, 0.80, 0.05])
    m = match_nearest(df, "treat", "ps", k=2, replace=False)
    assert controls_of(m, "t1") == ["c0", "c2"]
    assert controls_of(m, "t0") == ["c1", "c3"]


def test_att_weights_follow_matchit_formula():
    # t0 -> {c0, c1}; t1 -> {c1, c2}: raw control weights 1/2, 1, 1/2 (sum 2);
    # rescaled to sum to 3 distinct controls: 0.75, 1.5, 0.75
    df = frame([0.30, 0.60], [0.29, 0.45, 0.62, 0.99])
    m = match_nearest(df, "treat", "ps", k=2)
    assert controls_of(m, "t0") == ["c0", "c1"]
    assert controls_of(m, "t1") == ["c2", "c1"]
    expected = {"t0": 1.0, "t1": 1.0, "c0": 0.75, "c1": 1.5, "c2": 0.75, "c3": 0.0}
    assert m.weights.to_dict() == pytest.approx(expected)
    assert m.ess_control == pytest.approx(3.0**2 / (0.75**2 + 1.5**2 + 0.75**2))


def test_unmatched_units_get_weight_zero_and_weights_are_indexed_like_data():
    df = frame([0.5], [0.49, 0.9, 0.1])
    m = match_nearest(df, "treat", "ps", k=1)
    assert list(m.weights.index) == list(df.index)
    assert m.weights["c1"] == 0.0 and m.weights["c2"] == 0.0


# --------------------------------------------------------------------------- ties


def test_equal_scores_below_the_treated_unit_prefer_the_later_row():
    # c0 and c1 have the same score below t0: the scan from t0 meets c1 first
    df = frame([0.5], [0.4, 0.4, 0.9])
    m = match_nearest(df, "treat", "ps", k=1)
    assert controls_of(m, "t0") == ["c1"]


def test_equal_scores_above_the_treated_unit_prefer_the_earlier_row():
    df = frame([0.5], [0.6, 0.6, 0.1])
    m = match_nearest(df, "treat", "ps", k=1)
    assert controls_of(m, "t0") == ["c0"]


def test_tie_on_both_sides_prefers_the_lower_score_at_equal_steps():
    df = frame([0.5], [0.25, 0.75])
    m = match_nearest(df, "treat", "ps", k=1)
    assert controls_of(m, "t0") == ["c0"]


def test_at_a_tie_matchit_keeps_the_control_the_libstdcxx_heap_keeps():
    """Hand calculation of MatchIt's rule (k = 5, scores in 16ths, treated at 8).

    Sorted units: c3(1) c5(1) c1(3) [t0(8)] c0(11) c2(13) c4(13). The scan alternates
    left/right from t0 and collects c1(5) c0(3) c5(7) c2(5) c3(7) c4(5) (distances in
    16ths): six candidates for five places, and c3 and c5 tie for the fifth.
    ``std::partial_sort`` builds a max-heap of the first five (top: c5), lets c4 (5 < 7)
    replace the top, and so keeps c3 and drops c5, although the scan met c5 first.
    The scan-order rule keeps c5 (one position nearer to t0).
    """
    df = frame([8 / 16], [11 / 16, 3 / 16, 13 / 16, 1 / 16, 13 / 16, 1 / 16])
    m = match_nearest(df, "treat", "ps", k=5)
    got = controls_of(m, "t0")
    assert sorted(got) == ["c0", "c1", "c2", "c3", "c4"]
    assert got[0] == "c0" and got[-1] == "c3"
    # the order of the three at 5/16 is the heap sort's (checked against g++ in
    # tests/test_matchit_cxx.py)
    assert got == ["c0", "c4", "c2", "c1", "c3"]
    scan = match_nearest(df, "treat", "ps", k=5, ties="scan")
    assert sorted(controls_of(scan, "t0")) == ["c0", "c1", "c2", "c4", "c5"]
    assert m.ties == "matchit" and scan.ties == "scan"


@pytest.mark.parametrize("ties", ["matchit", "scan"])
def test_one_to_one_ties_go_to_the_first_candidate_the_scan_meets(ties):
    # with k = 1 (and without replacement) both rules take the first one met
    df = frame([0.5], [0.4, 0.4, 0.9])
    assert controls_of(match_nearest(df, "treat", "ps", k=1, ties=ties), "t0") == ["c1"]
    df = frame([0.5], [0.25, 0.75])
    assert controls_of(match_nearest(df, "treat", "ps", k=1, ties=ties), "t0") == ["c0"]
    df = frame([0.5, 0.5], [0.25, 0.75])
    m = match_nearest(df, "treat", "ps", k=1, replace=False, ties=ties)
    assert controls_of(m, "t0") == ["c0"] and controls_of(m, "t1") == ["c1"]


def test_tied_matching_is_deterministic():
    rng = np.random.default_rng(3)
    df = frame(list(rng.choice([0.2, 0.4, 0.6], 30)), list(rng.choice([0.1, 0.2, 0.4, 0.6, 0.7], 300)))
    a = match_nearest(df, "treat", "ps", k=5)
    b = match_nearest(df, "treat", "ps", k=5)
    pd.testing.assert_frame_equal(a.pairs, b.pairs)
    pd.testing.assert_series_equal(a.weights, b.weights)


# --------------------------------------------------------------------------- edge cases


def test_k_larger_than_the_available_controls_matches_all_and_warns():
    df = frame([0.5], [0.4, 0.6, 0.7])
    with pytest.warns(RegevalWarning, match="fewer than k=10"):
        m = match_nearest(df, "treat", "ps", k=10)
    assert sorted(controls_of(m, "t0")) == ["c0", "c1", "c2"]
    assert m.unmatched.to_dict("records") == [
        {"treated": "t0", "reason": "fewer than k controls available", "n_matched": 3}
    ]
    assert m.n_treated_matched == 1


def test_a_stratum_without_controls_leaves_its_treated_unmatched():
    df = frame([0.5, 0.5], [0.4, 0.6], cohort=[2015, 2016, 2015, 2015])
    with pytest.warns(RegevalWarning) as record:
        m = match_nearest(df, "treat", "ps", k=1, exact=["cohort"])
    messages = [str(w.message) for w in record]
    assert any("exact strata without potential controls: [(2016,)]" in msg for msg in messages)
    assert any("1 no controls in stratum" in msg for msg in messages)
    assert controls_of(m, "t0") == ["c0"]
    assert controls_of(m, "t1") == []
    rec = m.unmatched.set_index("treated").loc["t1"]
    assert rec["reason"] == "no controls in stratum" and rec["n_matched"] == 0
    assert m.weights["t1"] == 0.0
    assert m.n_treated_matched == 1


def test_exact_matching_never_crosses_strata():
    rng = np.random.default_rng(0)
    n_t, n_c = 40, 400
    df = frame(
        list(rng.random(n_t)),
        list(rng.random(n_c)),
        cohort=list(rng.integers(0, 3, n_t + n_c)),
        sex=list(rng.integers(0, 2, n_t + n_c)),
    )
    m = quiet(df, "treat", "ps", k=5, exact=["cohort", "sex"])
    p = m.pairs
    for col in ("cohort", "sex"):
        assert (df.loc[p["treated"], col].to_numpy() == df.loc[p["control"], col].to_numpy()).all()


def test_caliper_drops_treated_units_without_close_controls():
    df = frame([0.5, 0.9], [0.48, 0.52, 0.1])
    with pytest.warns(RegevalWarning):
        m = match_nearest(df, "treat", "ps", k=1, caliper=0.05, caliper_scale="absolute")
    assert controls_of(m, "t0") == ["c0"]
    assert controls_of(m, "t1") == []
    rec = m.unmatched.set_index("treated").loc["t1"]
    assert rec["reason"] == "outside caliper"
    assert m.weights["t1"] == 0.0
    assert m.caliper == 0.05


def test_caliper_in_sd_units_is_scaled_by_the_sd_over_all_units():
    df = frame([0.5, 0.9], [0.48, 0.52, 0.1])
    m = quiet(df, "treat", "ps", k=1, caliper=0.2)
    assert m.caliper == pytest.approx(0.2 * np.std(df["ps"], ddof=1))


def test_fewer_than_k_within_the_caliper_is_recorded_and_kept():
    df = frame([0.5], [0.49, 0.51, 0.9, 0.1])
    with pytest.warns(RegevalWarning):
        m = match_nearest(df, "treat", "ps", k=3, caliper=0.05, caliper_scale="absolute")
    assert sorted(controls_of(m, "t0")) == ["c0", "c1"]
    assert m.unmatched.to_dict("records") == [
        {"treated": "t0", "reason": "fewer than k controls within caliper", "n_matched": 2}
    ]
    assert m.weights["t0"] == 1.0


def test_without_replacement_controls_can_run_out():
    df = frame([0.5, 0.6, 0.7], [0.55, 0.65])
    with pytest.warns(RegevalWarning):
        m = match_nearest(df, "treat", "ps", k=1, replace=False)
    assert m.n_treated_matched == 2
    rec = m.unmatched.set_index("treated").loc["t0"]  # smallest score chooses last
    assert rec["reason"] == "fewer than k controls available" and rec["n_matched"] == 0


def test_unmatched_reasons_are_from_the_documented_set():
    rng = np.random.default_rng(1)
    df = frame(list(rng.random(30)), list(rng.random(60)), cohort=list(rng.integers(0, 4, 90)))
    df.loc[df.index.str.startswith("c") & (df["cohort"] == 3), "cohort"] = 2
    m = quiet(df, "treat", "ps", k=8, exact=["cohort"], caliper=0.05, caliper_scale="absolute")
    assert set(m.unmatched["reason"]) <= set(UNMATCHED_REASONS)
    assert "no controls in stratum" in set(m.unmatched["reason"])


def test_no_matchable_treated_unit_raises():
    df = frame([0.5], [0.9])
    with pytest.raises(MatchingError, match="no treated unit could be matched"):
        quiet(df, "treat", "ps", k=1, caliper=0.01, caliper_scale="absolute")


def test_random_order_is_reproducible_with_a_seed():
    rng = np.random.default_rng(5)
    df = frame(list(rng.random(20)), list(rng.random(40)))
    a = match_nearest(df, "treat", "ps", k=1, replace=False, m_order="random", seed=11)
    b = match_nearest(df, "treat", "ps", k=1, replace=False, m_order="random", seed=11)
    pd.testing.assert_frame_equal(a.pairs, b.pairs)


def test_distance_can_be_an_array_or_a_series():
    df = frame([0.2, 0.8], [0.1, 0.25, 0.7, 0.95])
    a = match_nearest(df, "treat", "ps", k=1)
    b = match_nearest(df.drop(columns="ps"), "treat", df["ps"].to_numpy(), k=1)
    c = match_nearest(df.drop(columns="ps"), "treat", df["ps"].iloc[::-1], k=1)
    pd.testing.assert_frame_equal(a.pairs, b.pairs)
    pd.testing.assert_frame_equal(a.pairs, c.pairs)


def test_bool_treatment_and_integer_index_work():
    df = frame([0.2, 0.8], [0.1, 0.25, 0.7, 0.95]).reset_index(drop=True)
    df["treat"] = df["treat"].astype(bool)
    m = match_nearest(df, "treat", "ps", k=1)
    assert m.pairs["control"].tolist() == [3, 4]


def test_options_without_effect_warn():
    df = frame([0.2, 0.8], [0.1, 0.25, 0.7, 0.95])
    with pytest.warns(RegevalWarning, match="m_order='random' has no effect"):
        match_nearest(df, "treat", "ps", k=1, replace=True, m_order="random")
    with pytest.warns(RegevalWarning, match="seed has no effect"):
        match_nearest(df, "treat", "ps", k=1, seed=3)


# --------------------------------------------------------------------------- invalid arguments


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k must be a positive integer"),
        ({"k": 2.5}, "k must be a positive integer"),
        ({"m_order": "biggest", "replace": False}, r"valid values are \['largest', 'smallest', 'data', 'random'\]"),
        ({"caliper_scale": "pct"}, r"valid values are \['sd', 'absolute'\]"),
        ({"caliper": -0.1}, "caliper=-0.1 is not valid"),
        ({"caliper": float("nan")}, "is not valid"),
        ({"replace": "yes"}, r"valid values are \[True, False\]"),
        ({"exact": ["nope"]}, "exact column"),
        ({"ties": "first"}, r"valid values are \['matchit', 'scan'\]"),
    ],
)
def test_invalid_arguments_raise_matching_error_with_valid_values(kwargs, message):
    df = frame([0.2, 0.8], [0.1, 0.25, 0.7, 0.95])
    with pytest.raises(MatchingError, match=message):
        match_nearest(df, "treat", "ps", **kwargs)


def test_missing_distance_values_raise():
    df = frame([0.2, np.nan], [0.1, 0.25])
    with pytest.raises(MatchingError, match="1 missing or non-finite"):
        match_nearest(df, "treat", "ps", k=1)


def test_unknown_distance_column_and_treatment_raise():
    df = frame([0.2], [0.1])
    with pytest.raises(MatchingError, match="distance column 'score'"):
        match_nearest(df, "treat", "score", k=1)
    with pytest.raises(MatchingError, match="treatment column 'd'"):
        match_nearest(df, "d", "ps", k=1)


def test_non_binary_treatment_raises():
    df = frame([0.2], [0.1])
    df["treat"] = [2, 0]
    with pytest.raises(MatchingError, match="only 0/1"):
        match_nearest(df, "treat", "ps", k=1)


def test_duplicate_index_labels_raise():
    df = frame([0.2], [0.1, 0.3])
    df.index = ["a", "b", "b"]
    with pytest.raises(MatchingError, match="duplicate labels"):
        match_nearest(df, "treat", "ps", k=1)


def test_missing_exact_values_raise():
    df = frame([0.2], [0.1, 0.3], cohort=[2015, None, 2015])
    with pytest.raises(MatchingError, match="exact column 'cohort' has 1 missing"):
        match_nearest(df, "treat", "ps", k=1, exact=["cohort"])


# --------------------------------------------------------------------------- matched data


def test_matched_data_keeps_matched_rows_with_weights_and_subclass():
    df = frame([0.2, 0.8], [0.1, 0.25, 0.7, 0.95])
    m = match_nearest(df, "treat", "ps", k=1, replace=False)
    md = m.matched_data(df)
    assert md.index.tolist() == ["t0", "t1", "c1", "c2"]
    assert md["weights"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert md["subclass"].tolist() == [1, 2, 1, 2]


def test_matched_data_with_replacement_gives_controls_no_subclass():
    df = frame([0.50, 0.51], [0.505, 0.9])
    md = match_nearest(df, "treat", "ps", k=1).matched_data(df)
    assert md["subclass"].isna().tolist() == [False, False, True]


def test_matched_pairs_repeat_a_reused_control_once_per_treated_unit():
    df = frame([0.50, 0.51], [0.505, 0.9])
    mp = match_nearest(df, "treat", "ps", k=1).matched_pairs(df)
    assert mp["unit"].tolist() == ["t0", "c0", "t1", "c0"]
    assert mp["subclass"].tolist() == [1, 1, 2, 2]
    assert mp["weights"].tolist() == [1.0, 1.0, 1.0, 1.0]


def test_matched_data_refuses_other_rows_and_clashing_columns():
    df = frame([0.2, 0.8], [0.1, 0.25, 0.7, 0.95])
    m = match_nearest(df, "treat", "ps", k=1)
    with pytest.raises(MatchingError, match="same DataFrame"):
        m.matched_data(df.iloc[1:])
    with pytest.raises(MatchingError, match="already has column"):
        m.matched_data(df.assign(weights=1.0))


# --------------------------------------------------------------------------- brute force


def _brute_force(df: pd.DataFrame, k: int, replace: bool, exact: str | None, caliper: float | None):
    """Direct O(n^2) statement of the matching rule with ``ties="scan"``, for comparison.

    (MatchIt's own rule, ``ties="matchit"``, is checked against a C++ statement of its
    search in tests/test_matchit_cxx.py and against MatchIt's outputs.)
    """
    t = df["treat"].to_numpy() == 1
    d = df["ps"].to_numpy()
    strata = df[exact].to_numpy() if exact else np.zeros(len(df))
    rows = np.arange(len(df))
    # position in the (stratum, distance, row) order, per stratum
    pos = np.empty(len(df), dtype=int)
    for s in np.unique(strata):
        r = rows[strata == s]
        pos[r[np.lexsort((r, d[r]))]] = np.arange(len(r))
    tr = rows[t]
    order = tr[np.lexsort((np.arange(len(tr)), -d[tr]))]  # largest first, ties in data order
    used = np.zeros(len(df), dtype=bool)
    matches: dict[int, list[int]] = {i: [] for i in tr}
    iil = {i: pos[i] for i in tr}
    iir = {i: pos[i] for i in tr}
    alive = {i: True for i in tr}
    rounds = 1 if replace else k
    for r in range(rounds):
        for i in (tr if replace else order):
            if not alive[i]:
                continue
            c = rows[(~t) & (strata == strata[i]) & (~used)]
            c = c[~np.isin(c, matches[i])]
            diff = np.abs(d[c] - d[i])
            if caliper is not None:
                c, diff = c[diff <= caliper], diff[diff <= caliper]
            if len(c) == 0:
                if r == 0:
                    alive[i] = False
                continue
            left = pos[c] < pos[i]
            scan = np.where(left, 2 * (iil[i] - pos[c]) - 1, 2 * (pos[c] - iir[i]))
            best = c[np.lexsort((scan, diff))]
            take = best[:k] if replace else best[:1]
            for j in take:
                matches[i].append(int(j))
                if not replace:
                    used[j] = True
                    iil[i] = min(iil[i], pos[j])
                    iir[i] = max(iir[i], pos[j])
    return matches


@pytest.mark.parametrize(
    ("replace", "filtered"), [(True, False), (True, True), (False, False)]
)
@pytest.mark.parametrize("exact", [None, "cohort"])
@pytest.mark.parametrize("caliper", [None, 0.02])
def test_matches_equal_a_brute_force_search(monkeypatch, replace, filtered, exact, caliper):
    import regeval.stats._nearest as nearest

    # filtered: far controls are left out before sorting (forced on small data)
    monkeypatch.setattr(nearest, "_FILTER_MIN_CONTROLS", 0 if filtered else 10**12)
    rng = np.random.default_rng(42)
    n_t, n_c = (20, 2000) if filtered else (60, 500)
    # rounded scores create many exact ties
    ps = np.round(np.concatenate([rng.beta(3, 2, n_t), rng.beta(2, 3, n_c)]), 2)
    df = frame(list(ps[:n_t]), list(ps[n_t:]), cohort=list(rng.integers(0, 4, n_t + n_c)))
    k = 4
    m = quiet(df, "treat", "ps", k=k, replace=replace, exact=[exact] if exact else None,
              caliper=caliper, caliper_scale="absolute", ties="scan")
    expected = _brute_force(df, k, replace, exact, caliper)
    labels = df.index.to_numpy()
    for i, ctrl in expected.items():
        assert controls_of(m, labels[i]) == [labels[j] for j in ctrl], labels[i]


@pytest.mark.parametrize("exact", [None, ["cohort"]])
@pytest.mark.parametrize("caliper", [None, 0.01])
def test_leaving_out_far_controls_does_not_change_the_matches(monkeypatch, exact, caliper):
    import regeval.stats._nearest as nearest

    rng = np.random.default_rng(9)
    n_t, n_c = 150, 20_000
    ps = np.concatenate([rng.beta(4, 2, n_t), rng.beta(1.5, 4, n_c)])
    tied = rng.random(n_t + n_c) < 0.3
    ps[tied] = np.round(ps[tied], 3)  # many exact ties
    df = frame(list(ps[:n_t]), list(ps[n_t:]), cohort=list(rng.integers(0, 5, n_t + n_c)))
    kwargs = dict(k=10, replace=True, exact=exact, caliper=caliper, caliper_scale="absolute")
    monkeypatch.setattr(nearest, "_FILTER_MIN_CONTROLS", 10**12)
    full = quiet(df, "treat", "ps", **kwargs)
    monkeypatch.setattr(nearest, "_FILTER_MIN_CONTROLS", 0)
    units = nearest._candidate_units(
        df["ps"].to_numpy(), df["treat"].to_numpy() == 1, np.zeros(len(df), dtype=np.int16), 1, 10
    )
    assert units is not None and len(units) < len(df) / 2
    fast = quiet(df, "treat", "ps", **kwargs)
    pd.testing.assert_frame_equal(full.pairs, fast.pairs)
    pd.testing.assert_series_equal(full.weights, fast.weights)
    pd.testing.assert_frame_equal(full.unmatched, fast.unmatched)
