"""Shared fixtures: a small synthetic register set generated once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from regeval.synthetic import SyntheticConfig, generate

REPO = Path(__file__).resolve().parents[1]

SMALL = dict(seed=11, n_persons=40_000, n_participants=700, chunk_size=20_000)


@pytest.fixture(scope="session")
def small_registers(tmp_path_factory) -> Path:
    """A 40,000-person synthetic register set (two chunks) with ≈ 450 treated."""
    out = tmp_path_factory.mktemp("registers")
    generate(SyntheticConfig(**SMALL), out)
    return out
