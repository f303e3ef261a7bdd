# The control group: propensity model (shared by every spec with the same
# characteristic set), nearest-neighbour matching and balance, per spec.


def _ps_characteristics(wildcards):
    for name in config["specs"]:
        spec = resolve_spec(config, name)
        if propensity_key(spec) == wildcards.pskey:
            return spec["characteristics"]
    raise ValueError(f"no spec has propensity key {wildcards.pskey}")


rule propensity:
    input:
        units=rules.base_population.output.units,
    output:
        scores=f"{SHARED}/propensity/{{pskey}}/scores.parquet",
        coefficients=f"{SHARED}/propensity/{{pskey}}/aggregates/propensity_model.parquet",
        overlap=f"{SHARED}/propensity/{{pskey}}/aggregates/propensity_overlap.parquet",
        fit=f"{SHARED}/propensity/{{pskey}}/fit.json",
    params:
        step="propensity",
        characteristics=_ps_characteristics,
        population=config["population"],
    log:
        "results/_shared/logs/propensity_{pskey}.log",
    benchmark:
        "results/_shared/benchmarks/propensity_{pskey}.tsv"
    script:
        f"../../{STEP}"


rule match:
    input:
        units=rules.base_population.output.units,
        scores=lambda w: f"{SHARED}/propensity/{ps_key_of(w)}/scores.parquet",
    output:
        pairs="results/{spec}/inside/match_pairs.parquet",
        matched="results/{spec}/inside/matched_units.parquet",
        summary="results/{spec}/inside/aggregates/matching_summary.parquet",
    params:
        step="match",
        spec=spec_of,
    log:
        "results/{spec}/logs/match.log",
    benchmark:
        "results/{spec}/benchmarks/match.tsv"
    script:
        f"../../{STEP}"


rule balance:
    input:
        units=rules.base_population.output.units,
        matched=rules.match.output.matched,
        population_means=rules.population_means.output.means,
    output:
        balance="results/{spec}/inside/aggregates/balance.parquet",
        descriptives="results/{spec}/inside/aggregates/descriptives.parquet",
    params:
        step="balance",
        spec=spec_of,
        population=config["population"],
    log:
        "results/{spec}/logs/balance.log",
    script:
        f"../../{STEP}"
