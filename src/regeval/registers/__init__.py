"""regeval.registers.read."""
