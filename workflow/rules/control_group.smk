# The control group: propensity model (shared by every spec with the same
# characteristic set), matching and balance (shared by every spec with the same
# characteristics and matching options): matching, balance, descriptive table.

MATCH_DIR = f"{SHARED}/matching/{{mkey}}"


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
        characteristics=lambda w: spec_of_key(w.pskey)["characteristics"],
        control_rule=lambda w: spec_of_key(w.pskey)["control_rule"],
        population=config["population"],
    log:
        "results/_shared/logs/propensity_{pskey}.log",
    benchmark:
        "results/_shared/benchmarks/propensity_{pskey}.tsv"
    script:
        f"../../{STEP}"


rule control_group:
    input:
        units=rules.base_population.output.units,
        scores=lambda w: f"{SHARED}/propensity/{keys_of(SPEC_OF_KEY[w.mkey])['ps']}/scores.parquet",
        flow=rules.base_population.output.flow,
        population_means=rules.population_means.output.means,
    output:
        pairs=f"{MATCH_DIR}/match_pairs.parquet",
        matched=f"{MATCH_DIR}/matched_units.parquet",
        summary=f"{MATCH_DIR}/aggregates/matching_summary.parquet",
        flow=f"{MATCH_DIR}/aggregates/population_flow.parquet",
        balance=f"{MATCH_DIR}/aggregates/balance.parquet",
        descriptives=f"{MATCH_DIR}/aggregates/descriptives.parquet",
    params:
        step="control_group",
        spec=lambda w: spec_of_key(w.mkey),
        population=config["population"],
        repo=REPO,
    log:
        "results/_shared/logs/control_group_{mkey}.log",
    benchmark:
        "results/_shared/benchmarks/control_group_{mkey}.tsv"
    script:
        f"../../{STEP}"
