# Budget economics (SØM-style), per spec: the effect table × prices, by actor, year
# and consequence group, with refunds, discounting and cost-level sensitivity.

BUDGET_TABLES = ["budget_net", "budget_by_actor", "budget_by_year", "budget_by_group", "budget_by_item", "budget_sensitivity"]


rule budget:
    input:
        effects=lambda w: f"{SHARED}/effects/{keys_of(w.spec)['effects']}/aggregates/effects.parquet",
    output:
        **{t: f"results/{{spec}}/inside/aggregates/{t}.parquet" for t in BUDGET_TABLES},
    params:
        step="budget",
        spec=spec_of,
        repo=REPO,
    log:
        "results/{spec}/logs/budget.log",
    script:
        f"../../{STEP}"
