# Effects: the outcome panel around each cohort's start year (from the shared
# person-year outcomes), weighted OLS per outcome and relative year, group means,
# window averages, and the effect figures (drawn from the disclosure-checked tables).
# One job per control group × effects options, shared by every spec that agrees.

EFFECTS_DIR = f"{SHARED}/effects/{{ekey}}"


rule effects:
    input:
        units=rules.base_population.output.units,
        person_years=rules.person_years.output.person_years,
        matched=lambda w: f"{SHARED}/matching/{keys_of(SPEC_OF_KEY[w.ekey])['match']}/matched_units.parquet",
        scores=lambda w: f"{SHARED}/propensity/{keys_of(SPEC_OF_KEY[w.ekey])['ps']}/scores.parquet",
    output:
        panel=f"{EFFECTS_DIR}/outcome_panel.parquet",
        counts=f"{EFFECTS_DIR}/aggregates/panel_counts.parquet",
        effects=f"{EFFECTS_DIR}/aggregates/effects.parquet",
        means=f"{EFFECTS_DIR}/aggregates/group_means.parquet",
        windows=f"{EFFECTS_DIR}/aggregates/effect_windows.parquet",
        figures=directory(f"{EFFECTS_DIR}/figures"),
    params:
        step="effects_stage",
        spec=lambda w: spec_of_key(w.ekey),
        data=config["data"],
        population=config["population"],
        min_persons=config["disclosure"]["min_persons"],
        language=LANG,
    log:
        "results/_shared/logs/effects_{ekey}.log",
    benchmark:
        "results/_shared/benchmarks/effects_{ekey}.tsv"
    script:
        f"../../{STEP}"
