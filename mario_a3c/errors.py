"""The exceptions the CLIs turn into one line: UserError (exit 2) and RunFailed (exit 1)."""

import argparse


class UserError(Exception):
    """Bad input: a flag, a path, a checkpoint. Its message says what is wrong and what to do."""


class RunFailed(Exception):
    """The run cannot go on (a child died more often than ``max_restarts`` allows, the Ray
    parameter server died); the message names what and why."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr and exit 2 (no usage block)."""

    def error(self, message: str):
        raise SystemExit(self.exit(2, f"error: {message} (see {self.prog} --help)\n"))
