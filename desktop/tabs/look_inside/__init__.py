"""The Look inside tab: a text coloured by one cell, the cells ranked by what they track."""
