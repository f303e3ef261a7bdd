"""Rule sweep_summary: one cross-spec summary of key effects and the net result per
actor for every spec of a sweep (base spec marked), from the specs' checked export
tables."""

from __future__ import annotations

from pathlib import Path

from regeval.pipeline.files import atomic_folder, check_declared, staged
from regeval.pipeline.runner import Files, Params
from regeval.reporting.sweep import write_summary


def sweep_summary(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Inputs ``effects``: the specs' exported ``effects.parquet``, in the order of
    params ``specs``; params ``base``, ``labels``, ``min_persons``."""
    dirs = {s: Path(p).parent for s, p in zip(params["specs"], input["effects"], strict=True)}
    export_dir = Path(output["csv"]).parent
    with atomic_folder(export_dir) as tmp:
        files = staged(output, export_dir, tmp)
        write_summary(
            dirs, params["base"], params["labels"], int(params["min_persons"]),
            files["csv"], files["parquet"], files["figure"], files["html"],
        )
        check_declared(tmp, files)
