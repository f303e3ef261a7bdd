"""Rule sweep_summary: one cross-spec summary of key effects and the net result per
actor for every spec of a sweep (base spec marked), from the specs' checked export
tables."""

from __future__ import annotations

import os
from pathlib import Path

from regeval.pipeline.files import atomic_folder, check_declared, staged
from regeval.pipeline.runner import Files, Params
from regeval.reporting.sweep import write_summary


def sweep_summary(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Inputs ``effects``: the specs' exported ``effects.parquet``, in the order of
    params ``specs``, and ``reports``, their reports (linked); params ``base``,
    ``labels``, ``settings`` (the grid's values per spec), ``name``, ``language``,
    ``min_persons``."""
    dirs = {s: Path(p).parent for s, p in zip(params["specs"], input["effects"], strict=True)}
    export_dir = Path(output["csv"]).parent
    with atomic_folder(export_dir) as tmp:
        files = staged(output, export_dir, tmp)
        write_summary(
            dirs, params["base"], params["labels"], int(params["min_persons"]),
            files["csv"], files["parquet"], files["figure"], files["html"],
            language=params["language"], settings=params["settings"],
            reports={s: Path(os.path.relpath(r, export_dir)).as_posix()
                     for s, r in zip(params["specs"], input["reports"], strict=True)},
            name=params["name"],
        )
        check_declared(tmp, files)
