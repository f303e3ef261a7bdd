# Effects: the outcome panel around each cohort's start year (from the shared
# person-year outcomes), then weighted OLS per outcome and relative year, group
# means and window averages. Shared by every spec with the same control group and
# effects options.

EFFECTS_DIR = f"{SHARED}/effects/{{ekey}}"


rule outcome_panel:
    input:
        units=rules.base_population.output.units,
        person_years=rules.person_years.output.person_years,
        matched=lambda w: f"{SHARED}/matching/{keys_of(SPEC_OF_KEY[w.ekey])['match']}/matched_units.parquet",
    output:
        panel=f"{EFFECTS_DIR}/outcome_panel.parquet",
        counts=f"{EFFECTS_DIR}/aggregates/panel_counts.parquet",
    params:
        step="outcome_panel",
        spec=lambda w: spec_of_key(w.ekey),
        data=config["data"],
    log:
        "results/_shared/logs/outcome_panel_{ekey}.log",
    benchmark:
        "results/_shared/benchmarks/outcome_panel_{ekey}.tsv"
    script:
        f"../../{STEP}"


rule effects:
    input:
        panel=rules.outcome_panel.output.panel,
    output:
        effects=f"{EFFECTS_DIR}/aggregates/effects.parquet",
        means=f"{EFFECTS_DIR}/aggregates/group_means.parquet",
        windows=f"{EFFECTS_DIR}/aggregates/effect_windows.parquet",
    params:
        step="effects",
        spec=lambda w: spec_of_key(w.ekey),
    log:
        "results/_shared/logs/effects_{ekey}.log",
    benchmark:
        "results/_shared/benchmarks/effects_{ekey}.tsv"
    script:
        f"../../{STEP}"
