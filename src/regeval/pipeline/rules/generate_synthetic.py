"""Rule generate_synthetic: the synthetic registers (only when ``data.source`` is
``synthetic``), with the generator's truth."""

from __future__ import annotations

import logging
from pathlib import Path

from regeval.pipeline.runner import Files, Params
from regeval.synthetic.generator import SyntheticConfig, generate

log = logging.getLogger("regeval")


def generate_synthetic(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Generate the registers into the folder of ``output.marker`` (params ``synthetic``:
    the generator's settings but its worker processes, which are the job's threads)."""
    cfg = {**params["synthetic"], "workers": max(1, threads)}
    out_dir = Path(output["marker"]).parent
    summary = generate(SyntheticConfig.from_dict(cfg), out_dir)
    log.info("synthetic registers written to %s: %s", out_dir, summary["rows"])
