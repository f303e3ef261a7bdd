"""Rule person_years: the yearly outcomes of every base-population person, all years
(shared by every spec)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from regeval.pipeline.runner import Files, Params
from regeval.pipeline.sources import register_sources
from regeval.population.outcomes import person_year_outcomes

log = logging.getLogger("regeval")


def person_years(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Write the person-year outcomes (``output.person_years``, person-level) of the
    persons in ``input.units`` over ``data.years``."""
    persons = pd.read_parquet(input["units"], columns=["pnr"])["pnr"].unique()
    first, last = (int(y) for y in params["data"]["years"])
    sources = register_sources(params["data"], input.get("generated"), input.get("cache"))
    table = person_year_outcomes(sources, np.sort(persons), range(first, last + 1))
    Path(output["person_years"]).parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(output["person_years"], index=False)
    log.info("person-year outcomes: %d rows for %d persons", len(table), len(persons))
