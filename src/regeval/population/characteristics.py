"""The report's 17 matching characteristics and the unit columns that carry them.

A spec chooses characteristics by name (config ``characteristics``); each name
expands to one or more columns of the base-population units table built by
:func:`regeval.population.base.build_base_population`. Categorical columns are
expanded to dummies (first level as reference) by the propensity model.
"""

from __future__ import annotations

from collections.abc import Sequence

from regeval.errors import ConfigError

# name -> (columns, categorical?)  ; "{diag}" expands to one column per diagnosis group
CHARACTERISTICS: dict[str, tuple[tuple[str, ...], bool]] = {
    "sex": (("sex",), True),
    "age": (("age",), False),
    "age_group": (("age_group",), True),
    "education": (("education",), True),
    "diagnosis_groups": (("{diag}",), False),
    "n_diagnosis_groups": (("n_diagnosis_groups",), True),
    "support": (("support",), True),
    "employment_degree_1": (("employment_degree_1",), False),
    "employment_degree_2_5": (("employment_degree_2_5",), False),
    "cohort": (("cohort_year",), True),
    "botilbud": (("botilbud",), False),
    "sel85": (("sel85",), False),
    "sel103_104": (("sel103_104",), False),
    "sel_other": (("sel_other",), False),
    "gp_contacts": (("gp_contacts",), False),
    "specialist_contacts": (("specialist_contacts",), False),
    "somatic_hospital": (("somatic_hospital",), False),
    "psychiatric_hospital": (("psychiatric_hospital",), False),
    # background characteristics (not among the 17, used as outcome-model controls)
    "origin": (("origin",), True),
    "civil_status": (("civil_status",), True),
}

REPORT_17: tuple[str, ...] = (
    "sex",
    "age",
    "education",
    "diagnosis_groups",
    "n_diagnosis_groups",
    "support",
    "employment_degree_1",
    "employment_degree_2_5",
    "cohort",
    "botilbud",
    "sel85",
    "sel103_104",
    "sel_other",
    "gp_contacts",
    "specialist_contacts",
    "somatic_hospital",
    "psychiatric_hospital",
)
"""The matching characteristics of the KLAPjob report (method.md §1)."""


def expand(names: Sequence[str], diagnosis_groups: Sequence[str]) -> tuple[list[str], list[str]]:
    """Columns and categorical columns for characteristic ``names``.

    Raises
    ------
    ConfigError
        For an unknown name, listing the valid ones.
    """
    columns: list[str] = []
    categorical: list[str] = []
    for name in names:
        if name not in CHARACTERISTICS:
            raise ConfigError(
                f"unknown characteristic {name!r}; valid: {', '.join(sorted(CHARACTERISTICS))}"
            )
        cols, is_cat = CHARACTERISTICS[name]
        for col in cols:
            expanded = [f"diag_{g}" for g in diagnosis_groups] if col == "{diag}" else [col]
            for c in expanded:
                if c not in columns:
                    columns.append(c)
                    if is_cat:
                        categorical.append(c)
    return columns, categorical
