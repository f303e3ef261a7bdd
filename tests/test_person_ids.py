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
    """The small registers as three extracts, integer ids (Parquet), ten-digit text ids
    (the population register as one Stata file per year; the cache's digit fast path) and
    text ids ``P`` + ten digits (Parquet; the general text path), each converted into the cache."""
    from regeval.registers.extract import build_cache
    from regeval.synthetic.extract import write_extract

    root = tmp_path_factory.mktemp("caches")
    out = {}
    for ids, layouts in (("as_generated", {}), ("string", {"bef": "stata_per_year"}), ("alnum", {})):
        extract = write_extract(small_registers, root / f"extract_{ids}", layouts, (2009, 2025), ids)
        sources = resolve_sources(extract["directory"], extract["tables"])
        build_cache(sources, (2009, 2025), root / f"cache_{ids}")
        out[ids] = root / f"cache_{ids}"
    return out


def test_the_cache_codes_persons_alike_whatever_the_kind_of_id(small_registers, caches):
    from regeval.registers.contract import TABLE_NAMES

    ints, text, alnum = caches["as_generated"], caches["string"], caches["alnum"]
    for name in TABLE_NAMES:
        key = ["pnr", "aar"] if name in ("bef", "diag") else ["pnr"]
        a = pd.read_parquet(ints / f"{name}.parquet", columns=key)
        b = pd.read_parquet(text / f"{name}.parquet", columns=key)
        c = pd.read_parquet(alnum / f"{name}.parquet", columns=key)
        assert b["pnr"].dtype == a["pnr"].dtype == np.int64 or name == "deltagere", name
        np.testing.assert_array_equal(a["pnr"].to_numpy(), c["pnr"].to_numpy())
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
    assert pd.read_parquet(alnum / "persons.parquet")["pnr"].tolist() == [f"P{p:010d}" for p in sorted(every)]
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


# --- the fast path of the person codes: text ids of one width of ASCII digits ------------

