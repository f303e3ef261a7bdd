# Effects: the outcome panel around each cohort's start year, then weighted OLS per
# outcome and relative year, group means and window averages.


rule outcome_panel:
    input:
        units=rules.base_population.output.units,
        matched=rules.match.output.matched,
    output:
        panel="results/{spec}/inside/outcome_panel.parquet",
        counts="results/{spec}/inside/aggregates/panel_counts.parquet",
    params:
        step="outcome_panel",
        spec=spec_of,
        data=config["data"],
        generated_dir=GENERATED,
    log:
        "results/{spec}/logs/outcome_panel.log",
    benchmark:
        "results/{spec}/benchmarks/outcome_panel.tsv"
    script:
        f"../../{STEP}"


rule effects:
    input:
        panel=rules.outcome_panel.output.panel,
    output:
        effects="results/{spec}/inside/aggregates/effects.parquet",
        means="results/{spec}/inside/aggregates/group_means.parquet",
        windows="results/{spec}/inside/aggregates/effect_windows.parquet",
    params:
        step="effects",
        spec=spec_of,
    log:
        "results/{spec}/logs/effects.log",
    benchmark:
        "results/{spec}/benchmarks/effects.tsv"
    script:
        f"../../{STEP}"
