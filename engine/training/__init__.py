"""The training core shared by every model kind (see loop.py)."""
