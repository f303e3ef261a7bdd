"""Rule release: the audit of everything one run exports, as one release, and the
checker's report (``results/release/export/``).

Inputs ``s<i>_inside_<table>`` / ``s<i>_export_<table>`` / ``s<i>_cells``: per spec of
params ``specs`` each exported table's aggregate (inside), its export and the export's
cell classes; ``bc_…`` the same for the business case; ``sweep_summary`` and
``sweep_cells`` the sweep summary and its cell classes (every number of the summary
must be a published cell of its spec's checked tables). The folder is written
complete or not at all; the job fails, naming the cells, if a suppressed count can be
derived from the release.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from regeval.disclosure.release import audit_release, release_states, write_report
from regeval.disclosure.rules import Rules
from regeval.errors import DisclosureError
from regeval.pipeline.files import atomic_folder, check_declared, staged
from regeval.pipeline.runner import Files, Params

log = logging.getLogger("regeval")


def release(input: Files, output: Files, params: Params, threads: int = 1) -> None:
    """Params ``specs`` (in the order of the inputs' ``s<i>_``), ``disclosure``."""
    rules = Rules.from_mapping(params["disclosure"])
    parts: dict[str | None, dict[str, tuple[str, str]]] = {}
    cells = []
    owners = {f"s{i}": s for i, s in enumerate(params["specs"])} | {"bc": None}
    for key, path in input.items():
        m = re.match(r"(s[0-9]+|bc)_inside_(.+)$", key)
        if m:
            parts.setdefault(owners[m.group(1)], {})[m.group(2)] = (path, input[f"{m.group(1)}_export_{m.group(2)}"])
        elif key.endswith("cells"):
            cells.append(pd.read_csv(path, keep_default_na=True).assign(spec=lambda d: d["spec"].fillna("")))
    if "sweep_summary" in input:
        check_copies(input["sweep_summary"], {s: [p for _, p in tables.values()] for s, tables in parts.items()
                                              if s is not None})
    states = release_states(parts)
    table = audit_release(states, rules)
    log.info("release: %d tables, %d sensitive quantities audited, all protected", len(states), len(table))
    export_dir = Path(output["html"]).parent
    with atomic_folder(export_dir) as tmp:
        files = staged(output, export_dir, tmp)
        write_report(pd.concat(cells, ignore_index=True), table, rules, files["html"], files["csv"], files["audit"])
        check_declared(tmp, files)


SUMMARY_NUMBERS = ("estimate", "ci_low", "ci_high", "n_treated", "n_control")
"""The numbers of the sweep summary (each a copy of a cell of its spec's checked tables)."""


def check_copies(summary: str | Path, exports: dict[str, list[str]]) -> None:
    """The sweep summary adds no number to the release: every number it shows is a
    published (not suppressed) cell of its spec's exported tables (``exports``: per spec
    its exported Parquet files). Raises :class:`DisclosureError` naming the cells that
    are not."""
    frame = pd.read_parquet(summary)
    published: dict[str, set[float]] = {}
    for spec, paths in exports.items():
        values: set[float] = set()
        for path in paths:
            table = pd.read_parquet(path)
            for c in table.columns:
                if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c]):
                    v = pd.to_numeric(table[c], errors="coerce").dropna().to_numpy(dtype=float)
                    values.update(v[np.isfinite(v)].tolist())
        published[spec] = values
    bad = []
    for r in frame.to_dict("records"):
        spec = str(r["spec"])
        for c in SUMMARY_NUMBERS:
            v = r.get(c)
            if v is None or pd.isna(v):
                continue
            if spec not in published or float(v) not in published[spec]:
                bad.append(f"{r['spec']} / {r['item']} / {c}")
    if bad:
        raise DisclosureError(
            f"{summary}: {len(bad)} number(s) of the sweep summary are not published cells of their spec's "
            f"checked tables, e.g. {bad[:5]}"
        )
