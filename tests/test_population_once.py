"""The base population, its characteristics and the whole population's means come from
one read of each register year (rule base_population), and are what the separate
computations give: the units' characteristics as measured for the units' persons alone,
the means as :func:`regeval.population.base.population_means` computes them."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
import yaml

import regeval.population.base as base_mod
import regeval.population.panel as panel_mod
from regeval.population.base import PopulationSpec, build_population, population_means
from regeval.population.panel import yearly_variables
from regeval.population.tables import population_means_of
from regeval.registers.read import read_table, resolve_sources

from .conftest import REPO


@pytest.fixture(scope="module")
def built(small_registers):
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    spec = PopulationSpec.from_config(cfg["population"])
    sources = resolve_sources(small_registers)
    reads: Counter = Counter()

    def counting(source, columns=None, *, years=None, persons=None):
        for y in (years if years is not None else [None]):
            reads[(source.table, y)] += 1
        return read_table(source, columns, years=years, persons=persons)

    mp = pytest.MonkeyPatch()
    mp.setattr(base_mod, "read_table", counting)
    mp.setattr(panel_mod, "read_table", counting)
    try:
        bp, means = build_population(sources, spec, population_means_of(spec))
    finally:
        mp.undo()
    return spec, sources, bp, means, reads


def test_each_register_year_is_read_once(built):
    spec, _, _, _, reads = built
    assert reads[("deltagere", None)] == 1 and reads[("diag", None)] == 1
    years_before = {c - 1 for c in spec.cohorts}
    for table in ("bef", "udda", "forsorg", "handicap", "sundhed", "indkomst"):
        assert {y for (t, y) in reads if t == table} == years_before, table
        assert max(n for (t, _), n in reads.items() if t == table) == 1, table
    # employment: the year before (yearly variables) and the four years before that (history)
    # of each cohort; a year is read again only as another cohort's history
    assert max(n for (t, _), n in reads.items() if t == "beskaeftigelse") <= 2


def test_the_units_characteristics_are_those_of_their_persons_alone(built):
    spec, sources, bp, _, _ = built
    units = bp.units
    assert len(units) > 0 and units["unit"].tolist() == list(range(len(units)))
    persons = np.sort(units["pnr"].unique())
    alone = yearly_variables(sources, [c - 1 for c in spec.cohorts], persons=persons,
                             education_levels=spec.education_levels)
    got = units.assign(year=units["cohort"] - 1).merge(alone, on=["pnr", "year"], suffixes=("", "_alone"))
    assert len(got) == len(units)
    for c in ("age", "sex", "education", "municipality", "taxable_income", "fulltime_days", "support_kontant"):
        if c in alone.columns:
            pd.testing.assert_series_equal(got[c], got[f"{c}_alone"], check_names=False)
    # sorted by cohort, treated first, then person
    key = units[["cohort", "treated", "pnr"]].assign(treated=-units["treated"])
    assert key.equals(key.sort_values(["cohort", "treated", "pnr"], kind="stable"))


def test_the_means_are_the_population_means(built):
    spec, sources, _, means, _ = built
    alone = population_means(sources, spec, *population_means_of(spec))
    # the means of the base-population job are built column by column from the year's
    # variables, population_means from a frame of everybody's characteristics: the same
    # sums (compared to a relative 1e-12, not to the last bit)
    pd.testing.assert_frame_equal(means, alone, check_exact=False, rtol=1e-12, atol=0.0)
