"""Shared fixtures: a small synthetic register set generated once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from regeval.synthetic import SyntheticConfig, generate

REPO = Path(__file__).resolve().parents[1]

SMALL = dict(seed=11, n_persons=40_000, n_participants=700, chunk_size=20_000)


@pytest.fixture(scope="session")
def small_registers(tmp_path_factory) -> Path:
    """A 40,000-person synthetic register set (two chunks) with ≈ 450 treated."""
    out = tmp_path_factory.mktemp("registers")
    generate(SyntheticConfig(**SMALL), out)
    return out


# The whole DAG on a tiny synthetic population (tests/test_pipeline_e2e.py): run once per
# test session.
TINY = {
    "synthetic": {"seed": 5, "n_persons": 15000, "n_participants": 300, "workers": 1},
    "spec_defaults": {
        "effects": {
            "outcomes": ["employed", "fulltime_days", "hours_per_week", "sel103_104", "botilbud", "sel85", "gp_contacts", "taxable_income"],
            "windows": [{"outcome": "hours_per_week", "from": 0, "to": 7}],
        }
    },
    # a budget variant: shares the default's effect table, so one export job writes both
    "specs": {"all_effects": {"budget": {"effects_rule": "all"}},
              # the report's possible reading of the control group, side by side
              "never": {"control_rule": "never_participated"}},
    "run_specs": ["default", "all_effects", "never"],
}


def snakemake(workdir: Path, configfile: Path, cores: int, *extra: str) -> subprocess.CompletedProcess:
    """``snakemake`` as a user runs it, in ``workdir`` with ``configfile``."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
         "--configfile", str(configfile), "--cores", str(cores), *extra],
        capture_output=True, text=True, env=env, timeout=900,
    )


def run_dag(work: Path, config: dict, cores: int, configfile: str = "config.yaml") -> Path:
    """The whole DAG on ``config`` (written to ``work/configfile``) in ``work``, which must succeed."""
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / configfile
    cfg.write_text(yaml.safe_dump(config))
    proc = snakemake(work, cfg, cores)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return work


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """Working directory of one run of the DAG on :data:`TINY` (``--cores 1``)."""
    return run_dag(tmp_path_factory.mktemp("run1"), TINY, 1, "tiny.yaml")


# A tiny release in which small cells occur (tests/test_disclosure_attacks.py): about 60
# treated in six cohorts give small cells in the flow, the histogram and the attrition;
# two outcomes (a share with a window, a magnitude for the dominance rule) keep the
# exports cheap. Run once per session and shared by every test that attacks a release.
ATTACK_SPECS = ["default", "k1"]
ATTACK = {
    "synthetic": {"seed": 7, "n_persons": 6000, "n_participants": 120, "workers": 1},
    "spec_defaults": {
        "effects": {
            "outcomes": ["employed", "taxable_income"],
            "windows": [{"outcome": "employed", "from": 0, "to": 3}],
        }
    },
    # the same persons in two specs (k = 5 with replacement, k = 1 without)
    "specs": {"k1": {"matching": {"k": 1, "replace": False}}},
    "run_specs": ATTACK_SPECS,
}


@pytest.fixture(scope="session")
def attack_release(tmp_path_factory) -> Path:
    """Working directory of one run of the DAG on :data:`ATTACK` (``--cores 2``)."""
    return run_dag(tmp_path_factory.mktemp("attack"), ATTACK, 2)
