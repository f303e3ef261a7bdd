"""Human-readable labels (English and Danish) for outcomes, characteristics, codes,
headings and every other text of the report, the figures, the workbook and the sweep
summary.

The texts live in one translation catalogue, ``catalogue.yaml`` beside this module
(sections ``text``, ``column``, ``unit``, ``variable``, ``level``, ``figure``); the
outcome labels below and the headings are part of it. :func:`t` looks a text up,
:func:`term_label` labels a characteristic (and level) as the balance and descriptive
tables name them, :func:`code_label` labels any other code.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("en", "da")

OUTCOME_LABELS: dict[str, tuple[str, str, str]] = {
    # name: (English, Danish, unit)
    "employed": (
        "Share in supported or unsupported employment",
        "Andel i støttet eller ustøttet beskæftigelse",
        "share",
    ),
    "fulltime_days": ("Full-time days in employment", "Fuldtidsdage i beskæftigelse", "days/year"),
    "hours_per_week": ("Hours per week in employment", "Timer pr. uge i beskæftigelse", "hours/week"),
    "sel103_104": (
        "Share using sheltered employment (§103) or activity services (§104)",
        "Andel i beskyttet beskæftigelse (§103) eller aktivitets- og samværstilbud (§104)",
        "share",
    ),
    "botilbud": ("Share living in a residential facility (§107/§108)", "Andel i botilbud (§107/§108)", "share"),
    "sel85": (
        "Share with socio-pedagogical support in own home (§85)",
        "Andel med socialpædagogisk støtte i eget hjem (§85)",
        "share",
    ),
    "sel_other": ("Share using other social services", "Andel med andre sociale ydelser", "share"),
    "gp_contacts": ("GP contacts", "Kontakter til egen læge", "contacts/year"),
    "specialist_contacts": ("Other specialist contacts", "Kontakter til andre speciallæger", "contacts/year"),
    "somatic_hospital": ("Share with a somatic hospital contact", "Andel med somatisk hospitalskontakt", "share"),
    "psychiatric_hospital": (
        "Share with a psychiatric hospital contact",
        "Andel med psykiatrisk hospitalskontakt",
        "share",
    ),
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
    "descriptives": ("Participants, controls and the whole population",
                    "Deltagere, kontrolgruppe og hele befolkningen"),
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


@functools.cache
def catalogue() -> dict[str, dict[str, dict[str, str]]]:
    """The translation catalogue: section -> key -> {"en": ..., "da": ...}; the outcome
    labels (section ``outcome``) and headings (section ``heading``) included."""
    text = resources.files("regeval.reporting").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    cat: dict[str, dict[str, dict[str, str]]] = yaml.safe_load(text)
    cat["outcome"] = {k: {"en": en, "da": da} for k, (en, da, _unit) in OUTCOME_LABELS.items()}
    cat["heading"] = {k: {"en": en, "da": da} for k, (en, da) in HEADINGS.items()}
    return cat


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"report language must be one of {', '.join(LANGUAGES)}, got {language!r}")


def t(key: str, language: str = "en", section: str = "text", **fields: Any) -> str:
    """The catalogue's text ``section.key`` in ``language``, formatted with ``fields``.

    An unknown key is an error (a missing translation shows up in the tests, not in a
    ministry's copy of the report)."""
    _check_language(language)
    try:
        entry = catalogue()[section][key]
    except KeyError:
        raise KeyError(f"no text {section}.{key} in the translation catalogue (reporting/catalogue.yaml)") from None
    text = entry[language]
    return text.format(**fields) if fields else text


def has(key: str, section: str = "text") -> bool:
    return key in catalogue().get(section, {})


def code_label(code: Any, language: str = "en") -> str:
    """Label of a code that may appear in a table cell (actor, outcome, variable, step
    ...); the code itself if the catalogue has none. The budget's consequence groups:
    :func:`regeval.reporting.budget_view.budget_label`."""
    c = str(code)
    for section in ("outcome", "variable", "code"):
        if has(c, section):
            return t(c, language, section)
    return c


def term_label(variable: Any, level: Any = None, language: str = "en") -> str:
    """Label of a characteristic and its level as the balance and descriptive tables
    name them (``education`` + ``kort_videregaaende`` -> "Highest education: short
    tertiary"); a cohort year, a count or an unknown level is shown as it is."""
    var = str(variable)
    name = t(var, language, "variable") if has(var, "variable") else var
    if level is None or (isinstance(level, float) and level != level) or str(level) in ("", "<NA>", "nan", "None"):
        return name
    key = f"{var}:{level}"
    lev = t(key, language, "level") if has(key, "level") else str(level)
    return f"{name}: {lev}"


def unit_label(unit: str, language: str = "en") -> str:
    return t(unit, language, "unit") if has(unit, "unit") else unit


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
