"""Names shared by the budget modules: actors, consequence groups, effect rules.

Allowed option values live here, in one place, so that every error message can list
them and every output frame uses the same spelling and order.
"""

from __future__ import annotations

from typing import Literal, get_args

Actor = Literal["kommune", "region", "stat"]
Bearer = Literal["kommune", "region", "stat", "programme"]
EffectRule = Literal["significant", "all", "ci_low", "ci_high", "pessimistic", "optimistic"]
Sign = Literal["cost", "revenue"]
Split = Literal["shares", "amounts", "benefit_refund", "handicap_refund"]

#: Public actors, in the order used in every output frame.
ACTORS: tuple[str, ...] = get_args(Actor)
#: Actors that can bear the intervention's cost ("programme" = the intervention itself).
BEARERS: tuple[str, ...] = get_args(Bearer)
#: Rows of ``BudgetResult.net``: the bearers and their sum.
NET_ROWS: tuple[str, ...] = BEARERS + ("total",)
EFFECT_RULES: tuple[str, ...] = get_args(EffectRule)
SIGNS: tuple[str, ...] = get_args(Sign)
SPLITS: tuple[str, ...] = get_args(Split)

#: Consequence group (the level prices are tagged with) -> top-level group.
#: The four social-service parts are shown separately and summed to "social_services".
CONSEQUENCE_GROUPS: dict[str, str] = {
    "sheltered_activity": "social_services",
    "botilbud": "social_services",
    "sel85": "social_services",
    "other_social_services": "social_services",
    "income_transfers": "income_transfers",
    "tax_on_income": "tax_on_income",
    "health": "health",
    "other": "other",
}
#: The programme's own cost: not a consequence, but a row of every result.
PROGRAMME_GROUP = "programme_cost"
PROGRAMME_CONSEQUENCE = "programme_cost"

#: Top-level groups in display order.
GROUPS: tuple[str, ...] = (
    "social_services",
    "income_transfers",
    "tax_on_income",
    "health",
    "other",
    PROGRAMME_GROUP,
)

#: Labels for figures and reports (a municipal economist's vocabulary).
LABELS: dict[str, str] = {
    "kommune": "Municipalities",
    "region": "Regions",
    "stat": "State",
    "programme": "Programme (cost of the intervention)",
    "total": "Total, all public actors",
    "sheltered_activity": "Sheltered employment / activity services (SEL §103/§104)",
    "botilbud": "Residential facilities (SEL §107/§108)",
    "sel85": "Socio-pedagogical support at home (SEL §85)",
    "other_social_services": "Other social services",
    "social_services": "Social services",
    "income_transfers": "Income transfers",
    "tax_on_income": "Tax on income",
    "health": "Health",
    "other": "Other",
    PROGRAMME_GROUP: "Cost of the intervention",
}

LABELS_DA: dict[str, str] = {
    "kommune": "Kommuner",
    "region": "Regioner",
    "stat": "Staten",
    "programme": "Indsatsen (omkostning)",
    "total": "I alt, alle offentlige aktører",
    "sheltered_activity": "Beskyttet beskæftigelse / aktivitets- og samværstilbud (SEL §103/§104)",
    "botilbud": "Botilbud (SEL §107/§108)",
    "sel85": "Socialpædagogisk støtte i eget hjem (SEL §85)",
    "other_social_services": "Andre sociale ydelser",
    "social_services": "Sociale ydelser",
    "income_transfers": "Indkomstoverførsler",
    "tax_on_income": "Skat af indkomst",
    "health": "Sundhed",
    "other": "Andet",
    PROGRAMME_GROUP: "Omkostning til indsatsen",
}


def label(key: str, language: str = "en") -> str:
    """Label of an actor or consequence group in English (``en``) or Danish (``da``)."""
    table = LABELS_DA if language == "da" else LABELS
    return table.get(key, LABELS.get(key, key))


def valid_list(values: tuple[str, ...] | list[str]) -> str:
    """Format allowed values for an error message: ``'a', 'b' or 'c'``."""
    quoted = [f"'{v}'" for v in values]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
