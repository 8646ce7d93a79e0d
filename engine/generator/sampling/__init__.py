"""Drawing text from a trained generator: one stream or many lanes, grids, steering, novelty."""
