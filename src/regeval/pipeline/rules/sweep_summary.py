"""Rule sweep_summary: one cross-spec summary of key effects and the net result per
actor for every spec of a sweep (base spec marked), from the specs' checked export
tables."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from regeval.pipeline.files import atomic_folder, check_declared, staged
from regeval.reporting.sweep import write_summary


def sweep_summary(input: Mapping[str, Any], output: Mapping[str, Any], params: Mapping[str, Any], threads: int = 1) -> None:  # noqa: A002
    """Inputs ``effects``: the specs' exported ``effects.parquet``, in the order of
    params ``specs``; params ``base``, ``labels``, ``min_persons``."""
    dirs = {s: Path(p).parent for s, p in zip(params["specs"], input["effects"])}
    export_dir = Path(output["csv"]).parent
    with atomic_folder(export_dir) as tmp:
        files = staged(output, export_dir, tmp)
        write_summary(
            dirs, params["base"], params["labels"], int(params["min_persons"]),
            files["csv"], files["parquet"], files["figure"], files["html"],
        )
        check_declared(tmp, files)
