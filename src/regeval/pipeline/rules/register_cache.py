"""Rule register_cache: the extract's tables (Parquet, CSV, SAS, Stata, one file per
year) converted once into the project's columnar cache, which every later rule reads."""

from __future__ import annotations

import logging
from pathlib import Path

from regeval.pipeline.runner import Files, Params
from regeval.registers.extract import build_cache
from regeval.registers.person_codes import PERSONS_FILE
from regeval.registers.read import resolve_sources

log = logging.getLogger("regeval")


def register_cache(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Convert the tables of ``data.registers`` into the folder of ``output.report``
    (``<table>.parquet`` each, and the report ``cache.json``). A missing or unreadable
    file, a pattern without files, a year without a file, a missing column or a
    non-integral double in an integer column raises
    :class:`regeval.errors.DataContractError` naming each."""
    data = params["data"]
    registers = data.get("registers") or {}
    sources = resolve_sources(registers["directory"], registers.get("tables") or {})
    first, last = (int(y) for y in data["years"])
    folder = Path(output["report"]).parent
    expected = {str(folder / f"{name}.parquet") for name in sources} | {str(folder / PERSONS_FILE)}
    declared = {str(v) for k, v in output.items() if k != "report"}
    if declared and declared != expected:
        raise AssertionError(f"register_cache: outputs {sorted(declared)} are not the cache's {sorted(expected)}")
    report = build_cache(sources, (first, last), folder)
    n = sum(t["rows"] for t in report["tables"].values())
    converted = sum(sum(t["doubles_converted_to_integers"].values()) for t in report["tables"].values())
    log.info("register cache: %d tables, %d rows (%d integral doubles stored as integers), %d persons", len(sources), n,
             converted, report["persons"])
