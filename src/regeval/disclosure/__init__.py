"""Statistical disclosure control of every exported table (method.md §5).

:mod:`regeval.disclosure.meta` declares what an aggregate's cells rest on (plain data,
no dependencies: every layer that computes an exportable statistic imports it);
:mod:`regeval.disclosure.aggregates` stores an aggregate with its metadata;
:mod:`regeval.disclosure.rules` holds the output-checking rules;
:mod:`regeval.disclosure.primary` applies them cell by cell,
:mod:`regeval.disclosure.linear` audits and extends the suppression across linked
tables by linear programming, :mod:`regeval.disclosure.check` checks and suppresses a
release before anything is exported, and :mod:`regeval.disclosure.release` audits a
whole run's exports together and writes the checker's report (docs/disclosure.md).
Names are imported from their module when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from regeval._lazy import lazy_exports

_EXPORTS = {
    "KINDS": "regeval.disclosure.meta",
    "Aggregate": "regeval.disclosure.meta",
    "AggregateMeta": "regeval.disclosure.meta",
    "value_columns": "regeval.disclosure.meta",
    "write_aggregate": "regeval.disclosure.aggregates",
    "read_aggregate": "regeval.disclosure.aggregates",
    "load_aggregate": "regeval.disclosure.aggregates",
    "check_table": "regeval.disclosure.check",
    "export_tables": "regeval.disclosure.check",
    "DisclosureResult": "regeval.disclosure.check",
    "FORBIDDEN": "regeval.disclosure.check",
    "check_release": "regeval.disclosure.check",
    "Rules": "regeval.disclosure.rules",
    "audit_release": "regeval.disclosure.release",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = list(_EXPORTS)

if TYPE_CHECKING:
    from regeval.disclosure.aggregates import load_aggregate as load_aggregate
    from regeval.disclosure.aggregates import read_aggregate as read_aggregate
    from regeval.disclosure.aggregates import write_aggregate as write_aggregate
    from regeval.disclosure.check import FORBIDDEN as FORBIDDEN
    from regeval.disclosure.check import DisclosureResult as DisclosureResult
    from regeval.disclosure.check import check_release as check_release
    from regeval.disclosure.check import check_table as check_table
    from regeval.disclosure.check import export_tables as export_tables
    from regeval.disclosure.meta import KINDS as KINDS
    from regeval.disclosure.meta import Aggregate as Aggregate
    from regeval.disclosure.meta import AggregateMeta as AggregateMeta
    from regeval.disclosure.meta import value_columns as value_columns
    from regeval.disclosure.release import audit_release as audit_release
    from regeval.disclosure.rules import Rules as Rules
