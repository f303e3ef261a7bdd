"""Balance verdicts: thresholds, distribution terms, failures named."""

import numpy as np
import pandas as pd

from regeval.stats.balance import balance_table
from regeval.stats.balance_check import balance_failures, balance_score, balance_verdict, distribution_terms


def _data(spread_controls: float, n: int = 4000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.r_[np.ones(n // 4), np.zeros(3 * n // 4)].astype(int)
    age = np.where(t == 1, rng.normal(40, 8, n), rng.normal(40, 8 * spread_controls, n))
    sex = rng.integers(0, 2, n).astype(bool)
    return pd.DataFrame({"treated": t, "age": age, "sex": sex})


def test_same_mean_other_spread_fails_on_variance_ratio_and_tails():
    d, extra = distribution_terms(_data(1.6), ["age"])
    assert extra == ["age_sq", "age_low", "age_high"]
    # the treated have 10 % in each tail by construction
    t = d["treated"] == 1
    assert abs(d.loc[t, "age_low"].mean() - 0.1) < 0.01 and abs(d.loc[t, "age_high"].mean() - 0.1) < 0.01
    v = balance_verdict(balance_table(d, "treated", ["age", "sex", *extra]))
    row = v.set_index("term")
    # the mean is balanced, its spread is not: the verdict says so, naming the terms
    assert abs(row.loc["age", "smd_before"]) < 0.1
    assert not row.loc["age", "var_ratio_ok"] and not row.loc["age", "balanced"]
    assert not row.loc["age_sq", "smd_ok"]
    assert not row.loc["age_low", "smd_ok"] and not row.loc["age_high", "smd_ok"]
    assert row.loc["sexTRUE", "balanced"]
    msgs = balance_failures(v)
    assert any(m.startswith("age: ") and "variance ratio" in m for m in msgs)
    assert not any(m.startswith("sexTRUE") for m in msgs)


def test_same_distribution_passes_and_scores_better():
    good = balance_verdict(balance_table(*_with_terms(_data(1.0)), ))
    bad = balance_verdict(balance_table(*_with_terms(_data(1.6))))
    assert good["balanced"].all()
    assert balance_failures(good) == []
    assert balance_score(good) < balance_score(bad)


def _with_terms(d):
    d, extra = distribution_terms(d, ["age"])
    return d, "treated", ["age", "sex", *extra]


def test_thresholds_are_cobalts_by_hand():
    bal = pd.DataFrame({
        "term": ["a", "b", "c", "d"], "kind": ["continuous", "continuous", "binary", "continuous"],
        "smd_after": [0.099, -0.101, 0.2, 0.0], "var_ratio_after": [0.5, 2.0, np.nan, 2.01],
        "ecdf_max_after": [0.15, 0.1, 0.2, 0.151],
    })
    v = balance_verdict(bal).set_index("term")
    assert v.loc["a", "balanced"]  # bounds inclusive
    assert not v.loc["b", "smd_ok"] and v.loc["b", "var_ratio_ok"]
    assert not v.loc["c", "smd_ok"] and v.loc["c", "var_ratio_ok"] and v.loc["c", "ecdf_ok"]  # binary: SMD only
    assert not v.loc["d", "var_ratio_ok"] and not v.loc["d", "ecdf_ok"] and v.loc["d", "smd_ok"]
