"""Rule validate_registers: every register table against the data contract (the
first job of the DAG)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from regeval.pipeline.runner import Files, Params
from regeval.pipeline.sources import register_sources
from regeval.registers.person_codes import read_person_ids
from regeval.registers.validate import validate_registers as validate

log = logging.getLogger("regeval")


def validate_registers(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Validate the registers (params ``data``, and the ``population`` settings the
    checks use); writes the validation report ``output.report``. A violation raises
    :class:`regeval.errors.DataContractError` naming table, column and rows."""
    sources = register_sources(params["data"], input.get("generated"), input.get("cache"))
    population = params.get("population") or {}
    first, last = (int(y) for y in params["data"]["years"])
    report = validate(
        sources,
        (first, last),
        education_levels=population.get("education_levels"),
        diagnosis_groups=population.get("diagnosis_groups"),
        # the cache holds person codes: examples name the extract's ids
        person_ids=read_person_ids(input["persons"]) if input.get("persons") else None,
    )
    out = report.to_dict()
    if input.get("cache"):
        # what the conversion of the extract into the cache did (rule register_cache)
        extract = json.loads(Path(input["cache"]).read_text())
        out["extract"] = extract
        for name, t in extract["tables"].items():
            for column, n in t["doubles_converted_to_integers"].items():
                log.info("%s.%s: %d integral double(s) stored as integers", name, column, n)
    Path(output["report"]).parent.mkdir(parents=True, exist_ok=True)
    Path(output["report"]).write_text(json.dumps(out, indent=2, sort_keys=True, default=str) + "\n")
    log.info("all %d tables conform to the data contract", len(sources))
