"""Digest of every file the synthetic generator writes for a few configurations: a check
that a change of the generator's code left its output byte-identical.

The configurations cover the default seed in one and in several chunks, one and two
worker processes, the hidden confounder, and other start years and knobs. Run it on
the code before and after a change and compare::

    PYTHONPATH=/path/to/old/src python benchmarks/generator_digest.py --out /tmp/before.txt
    python benchmarks/generator_digest.py --out /tmp/after.txt
    diff /tmp/before.txt /tmp/after.txt && echo identical

The draws are integer and IEEE arithmetic on numpy's PCG64 streams; compare digests
made on the same machine (numpy version) only.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path

# the module that has exposed both names since the generator was written (older code too)
from regeval.synthetic.generator import SyntheticConfig, generate

CONFIGS: dict[str, dict[str, object]] = {
    "default_seed_1chunk": dict(n_persons=20_000, n_participants=400),
    "default_seed_3chunks_w1": dict(n_persons=30_000, n_participants=600, chunk_size=10_000, workers=1),
    "default_seed_3chunks_w2": dict(n_persons=30_000, n_participants=600, chunk_size=10_000, workers=2),
    "confounded_w1": dict(seed=7, n_persons=25_000, n_participants=500, chunk_size=12_000, confounding=0.8,
                          effect_scale=0.5, workers=1),
    "confounded_w2": dict(seed=7, n_persons=25_000, n_participants=500, chunk_size=12_000, confounding=0.8,
                          effect_scale=0.5, workers=2),
    "tests_small": dict(seed=11, n_persons=40_000, n_participants=700, chunk_size=20_000),
    "knobs": dict(seed=3, n_persons=15_000, n_participants=900, share_with_id=0.6, share_not_resident_before=0.1,
                  share_multi_year=0.3, start_years=(2015, 2017, 2020), start_year_weights=(1, 2, 1),
                  effect_scale=0.0),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="file to write the digests to")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, values in CONFIGS.items():
            folder = Path(tmp) / name
            generate(SyntheticConfig(**values), folder)
            for p in sorted(folder.iterdir()):
                rows.append(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {name}/{p.name}")
    Path(args.out).write_text("\n".join(rows) + "\n")
    print(f"{len(rows)} files digested -> {args.out}")


if __name__ == "__main__":
    main()
