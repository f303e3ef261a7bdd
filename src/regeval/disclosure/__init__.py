"""regeval.disclosure.check."""