def _write_tables(folder, tables, row_group_size=2):
    """Hand-built extract tables: ``{name: [id, ...]}`` as Parquet files (``pnr`` text,
    or integer for a list of ints; a row number beside it), small row groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    raw = {}
    for name, ids in tables.items():
        kind = pa.int64() if any(isinstance(i, int) for i in ids) else pa.string()
        table = pa.table({"pnr": pa.array(ids, kind), "row": pa.array(range(len(ids)), pa.int64())})
        raw[name] = folder / f"{name}.parquet"
        pq.write_table(table, str(raw[name]), row_group_size=row_group_size)
    return raw


def _coded(raw, out):
    """code_tables on ``raw``: the ids taken, the coded tables and the bytes of persons.parquet."""
    import pyarrow.parquet as pq

    from regeval.registers import person_codes

    out.mkdir()
    ids = person_codes.distinct_ids(raw)
    n, rows = person_codes.code_tables(raw, out)
    coded = {name: pq.read_table(str(out / f"{name}.parquet")) for name in raw}
    return ids, n, coded, (out / person_codes.PERSONS_FILE).read_bytes()


def _expected_codes(tables):
    """Independent expectation: the rank of each id among the sorted distinct ids of all
    tables (Python's order of the values: text by code points, integers by value)."""
    every = sorted({i for ids in tables.values() for i in ids if i is not None})
    rank = {v: k for k, v in enumerate(every)}
    return every, {name: [None if i is None else rank[i] for i in ids] for name, ids in tables.items()}


FAST_CASES = {
    "leading zeros, nulls, ids in one table only, an empty table": {
        "bef": ["0000000007", "0012345678", None, "0000000007", "9999999999", "0000000000", "1000000000"],
        "udda": ["0000000000", "0000000099", None, None, "0012345678"],  # 0000000099 is only here
        "diag": [],
        "deltagere": [None, None, None],
    },
    "one id, one digit": {"bef": ["5", "5", None, "0"], "udda": ["7"]},
    "eighteen digits": {"bef": ["999999999999999999", "000000000000000001"], "udda": ["100000000000000000"]},
}

GENERAL_CASES = {  # the fast path does not hold: the general text path, same codes as ever
    "mixed widths (the odd one late)": {"bef": ["0000000123", "0000000001", None], "udda": ["0000000002", "123"]},
    "letters": {"bef": ["0000000123", "0000000001"], "udda": ["00000000A1", "0000000002"]},
    "a sign": {"bef": ["0000000003", "-000000001"], "udda": ["+000000001"]},
    "a blank, a space": {"bef": ["0000000003", "", " 00000001"], "udda": ["0000000003"]},
    "non-ASCII digits": {"bef": ["0000000003", "000000000\u0663"]},
    "nineteen digits": {"bef": ["1000000000000000000", "0999999999999999999"]},
    "all null": {"bef": [None, None], "udda": []},
}


@pytest.mark.parametrize("case", list(FAST_CASES) + list(GENERAL_CASES))
def test_text_ids_of_one_digit_width_get_the_codes_of_the_general_path(case, tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from regeval.registers import person_codes

    tables = {**FAST_CASES, **GENERAL_CASES}[case]
    raw = _write_tables(tmp_path / "extract", tables)
    monkeypatch.setattr(person_codes, "LOOKUP_ROWS", 3)  # several batches per table, compactions
    monkeypatch.setattr(person_codes, "HASH_LOOKUP_ROWS", 3)
    ids, n, coded, persons = _coded(raw, tmp_path / "fast")
    fast = case in FAST_CASES
    assert (ids.width is not None) == fast and ids.lookup.type == (pa.int64() if fast else pa.string())
    every, codes = _expected_codes(tables)
    assert n == len(every)
    person_table = pq.read_table(pa.BufferReader(persons))
    assert person_table.column("pnr").type == pa.string()
    assert person_table.column("pnr").to_pylist() == every  # leading zeros kept
    assert person_table.column("code").to_pylist() == list(range(len(every)))
    for name in tables:
        assert coded[name].column("pnr").type == pa.int64()
        assert coded[name].column("pnr").to_pylist() == codes[name], name
        assert coded[name].column("row").to_pylist() == list(range(len(tables[name])))
    # the general text path (no fast path at all) writes the same files, byte for byte
    monkeypatch.setattr(person_codes, "MAX_DIGITS", 0)
    ids_g, n_g, coded_g, persons_g = _coded(raw, tmp_path / "general")
    assert ids_g.width is None and n_g == n and persons_g == persons
    for name in tables:
        assert coded_g[name].equals(coded[name]), name
        assert (tmp_path / "general" / f"{name}.parquet").read_bytes() == (tmp_path / "fast" / f"{name}.parquet").read_bytes()


def test_a_batch_off_the_shape_turns_the_gathered_ids_back_to_text(tmp_path, monkeypatch):
    """The fast path is left in the middle of a table, after compactions: the ids gathered
    as integers come back as text with their leading zeros, and the order is the text's."""
    from regeval.registers import person_codes

    ids = [f"{k:06d}" for k in range(0, 40, 3)] + ["00012", "000x00"] + [f"{k:06d}" for k in range(1, 40, 5)]
    tables = {"bef": ids, "udda": ["000001", None]}
    raw = _write_tables(tmp_path / "extract", tables, row_group_size=4)
    monkeypatch.setattr(person_codes, "LOOKUP_ROWS", 4)
    got = person_codes.distinct_ids(raw)
    every, _ = _expected_codes(tables)
    assert got.width is None and got.extract_ids().to_pylist() == every
    # two persons "000012" and "00012" (the same number), in the text's order
    assert every.index("000012") < every.index("00012") < every.index("000x00")


def test_integer_ids_are_coded_by_value(tmp_path, monkeypatch):
    from regeval.registers import person_codes

    tables = {"bef": [10, 3, None, 7_000_000_000, 3], "udda": [-5, 10], "diag": []}
    raw = _write_tables(tmp_path / "extract", {k: v for k, v in tables.items() if v})
    monkeypatch.setattr(person_codes, "LOOKUP_ROWS", 2)
    ids, n, coded, _ = _coded(raw, tmp_path / "out")
    every, codes = _expected_codes(tables)
    assert ids.width is None and ids.extract_ids().to_pylist() == every == [-5, 3, 10, 7_000_000_000]
    assert {k: t.column("pnr").to_pylist() for k, t in coded.items()} == {k: codes[k] for k in coded}


def test_an_id_missing_from_the_distinct_ids_is_an_error_not_a_wrong_code(tmp_path):
    import pyarrow as pa

    from regeval.registers import person_codes

    raw = _write_tables(tmp_path / "extract", {"bef": ["0000000001", "0000000005"]})
    short = person_codes.PersonIds(pa.array([1, 3], pa.int64()), 10, pa.string())
    with pytest.raises(RuntimeError, match="not among the distinct ids"):
        person_codes.write_coded(raw["bef"], tmp_path / "bef.parquet", short)
