# Disclosure control of every aggregate, then figures drawn from the checked
# tables, then the HTML report and Excel workbook of each spec.


def _aggregates(wildcards):
    k = keys_of(wildcards.spec)
    mdir = f"{SHARED}/matching/{k['match']}/aggregates"
    edir = f"{SHARED}/effects/{k['effects']}/aggregates"
    files = {
        "units": f"{SHARED}/base_population.parquet",
        "population_means": f"{SHARED}/aggregates/population_means.parquet",
        "propensity_model": f"{SHARED}/propensity/{k['ps']}/aggregates/propensity_model.parquet",
        "propensity_overlap": f"{SHARED}/propensity/{k['ps']}/aggregates/propensity_overlap.parquet",
    }
    for t in ["population_flow", "matching_summary", "balance", "descriptives"]:
        files[t] = f"{mdir}/{t}.parquet"
    for t in ["panel_counts", "effects", "group_means", "effect_windows"]:
        files[t] = f"{edir}/{t}.parquet"
    for t in BUDGET_TABLES:
        files[t] = f"results/{wildcards.spec}/inside/aggregates/{t}.parquet"
    return files


rule disclose:
    input:
        unpack(_aggregates),
    output:
        log="results/{spec}/export/tables/disclosure_log.json",
    params:
        step="disclose",
        spec_name="{spec}",
        artifact_keys=lambda w: keys_of(w.spec),
        min_persons=config["disclosure"]["min_persons"],
    log:
        "results/{spec}/logs/disclose.log",
    script:
        f"../../{STEP}"


rule figures:
    input:
        log=rules.disclose.output.log,
    output:
        figures=report(
            directory("results/{spec}/export/figures"),
            patterns=["{name}.png"],
            category="Figures",
            subcategory="{spec}",
            labels={"spec": "{spec}", "figure": "{name}"},
        ),
    params:
        step="figures",
        spec=spec_of,
        language=LANG,
    log:
        "results/{spec}/logs/figures.log",
    script:
        f"../../{STEP}"


rule report:
    input:
        log=rules.disclose.output.log,
        figures=rules.figures.output.figures,
    output:
        html=report("results/{spec}/export/report.html", category="Evaluation report", labels={"spec": "{spec}", "file": "report.html"}),
        xlsx=report("results/{spec}/export/tables.xlsx", category="Evaluation report", labels={"spec": "{spec}", "file": "tables.xlsx"}),
    params:
        step="report",
        spec=spec_of,
        language=LANG,
    log:
        "results/{spec}/logs/report.log",
    script:
        f"../../{STEP}"
