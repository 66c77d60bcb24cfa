"""Where a run starts from: scratch, ``--resume`` (a run's last.pt) or ``--from-stage``."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mario_a3c.checkpoint import load_checkpoint
from mario_a3c.config import Config, config_from_dict
from mario_a3c.errors import UserError
from mario_a3c.rundir import find_checkpoint, resume_target
from wrappers import default_sticky_actions, mario_id

# Flags that say how long and how to run this session, not how the run learns: given with
# --resume they apply; not given, the run keeps its own.
RUN_NOW = ("max_frames", "solved_return", "eval_interval", "checkpoint_interval", "max_restarts")
# Flags that say how the run makes its updates from here on, not what it learns on or with
# which network: given with --resume they apply from the checkpoint's frame count, and
# config.json's ``retuned`` keeps when (a run that plays can go on with longer rollouts
# and no entropy bonus, what lifted sticky Pong's plateau; README, Pong).
RETUNE = ("num_local_steps", "entropy_coef", "late_frames", "late_num_local_steps")


@dataclass
class Start:
    cfg: Config
    run_dir: Path | None = None  # set when resuming: training continues in that directory
    model: dict | None = None
    optimizer: dict | None = None
    frames: int = 0
    seconds: float = 0.0
    monitor: dict = field(default_factory=dict)
    sig: dict | None = None  # the checkpoint's spaces, to check against the env
    source: str = ""


def check_network(start: Start, model: torch.nn.Module) -> None:
    """UserError naming both networks when the checkpoint's weights do not fit ``model``
    (another --lstm-size, action set or env): one line instead of load_state_dict's error."""
    if start.model is None:
        return
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in start.model.items()}
    if want != got:
        flag = "--resume" if start.run_dir is not None else "--from-stage"
        raise UserError(
            f"{flag}: {start.source} holds a network of {_describe(got)}, this run builds one of "
            f"{_describe(want)}; match --lstm-size / --encoder / --action-type / the env, or start from scratch"
        )


def _describe(shapes: dict[str, tuple]) -> str:
    lstm = shapes.get("lstm.weight_hh")
    core = f"LSTM {lstm[1]}" if lstm else "no LSTM"
    actions = shapes.get("policy.weight", (0,))[0]
    return f"{core}, {actions} actions, {len(shapes)} tensors"


def resolve_start(cfg: Config) -> Start:
    if cfg.resume is not None:
        return _resume(cfg)
    if cfg.from_stage:
        return _from_stage(cfg)
    return Start(cfg)


def _resume(cfg: Config) -> Start:
    ckpt = resume_target(cfg.save_dir, cfg.slug, cfg.resume)
    meta, model, optimizer = load_checkpoint(ckpt)
    stored = config_from_dict(meta["config"])
    _refuse_changed_flags(cfg, stored, ckpt)
    retune = {
        key: getattr(cfg, key) for key in RETUNE if key in cfg.given and getattr(cfg, key) != getattr(stored, key)
    }
    retuned = (f"at {meta['frames']:,} frames: " + " ".join(_flag(k, v) for k, v in retune.items()),) if retune else ()
    # The stored run's settings win, except what says how long and where to run now (a
    # flag not given keeps the run's own budget: --resume alone finishes what it set out to do).
    cfg = dataclasses.replace(
        stored,
        **{key: getattr(cfg, key) for key in RUN_NOW if key in cfg.given},
        **retune,
        retuned=stored.retuned + retuned,
        stop_when_solved=cfg.stop_when_solved or stored.stop_when_solved,
        num_processes=cfg.num_processes,
        device=cfg.device,
        backend=cfg.backend,
        ray_address=cfg.ray_address,
        max_staleness=cfg.max_staleness,
        resume=cfg.resume,
        max_seconds=cfg.max_seconds,
        given=tuple(sorted(set(stored.given) | set(cfg.given))),  # config.json keeps every session's flags
    )
    if meta["frames"] >= cfg.max_frames:
        raise UserError(
            f"{ckpt} has already trained {meta['frames']:,} frames, the --max-frames budget "
            f"({cfg.max_frames:,}); raise --max-frames to continue"
        )
    return Start(
        cfg,
        ckpt.parent,
        model,
        optimizer,
        int(meta["frames"]),
        float(meta.get("wall_seconds", 0.0)),
        meta.get("monitor", {}),
        meta["spaces"],
        str(ckpt),
    )


def _refuse_changed_flags(cfg: Config, stored: Config, ckpt: Path) -> None:
    """UserError when a flag given with --resume would change how the run learns: the run
    goes on with its own settings, so a differing flag would otherwise be ignored silently."""
    changed = [key for key in cfg.given if key not in RUN_NOW + RETUNE and _setting(cfg, key) != _setting(stored, key)]
    if changed:
        ours = " ".join(_flag(k, _setting(cfg, k)) for k in changed)
        theirs = " ".join(_flag(k, _setting(stored, k)) for k in changed)
        raise UserError(
            f"--resume: {ckpt.parent} trains with {theirs}; it goes on with its own settings, "
            f"so drop {ours} (or start a new run with {'it' if len(changed) == 1 else 'them'})"
        )


def _setting(cfg: Config, key: str):
    """A setting as it acts on the config's env: sticky actions not set (a run from before
    the flag, or none given) are the id's own, so 0.25 on v5 matches v5's default."""
    value = getattr(cfg, key)
    if key == "sticky_actions" and value is None and cfg.env_id.startswith("ALE/"):
        return default_sticky_actions(cfg.env_id)
    return value


def _flag(key: str, value) -> str:
    """A setting as the flag that sets it: --lr 0.0003, --bf16 on."""
    shown = ("on" if value else "off") if isinstance(value, bool) else value
    return f"--{key.replace('_', '-')} {shown}"


def _from_stage(cfg: Config) -> Start:
    spec = cfg.from_stage
    if re.fullmatch(r"\d-\d", spec):
        world, stage = map(int, spec.split("-"))
        slug = Config(env_id=mario_id(world, stage)).slug
        ckpt, _ = find_checkpoint(cfg.save_dir, slug)
        if ckpt is None:
            raise UserError(
                f"--from-stage {spec}: no checkpoint of {slug}; train it first "
                f"(python train.py --world {world} --stage {stage})"
            )
    else:
        ckpt = Path(spec)
    meta, model, _ = load_checkpoint(ckpt)
    stored = meta["config"]
    if stored.get("action_type") != cfg.action_type:
        raise UserError(
            f"--from-stage {spec}: {ckpt} uses action type {stored.get('action_type')!r}, this run {cfg.action_type!r}"
        )
    return Start(cfg, model=model, sig=meta["spaces"], source=str(ckpt))
