"""regeval.synthetic.generator."""
