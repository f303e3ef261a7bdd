"""Balance statistics and descriptive tables on hand-made data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from regeval.errors import MatchingError
from regeval.stats.balance import balance_table, descriptive_table


@pytest.fixture
def small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "treat": [1, 1, 1, 0, 0, 0, 0],
            "age": [20.0, 30.0, 40.0, 25.0, 35.0, 45.0, 55.0],
            "male": [1, 0, 1, 0, 0, 1, 0],
            "region": ["n", "s", "s", "n", "e", "e", "s"],
        }
    )


def test_smd_divides_by_the_treated_sd_of_the_full_sample(small):
    b = balance_table(small, "treat", ["age"]).iloc[0]
    sd_t = np.std([20, 30, 40], ddof=1)
    assert b["mean_treated_before"] == 30.0
    assert b["mean_control_before"] == 40.0
    assert b["smd_before"] == pytest.approx((30 - 40) / sd_t)
    assert b["kind"] == "continuous"


def test_binary_terms_use_p_times_one_minus_p_and_no_variance_ratio(small):
    b = balance_table(small, "treat", ["male"]).iloc[0]
    p_t, p_c = 2 / 3, 1 / 4
    assert b["kind"] == "binary"
    assert b["smd_before"] == pytest.approx((p_t - p_c) / np.sqrt(p_t * (1 - p_t)))
    assert np.isnan(b["var_ratio_before"])
    assert b["ecdf_mean_before"] == pytest.approx(p_t - p_c)
    assert b["ecdf_max_before"] == pytest.approx(p_t - p_c)


def test_factor_levels_get_one_row_each(small):
    b = balance_table(small, "treat", ["region"])
    assert b["term"].tolist() == ["regione", "regionn", "regions"]
    assert b["level"].tolist() == ["e", "n", "s"]
    assert b["variable"].unique().tolist() == ["region"]
    assert (b["kind"] == "binary").all()
    assert b["mean_treated_before"].tolist() == pytest.approx([0, 1 / 3, 2 / 3])


def test_variance_ratio_and_ecdf_by_hand(small):
    b = balance_table(small, "treat", ["age"]).iloc[0]
    assert b["var_ratio_before"] == pytest.approx(np.var([20, 30, 40], ddof=1) / np.var([25, 35, 45, 55], ddof=1))
    # eCDFs at the distinct values 20, 25, ..., 55
    x = np.array([20, 25, 30, 35, 40, 45, 55])
    f_t = np.array([1, 1, 2, 2, 3, 3, 3]) / 3
    f_c = np.array([0, 1, 1, 2, 2, 3, 4]) / 4
    diff = np.abs(f_t - f_c)
    assert len(x) == len(diff)
    assert b["ecdf_mean_before"] == pytest.approx(diff.mean())
    assert b["ecdf_max_before"] == pytest.approx(diff.max())


def test_unit_weights_give_after_equal_to_before(small):
    b = balance_table(small, "treat", ["age", "male", "region"], weights=pd.Series(1.0, index=small.index))
    for stat in ("mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max"):
        np.testing.assert_allclose(b[f"{stat}_after"], b[f"{stat}_before"], equal_nan=True)


def test_weights_enter_means_variances_and_ecdf(small):
    w = pd.Series([1, 1, 1, 0, 2, 1, 0], index=small.index, dtype=float)
    b = balance_table(small.assign(w=w), "treat", ["age"], weights="w").iloc[0]
    assert b["mean_control_after"] == pytest.approx((2 * 35 + 45) / 3)
    sd_t = np.std([20, 30, 40], ddof=1)  # denominator stays the unweighted treated SD
    assert b["smd_after"] == pytest.approx((30 - 115 / 3) / sd_t)
    # reliability-weights variance, as R's cov.wt
    wn = np.array([2, 1]) / 3
    m = (wn * [35, 45]).sum()
    v_c = (wn * (np.array([35, 45]) - m) ** 2).sum() / (1 - (wn**2).sum())
    assert b["var_ratio_after"] == pytest.approx(np.var([20, 30, 40], ddof=1) / v_c)
    # eCDF over all distinct values, zero-weight units included
    f_t = np.array([1, 1, 2, 2, 3, 3, 3]) / 3
    f_c = np.array([0, 0, 0, 2, 2, 3, 3]) / 3
    assert b["ecdf_mean_after"] == pytest.approx(np.abs(f_t - f_c).mean())
    assert b["ecdf_max_after"] == pytest.approx(np.abs(f_t - f_c).max())


def test_column_layout(small):
    before = balance_table(small, "treat", ["age"])
    assert list(before.columns) == [
        "term", "variable", "level", "kind", "mean_treated_before", "mean_control_before",
        "smd_before", "var_ratio_before", "ecdf_mean_before", "ecdf_max_before",
    ]
    after = balance_table(small, "treat", ["age"], weights=pd.Series(1.0, index=small.index))
    assert list(after.columns)[-6:] == [
        "mean_treated_after", "mean_control_after", "smd_after", "var_ratio_after",
        "ecdf_mean_after", "ecdf_max_after",
    ]


def test_numeric_column_named_categorical_is_expanded(small):
    b = balance_table(small.assign(year=[1, 2, 1, 2, 1, 2, 2]), "treat", ["year"], categorical=["year"])
    assert b["term"].tolist() == ["year1", "year2"]


def test_bad_inputs_raise(small):
    with pytest.raises(MatchingError, match="missing value"):
        balance_table(small.assign(age=[np.nan] + [1.0] * 6), "treat", ["age"])
    with pytest.raises(MatchingError, match="non-negative"):
        balance_table(small, "treat", ["age"], weights=pd.Series(-1.0, index=small.index))
    with pytest.raises(MatchingError, match="not in data"):
        balance_table(small, "treat", ["nope"])


def test_descriptive_table_gives_one_column_per_group_with_person_counts(small):
    participants = small[small["treat"] == 1]
    controls = small[small["treat"] == 0]
    w = pd.Series([0.0, 2.0, 1.0, 1.0], index=controls.index)
    tab = descriptive_table(
        {"participants": participants, "matched controls": controls, "population": small},
        ["age", "male", "region"],
        weights={"matched controls": w},
    )
    assert list(tab.columns) == ["term", "variable", "level", "kind", "participants", "matched controls", "population"]
    first = tab.iloc[0]
    assert first["term"] == "n" and first["kind"] == "count"
    assert (first["participants"], first["matched controls"], first["population"]) == (3, 3, 7)
    t = tab.set_index("term")
    assert t.loc["age", "participants"] == 30.0
    assert t.loc["age", "matched controls"] == pytest.approx((2 * 35 + 45 + 55) / 4)
    assert t.loc["regione", "matched controls"] == pytest.approx(3 / 4)
    assert t.loc["regione", "kind"] == "share"
    assert t.loc["age", "kind"] == "mean"


def test_descriptive_table_skips_missing_values():
    a = pd.DataFrame({"x": [1.0, np.nan, 3.0]})
    tab = descriptive_table({"a": a}, ["x"]).set_index("term")
    assert tab.loc["x", "a"] == 2.0
    assert tab.loc["n", "a"] == 3


def test_bool_columns_are_one_binary_term_named_as_r_names_a_logical(small):
    b = balance_table(small.assign(flag=small["male"] == 1), "treat", ["flag"]).iloc[0]
    assert b["term"] == "flagTRUE" and b["level"] == "TRUE" and b["kind"] == "binary"
    assert b["mean_treated_before"] == pytest.approx(2 / 3)


def test_descriptive_table_refuses_weights_for_unknown_groups(small):
    with pytest.raises(MatchingError, match="unknown group"):
        descriptive_table({"a": small}, ["age"], weights={"b": pd.Series(1.0, index=small.index)})
