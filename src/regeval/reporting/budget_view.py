"""The budget's tables in the report and its labels (actors, consequence groups), from
the budget layer's own label table: kept apart from :mod:`regeval.reporting.tableview`
so that what does not show the budget (the sweep summary) does not import it."""

from __future__ import annotations

from typing import Any

import pandas as pd

from regeval.reporting import numbers as nf
from regeval.reporting.labels import code_label, t
from regeval.reporting.tableview import Table, col


def budget_label(code: Any, language: str = "en") -> str:
    """Label of an actor, consequence group or consequence of the budget tables (the
    budget's own labels first: ``botilbud`` there is a cost group, not an outcome)."""
    from regeval.budget.schema import LABELS, label

    return label(str(code), language) if str(code) in LABELS else code_label(code, language)


def budget_net_table(net: pd.DataFrame, language: str) -> Table:
    rows = [[budget_label(r["actor"], language), nf.kr(r["value_undiscounted"], language),
             nf.kr(r["value_pv"], language)] for r in net.to_dict("records")]
    return Table(title=t("table_budget_net", language),
                 columns=[col("actor", language), col("value_undiscounted", language), col("value_pv", language)],
                 rows=rows, numeric=[False, True, True], note=t("budget_sign", language))


def budget_group_table(by_group: pd.DataFrame, language: str) -> Table:
    rows = [[budget_label(r["consequence_group"], language), nf.kr(r["value_undiscounted"], language),
             nf.kr(r["value_pv"], language)] for r in by_group.to_dict("records")]
    return Table(title=t("table_budget_group", language),
                 columns=[col("consequence", language), col("value_undiscounted", language),
                          col("value_pv", language)],
                 rows=rows, numeric=[False, True, True])


__all__ = ["budget_group_table", "budget_label", "budget_net_table"]
