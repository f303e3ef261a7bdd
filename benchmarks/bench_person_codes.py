"""The coding of the person ids alone (what ``register_cache`` does after converting the
tables): ``distinct_ids`` and ``write_coded`` of every table of a Parquet extract, in one
process, with the CPU seconds and peak RSS of the process (``getrusage``; Arrow on the
system allocator, as in the workflow).

    python benchmarks/bench_person_codes.py EXTRACT_DIR [--src CHECKOUT/src] [--lookup-rows N]

``EXTRACT_DIR`` holds ``<table>.parquet`` in the cache's form (e.g. an extract written by
``bench_registers.py --keep``); ``--src`` times the ``person_codes.py`` of another
checkout (before/after comparisons: both versions take ``write_coded(source, target,
distinct_ids(tables))``).
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

HERE = Path(__file__).resolve().parent
TABLES = ("bef", "udda", "diag", "forsorg", "beskaeftigelse", "handicap", "sundhed", "indkomst", "deltagere")


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("extract")
    ap.add_argument("--src", default=str(HERE.parent / "src"), help="the src folder whose person_codes.py is timed")
    ap.add_argument("--lookup-rows", type=int, default=None, help="LOOKUP_ROWS (default: the module's)")
    args = ap.parse_args()
    pa.set_memory_pool(pa.system_memory_pool())
    spec = importlib.util.spec_from_file_location("timed_person_codes",
                                                  Path(args.src) / "regeval" / "registers" / "person_codes.py")
    assert spec is not None and spec.loader is not None
    codes = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = codes
    spec.loader.exec_module(codes)
    if args.lookup_rows:
        codes.LOOKUP_ROWS = args.lookup_rows
    raw = {n: Path(args.extract) / f"{n}.parquet" for n in TABLES if (Path(args.extract) / f"{n}.parquet").exists()}
    out = Path(tempfile.mkdtemp(prefix="bench_person_codes_"))
    try:
        c0, w0 = cpu(), time.perf_counter()
        ids = codes.distinct_ids(raw)
        c1 = cpu()
        per = {}
        for name, path in raw.items():
            c = cpu()
            codes.write_coded(path, out / f"{name}.parquet", ids)
            per[name] = round(cpu() - c, 1)
        c2 = cpu()
    finally:
        shutil.rmtree(out, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.src} {Path(args.extract).name} lookup_rows={codes.LOOKUP_ROWS}: persons {len(ids)}, distinct ids "
          f"{c1 - c0:.1f} CPU s, coding {c2 - c1:.1f} CPU s, total {c2 - c0:.1f} CPU s, wall "
          f"{time.perf_counter() - w0:.1f} s, peak {peak:.0f} MB")
    print("coding per table (CPU s):", per)


if __name__ == "__main__":
    main()
