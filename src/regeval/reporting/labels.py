"""Human-readable labels (English and Danish) for outcomes, actors and headings."""

from __future__ import annotations

OUTCOME_LABELS: dict[str, tuple[str, str, str]] = {
    # name: (English, Danish, unit)
    "employed": ("Share in supported or unsupported employment", "Andel i støttet eller ustøttet beskæftigelse", "share"),
    "fulltime_days": ("Full-time days in employment", "Fuldtidsdage i beskæftigelse", "days/year"),
    "hours_per_week": ("Hours per week in employment", "Timer pr. uge i beskæftigelse", "hours/week"),
    "sel103_104": ("Share using sheltered employment (§103) or activity services (§104)", "Andel i beskyttet beskæftigelse (§103) eller aktivitets- og samværstilbud (§104)", "share"),
    "botilbud": ("Share living in a residential facility (§107/§108)", "Andel i botilbud (§107/§108)", "share"),
    "sel85": ("Share with socio-pedagogical support in own home (§85)", "Andel med socialpædagogisk støtte i eget hjem (§85)", "share"),
    "sel_other": ("Share using other social services", "Andel med andre sociale ydelser", "share"),
    "gp_contacts": ("GP contacts", "Kontakter til egen læge", "contacts/year"),
    "specialist_contacts": ("Other specialist contacts", "Kontakter til andre speciallæger", "contacts/year"),
    "somatic_hospital": ("Share with a somatic hospital contact", "Andel med somatisk hospitalskontakt", "share"),
    "psychiatric_hospital": ("Share with a psychiatric hospital contact", "Andel med psykiatrisk hospitalskontakt", "share"),
    "taxable_income": ("Taxable income", "Skattepligtig indkomst", "kr/year"),
    "support_foep": ("Share on early-retirement pension (FØP)", "Andel på førtidspension", "share"),
    "support_fleksjob": ("Share in flex job", "Andel i fleksjob", "share"),
    "support_ledighedsydelse": ("Share on flex-job unemployment benefit", "Andel på ledighedsydelse", "share"),
    "support_kontanthjaelp": ("Share on cash benefit", "Andel på kontanthjælp", "share"),
    "support_ressourceforloeb": ("Share in resource course", "Andel i ressourceforløb", "share"),
    "support_dagpenge": ("Share on unemployment benefit", "Andel på dagpenge", "share"),
    "support_sygedagpenge": ("Share on sickness benefit", "Andel på sygedagpenge", "share"),
    "support_su": ("Share on student grant", "Andel på SU", "share"),
    "support_selvforsoerget": ("Share self-supporting", "Andel selvforsørgende", "share"),
    "support_oevrig": ("Share on other support", "Andel på anden forsørgelse", "share"),
}

HEADINGS: dict[str, tuple[str, str]] = {
    "title": ("Effect evaluation", "Effektevaluering"),
    "flow": ("Population flow", "Populationsflow"),
    "propensity": ("Propensity model and overlap", "Propensity-model og overlap"),
    "matching": ("Matching", "Matchning"),
    "balance": ("Balance", "Balance"),
    "descriptives": ("Participants, controls and the whole population", "Deltagere, kontrolgruppe og hele befolkningen"),
    "effects": ("Effects", "Effekter"),
    "levels": ("Levels before and after start", "Niveauer før og efter start"),
    "windows": ("Average effects over windows", "Gennemsnitlige effekter over perioder"),
    "budget": ("Budget economics", "Budgetøkonomi"),
    "sensitivity": ("Sensitivity", "Følsomhed"),
    "attrition": ("Persons with data per year", "Personer med data pr. år"),
    "disclosure": ("Disclosure control", "Diskretionering"),
    "participants": ("Participants", "Deltagere"),
    "controls": ("Matched controls", "Matchede kontroller"),
    "rel_year": ("Year relative to start", "År i forhold til start"),
    "effect": ("Effect (participants − controls)", "Effekt (deltagere − kontroller)"),
}


ROBUSTNESS_TEXTS: dict[str, tuple[str, str]] = {
    "balance_ok": (
        "Every characteristic is balanced after matching: |SMD| ≤ 0.1, variance ratio within [0.5, 2] and "
        "eCDF max ≤ 0.15, also for the squares and the tails of the continuous characteristics.",
        "Alle karakteristika er i balance efter matchningen: |SMD| ≤ 0,1, variansforhold i [0,5; 2] og "
        "eCDF-maks ≤ 0,15, også for kvadraterne og halerne af de kontinuerte karakteristika.",
    ),
    "balance_fail": (
        "Warning: {n} term(s) are not balanced after matching (|SMD| > 0.1, variance ratio outside [0.5, 2] "
        "or eCDF max > 0.15): {terms}. Effects may be biased by these differences.",
        "Advarsel: {n} term(er) er ikke i balance efter matchningen (|SMD| > 0,1, variansforhold uden for "
        "[0,5; 2] eller eCDF-maks > 0,15): {terms}. Effekterne kan være skævvredet af disse forskelle.",
    ),
}
"""Sentences of the report's robustness verdicts (English, Danish), formatted by
:func:`translate`."""


def outcome_label(name: str, language: str = "en") -> tuple[str, str]:
    """(label, unit) of an outcome in the chosen language."""
    en, da, unit = OUTCOME_LABELS.get(name, (name, name, ""))
    return (da if language == "da" else en), unit


def translate(texts: dict[str, tuple[str, str]], key: str, language: str = "en", **fields: object) -> str:
    """``texts[key]`` (an English, Danish pair) in the chosen language, formatted with ``fields``."""
    en, da = texts[key]
    return (da if language == "da" else en).format(**fields)


def heading(key: str, language: str = "en") -> str:
    en, da = HEADINGS.get(key, (key, key))
    return da if language == "da" else en
