"""regeval.population.base."""
