"""regeval.reporting."""
