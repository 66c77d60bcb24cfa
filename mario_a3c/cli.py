"""The edge where user errors become one line on stderr and exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Callable

from mario_a3c.errors import UserError
from wrappers import EnvError


def run_cli(main: Callable[[], int]) -> int:
    try:
        return main()
    except (UserError, EnvError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
