"""Train an A3C agent: ``python train.py --world 1 --stage 1`` (see --help)."""

import sys

from mario_a3c.cli import config_from_args, run_cli
from mario_a3c.trainer import train

if __name__ == "__main__":
    sys.exit(run_cli(lambda: train(config_from_args())))
