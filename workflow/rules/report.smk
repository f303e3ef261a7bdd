# The exports: per spec the budget from the effect table, disclosure control of every
# aggregate (nothing reaches export/ unchecked), the figures drawn from the checked
# tables, the HTML report and the Excel workbook. Specs that share an effect table (a
# sweep's budget variants) are exported by one job, which checks and draws what they
# share once; every spec still gets its own complete results/<spec>/export/.
#
# Every file an export writes is a declared output (the step fails if it writes one
# that is not), and each spec's export/ folder is written to a temporary sibling and
# renamed into place when complete (regeval.pipeline.steps.atomic_folder).


def _aggregates(spec_name):
    k = keys_of(spec_name)
    mdir = f"{SHARED}/matching/{k['match']}/aggregates"
    edir = f"{SHARED}/effects/{k['effects']}"
    files = {
        "units": f"{SHARED}/base_population.parquet",
        "population_means": f"{SHARED}/aggregates/population_means.parquet",
        "propensity_model": f"{SHARED}/propensity/{k['ps']}/aggregates/propensity_model.parquet",
        "propensity_overlap": f"{SHARED}/propensity/{k['ps']}/aggregates/propensity_overlap.parquet",
    }
    for t in ["population_flow", "matching_summary", "balance", "descriptives"]:
        files[t] = f"{mdir}/{t}.parquet"
    for t in ["panel_counts", "effects", "group_means", "effect_windows"]:
        files[t] = f"{edir}/aggregates/{t}.parquet"
    return files


# the tables of every export/tables/ folder (each as CSV and Parquet)
EXPORT_TABLES = [t for t in _aggregates(SPECS[0]) if t != "units"] + BUDGET_TABLES


def _export_inputs(specs):
    files = _aggregates(specs[0])
    for i, s in enumerate(specs):
        for name, path in budget_input_files(resolve_spec(config, s)["budget"], REPO).items():
            files[f"s{i}_budget_input_{name}"] = path
    return files


def _export_outputs(specs):
    out = {}
    for i, s in enumerate(specs):
        for t in BUDGET_TABLES:
            out[f"s{i}_{t}"] = f"results/{s}/inside/aggregates/{t}.parquet"
        for t in EXPORT_TABLES:
            for ext in ("csv", "parquet"):
                out[f"s{i}_table_{t}_{ext}"] = f"results/{s}/export/tables/{t}.{ext}"
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
    ALL_TARGETS.extend(str(f) for f in _export_outputs(_members).values())

    rule:
        name:
            f"export_{_ekey.replace('-', '_')}"
        input:
            **_export_inputs(_members),
        output:
            **_export_outputs(_members),
        params:
            step="export_group",
            code=code_digest("export_group"),
            spec_names=_members,
            specs=[canonical(resolve_spec(config, s)) for s in _members],
            min_persons=config["disclosure"]["min_persons"],
            language=LANG,
        log:
            f"results/_shared/logs/export_{_ekey}.log",
        benchmark:
            f"results/_shared/benchmarks/export_{_ekey}.tsv"
        script:
            f"../../{STEP}"
