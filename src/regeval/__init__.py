"""regeval: register-based effect evaluation with propensity score matching.

The statistical core (propensity, matching, balance, effects, budget) works on any
pandas DataFrame; the register-specific parts (data contract, synthetic generator,
base population) feed it inside the Snakemake pipeline.
"""

__version__ = "0.1.0"
