"""Rule control_group: matching (or a user-supplied control group), balance and the
descriptive table, for one matching choice shared by every spec that agrees on it
(key ``m-…``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from regeval.disclosure.aggregates import load_aggregate, read_aggregate, write_aggregate
from regeval.errors import RegevalError
from regeval.pipeline.evaluate import match_units, user_controls
from regeval.pipeline.runner import Files, Params
from regeval.pipeline.spec import MatchingSpec, pool_rule
from regeval.population import characteristics
from regeval.population.base import control_pool
from regeval.population.tables import matched_flow_table
from regeval.registers.person_codes import read_person_ids, to_codes
from regeval.stats.balance_check import balance_failures
from regeval.stats.tables import (
    balance_with_counts,
    descriptives_with_counts,
    matching_summary_table,
    supplied_controls_summary_table,
)

log = logging.getLogger("regeval")

DESCRIPTIVE_CHARACTERISTICS = [n for n in characteristics.CHARACTERISTICS if n != "age"] + ["age"]
"""The rows of the descriptive table: every characteristic, age last."""


def control_group(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Params ``spec``: the matching choices (``characteristics``, ``matching``,
    ``control_ids``, ``pool``); ``population.diagnosis_groups``. Writes the pairs and
    matched units (person-level), and the matching summary, population flow, balance
    and descriptive tables."""
    spec = params["spec"]
    units = control_pool(pd.read_parquet(input["units"]), pool_rule(spec["pool"]))
    Path(output["pairs"]).parent.mkdir(parents=True, exist_ok=True)
    if spec.get("control_ids"):
        pairs, matched, summary = _supplied(units, spec["control_ids"], input["control_ids"], input.get("persons"))
    else:
        m = MatchingSpec.from_mapping(spec["matching"])
        res, matched = match_units(units, pd.read_parquet(input["scores"]), m)
        pairs = res.pairs
        summary = matching_summary_table(res, k=m.k, replace=m.replace, exact=list(m.exact), caliper=m.caliper)
        log.info(
            "matched %d of %d treated with %d unique controls (ESS %.0f)",
            res.n_treated_matched, res.n_treated, res.n_controls_unique, res.ess_control,
        )
    pairs.to_parquet(output["pairs"], index=False)
    matched.to_parquet(output["matched"], index=False)
    write_aggregate(matched_flow_table(load_aggregate(input["flow"]), matched, units), output["flow"])
    write_aggregate(summary, output["summary"])

    diagnosis_groups = list(params["population"]["diagnosis_groups"])
    weights = units["unit"].map(matched.set_index("unit")["weight"]).fillna(0.0).to_numpy()
    columns, categorical = characteristics.expand(spec["characteristics"], diagnosis_groups)
    balance = balance_with_counts(units, weights, columns, categorical)
    write_aggregate(balance, output["balance"])
    failures = balance_failures(balance.frame)
    if failures:
        log.warning("balance after matching fails for %d term(s): %s", len(failures), "; ".join(failures))
    else:
        log.info("balance after matching: every term within the thresholds")
    columns, categorical = characteristics.expand(DESCRIPTIVE_CHARACTERISTICS, diagnosis_groups)
    population, _ = read_aggregate(input["population_means"])
    write_aggregate(descriptives_with_counts(units, weights, columns, categorical, population), output["descriptives"])


def _supplied(units: pd.DataFrame, name: str, path: str, persons: str | None = None
              ) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """Pairs (none), matched units and summary of a user-supplied control group.
    ``persons``: the register cache's map from person code to id (the units hold codes)."""
    where = f"control_ids {name!r}"
    if not Path(path).exists():
        raise RegevalError(f"{where}: file {str(path)!r} does not exist")
    person_ids = read_person_ids(persons) if persons else None
    text = person_ids is not None and not pa.types.is_integer(person_ids.type)
    try:
        # text ids are read as text, so that leading zeros survive
        ids = pd.read_csv(path, dtype={"pnr": str} if text else None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise RegevalError(f"{where}: {str(path)!r} cannot be read as CSV ({exc})") from None
    if person_ids is not None and "pnr" in ids.columns:
        codes = to_codes(ids["pnr"], person_ids)
        unknown = codes < 0
        if unknown.any():
            ex = ids.loc[unknown, "pnr"].head(5).tolist()
            raise RegevalError(f"{where}: {int(unknown.sum())} of {len(ids)} person ids of {str(path)!r} are in no "
                               f"register table (e.g. {ex}); write the ids as the registers do")
        ids = ids.assign(pnr=codes)
    matched = user_controls(units, ids)
    summary = supplied_controls_summary_table(int((units["treated"] == 1).sum()), matched, Path(path).name)
    return pd.DataFrame({"treated": [], "control": []}), matched, summary
