"""The register data contract: which input tables the pipeline reads, and their columns.

This module is the one place that knows register table and column names. Every
table is keyed by the person id ``pnr`` (pseudonymised CPR) and, where it is a yearly
table, the year ``aar``. The names follow Statistics Denmark's registers (BEF, UDDA,
LPR, DREAM/AKM, BFL/eIndkomst, SSR, the register of services to adults with
disabilities, IND); an evaluator whose extract uses other names maps them in the
config (``data.registers.tables.<table>.columns``), never in code.

The human-readable version of this contract is ``docs/data_contract.md``; the tests
check that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal["id", "year", "int", "float", "bool", "date", "str"]
"""Logical column types. ``id`` is an integer or string person id, ``year`` an integer
calendar year, ``date`` a calendar date (Parquet date32 or timestamp)."""

TABLE_NAMES: tuple[str, ...] = (
    "bef",
    "udda",
    "diag",
    "forsorg",
    "beskaeftigelse",
    "handicap",
    "sundhed",
    "indkomst",
    "deltagere",
)

SUPPORT_TYPES: tuple[str, ...] = (
    "foep",
    "fleksjob",
    "ledighedsydelse",
    "kontanthjaelp",
    "ressourceforloeb",
    "dagpenge",
    "sygedagpenge",
    "su",
    "selvforsoerget",
    "oevrig",
)
"""Primary income support (*primært forsørgelsesgrundlag*) of a person in a year:
early-retirement pension (FØP), flex job, flex-job unemployment benefit
(*ledighedsydelse*; visited to flex job, not yet in one), cash benefit, resource
course, unemployment insurance benefit, sickness benefit, student grant,
self-supporting (employed, no public income support), other."""

CIVIL_STATUS: tuple[str, ...] = ("U", "G", "F", "E", "P", "O", "L")
"""BEF ``civst``: unmarried, married, divorced, widowed, registered partnership,
dissolved partnership, longest-living partner."""


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a contract table."""

    name: str
    kind: ColumnKind
    description: str
    nullable: bool = False
    allowed: tuple[object, ...] | None = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class TableSpec:
    """One input table of the contract."""

    name: str
    register: str
    description: str
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    sparse: bool = False
    """True when a person-year without a row means 'none/zero' (e.g. no job, no
    service); False when the table has a row for every relevant person-year."""
    year_column: str | None = "aar"
    extra: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


_PNR = ColumnSpec("pnr", "id", "Person id (pseudonymised CPR), integer or string.")
_AAR = ColumnSpec("aar", "year", "Calendar year the row describes.")

