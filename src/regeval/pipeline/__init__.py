"""regeval.pipeline."""
