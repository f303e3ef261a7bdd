"""regeval.stats."""
