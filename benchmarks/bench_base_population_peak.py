"""The base population's exact CPU seconds and peak memory on an existing register cache.

Runs what the ``base_population`` rule runs (the units, the flow and the whole
population's means, with Arrow on the system allocator as in the workflow) in this
process, and prints CPU seconds and the peak RSS from ``getrusage``; ``--save PREFIX``
writes the units and means to ``PREFIX_units.parquet`` / ``PREFIX_means.parquet`` so that
two versions of the code can be compared byte for byte (``PYTHONPATH=OTHER/src``).

    python benchmarks/bench_base_population_peak.py RUN/results/_shared/inside/register_cache \\
        --config RUN/config.yaml [--save /tmp/bp/after]

(the cache and the run's configuration as ``bench_registers.py --keep`` leaves them).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cache", help="folder of the register cache (holds cache.json)")
    ap.add_argument("--config", required=True, help="the run's configuration (merged over config/config.yaml)")
    ap.add_argument("--save", default=None, help="prefix of the units and means files to write")
    args = ap.parse_args(argv)

    from regeval.pipeline.runner import use_system_allocator

    use_system_allocator()
    from regeval.pipeline.config import load_yaml
    from regeval.pipeline.sources import cache_sources
    from regeval.pipeline.spec import deep_merge
    from regeval.population.base import PopulationSpec, build_population
    from regeval.population.tables import population_means_of

    repo = Path(__file__).resolve().parents[1]
    config = deep_merge(load_yaml(repo / "config" / "config.yaml"), load_yaml(args.config))
    spec = PopulationSpec.from_config(config["population"])
    sources = cache_sources(Path(args.cache))
    t0 = time.process_time()
    bp, means = build_population(sources, spec, population_means_of(spec))
    cpu = time.process_time() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"base population: {len(bp.units):,} units, {cpu:.1f} CPU s, peak RSS {peak:,.0f} MiB", flush=True)
    if args.save:
        bp.units.to_parquet(f"{args.save}_units.parquet", index=False)
        if means is not None:
            means.to_parquet(f"{args.save}_means.parquet", index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
