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


@pytest.fixture(scope="module")
def caches(small_registers, tmp_path_factory):
    """The small registers as two extracts, integer ids (Parquet) and ten-digit text ids
    (the population register as one Stata file per year), each converted into the cache."""
    from regeval.registers.extract import build_cache
    from regeval.synthetic.extract import write_extract

    root = tmp_path_factory.mktemp("caches")
    out = {}
    for ids, layouts in (("as_generated", {}), ("string", {"bef": "stata_per_year"})):
        extract = write_extract(small_registers, root / f"extract_{ids}", layouts, (2009, 2025), ids)
        sources = resolve_sources(extract["directory"], extract["tables"])
        build_cache(sources, (2009, 2025), root / f"cache_{ids}")
        out[ids] = root / f"cache_{ids}"
    return out


def test_the_cache_codes_persons_alike_whatever_the_kind_of_id(small_registers, caches):
    from regeval.registers.contract import TABLE_NAMES

    ints, text = caches["as_generated"], caches["string"]
    for name in TABLE_NAMES:
        key = ["pnr", "aar"] if name in ("bef", "diag") else ["pnr"]
        a = pd.read_parquet(ints / f"{name}.parquet", columns=key)
        b = pd.read_parquet(text / f"{name}.parquet", columns=key)
        assert b["pnr"].dtype == a["pnr"].dtype == np.int64 or name == "deltagere", name
        if name == "bef":  # one file per year: rows in the order of the year files
            a, b = (f.sort_values(key, kind="stable").reset_index(drop=True) for f in (a, b))
        np.testing.assert_array_equal(a["pnr"].to_numpy(), b["pnr"].to_numpy())
    # the codes are the ranks of the distinct ids of every table; the map gives them back
    p_int = pd.read_parquet(ints / "persons.parquet")
    p_text = pd.read_parquet(text / "persons.parquet")
    every = set()
    for name in TABLE_NAMES:
        every |= set(pd.read_parquet(small_registers / f"{name}.parquet", columns=["pnr"])["pnr"].dropna().astype("int64"))
    assert p_int["pnr"].tolist() == sorted(every)
    assert p_text["pnr"].tolist() == [f"{p:010d}" for p in sorted(every)]
    assert p_int["code"].tolist() == p_text["code"].tolist() == list(range(len(every)))
    coded = pd.read_parquet(ints / "bef.parquet", columns=["pnr", "aar"])
    raw = pd.read_parquet(small_registers / "bef.parquet", columns=["pnr", "aar"])
    assert p_int["pnr"].to_numpy()[coded["pnr"].to_numpy()].tolist() == raw["pnr"].tolist()


def test_validation_of_the_cache_names_persons_by_the_extracts_ids(caches, tmp_path):
    import shutil

    from regeval.errors import DataContractError
    from regeval.registers.person_codes import read_person_ids, to_codes
    from regeval.registers.read import cache_sources
    from regeval.registers.validate import validate_registers

    folder = tmp_path / "cache"
    shutil.copytree(caches["string"], folder)
    bef = pd.read_parquet(folder / "bef.parquet")
    code = int(bef["pnr"].iloc[100])
    bef.loc[bef["pnr"] == code, "koen"] = 3
    bef.to_parquet(folder / "bef.parquet", index=False)
    ids = read_person_ids(folder / "persons.parquet")
    shown = ids[code].as_py()
    assert len(shown) == 10 and to_codes([shown, "no such id"], ids).tolist() == [code, -1]
    with pytest.raises(DataContractError) as err:
        validate_registers(cache_sources(folder), (2009, 2025), person_ids=ids)
    assert "bef.koen: value not allowed" in str(err.value)
    assert f"pnr={shown!r}" in str(err.value) or f"pnr={shown}" in str(err.value), str(err.value)[:2000]
