"""The rules of validation: the problems it can report, limits, and wording used in messages.

:data:`PROBLEMS` is the registry of every problem phrase (recording a problem not listed is a
programming error; a test keeps the list in agreement with the rules table of
``docs/data_contract.md``).
"""

from __future__ import annotations

from regeval.registers.contract import CONTRACT
from regeval.registers.violation import Severity

__all__ = ["MAX_AGE", "MIN_BIRTH_YEAR", "PROBLEMS", "Severity"]

MIN_BIRTH_YEAR = 1900
"""Birth dates before 1 January of this year are impossible."""

MAX_AGE = 110
"""A person older than this at the end of a BEF year is impossible."""

YEARLY_TABLES: tuple[str, ...] = tuple(
    name for name, spec in CONTRACT.items() if spec.year_column is not None and spec.year_column in spec.key
)
"""Tables with one row per person and year (the year is part of the key)."""

PERSON_TABLES: tuple[str, ...] = tuple(name for name, spec in CONTRACT.items() if "pnr" in spec.column_names)
"""Tables that carry the person id ``pnr``."""

UNKNOWN_PERSON_IS_WARNING: frozenset[str] = frozenset({"diag"})
"""Tables in which a person never resident per BEF is a warning, not an error.

A first diagnosis may have been registered before the years of coverage for a person
who left the country (or died) before them; such rows can never enter an analysis but
are not wrong. In the yearly tables every row describes a year of coverage, so a person
who is never in BEF means a mis-keyed person id (e.g. extracts pseudonymised apart)."""

ROWS_IN_YEAR_OF_DEATH: frozenset[str] = frozenset({"indkomst"})
"""Tables with a row in the year a person died or emigrated (income of the year): a person
never in BEF whose only rows are in the first year of the coverage was resident at the end
of the year before it and left during its first year, so this is a warning, not an error."""

ID_KINDS = ("integer", "string")

PROBLEMS: tuple[str, ...] = (
    "table missing",
    "unreadable",
    "no rows",
    "column missing",
    "wrong type",
    "missing values",
    "duplicate key",
    "value not allowed",
    "value not 0/1",
    "value out of range",
    "code not in list",
    "code malformed",
    "education level not configured",
    "year outside coverage",
    "coverage year without rows",
    "year after coverage end",
    "birth date after year end",
    f"birth date before {MIN_BIRTH_YEAR}",
    f"age over {MAX_AGE}",
    "birth date differs between years",
    "start date outside coverage",
    "diagnosed before birth year",
    "participant not in bef",
    "person not in bef",
    "resident person-year missing",
    "diagnosis prefix matches no code",
)
"""Every problem phrase validation can report, in the order of the rules table of
``docs/data_contract.md`` (a test keeps the two in agreement; recording a problem that
is not listed here is a programming error)."""


CODE_LISTS: dict[tuple[str, str], str] = {
    ("bef", "kom"): "the 98 municipalities of the 2007 reform and 411 Christiansø",
}
"""How a message names a column's code list."""

DENSE_DEFAULT: dict[str, str] = {
    "forsorg": "primary income support 'oevrig' (other)",
    "indkomst": "missing income",
}
"""What the pipeline makes of a missing row of a dense table."""

PATTERN_TEXT: dict[tuple[str, str], str] = {
    ("diag", "diag"): (
        "a diagnosis must be an ICD-10 code in LPR form: 'D', the chapter letter and at least two "
        "digits, e.g. DF700 (an ICD-10 code without the leading D, an ICD-8 code or a padded value "
        "matches no diagnosis group and would silently drop the person from the base population; "
        "recode, translate or remove such rows)"
    ),
}
"""How a message states a column's pattern."""
