"""Cluster readiness: every rule declares its resources, memory and time grow with the
input, the library uses the threads it is given (never the machine's cores) and its
results do not depend on them. The run against a real SLURM is .ci/slurm_check.sh."""

from __future__ import annotations

import re
import subprocess
import sys
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


def test_every_cluster_rule_is_in_a_group_and_the_local_rules_in_none():
    """Each SLURM job costs two Snakemake starts and a status-check lag, so the rules run
    in group jobs (common.smk): the register preparation, then the evaluation (one group
    for both when the run is one chain). Rules that run where Snakemake runs are in none
    (Snakemake would submit a local rule that is in a group)."""
    blocks = _rule_blocks()
    sources = [(REPO / "Snakefile").read_text(), *(f.read_text() for f in (REPO / "workflow" / "rules").glob("*.smk"))]
    local_rules = {name for text in sources for block in re.findall(r"^\s*localrules:\n((?:\s+\w+,\n)+)", text, re.M)
                   for name in re.findall(r"\w+", block)}
    assert local_rules == {"all", "sweep_summary", "business_case", "release"}
    registers = {"generate_synthetic", "register_cache", "validate_registers", "base_population", "person_years"}
    for name, block in blocks.items():
        group = re.search(r"^\s*group: (\w+)$", block, re.M)
        if name in local_rules:
            assert group is None, f"local rule {name} is in a group"
        else:
            assert group is not None, f"rule {name} is in no group"
            assert group.group(1) == ("REGISTERS_GROUP" if name in registers else "EVALUATION_GROUP"), name
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    assert 'REGISTERS_GROUP = "run" if ONE_CHAIN else "registers"' in common
    assert 'EVALUATION_GROUP = "run" if ONE_CHAIN else "evaluation"' in common


def test_the_group_jobs_of_a_run_with_two_specs(tmp_path):
    """The CI's tiny configuration (two specs sharing a propensity model), planned as for a
    cluster (a dry run shows the group jobs): two jobs, the register preparation and the
    evaluation of both specs."""
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path), "-n",
         "--cores", "2", "--configfile", str(REPO / ".ci" / "slurm" / "tiny.yaml")],
        capture_output=True, text=True, check=True,
    ).stdout
    groups: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        head = re.search(r"Group job (\w+) ", line)
        if head:
            current = groups.setdefault(head.group(1), [])
        elif current is not None and re.match(r"^    rule \w+:$", line):
            current.append(line.strip()[5:-1])
        elif line.startswith(("[", "rule ", "localrule ", "Job stats")):  # a job that is in no group
            current = None
    assert {g: sorted(r) for g, r in groups.items()} == {
        "registers": ["base_population", "generate_synthetic", "person_years", "validate_registers"],
        "evaluation": ["control_group", "control_group", "effects", "effects", "export_default", "export_k1", "propensity"],
    }


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
