# Business-case mode: counts per benefit status × the municipality's net monthly cost
# per status, for an intervention and a hand-picked control group (method.md §3).
# The table and its metadata (default: the table's name with .yaml) are taken
# relative to the repository.

if PLAN.business_case_files():

    ALL_TARGETS.extend(
        [f"results/business_case/export/{t}.{ext}" for t in BUSINESS_CASE_TABLES for ext in ("csv", "parquet")]
        + ["results/business_case/export/disclosure_log.json", "results/business_case/export/business_case.png"]
    )

    rule business_case:
        input:
            **PLAN.business_case_files(),
        output:
            **{f"inside_{t}": f"results/business_case/inside/aggregates/{t}.parquet" for t in BUSINESS_CASE_TABLES},
            **{f"{t}_{ext}": f"results/business_case/export/{t}.{ext}" for t in BUSINESS_CASE_TABLES for ext in ("csv", "parquet")},
            log="results/business_case/export/disclosure_log.json",
            figure=report("results/business_case/export/business_case.png", category="Business case"),
        params:
            min_persons=MIN_PERSONS,
            code=code("business_case"),
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        log:
            "results/business_case/logs/business_case.log",
        script:
            "../scripts/business_case.py"
