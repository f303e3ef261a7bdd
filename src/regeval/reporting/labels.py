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
    "placebo": ("Placebo test before start", "Placebotest før start"),
    "confounding": ("Unobserved confounding (motivation)", "Ikke-observerede forskelle (motivation)"),
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
    "score_named": ("The propensity score is the model {model} (named in the spec).",
                    "Propensity scoren er modellen {model} (valgt i specifikationen)."),
    "score_auto": (
        "The propensity score is the model {model}: of the candidate models ({models}) the one whose "
        "matched sample balanced the characteristics best (fewest unbalanced terms, then the smallest "
        "largest SMD); the choice never looks at an outcome.",
        "Propensity scoren er modellen {model}: blandt kandidaterne ({models}) den, hvis matchede "
        "stikprøve gav den bedste balance på karakteristika (færrest terme uden balance, dernæst den "
        "mindste største SMD); valget ser aldrig på et udfald.",
    ),
    "placebo_ok": (
        "Placebo test: for every outcome the effects before start (years {lo} to {hi}) are jointly "
        "compatible with zero (p ≥ 0.05), as they should be.",
        "Placebotest: for alle udfald er effekterne før start (år {lo} til {hi}) samlet forenelige med "
        "nul (p ≥ 0,05), som de bør være.",
    ),
    "placebo_fail": (
        "Warning: participants and matched controls already differed before start (joint test of years "
        "{lo} to {hi}, p < 0.05) in {outcomes}. The effects on these outcomes may be biased. With many "
        "outcomes, one in twenty fails by chance.",
        "Advarsel: deltagere og matchede kontroller var allerede forskellige før start (samlet test af år "
        "{lo} til {hi}, p < 0,05) for {outcomes}. Effekterne på disse udfald kan være skævvredne. Med "
        "mange udfald fejler ét ud af tyve ved en tilfældighed.",
    ),
    "rare": (
        "In {n} cell(s) too few persons in a group had the outcome (fewer than effects.min_events); there the standard error is "
        "the larger of CR1 and CR1-SATT and no star is given (such effects count as 0 in the budget's "
        "rule 'significant').",
        "I {n} celle(r) havde for få personer i en gruppe udfaldet (færre end effects.min_events); der er standardfejlen den største "
        "af CR1 og CR1-SATT, og der gives ingen stjerne (sådanne effekter tæller 0 i budgettets regel "
        "'significant').",
    ),
    "dr_agree": (
        "Robustness check: the doubly robust estimate (columns dr_*: the same matched sample, the outcome "
        "model with more characteristics) is within one standard error of the main estimate in every cell.",
        "Robusthedstjek: det dobbelt robuste estimat (kolonnerne dr_*: samme matchede stikprøve, "
        "udfaldsmodel med flere karakteristika) ligger inden for én standardfejl af hovedestimatet i alle "
        "celler.",
    ),
    "dr_differ": (
        "Robustness check: the doubly robust estimate (columns dr_*) differs from the main estimate by more "
        "than one standard error in {n} cell(s) ({cells}): there the score or the outcome model may be wrong.",
        "Robusthedstjek: det dobbelt robuste estimat (kolonnerne dr_*) afviger fra hovedestimatet med mere "
        "end én standardfejl i {n} celle(r) ({cells}): her kan scoren eller udfaldsmodellen være forkert.",
    ),
    "confounding_intro": (
        "The comparison can only account for what the registers show; differences in motivation cannot be "
        "measured. The table says how strong such a hidden confounder would have to be: it would have to "
        "explain the share rv of what the characteristics leave unexplained of both participation and the "
        "outcome to explain the effect away, and the share rv_alpha to make it no longer significant "
        "(Cinelli & Hazlett 2020).",
        "Sammenligningen kan kun tage højde for det, registrene viser; forskelle i motivation kan ikke måles. "
        "Tabellen viser, hvor stærk en sådan skjult forskel skulle være: den skulle forklare andelen rv af "
        "det, karakteristika ikke forklarer, af både deltagelse og udfald for at bortforklare effekten, og "
        "andelen rv_alpha for at gøre den insignifikant (Cinelli & Hazlett 2020).",
    ),
    "confounding_window": (
        "{label}, average over years {lo}–{hi}: a hidden confounder would have to explain {rv:.1%} of the "
        "remaining variance of both participation and the outcome to remove the effect, and {rva:.1%} to "
        "make it no longer significant.",
        "{label}, gennemsnit over år {lo}–{hi}: en skjult forskel skulle forklare {rv:.1%} af den resterende "
        "variation i både deltagelse og udfald for at fjerne effekten og {rva:.1%} for at gøre den "
        "insignifikant.",
    ),
    "confounding_axis": ("Robustness value (share of residual variance)",
                         "Robusthedsværdi (andel af resterende variation)"),
    "confounding_rv": ("explain the effect away (rv)", "bortforklare effekten (rv)"),
    "confounding_rva": ("make it not significant (rv_alpha)", "gøre den insignifikant (rv_alpha)"),
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
