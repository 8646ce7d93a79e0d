"""Looking inside a generator: recordings of its cells and what they track."""
