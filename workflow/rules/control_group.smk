# The control group: the propensity model (shared by every spec with the same
# characteristic set and control pool), then matching, balance and the descriptive
# table (shared by every spec with the same characteristics and matching options).
# Each job's params are exactly the choices its key is made of (regeval.pipeline.spec.Spec).


rule propensity:
    input:
        units=rules.base_population.output.units,
    output:
        scores=f"{SHARED}/propensity/{{pskey}}/scores.parquet",
        coefficients=f"{SHARED}/propensity/{{pskey}}/aggregates/propensity_model.parquet",
        overlap=f"{SHARED}/propensity/{{pskey}}/aggregates/propensity_overlap.parquet",
        selection=f"{SHARED}/propensity/{{pskey}}/aggregates/score_selection.parquet",
        fit=f"{SHARED}/propensity/{{pskey}}/fit.json",
    params:
        characteristics=lambda w: PLAN.spec_of(w.pskey).propensity_choices()["characteristics"],
        pool=lambda w: PLAN.spec_of(w.pskey).propensity_choices()["pool"],
        score=lambda w: PLAN.spec_of(w.pskey).propensity_choices().get("score"),
        population=DIAGNOSIS_GROUPS,
        code=code("propensity"),
    group: EVALUATION_GROUP
    threads: 2
    resources:
        mem_mb=mem_mb(400, 12),
        runtime=runtime(10, 60),
    log:
        "results/_shared/logs/propensity_{pskey}.log",
    benchmark:
        "results/_shared/benchmarks/propensity_{pskey}.tsv"
    script:
        "../scripts/propensity.py"


rule control_group:
    input:
        unpack(control_ids),  # a spec that brings its own control group: its control-id file
        units=rules.base_population.output.units,
        scores=lambda w: f"{SHARED}/propensity/{PLAN.upstream_key(w.mkey, 'ps')}/scores.parquet",
        flow=rules.base_population.output.flow,
        population_means=rules.base_population.output.means,
    output:
        pairs=f"{SHARED}/matching/{{mkey}}/match_pairs.parquet",
        matched=f"{SHARED}/matching/{{mkey}}/matched_units.parquet",
        summary=f"{SHARED}/matching/{{mkey}}/aggregates/matching_summary.parquet",
        flow=f"{SHARED}/matching/{{mkey}}/aggregates/population_flow.parquet",
        balance=f"{SHARED}/matching/{{mkey}}/aggregates/balance.parquet",
        descriptives=f"{SHARED}/matching/{{mkey}}/aggregates/descriptives.parquet",
    params:
        spec=lambda w: PLAN.spec_of(w.mkey).match_choices(),
        population=DIAGNOSIS_GROUPS,
        code=code("control_group"),
    group: EVALUATION_GROUP
    threads: 2
    resources:
        mem_mb=mem_mb(400, 8),
        runtime=runtime(10, 60),
    log:
        "results/_shared/logs/control_group_{mkey}.log",
    benchmark:
        "results/_shared/benchmarks/control_group_{mkey}.tsv"
    script:
        "../scripts/control_group.py"
