# The exports: per spec the budget from the effect table, disclosure control of every
# aggregate (nothing reaches export/ unchecked), the figures drawn from the checked
# tables, the HTML report and the Excel workbook. Specs that share an effect table (a
# sweep's budget variants) are exported by one job, which checks and draws what they
# share once; every spec still gets its own complete results/<spec>/export/.


def _aggregates(spec_name):
    k = keys_of(spec_name)
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


def _export_outputs(specs):
    out = {}
    for i, s in enumerate(specs):
        for t in BUDGET_TABLES:
            out[f"s{i}_{t}"] = f"results/{s}/inside/aggregates/{t}.parquet"
        out[f"s{i}_log"] = f"results/{s}/export/tables/disclosure_log.json"
        out[f"s{i}_figures"] = report(
            directory(f"results/{s}/export/figures"),
            patterns=["{name}.png"],
            category="Figures",
            subcategory=s,
            labels={"spec": s, "figure": "{name}"},
        )
        out[f"s{i}_html"] = report(f"results/{s}/export/report.html", category="Evaluation report", labels={"spec": s, "file": "report.html"})
        out[f"s{i}_xlsx"] = report(f"results/{s}/export/tables.xlsx", category="Evaluation report", labels={"spec": s, "file": "tables.xlsx"})
    return out


# export groups: specs (in run order) keyed by their effect table
EXPORT_GROUPS = {}
for _s in dict.fromkeys([*SPECS, *(SWEEP_SPECS or [])]):
    EXPORT_GROUPS.setdefault(keys_of(_s)["effects"], []).append(_s)


for _ekey, _members in EXPORT_GROUPS.items():

    rule:
        name:
            f"export_{_ekey.replace('-', '_')}"
        input:
            **_aggregates(_members[0]),
        output:
            **_export_outputs(_members),
        params:
            step="export_group",
            spec_names=_members,
            specs=[resolve_spec(config, s) for s in _members],
            repo=REPO,
            min_persons=config["disclosure"]["min_persons"],
            language=LANG,
        log:
            f"results/_shared/logs/export_{_ekey}.log",
        benchmark:
            f"results/_shared/benchmarks/export_{_ekey}.tsv"
        script:
            f"../../{STEP}"
