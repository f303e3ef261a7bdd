# Per spec, one export job: the budget from the effect table, disclosure control of
# every aggregate (nothing reaches export/ unchecked), the figures drawn from the
# checked tables, the HTML report and the Excel workbook.


def _aggregates(wildcards):
    k = keys_of(wildcards.spec)
    mdir = f"{SHARED}/matching/{k['match']}/aggregates"
    edir = f"{SHARED}/effects/{k['effects']}"
    files = {
        "units": f"{SHARED}/base_population.parquet",
        "population_means": f"{SHARED}/aggregates/population_means.parquet",
        "propensity_model": f"{SHARED}/propensity/{k['ps']}/aggregates/propensity_model.parquet",
        "propensity_overlap": f"{SHARED}/propensity/{k['ps']}/aggregates/propensity_overlap.parquet",
        "effect_figures": f"{edir}/figures",
    }
    for t in ["population_flow", "matching_summary", "balance", "descriptives"]:
        files[t] = f"{mdir}/{t}.parquet"
    for t in ["panel_counts", "effects", "group_means", "effect_windows"]:
        files[t] = f"{edir}/aggregates/{t}.parquet"
    return files


rule export:
    input:
        unpack(_aggregates),
    output:
        **{t: f"results/{{spec}}/inside/aggregates/{t}.parquet" for t in BUDGET_TABLES},
        log="results/{spec}/export/tables/disclosure_log.json",
        figures=report(
            directory("results/{spec}/export/figures"),
            patterns=["{name}.png"],
            category="Figures",
            subcategory="{spec}",
            labels={"spec": "{spec}", "figure": "{name}"},
        ),
        html=report("results/{spec}/export/report.html", category="Evaluation report", labels={"spec": "{spec}", "file": "report.html"}),
        xlsx=report("results/{spec}/export/tables.xlsx", category="Evaluation report", labels={"spec": "{spec}", "file": "tables.xlsx"}),
    params:
        step="export",
        spec=spec_of,
        spec_name="{spec}",
        repo=REPO,
        min_persons=config["disclosure"]["min_persons"],
        language=LANG,
    log:
        "results/{spec}/logs/export.log",
    benchmark:
        "results/{spec}/benchmarks/export.tsv"
    script:
        f"../../{STEP}"
