"""Copy a run's best checkpoint into trained_models/ for shipping: float16 weights, no optimizer.

    python scripts/ship_model.py runs/mario_1_1/best.pt            # -> trained_models/mario_1_1.pt

(The campaign, ``train.py --stages``, ships each clearing checkpoint the same way.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mario_a3c.checkpoint import load_checkpoint
from mario_a3c.ship import ship


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--out", default=None, help="default trained_models/<env>.pt")
    args = p.parse_args()
    out = ship(Path(args.checkpoint), Path(args.out) if args.out else None)
    meta, _, _ = load_checkpoint(out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, trained {meta.get('frames', 0):,} frames)")


if __name__ == "__main__":
    main()
