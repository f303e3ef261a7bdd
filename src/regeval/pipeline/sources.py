"""Where the rules read the registers from: the generated synthetic registers or the
configured extract (config section ``data``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from regeval.registers.read import TableSource, cache_sources, resolve_sources


def register_sources(
    data: Mapping[str, Any], generated: str | Path | None = None, cache: str | Path | None = None
) -> dict[str, TableSource]:
    """The register tables of the ``data`` section: with ``source: synthetic`` those in
    the folder of the generator's marker file ``generated`` (``generator.json``); else,
    given the register cache's report ``cache`` (``cache.json``, rule register_cache),
    the cache's tables; else the extract in ``data.registers.directory`` with its table
    mapping (Parquet only: the library used without the workflow)."""
    if cache is not None and data["source"] != "synthetic":
        return cache_sources(Path(cache).parent)
    if data["source"] == "synthetic":
        if generated is None:
            raise ValueError("data.source synthetic: the generator's marker file (input 'generated') is needed")
        return resolve_sources(Path(generated).parent)
    registers = data.get("registers") or {}
    return resolve_sources(registers["directory"], registers.get("tables") or {})


__all__ = ["register_sources"]
