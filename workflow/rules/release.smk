# The release: everything the run writes under results/*/export/ is audited together
# (all specs, the sweep summary, the business case) and gets one checker's report in
# results/release/export/ (docs/disclosure.md). The job reads each exported table beside
# the aggregate it was made from and fails, naming the cells, if a suppressed count can
# be derived from the release.


RELEASE_OUTPUTS = {
    "html": "results/release/export/disclosure_report.html",
    "csv": "results/release/export/disclosure_report.csv",
    "audit": "results/release/export/disclosure_audit.csv",
}
ALL_TARGETS.extend(RELEASE_OUTPUTS.values())


# A local rule: it runs after every export, on the machine that runs Snakemake (one thread,
# ~0.3 GB; 10 s at the default size, ~1.5 min for a sweep of 25 specs), so a cluster run
# does not pay another job submission and status-check lag for it (BENCHMARKS.md).
localrules:
    release,


rule release:
    input:
        **release_inputs(),
    output:
        **RELEASE_OUTPUTS,
    params:
        specs=EXPORTED_SPECS,
        disclosure=DISCLOSURE,
        code=code("release"),
    threads: 1
    resources:
        mem_mb=mem_mb(800, 4),
        runtime=runtime(20, 60),
    log:
        "results/release/logs/release.log",
    script:
        "../scripts/release.py"
