# The control group: propensity model (shared by every spec with the same
# characteristic set), matching and balance (shared by every spec with the same
# characteristics and matching options): matching, balance, descriptive table.
# Each job's params are exactly the choices its key is made of (regeval.pipeline.config).

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
        code=code_digest("propensity"),
        characteristics=lambda w: propensity_choices(spec_of_key(w.pskey))["characteristics"],
        pool=lambda w: propensity_choices(spec_of_key(w.pskey))["pool"],
        population=DIAGNOSIS_GROUPS,
    log:
        "results/_shared/logs/propensity_{pskey}.log",
    benchmark:
        "results/_shared/benchmarks/propensity_{pskey}.tsv"
    script:
        f"../../{STEP}"


def _control_ids(wildcards):
    """The spec's control-id file, if it brings its own control group."""
    ids = spec_of_key(wildcards.mkey).get("control_ids")
    return {"control_ids": CONTROL_IDS[ids]} if ids else {}


rule control_group:
    input:
        unpack(_control_ids),
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
        code=code_digest("control_group"),
        spec=lambda w: match_choices(spec_of_key(w.mkey)),
        population=DIAGNOSIS_GROUPS,
    log:
        "results/_shared/logs/control_group_{mkey}.log",
    benchmark:
        "results/_shared/benchmarks/control_group_{mkey}.tsv"
    script:
        f"../../{STEP}"
