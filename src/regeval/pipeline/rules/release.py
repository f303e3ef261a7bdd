"""Rule release: the audit of everything one run exports, as one release, and the
checker's report (``results/release/export/``).

Inputs ``s<i>_inside_<table>`` / ``s<i>_export_<table>`` / ``s<i>_cells``: per spec of
params ``specs`` each exported table's aggregate (inside), its export and the export's
cell classes; ``bc_…`` the same for the business case; ``sweep_cells`` the sweep
summary's. The folder is written complete or not at all; the job fails, naming the
cells, if a suppressed count can be derived from the release.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from regeval.disclosure.release import audit_release, release_states, write_report
from regeval.disclosure.rules import Rules
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
    states = release_states(parts)
    table = audit_release(states, rules)
    log.info("release: %d tables, %d sensitive quantities audited, all protected", len(states), len(table))
    export_dir = Path(output["html"]).parent
    with atomic_folder(export_dir) as tmp:
        files = staged(output, export_dir, tmp)
        write_report(pd.concat(cells, ignore_index=True), table, rules, files["html"], files["csv"], files["audit"])
        check_declared(tmp, files)
