"""Watch a trained agent play and export the video: ``python test.py --world 1 --stage 1``."""

import sys

from mario_a3c.cli import run_cli, test_main

if __name__ == "__main__":
    sys.exit(run_cli(test_main))
