"""Resources of the workflow's jobs: threads are declared per rule; memory (``mem_mb``)
and time (``runtime``, minutes) are functions of what a job reads, so that a cluster
(profiles/slurm) reserves enough for national registers without reserving that much
for a small run.

Memory is ``(base + per_input_mb × input MB) × HEADROOM``, where input MB is the size on
disk of the job's input files: Parquet expands several-fold in memory, and the factors
are the memory a step needed per MB of input (BENCHMARKS.md, "Resources per rule"),
with 50 % headroom. Each retry (``--retries``) asks half of it again, and twice the time.
Inputs that do not exist yet count 0: a job is submitted when its inputs exist, and in a
group job the files its first jobs write are small beside the registers and tables the
group reads. Local runs ignore ``mem_mb`` and ``runtime`` unless ``--resources`` caps them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from typing import Any

HEADROOM = 1.5
"""Factor on every measured memory need."""

GENERATOR_MB_PER_WORKER = 1000.0
"""The generator holds one chunk per worker process (files are written chunk by chunk):
about 1 GB per worker at 125,000 persons a chunk (measured), plus the parent's 0.5 GB."""

GENERATOR_MINUTES_PER_600K = 10.0
"""About 100 s of CPU per 600,000 persons (BENCHMARKS.md), generously."""


def input_mb(files: Iterable[Any]) -> float:
    """Size on disk of the existing files among ``files``, in MB (2**20 bytes)."""
    return sum(os.path.getsize(f) for f in files if os.path.isfile(str(f))) / 2**20


def _round_up(mb: float, step: int = 100) -> int:
    return int(math.ceil(mb / step) * step)


def mem_mb(base: float, per_input_mb: float) -> Callable[..., int]:
    """``mem_mb`` of a rule: ``(base + per_input_mb × input MB) × HEADROOM``, in 100 MB
    steps, 1.5× on the second attempt, 2× on the third."""

    def need(wildcards: Any, input: Iterable[Any], attempt: int = 1) -> int:
        return _round_up((base + per_input_mb * input_mb(input)) * HEADROOM * (1 + 0.5 * (attempt - 1)))

    return need


def runtime(base: float, per_input_gb: float) -> Callable[..., int]:
    """``runtime`` of a rule in minutes: ``base + per_input_gb × input GB``, times the attempt."""

    def need(wildcards: Any, input: Iterable[Any], attempt: int = 1) -> int:
        return int(math.ceil((base + per_input_gb * input_mb(input) / 1024) * attempt))

    return need


def generator_mem_mb(workers: int, chunk_size: int, attempt: int = 1) -> int:
    """``mem_mb`` of the generator: the parent and one chunk per worker process."""
    mb = 500 + workers * GENERATOR_MB_PER_WORKER * chunk_size / 125_000
    return _round_up(mb * HEADROOM * (1 + 0.5 * (attempt - 1)))


def generator_runtime(n_persons: int, attempt: int = 1) -> int:
    """``runtime`` of the generator in minutes."""
    return int(math.ceil((10 + GENERATOR_MINUTES_PER_600K * n_persons / 600_000) * attempt))


__all__ = ["HEADROOM", "generator_mem_mb", "generator_runtime", "input_mb", "mem_mb", "runtime"]
