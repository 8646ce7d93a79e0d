"""The one exception type the CLI and the GUI show to people as a plain message."""


class StudioError(Exception):
    """A problem with the user's input or files, worded for the user (no traceback needed)."""
