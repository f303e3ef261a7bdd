# Effects: the outcome panel around each cohort's start year (from the shared
# person-year outcomes), weighted OLS per outcome and relative year, group means and
# window averages. One job per control group × effects options, shared by every spec
# that agrees; its params are exactly those options (the effect figures carry the
# report's language and are drawn by the export).


rule effects:
    input:
        units=rules.base_population.output.units,
        person_years=rules.person_years.output.person_years,
        matched=lambda w: f"{SHARED}/matching/{PLAN.upstream_key(w.ekey, 'match')}/matched_units.parquet",
        scores=lambda w: f"{SHARED}/propensity/{PLAN.upstream_key(w.ekey, 'ps')}/scores.parquet",
    output:
        panel=f"{SHARED}/effects/{{ekey}}/outcome_panel.parquet",
        counts=f"{SHARED}/effects/{{ekey}}/aggregates/panel_counts.parquet",
        effects=f"{SHARED}/effects/{{ekey}}/aggregates/effects.parquet",
        means=f"{SHARED}/effects/{{ekey}}/aggregates/group_means.parquet",
        windows=f"{SHARED}/effects/{{ekey}}/aggregates/effect_windows.parquet",
    params:
        spec=lambda w: PLAN.spec_of(w.ekey).effects_choices(),
        data={"years": list(config["data"]["years"])},
        code=code("effects"),
    threads: 1
    resources:
        mem_mb=mem_mb(400, 10),
        runtime=runtime(10, 60),
    log:
        "results/_shared/logs/effects_{ekey}.log",
    benchmark:
        "results/_shared/benchmarks/effects_{ekey}.tsv"
    script:
        "../scripts/effects.py"
