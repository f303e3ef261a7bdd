# Effects: the outcome panel around each cohort's start year (from the shared
# person-year outcomes), weighted OLS per outcome and relative year, group means and
# window averages. One job per control group × effects options, shared by every spec
# that agrees; its params are exactly those options (the effect figures carry the
# report's language and are drawn by the export).

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
    params:
        step="effects_stage",
        code=code_digest("effects_stage"),
        spec=lambda w: effects_choices(spec_of_key(w.ekey)),
        data={"years": list(config["data"]["years"])},
    log:
        "results/_shared/logs/effects_{ekey}.log",
    benchmark:
        "results/_shared/benchmarks/effects_{ekey}.tsv"
    script:
        f"../../{STEP}"
