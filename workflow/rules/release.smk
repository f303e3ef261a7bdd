# The release: everything the run writes under results/*/export/ is audited together
# (all specs, the sweep summary, the business case) and gets one checker's report in
# results/release/export/ (docs/disclosure.md). The job reads each exported table beside
# the aggregate it was made from and fails, naming the cells, if a suppressed count can
# be derived from the release.


EXPORTED_SPECS = [s for _group in PLAN.exports for s in _group.specs]


def release_inputs():
    files = {}
    for i, s in enumerate(EXPORTED_SPECS):
        aggregates = {**PLAN.aggregates(s), **{t: f"results/{s}/inside/aggregates/{t}.parquet" for t in BUDGET_TABLES}}
        for t in EXPORT_TABLES:
            files[f"s{i}_inside_{t}"] = aggregates[t]
            files[f"s{i}_export_{t}"] = f"results/{s}/export/tables/{t}.parquet"
        files[f"s{i}_cells"] = f"results/{s}/export/tables/disclosure_cells.csv"
    if PLAN.business_case_files():
        for t in BUSINESS_CASE_TABLES:
            files[f"bc_inside_{t}"] = f"results/business_case/inside/aggregates/{t}.parquet"
            files[f"bc_export_{t}"] = f"results/business_case/export/{t}.parquet"
        files["bc_cells"] = "results/business_case/export/disclosure_cells.csv"
    if PLAN.sweep:
        # the sweep summary repeats cells of the specs' checked tables: the release ends after it
        files["sweep_summary"] = f"results/{PLAN.sweep}/export/summary.parquet"
    return files


RELEASE_OUTPUTS = {
    "html": "results/release/export/disclosure_report.html",
    "csv": "results/release/export/disclosure_report.csv",
    "audit": "results/release/export/disclosure_audit.csv",
}
ALL_TARGETS.extend(RELEASE_OUTPUTS.values())


rule release:
    input:
        **release_inputs(),
    output:
        **RELEASE_OUTPUTS,
    params:
        specs=EXPORTED_SPECS,
        disclosure=DISCLOSURE,
        code=code("release"),
    log:
        "results/release/logs/release.log",
    script:
        "../scripts/release.py"
