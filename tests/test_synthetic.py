"""The synthetic register generator: determinism, published shares, known truth, bias."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regeval.registers.contract import TABLE_NAMES
from regeval.registers.read import resolve_sources
from regeval.registers.validate import validate_registers
from regeval.synthetic import SyntheticConfig, generate

from .conftest import SMALL


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files_whatever_the_number_of_workers(tmp_path, small_registers):
    again = tmp_path / "again"
    generate(SyntheticConfig(**SMALL, workers=2), again)
    assert _digests(again) == _digests(small_registers)


def test_another_seed_gives_other_data(tmp_path, small_registers):
    other = tmp_path / "other"
    generate(SyntheticConfig(**{**SMALL, "seed": 12}), other)
    assert _digests(other)["bef.parquet"] != _digests(small_registers)["bef.parquet"]


def test_generated_tables_satisfy_the_data_contract(small_registers):
    report = validate_registers(resolve_sources(small_registers), (2009, 2025))
    assert set(report.to_dict()["tables"]) == set(TABLE_NAMES)


def test_participant_file_has_the_published_structure(small_registers):
    part = pd.read_parquet(small_registers / "deltagere.parquet")
    people = part.groupby("deltager_id")
    n = people.ngroups
    with_id = people["pnr"].first().notna().mean()
    years = people["startdato"].agg(lambda s: pd.to_datetime(s).dt.year.nunique())
    assert 0.74 <= with_id <= 0.84  # KLAPjob: 2,033 of 2,570 ≈ 79 %
    assert 0.10 <= (years > 1).mean() <= 0.20  # ≈ 15 % start in more than one year
    assert set(pd.to_datetime(part["startdato"]).dt.year) <= set(range(2014, 2020))
    assert 0.8 * 700 <= n <= 1.2 * 700


def test_population_shares_are_plausible_for_denmark(small_registers):
    bef = pd.read_parquet(small_registers / "bef.parquet", filters=[("aar", "==", 2016)])
    age = 2016 - pd.to_datetime(bef["foed_dag"]).dt.year
    adults = bef.loc[(age >= 18) & (age <= 64), "pnr"]
    sup = pd.read_parquet(small_registers / "forsorg.parquet", filters=[("aar", "==", 2016)])
    share = sup[sup["pnr"].isin(adults)]["ydelse"].astype(str).value_counts(normalize=True)
    assert 0.03 <= share["foep"] <= 0.07  # FØP ≈ 5 % of 18-64
    assert 0.01 <= share["fleksjob"] + share["ledighedsydelse"] <= 0.04
    assert share["selvforsoerget"] > 0.6


def test_truth_is_recorded_and_follows_the_published_shape(small_registers):
    truth = pd.read_csv(small_registers / "truth_att.csv").set_index(["outcome", "rel_year"])["true_att"]
    for outcome in ("employed", "sel103_104", "botilbud", "sel85", "fulltime_days"):
        assert (truth[outcome].loc[-5:-1] == 0).all(), outcome  # no effect before start
    assert truth["employed"].loc[0] > truth["employed"].loc[3] > 0.1  # jump, then ≈ +21 pp
    assert truth["sel103_104"].loc[2] < -0.05  # ≈ −9 pp
    assert truth["botilbud"].loc[4] < truth["botilbud"].loc[0] < 0  # −1 pp → −4 pp
    assert truth["sel85"].loc[4] > 0


def test_naive_comparison_is_biased_while_the_truth_is_known(small_registers):
    """Participants differ from the base population before start (selection on
    observables), so a naive treated-vs-untreated difference misses the truth."""
    from regeval.pipeline.config import load_yaml
    from regeval.population.base import PopulationSpec, build_base_population

    from .conftest import REPO

    cfg = load_yaml(REPO / "config" / "config.yaml")
    bp = build_base_population(resolve_sources(small_registers), PopulationSpec.from_config(cfg["population"]))
    units = bp.units
    # the year before start: pure selection, the true effect is 0
    naive_pre = units.loc[units.treated == 1, "employed"].mean() - units.loc[units.treated == 0, "employed"].mean()
    n1, n0 = (units.treated == 1).sum(), (units.treated == 0).sum()
    p = units["employed"].mean()
    se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n0))
    assert naive_pre > 4 * se  # participants were far more often employed before start
    truth = pd.read_csv(small_registers / "truth_att.csv")
    assert truth[(truth.outcome == "employed") & (truth.rel_year == -1)]["true_att"].iloc[0] == 0


def test_effect_scale_zero_gives_zero_truth(tmp_path):
    out = tmp_path / "null"
    generate(SyntheticConfig(seed=3, n_persons=15_000, n_participants=300, effect_scale=0.0, chunk_size=15_000), out)
    truth = pd.read_csv(out / "truth_att.csv")
    assert np.allclose(truth["true_att"], 0.0)


@pytest.mark.parametrize(
    "bad",
    [{"n_persons": 10}, {"share_with_id": 0.0}, {"confounding": -1.0}, {"start_years": (2030,), "start_year_weights": (1.0,)}],
)
def test_invalid_generator_settings_name_the_key(bad):
    from regeval.errors import ConfigError

    with pytest.raises(ConfigError, match="synthetic"):
        SyntheticConfig(**bad)
