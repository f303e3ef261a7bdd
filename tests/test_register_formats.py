"""The whole DAG on the same small population given two ways, side by side:

* synthetic registers with string person ids (``synthetic.person_ids: string``), Parquet;
* the same population with integer ids, written the way a research machine's extract
  arrives (``data.source: registers``): the population register as one Stata file per
  year (numbers as doubles, no year column: the year is in the file name), the support
  register as a SAS transport file, education and the participant file as CSV, income
  as one Parquet file per year and the other tables as Parquet.

The effect and budget tables (every exported table) must be byte-identical: the kind of
person id and the file format change nothing. Ten-digit ids sort as text as they do as
integers, so the units are numbered alike.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from regeval.synthetic import SyntheticConfig, generate
from regeval.synthetic.extract import write_extract

from .conftest import run_dag

SYNTHETIC = {"seed": 3, "n_persons": 6_000, "n_participants": 150, "workers": 1}
BASE = {
    # the formats, not the score, are under test: the report's logit alone (the default
    # fits three candidate score models)
    "spec_defaults": {"effects": {"outcomes": ["employed", "hours_per_week", "taxable_income"],
                                  "windows": [{"outcome": "employed", "from": 0, "to": 7}]},
                      "propensity": {"model": "logit"}},
    "run_specs": ["default"],
    "business_case": None,
}
LAYOUTS = {"bef": "stata_per_year", "forsorg": "xport", "udda": "csv", "deltagere": "csv",
           "indkomst": "parquet_per_year"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    run_dag(root / "string_ids", {**BASE, "synthetic": {**SYNTHETIC, "person_ids": "string"}}, 2)
    generated = root / "generated"
    generate(SyntheticConfig(**{k: v for k, v in SYNTHETIC.items()}), generated)
    registers = write_extract(generated, root / "extract", LAYOUTS, (2009, 2025))
    run_dag(root / "extract_run", {**BASE, "data": {"source": "registers", "registers": registers}}, 2)
    return root


def _tables(work: Path) -> dict[str, bytes]:
    folder = work / "results" / "default" / "export" / "tables"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".csv", ".parquet")}


def test_the_formats_and_the_kind_of_id_give_byte_identical_tables(runs):
    a, b = _tables(runs / "string_ids"), _tables(runs / "extract_run")
    assert {"effects.csv", "budget_net.csv", "population_flow.csv", "balance.csv"} <= set(a)
    effects = pd.read_csv(io.BytesIO(a["effects.csv"]))
    assert effects["estimate"].notna().sum() >= 30  # estimated (and published) effects are compared
    assert a.keys() == b.keys()
    assert [n for n in a if a[n] != b[n]] == []


def test_the_extract_went_through_the_cache_and_its_conversions_are_reported(runs):
    import json

    inside = runs / "extract_run" / "results" / "_shared" / "inside"
    cache = json.loads((inside / "register_cache" / "cache.json").read_text())
    bef = cache["tables"]["bef"]
    assert bef["year_from_file_name"] and len(bef["files"]) == 17
    assert bef["doubles_converted_to_integers"]["koen"] == bef["rows"]  # Stata: every number a double
    validation = json.loads((inside / "validation.json").read_text())
    assert validation["extract"]["tables"]["bef"]["doubles_converted_to_integers"] == bef["doubles_converted_to_integers"]
    log = (runs / "extract_run" / "results" / "_shared" / "logs" / "register_cache.log").read_text()
    assert "bef file 17/17 bef2025.dta" in log
    assert not (runs / "string_ids" / "results" / "_shared" / "inside" / "register_cache").exists()
