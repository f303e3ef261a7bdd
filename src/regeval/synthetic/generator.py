"""Synthetic register generator with known true effects.

It simulates a Danish-like adult population 2009–2025 in the register data contract
(:mod:`regeval.registers.contract`), with a KLAPjob-like programme whose participants are
selected on observed characteristics (and, optionally, on an unobserved
"motivation"), and whose true effect on every outcome is known because both
potential outcomes are simulated. The data-generating process is documented in
``synthetic_data/README.md``.

Design
------
Persons are simulated in independent chunks (``chunk_size``), each with its own
random stream spawned from the seed, so that output is byte-identical for the
same seed and size, whatever the number of worker processes. Every chunk is a
row group of each Parquet file, sorted by person id and year, so later stages can
read the files column by column.

For each participant and each year from the first start year on, the untreated
outcome ``Y0`` and the treated outcome ``Y1`` are both simulated with common random
numbers; the registers hold ``Y1`` for participants (from their first start year)
and ``Y0`` for everyone else. The person-level effects ``Y1 - Y0`` are written to
``truth_effects.parquet`` and their mean over the analysis-eligible participants
(the default treated definition) per outcome and relative year to
``truth_att.csv``.

Modules: :mod:`~regeval.synthetic.config` (the knobs), :mod:`~regeval.synthetic.simulate`
(one chunk, in steps: :mod:`~regeval.synthetic.persons`, :mod:`~regeval.synthetic.untreated`,
:mod:`~regeval.synthetic.programme`, :mod:`~regeval.synthetic.tables`), and this module
(chunks in parallel, files written).
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from regeval.synthetic.codes import OUTCOMES
from regeval.synthetic.config import MAX_REL_YEAR, SyntheticConfig
from regeval.synthetic.simulate import N_REL, Chunk, simulate_chunk
from regeval.synthetic.tables import participant_file

__all__ = ["generate"]

log = logging.getLogger("regeval")


def _chunk_bounds(cfg: SyntheticConfig) -> list[tuple[int, int, int]]:
    out = []
    start = 0
    i = 0
    while start < cfg.n_persons:
        n = min(cfg.chunk_size, cfg.n_persons - start)
        out.append((i, start, n))
        start += n
        i += 1
    return out


def _worker(args: tuple[SyntheticConfig, int, int, int]) -> Chunk:
    cfg, i, start, n = args
    return simulate_chunk(cfg, i, start, n)


def _iter_chunks(cfg: SyntheticConfig) -> Iterator[Chunk]:
    jobs = [(cfg, i, s, n) for i, s, n in _chunk_bounds(cfg)]
    if cfg.workers <= 1 or len(jobs) == 1:
        for job in jobs:
            yield _worker(job)
        return
    ctx = mp.get_context("fork")
    with ctx.Pool(cfg.workers, maxtasksperchild=1) as pool:
        yield from pool.imap(_worker, jobs)


def _write_by_year(writer: pq.ParquetWriter, table: pa.Table, person_ids: str = "integer") -> None:
    """Write one row group per year (sorted by person within it), so that readers
    asking for some years skip the other row groups, as with year-wise register
    files. Tables without a yearly key (diagnoses) are written as they are. Person ids
    are written as ``person_ids`` (:func:`_person_ids`), after the sort."""
    if "aar" not in table.column_names or table.num_rows == 0 or "diag" in table.column_names:
        writer.write_table(_person_ids(table, person_ids))
        return
    years = table.column("aar").to_numpy()
    if np.any(np.diff(years) < 0):
        order = np.lexsort((table.column("pnr").to_numpy(), years))
        table = table.take(pa.array(order))
        years = years[order]
    bounds = np.flatnonzero(np.diff(years)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [years.size]])
    for a, b in zip(starts, ends, strict=False):
        writer.write_table(_person_ids(table.slice(int(a), int(b - a)), person_ids))


def _person_ids(table: pa.Table, kind: str) -> pa.Table:
    """``table`` with its ``pnr`` column written as ``kind`` (``integer``: as simulated;
    ``string``: the same ids as ten-digit text, missing ids stay missing)."""
    if kind == "integer" or "pnr" not in table.column_names:
        return table
    i = table.column_names.index("pnr")
    text = pc.utf8_lpad(pc.cast(table.column(i), pa.string()), width=10, padding="0")
    return table.set_column(i, pa.field("pnr", pa.string()), text)


def generate(cfg: SyntheticConfig, out_dir: str | Path) -> dict[str, object]:
    """Simulate the registers and write them, with the truth, to ``out_dir``.

    Writes one Parquet file per contract table (``<table>.parquet``), plus
    ``truth_att.csv`` (true average effect on the analysis-eligible treated per
    outcome and relative year), ``truth_effects.parquet`` (person-year effects of
    every linked participant) and ``generator.json`` (the configuration and
    summary counts). Returns the summary.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    truth_writer: pq.ParquetWriter | None = None
    sums = {k: np.zeros(N_REL) for k in OUTCOMES}
    counts = np.zeros(N_REL)
    linked_parts = []
    rows_written: dict[str, int] = {}
    n_chunks = len(_chunk_bounds(cfg))
    started = time.monotonic()
    try:
        for i_chunk, chunk in enumerate(_iter_chunks(cfg), start=1):
            for name, table in chunk.tables.items():
                if name not in writers:
                    writers[name] = pq.ParquetWriter(
                        out_dir / f"{name}.parquet", _person_ids(table.slice(0, 0), cfg.person_ids).schema,
                        compression="zstd",
                    )
                _write_by_year(writers[name], table, cfg.person_ids)
                rows_written[name] = rows_written.get(name, 0) + table.num_rows
            truth_rows = _person_ids(chunk.truth_rows, cfg.person_ids)
            if truth_writer is None:
                truth_writer = pq.ParquetWriter(
                    out_dir / "truth_effects.parquet", truth_rows.schema, compression="zstd"
                )
            truth_writer.write_table(truth_rows)
            for k in OUTCOMES:
                sums[k] += chunk.truth_sums[k]
            counts += chunk.truth_counts
            linked_parts.append(chunk.participants)
            log.info("synthetic registers: chunk %d of %d simulated and written (%.0f s)", i_chunk, n_chunks,
                     time.monotonic() - started)
    finally:
        for w in writers.values():
            w.close()
        if truth_writer is not None:
            truth_writer.close()
    participants = _person_ids(participant_file(cfg, pd.concat(linked_parts, ignore_index=True)), cfg.person_ids)
    pq.write_table(participants, out_dir / "deltagere.parquet", compression="zstd")
    rows_written["deltagere"] = participants.num_rows

    rel_years = np.arange(-5, MAX_REL_YEAR + 1)
    truth = []
    for k in OUTCOMES:
        for r, s, c in zip(rel_years, sums[k], counts, strict=False):
            if c > 0:
                truth.append((k, int(r), s / c, int(c)))
    truth_df = pd.DataFrame(truth, columns=["outcome", "rel_year", "true_att", "n_treated"])
    truth_df.to_csv(out_dir / "truth_att.csv", index=False, float_format="%.10g")
    summary = {
        # the number of workers does not change the data, so it is not recorded; the kind
        # of person id only when not the default (files of earlier runs stay identical)
        "config": _jsonable({
            k: v for k, v in asdict(cfg).items()
            if k != "workers" and not (k == "person_ids" and v == "integer")
        }),
        "rows": rows_written,
        "participants_unique": int(pd.Series(participants.column("deltager_id").to_numpy()).nunique()),
        "participants_with_id": int(
            pd.Series(participants.column("pnr").to_pandas()).dropna().nunique()
        ),
        "analysis_eligible_treated": int(counts[5 - 1]) if counts.size > 4 else 0,
    }
    (out_dir / "generator.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def _jsonable(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return round(float(obj), 12)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
