# Business-case mode: counts per benefit status × the municipality's net monthly cost
# per status, for an intervention and a hand-picked control group (method.md §3).

if config.get("business_case"):

    rule business_case:
        input:
            table=os.path.join(REPO, config["business_case"]["table"]),
        output:
            summary="results/business_case/export/business_case_summary.csv",
            figure=report("results/business_case/export/business_case.png", category="Business case"),
        params:
            step="business_case",
            metadata=config["business_case"].get("metadata"),
            min_persons=config["disclosure"]["min_persons"],
        log:
            "results/business_case/logs/business_case.log",
        script:
            f"../../{STEP}"
