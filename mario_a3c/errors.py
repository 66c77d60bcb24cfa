"""The one exception type for mistakes a user can fix; the CLIs print it as one line, exit 2."""

import argparse


class UserError(Exception):
    """Bad input: a flag, a path, a checkpoint. Its message says what is wrong and what to do."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr and exit 2 (no usage block)."""

    def error(self, message: str):
        raise SystemExit(self.exit(2, f"error: {message} (see {self.prog} --help)\n"))
