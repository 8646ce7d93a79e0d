"""RNN Studio desktop app (PySide6)."""
