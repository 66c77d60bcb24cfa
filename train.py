"""Train an A3C agent: ``python train.py --world 1 --stage 1`` (see --help)."""

import sys

from mario_a3c.cli import run_cli, train_main

if __name__ == "__main__":
    sys.exit(run_cli(train_main))
