"""Copy a run's best checkpoint into trained_models/ for shipping: float16 weights, no optimizer.

    python scripts/ship_model.py runs/mario_1_1/best.pt            # -> trained_models/mario_1_1.pt

The run's directories are reset to the defaults in the stored config, so the shipped
file names no path of the machine it was trained on. test.py loads it as it is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mario_a3c.checkpoint import load_checkpoint, save_checkpoint
from mario_a3c.config import Config, config_from_dict

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--out", default=None, help="default trained_models/<env>.pt")
    args = p.parse_args()
    meta, model, _ = load_checkpoint(Path(args.checkpoint))
    cfg = config_from_dict(meta["config"])
    meta["config"].update(save_dir=Config.save_dir, log_dir=Config.log_dir, resume=None, from_stage=None)
    out = Path(args.out or ROOT / "trained_models" / f"{cfg.slug}.pt")
    out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out, model, meta, None, half=True)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, trained {meta.get('frames', 0):,} frames)")


if __name__ == "__main__":
    main()
