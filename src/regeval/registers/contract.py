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

MUNICIPALITIES: dict[int, str] = {
    101: "København", 147: "Frederiksberg", 151: "Ballerup", 153: "Brøndby", 155: "Dragør",
    157: "Gentofte", 159: "Gladsaxe", 161: "Glostrup", 163: "Herlev", 165: "Albertslund",
    167: "Hvidovre", 169: "Høje-Taastrup", 173: "Lyngby-Taarbæk", 175: "Rødovre", 183: "Ishøj",
    185: "Tårnby", 187: "Vallensbæk", 190: "Furesø", 201: "Allerød", 210: "Fredensborg",
    217: "Helsingør", 219: "Hillerød", 223: "Hørsholm", 230: "Rudersdal", 240: "Egedal",
    250: "Frederikssund", 253: "Greve", 259: "Køge", 260: "Halsnæs", 265: "Roskilde",
    269: "Solrød", 270: "Gribskov", 306: "Odsherred", 316: "Holbæk", 320: "Faxe",
    326: "Kalundborg", 329: "Ringsted", 330: "Slagelse", 336: "Stevns", 340: "Sorø",
    350: "Lejre", 360: "Lolland", 370: "Næstved", 376: "Guldborgsund", 390: "Vordingborg",
    400: "Bornholm", 410: "Middelfart", 420: "Assens", 430: "Faaborg-Midtfyn", 440: "Kerteminde",
    450: "Nyborg", 461: "Odense", 479: "Svendborg", 480: "Nordfyns", 482: "Langeland",
    492: "Ærø", 510: "Haderslev", 530: "Billund", 540: "Sønderborg", 550: "Tønder",
    561: "Esbjerg", 563: "Fanø", 573: "Varde", 575: "Vejen", 580: "Aabenraa",
    607: "Fredericia", 615: "Horsens", 621: "Kolding", 630: "Vejle", 657: "Herning",
    661: "Holstebro", 665: "Lemvig", 671: "Struer", 706: "Syddjurs", 707: "Norddjurs",
    710: "Favrskov", 727: "Odder", 730: "Randers", 740: "Silkeborg", 741: "Samsø",
    746: "Skanderborg", 751: "Aarhus", 756: "Ikast-Brande", 760: "Ringkøbing-Skjern",
    766: "Hedensted", 773: "Morsø", 779: "Skive", 787: "Thisted", 791: "Viborg",
    810: "Brønderslev", 813: "Frederikshavn", 820: "Vesthimmerlands", 825: "Læsø",
    840: "Rebild", 846: "Mariagerfjord", 849: "Jammerbugt", 851: "Aalborg", 860: "Hjørring",
}
"""The 98 municipalities (*kommuner*) of Denmark since the structural reform of
1 January 2007, by municipality code (*kommunekode*, BEF ``kom``).

Source: Statistics Denmark's classification of municipalities (*Kommuner*, valid from
2007; https://www.dst.dk/da/Statistik/dokumentation/nomenklaturer/kommuner) and the
code list of Danmarks Adresser (https://danmarksadresser.dk/adressedata/kodelister/kommunekodeliste).
Unchanged from 2007 to 2025."""

EXTRA_RESIDENCE_CODES: dict[int, str] = {411: "Christiansø"}
"""Codes of residence outside any municipality that the classifications carry beside the
98 municipalities: Christiansø (about 90 residents), administered by the state."""

MUNICIPALITY_CODES_FROM: int = 2007
"""First year in which the municipality codes are those of :data:`MUNICIPALITIES`. Rows
of earlier years carry the 271 pre-reform municipalities' codes (another list, within
101 … 860) and are checked against that range only."""

DIAGNOSIS_CODE_PATTERN: str = r"^D[A-Z][0-9]{2}[0-9A-Z]*$"
"""Form of an ICD-10 code in LPR: the letter ``D``, the ICD-10 chapter letter, two
digits, then optional further digits or letters (``DF700``, ``DF841A``). Checked
without regard to case (the pipeline upper-cases codes before grouping them)."""


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
    codes: tuple[int, ...] | None = None
    """A code list (e.g. the municipalities): values outside it are an error in rows of
    year ``codes_from`` or later (earlier rows are checked against min/max only)."""
    codes_from: int | None = None
    pattern: str | None = None
    """A regular expression every value must match (case-insensitive)."""


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
            ColumnSpec(
                "kom",
                "int",
                "Municipality code at year end.",
                min=101,
                max=860,
                codes=tuple(sorted({**MUNICIPALITIES, **EXTRA_RESIDENCE_CODES})),
                codes_from=MUNICIPALITY_CODES_FROM,
            ),
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
            ColumnSpec(
                "diag",
                "str",
                "ICD-10 code with the LPR 'D' prefix, e.g. DF700.",
                pattern=DIAGNOSIS_CODE_PATTERN,
            ),
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
