"""Optional compiled parts: the oneDNN RNN library (see build.py)."""
