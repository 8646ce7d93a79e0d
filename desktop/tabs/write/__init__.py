"""The Write tab: a plain-text editor with suggestions from a trained generator."""
