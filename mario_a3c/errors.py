"""The one exception type for mistakes a user can fix; the CLIs print it as one line, exit 2."""


class UserError(Exception):
    """Bad input: a flag, a path, a checkpoint. Its message says what is wrong and what to do."""
