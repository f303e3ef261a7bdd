"""Person ids of any kind at linear cost: string ids give the same population, panel and
results as the same ids as integers, and no membership test on person ids compares
object arrays pairwise (``np.isin``, whose cost on strings grows with the product of
the two lengths)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from regeval.population.base import PopulationSpec, _keep, _member, build_base_population
from regeval.population.outcomes import person_year_outcomes
from regeval.registers.read import resolve_sources
from regeval.synthetic import SyntheticConfig, generate

from .conftest import REPO, SMALL


@pytest.fixture(scope="module")
def string_registers(tmp_path_factory):
    out = tmp_path_factory.mktemp("string_ids")
    generate(SyntheticConfig(**SMALL, person_ids="string"), out)
    return out


@pytest.fixture(scope="module")
def population_spec():
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    return PopulationSpec.from_config(cfg["population"])


def test_generator_writes_the_same_ids_as_text(small_registers, string_registers):
    ints = pd.read_parquet(small_registers / "bef.parquet", columns=["pnr", "aar"])
    text = pd.read_parquet(string_registers / "bef.parquet", columns=["pnr", "aar"])
    assert text["pnr"].map(len).eq(10).all()
    assert (text["pnr"].astype("int64").to_numpy() == ints["pnr"].to_numpy()).all()
    part = pd.read_parquet(string_registers / "deltagere.parquet")
    assert part["pnr"].isna().any()  # unlinked participants stay without an id


def test_membership_is_a_hash_lookup():
    values = np.array(["b", "a", "c", "a", "d"], dtype=object)
    assert _member(values, np.array(["a", "d", "a"], dtype=object)).tolist() == [False, True, False, True, True]
    assert _keep(values, np.array(["d", "a"], dtype=object)).tolist() == ["a", "d"]
    assert _keep(np.array([3, 1, 3]), np.array([], dtype=np.int64)).tolist() == []


def test_string_ids_give_the_same_base_population_and_person_years(
    small_registers, string_registers, population_spec, monkeypatch
):
    real_isin = np.isin

    def no_object_isin(a, b, *args, **kwargs):
        if np.asarray(a).dtype == object or np.asarray(b).dtype == object:
            raise AssertionError("np.isin on object arrays (pairwise comparisons)")
        return real_isin(a, b, *args, **kwargs)

    ints = build_base_population(resolve_sources(small_registers), population_spec)
    monkeypatch.setattr(np, "isin", no_object_isin)
    text = build_base_population(resolve_sources(string_registers), population_spec)
    expected = ints.units.assign(pnr=ints.units["pnr"].map(lambda p: f"{int(p):010d}"))
    got = text.units.assign(pnr=text.units["pnr"].astype(object))
    pd.testing.assert_frame_equal(got, expected.assign(pnr=expected["pnr"].astype(object)), check_dtype=False)
    pd.testing.assert_frame_equal(text.flow, ints.flow)

    persons_int = np.sort(ints.units["pnr"].unique())
    py_int = person_year_outcomes(resolve_sources(small_registers), persons_int, range(2009, 2026))
    py_text = person_year_outcomes(
        resolve_sources(string_registers), np.sort(text.units["pnr"].unique()), range(2009, 2026)
    )
    assert len(py_text) == len(py_int) > 0
    np.testing.assert_array_equal(py_text["pnr"].astype("int64").to_numpy(), py_int["pnr"].to_numpy())
    pd.testing.assert_frame_equal(py_text.drop(columns="pnr"), py_int.drop(columns="pnr"))