CONTRACT: dict[str, TableSpec] = {
    "bef": TableSpec(
        name="bef",
        register="BEF (population register)",
        description=(
            "One row per person and year in which the person was resident in Denmark "
            "at the end of the year. A missing row means not resident at year end "
            "(dead, emigrated, or not yet immigrated)."
        ),
        key=("pnr", "aar"),
        columns=(
            _PNR,
            _AAR,
            ColumnSpec("koen", "int", "Sex: 1 = man, 2 = woman.", allowed=(1, 2)),
            ColumnSpec("foed_dag", "date", "Birth date."),
            ColumnSpec(
                "ie_type",
                "int",
                "Origin: 1 = Danish origin, 2 = immigrant, 3 = descendant.",
                allowed=(1, 2, 3),
            ),
            ColumnSpec("civst", "str", "Civil status (BEF codes).", allowed=CIVIL_STATUS),
            ColumnSpec("kom", "int", "Municipality code at year end.", min=101, max=860),
        ),
    ),
    "udda": TableSpec(
        name="udda",
        register="UDDA (education register)",
        description=(
            "Highest completed education at the end of the year. Persons without a "
            "row in a year have unknown education."
        ),
        key=("pnr", "aar"),
        columns=(
            _PNR,
            _AAR,
            ColumnSpec(
                "hfaudd",
                "int",
                "Highest completed education code; its first two digits give the "
                "main level (10 primary ... 70 PhD), mapped to levels in config.",
                min=1000,
                max=9999,
            ),
        ),
        sparse=True,
    ),
    "diag": TableSpec(
        name="diag",
        register="LPR (national patient register), first diagnosis per code",
        description=(
            "One row per person and ICD-10 diagnosis code (action and secondary "
            "diagnoses), with the year it was first registered. Codes are grouped "
            "into diagnosis groups in config."
        ),
        key=("pnr", "diag"),
        columns=(
            _PNR,
            ColumnSpec("diag", "str", "ICD-10 code with the LPR 'D' prefix, e.g. DF700."),
            ColumnSpec("aar", "year", "Year the code was first registered for the person."),
        ),
        sparse=True,
    ),
    "forsorg": TableSpec(
        name="forsorg",
        register="DREAM / AKM (primary income support)",
        description=(
            "The person's primary income support (*primært forsørgelsesgrundlag*) in "
            "the year: the type with most weeks. One row per resident person-year."
        ),
        key=("pnr", "aar"),
        columns=(
            _PNR,
            _AAR,
            ColumnSpec("ydelse", "str", "Support type.", allowed=SUPPORT_TYPES),
        ),
    ),
    "beskaeftigelse": TableSpec(
        name="beskaeftigelse",
        register="BFL / eIndkomst (employment)",
        description=(
            "Employment in the year. A resident person-year without a row had no "
            "employment."
        ),
        key=("pnr", "aar"),
        columns=(
            _PNR,
            _AAR,
            ColumnSpec(
                "fuldtid_dage",
                "float",
                "Employment in full-time equivalent days in the year.",
                min=0,
                max=366,
            ),
            ColumnSpec(
                "timer_uge", "float", "Average paid hours per week while employed.", min=0, max=100
            ),
            ColumnSpec(
                "stoettet",
                "bool",
                "True for supported employment (flex job, skånejob/job on special terms).",
            ),
        ),
        sparse=True,
    ),
    "handicap": TableSpec(
        name="handicap",
        register="Register of social services to adults with disabilities (SEL)",
        description=(
            "Use of social services in the year. A resident person-year without a row "
            "used none of them."
        ),
        key=("pnr", "aar"),
        columns=(
            _PNR,
            _AAR,
            ColumnSpec("sel85", "bool", "Socio-pedagogical support in own home (SEL §85)."),
            ColumnSpec("sel103", "bool", "Sheltered employment (SEL §103)."),
            ColumnSpec("sel104", "bool", "Activity and day services (SEL §104)."),
            ColumnSpec("sel107", "bool", "Temporary residential facility (SEL §107)."),
            ColumnSpec("sel108", "bool", "Long-term residential facility (SEL §108)."),
            ColumnSpec("sel_oevrig", "bool", "Other social services for adults."),
        ),
        sparse=True,
    ),
    "sundhed": TableSpec(
        name="sundhed",
        register="SSR (health insurance) and LPR (hospital contacts)",
        description=(
            "Health-care use in the year. A resident person-year without a row had no "
            "contacts."
        ),
        key=("pnr", "aar"),
        columns=(
            _PNR,
            _AAR,
            ColumnSpec("laege_kontakter", "int", "GP contacts (SSR speciality 80).", min=0, max=1000),
            ColumnSpec(
                "speciallaege_kontakter",
                "int",
                "Other health-insurance (specialist) contacts.",
                min=0,
                max=1000,
            ),
            ColumnSpec("somatisk_kontakt", "bool", "Any somatic hospital contact."),
            ColumnSpec("psykiatrisk_kontakt", "bool", "Any psychiatric hospital contact."),
        ),
        sparse=True,
    ),
    "indkomst": TableSpec(
        name="indkomst",
        register="IND (income statistics)",
        description="Taxable income in the year (kr). One row per resident person-year.",
        key=("pnr", "aar"),
        columns=(
            _PNR,
            _AAR,
            ColumnSpec(
                "skattepl_indk", "float", "Taxable income, kr.", min=-1e8, max=1e9
            ),
        ),
    ),
    "deltagere": TableSpec(
        name="deltagere",
        register="The programme's own participant file",
        description=(
            "One row per participation (praktik or job) with its start date. A person "
            "may have several rows (several starts); the person id is missing where it "
            "could not be found."
        ),
        key=("deltager_id", "startdato"),
        columns=(
            ColumnSpec("deltager_id", "id", "The programme's participant number."),
            ColumnSpec("pnr", "id", "Person id when known.", nullable=True),
            ColumnSpec("startdato", "date", "Start date of this participation."),
        ),
        year_column=None,
    ),
}
"""The contract, by canonical table name."""


def table_spec(name: str) -> TableSpec:
    """Return the contract of table ``name`` (KeyError lists the valid names)."""
    try:
        return CONTRACT[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; the contract has {', '.join(TABLE_NAMES)}") from None
