"""Reusable widgets: the loss chart, the streaming sample view, the word-contribution view."""
