# Business-case mode: counts per benefit status × the municipality's net monthly cost
# per status, for an intervention and a hand-picked control group (method.md §3).
# The table and its metadata (default: the table's name with .yaml) are taken
# relative to the repository.

if config.get("business_case"):

    BC = config["business_case"]
    BC_TABLE = os.path.join(REPO, BC["table"])
    BC_METADATA = os.path.join(REPO, BC["metadata"]) if BC.get("metadata") else os.path.splitext(BC_TABLE)[0] + ".yaml"
    BC_TABLES = BUSINESS_CASE_TABLES

    ALL_TARGETS.extend(
        [f"results/business_case/export/{t}.{ext}" for t in BC_TABLES for ext in ("csv", "parquet")]
        + ["results/business_case/export/disclosure_log.json", "results/business_case/export/business_case.png"]
    )

    rule business_case:
        input:
            table=BC_TABLE,
            metadata=BC_METADATA,
        output:
            **{f"inside_{t}": f"results/business_case/inside/aggregates/{t}.parquet" for t in BC_TABLES},
            **{f"{t}_{ext}": f"results/business_case/export/{t}.{ext}" for t in BC_TABLES for ext in ("csv", "parquet")},
            log="results/business_case/export/disclosure_log.json",
            figure=report("results/business_case/export/business_case.png", category="Business case"),
        params:
            step="business_case",
            code=code_digest("business_case"),
            min_persons=config["disclosure"]["min_persons"],
        log:
            "results/business_case/logs/business_case.log",
        script:
            f"../../{STEP}"
