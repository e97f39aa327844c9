"""The one exception type for errors a user can cause.

Every message says what was wrong and what to do about it, so the CLI can print it without a
traceback (see `ganinv.cli.main`).
"""


class GanInvError(Exception):
    """A user-facing error: bad path, corrupt file, unknown plugin, mismatched checkpoint, ..."""
