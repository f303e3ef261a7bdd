"""Cluster readiness: every rule declares its resources, memory and time grow with the
input, the library uses the threads it is given (never the machine's cores) and its
results do not depend on them. The run against a real SLURM is .ci/slurm_check.sh."""

from __future__ import annotations

import re
from concurrent import futures
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regeval.pipeline import resources
from regeval.stats import _logit, _nearest, fit_propensity, match_nearest, thread_budget, using_threads

REPO = Path(__file__).resolve().parents[1]


def _rule_blocks() -> dict[str, str]:
    """Text of every rule of workflow/rules/*.smk (the export rules are one template)."""
    blocks = {}
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        text = smk.read_text()
        starts = [(m.start(), m.group(2) or f"<anonymous in {smk.name}>") for m in re.finditer(r"^([ \t]*)rule ?(\w*):", text, re.M)]
        if not starts:
            continue
        ends = [s for s, _ in starts[1:]] + [len(text)]
        for (start, name), end in zip(starts, ends, strict=True):
            blocks[name] = text[start:end]
    return blocks


def test_every_rule_declares_threads_memory_and_runtime():
    blocks = _rule_blocks()
    assert {"generate_synthetic", "validate_registers", "propensity", "control_group", "effects"} <= set(blocks)
    assert any(n.startswith("<anonymous") for n in blocks)  # the export template
    for name, block in blocks.items():
        assert re.search(r"^\s*threads:", block, re.M), f"rule {name} declares no threads"
        assert re.search(r"^\s*mem_mb=", block, re.M), f"rule {name} declares no mem_mb"
        assert re.search(r"^\s*runtime=", block, re.M), f"rule {name} declares no runtime"


def test_memory_and_time_grow_with_the_input_and_the_attempt(tmp_path):
    small, big = tmp_path / "small.parquet", tmp_path / "big.parquet"
    small.write_bytes(b"x" * 2**20)  # 1 MB
    big.write_bytes(b"x" * 300 * 2**20)  # 300 MB (sparse enough for a tmp folder)
    need, time = resources.mem_mb(400, 2.0), resources.runtime(10, 30)
    # hand calculation: (400 + 2 × MB) × 1.5, rounded up to 100 MB
    assert need(None, [small]) == 700  # (400 + 2) × 1.5 = 603
    assert need(None, [small, big]) == 1600  # (400 + 602) × 1.5 = 1503
    assert need(None, [big]) == 1500  # (400 + 600) × 1.5
    assert need(None, [big], attempt=2) == 2300  # × 1.5 → 2250
    assert need(None, [tmp_path / "not-yet.parquet"]) == 600  # missing inputs count 0
    assert time(None, [big]) == 19  # 10 + 30 × 300/1024 = 18.8
    assert time(None, [big], attempt=2) == 38
    assert resources.generator_mem_mb(workers=2, chunk_size=125_000) == 3800  # (500 + 2000) × 1.5 = 3750
    assert resources.generator_mem_mb(workers=1, chunk_size=125_000) < resources.generator_mem_mb(2, 125_000)
    assert resources.generator_runtime(3_600_000) == 70


def test_the_thread_pools_take_the_budget_not_the_cores(monkeypatch):
    sizes = []

    class Recording(futures.ThreadPoolExecutor):
        def __init__(self, max_workers=None, **kw):
            sizes.append(max_workers)
            super().__init__(max_workers=max_workers, **kw)

    monkeypatch.setattr(_logit, "ThreadPoolExecutor", Recording)
    monkeypatch.setattr(_nearest, "ThreadPoolExecutor", Recording)
    X = np.random.default_rng(1).normal(size=(4 * _logit._BLOCK_ROWS, 3))
    assert thread_budget() == 1
    _logit._gram(X)
    assert sizes == []  # one thread: no pool
    with using_threads(3):
        assert thread_budget() == 3
        _logit._gram(X)
    assert sizes == [3] and thread_budget() == 1
    with using_threads(16):
        _logit._gram(X)
    assert sizes[-1] == _logit._MAX_WORKERS
    d = np.random.default_rng(2).random(_nearest._PARALLEL_SORT_MIN)
    codes = np.arange(len(d)) % 3
    with using_threads(2):
        _nearest._sort_units(d, codes, 3)
    assert sizes[-1] == 2
    with pytest.raises(ValueError, match="at least 1"):
        with using_threads(0):
            pass


@pytest.fixture(scope="module")
def large():
    """Enough units for the pools to start (block cross-products, per-stratum sorts)."""
    rng = np.random.default_rng(7)
    n = 4 * _logit._BLOCK_ROWS + 5_000
    df = pd.DataFrame({
        "age": rng.integers(18, 65, n).astype(float),
        "income": rng.gamma(2.0, 1.0, n),
        "region": rng.choice(["a", "b", "c"], n),
    })
    lin = -5 + 0.03 * df["age"] - 0.2 * df["income"] + (df["region"] == "b") * 0.5
    df["treat"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    return df


def test_results_do_not_depend_on_the_threads(large):
    one = fit_propensity(large, "treat", ["age", "income", "region"], threads=1)
    two = fit_propensity(large, "treat", ["age", "income", "region"], threads=2)
    # partial sums are added in block order whatever the threads (tolerance: any BLAS)
    np.testing.assert_allclose(two.coefficients["estimate"], one.coefficients["estimate"], rtol=1e-12)
    np.testing.assert_allclose(two.score, one.score, rtol=1e-12)
    m1 = match_nearest(large, "treat", one.score, k=3, exact=["region"], threads=1)
    m2 = match_nearest(large, "treat", one.score, k=3, exact=["region"], threads=2)
    pd.testing.assert_frame_equal(m1.pairs, m2.pairs)
    pd.testing.assert_series_equal(m1.weights, m2.weights)
