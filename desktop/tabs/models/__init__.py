"""The Models tab: every run, its details, export, rename, delete."""
