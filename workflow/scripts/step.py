"""Run one pipeline step: the rule's params.step names a function of regeval.pipeline.steps."""

from regeval.pipeline.steps import run

run(
    snakemake.params.step,  # type: ignore[name-defined]  # noqa: F821
    dict(snakemake.input.items()),  # noqa: F821
    dict(snakemake.output.items()),  # noqa: F821
    dict(snakemake.params.items()),  # noqa: F821
    snakemake.log[0] if snakemake.log else None,  # noqa: F821
    snakemake.threads,  # noqa: F821
)
