"""The command line: train.py's parser (flags over the env's preset row), the flags train.py
and test.py share, and the edge where user errors become one line on stderr and exit 2.

``--num_global_steps`` and the other spellings of the predecessor
(uvipen/Super-mario-bros-A3C-pytorch) are accepted as aliases.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from mario_a3c.config import Config, preset_for, validate
from mario_a3c.errors import ArgumentParser, UserError
from mario_a3c.rundir import SHIPPED_DIR, ensure_writable_dir, find_checkpoint, resume_target, write_json
from wrappers import EnvError, mario_id


def run_cli(main: Callable[[], int]) -> int:
    try:
        return main()
    except (UserError, EnvError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def on_off(text: str) -> bool:
    """A boolean flag's value: on/off, true/false, yes/no or 1/0."""
    value = text.strip().lower()
    if value in ("on", "true", "yes", "1"):
        return True
    if value in ("off", "false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r}: say on or off")


# Flags whose default comes from the env's preset row: (flag, predecessor's alias, type, help).
PRESET_FLAGS = [
    ("lr", None, float, "learning rate"),
    ("lr-anneal", None, on_off, "the learning rate falls linearly to 0 at --max-frames (on/off)"),
    ("gamma", None, float, "discount factor"),
    ("gae-lambda", "--tau", float, "GAE lambda"),
    ("entropy-coef", "--beta", float, "entropy coefficient"),
    ("entropy-anneal-frames", None, int, "the entropy bonus falls linearly to 0 at these frames (0: constant)"),
    ("value-coef", None, float, "value loss coefficient"),
    ("reward-scale", None, float, "training reward multiplier"),
    ("normalize-advantages", None, on_off, "advantages to mean 0, std 1 per update (on/off)"),
    ("max-grad-norm", None, float, "gradient norm clip"),
    ("epochs", None, int, "optimizer steps per rollout (above 1: PPO's clipped ratio bounds the later ones)"),
    ("clip-coef", None, float, "with --epochs above 1: the ratio's clip range 1 +- this"),
    ("num-local-steps", "--num_local_steps", int, "rollout length"),
    ("late-frames", None, int, "from these frames on, --late-num-local-steps rollouts and no entropy bonus (0: never)"),
    ("late-num-local-steps", None, int, "the rollout length from --late-frames on"),
    ("num-envs", None, int, "environments per learner in lock-step (A2C: 8)"),
    ("max-frames", None, int, "emulator frames to train for"),
    ("lstm-size", None, int, "LSTMCell units, 0 for none"),
    ("encoder", None, str, "pixel torso: conv4 (four 3x3 stride-2 convolutions) or nature (DQN Nature's)"),
    ("bf16", None, on_off, "act and re-forward under bfloat16 autocast (on/off)"),
    ("stuck-patience", None, int, "Mario: agent steps without a new max x that end an episode as stuck"),
    ("stuck-death", None, on_off, "Mario: a stuck episode ends as a death, not a truncation (on/off)"),
    ("explore-starts", None, float, "Mario: fraction of training episodes begun where earlier ones got to (0: off)"),
    ("sticky-actions", None, float, "Atari: chance the emulator repeats the last action each frame (v5: 0.25)"),
    ("eval-interval", None, float, "seconds between greedy evaluations"),
    ("checkpoint-interval", None, float, "seconds between checkpoints"),
    ("max-restarts", None, int, "restarts allowed per dead process"),
]


def stage_arg(text: str) -> int | str:
    """--stage: a number, or ``all`` (test.py: the whole world)."""
    if text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a stage number 1-4 (test.py also takes all)") from None


def add_env_flags(p: argparse.ArgumentParser) -> None:
    """--world, --stage and --env: the flags train.py and test.py share to name the game."""
    p.add_argument("--world", type=int, default=1, help="Mario world 1-8")
    p.add_argument("--stage", type=stage_arg, default=1, help="Mario stage 1-4 (test.py: or all, the whole world)")
    p.add_argument("--env", default=None, help="any Gymnasium env id instead of Mario (CartPole-v1, ALE/Pong-v5, ...)")


def env_id_from_args(args: argparse.Namespace) -> str:
    """The env id the --world/--stage/--env flags name; UserError for a stage that does not exist."""
    if args.env is not None:
        return args.env
    if not (1 <= args.world <= 8):
        raise UserError(f"--world {args.world}: Super Mario Bros has worlds 1-8")
    if args.stage == "all":
        raise UserError("--stage all: test.py plays a whole world; train.py trains stages (--stages 1-1 1-2 ...)")
    if not (1 <= args.stage <= 4):
        raise UserError(f"--stage {args.stage}: each world has stages 1-4")
    return mario_id(args.world, args.stage)


class DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default; a flag whose default depends on the env says so itself."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default is None else super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    d = Config()
    p = ArgumentParser(
        description="Train an A3C agent (Super Mario Bros by default).",
        formatter_class=DefaultsHelp,
    )
    add_env_flags(p)
    # default None (the Config's, named in the help): a flag given is on record, so --resume can refuse it
    p.add_argument(
        "--action-type", "--action_type", default=None, help=f"right, simple or complex (default: {d.action_type})"
    )
    p.add_argument(
        "--algo",
        default=None,
        choices=["a3c", "a2c"],
        help="a3c: asynchronous workers; a2c: one learner; each steps --num-envs envs in lock-step "
        f"(default: {d.algo})",
    )
    p.add_argument(
        "--num-processes", "--num_processes", type=int, default=None, help="A3C workers (default: the number of cores)"
    )
    for name, alias, kind, help_ in PRESET_FLAGS:
        names = [f"--{name}"] + ([alias] if alias else [])
        default = getattr(d, name.replace("-", "_"))
        where = "the game's own" if default is None else f"{default} for Mario, else the env's preset"
        p.add_argument(*names, type=kind, default=None, help=f"{help_} (default: {where})")
    p.add_argument("--max-seconds", type=float, default=None, help="also stop after this much wall time")
    p.add_argument("--stop-when-solved", action="store_true", help="stop once solved (benchmarks use this)")
    p.add_argument(
        "--solved-return",
        type=float,
        default=None,
        help="mean return that counts as solved: of 100 training episodes; Atari: of 20 whole games (preset)",
    )
    p.add_argument(
        "--num_global_steps",
        type=int,
        default=None,
        help="agent steps (predecessor's flag): x the env's frame skip (Mario, Atari: 4) frames",
    )
    p.add_argument("--save-dir", "--saved_path", default=d.save_dir, help="where run directories go")
    p.add_argument(
        "--log-dir",
        "--log_path",
        default=d.log_dir,
        help="where TensorBoard events go (default: each run directory's tb/)",
    )
    p.add_argument("--seed", type=int, default=None, help=f"base seed (default: {d.seed})")
    p.add_argument(
        "--device",
        default=d.device,
        choices=["cpu", "cuda"],
        help="cuda: the learners' batched re-forward/backward and the tester on a GPU; acting stays on the CPU",
    )
    p.add_argument(
        "--resume",
        nargs="?",
        const="",
        default=None,
        help="continue a run (newest of this env, or a run dir / checkpoint path) with its own settings; "
        "--num-local-steps, --entropy-coef and the --late-* flags given apply from its frames on",
    )
    p.add_argument("--from-stage", default=None, help="initial weights from another stage: W-S or a path")
    p.add_argument(
        "--stages",
        nargs="+",
        default=None,
        metavar="W-S",
        help="a campaign: train these stages in turn, each from the previous one's clearing weights (restartable)",
    )
    p.add_argument(
        "--stage-limit", type=float, default=10800.0, help="with --stages: seconds of training a stage may take in all"
    )
    p.add_argument(
        "--backend",
        default=d.backend,
        choices=["mp", "ray"],
        help="mp: processes sharing memory on this machine; ray: Ray actors and a parameter server",
    )
    p.add_argument("--ray-address", default=None, help="with --backend ray: join this cluster (host:port or auto)")
    p.add_argument(
        "--max-staleness", type=int, default=d.max_staleness, help="with --backend ray: drop older gradients"
    )
    return p


def train_main(argv: list[str] | None = None) -> int:
    """train.py: one run, or with --stages a campaign of runs."""
    args = build_parser().parse_args(argv)
    if args.stages is not None and args.resume is not None:  # before --resume is looked up
        raise UserError("--stages continues each stage's own run by itself: drop --resume")
    cfg = config_from_namespace(args)
    if args.stages is None:
        from mario_a3c.trainer import train

        return train(cfg)
    from mario_a3c.campaign import parse_stages, run_campaign

    return run_campaign(cfg, parse_stages(args.stages), args.stage_limit)


def config_from_args(argv: list[str] | None = None) -> Config:
    """Parse and validate; raises UserError with a one-line message on bad input."""
    return config_from_namespace(build_parser().parse_args(argv))


def trained_env_id(args: argparse.Namespace, env_id: str) -> str:
    """The env a run trains on: the flags', or with ``--resume`` the resumed run's. Flags are
    checked against it (``--sticky-actions`` on an Atari run resumed without ``--env``) and
    its frame skip converts ``--num_global_steps``, agent steps, into frames."""
    if args.resume is None:
        return env_id
    from mario_a3c.checkpoint import load_checkpoint  # torch: only when a run is resumed

    ckpt = resume_target(args.save_dir, Config(env_id=env_id).slug, args.resume)
    return load_checkpoint(ckpt)[0]["config"]["env_id"]


def config_from_namespace(args: argparse.Namespace) -> Config:
    """The Config that parsed flags say (preset row of the env, flags over it), validated."""
    env_id = trained_env_id(args, env_id_from_args(args))
    values = preset_for(env_id, args.algo or Config.algo)
    given = {}
    for key in [name.replace("-", "_") for name, *_ in PRESET_FLAGS] + ["solved_return", "action_type", "algo", "seed"]:
        if getattr(args, key) is not None:
            given[key] = getattr(args, key)
    if args.num_global_steps is not None:
        given["max_frames"] = args.num_global_steps * Config(env_id=env_id).frame_skip
    values.update(given)
    cfg = Config(
        env_id=env_id,
        num_processes=args.num_processes if args.num_processes is not None else (os.cpu_count() or 1),
        save_dir=args.save_dir,
        log_dir=args.log_dir,
        device=args.device,
        resume=args.resume,
        from_stage=args.from_stage,
        backend=args.backend,
        ray_address=args.ray_address,
        max_staleness=args.max_staleness,
        max_seconds=args.max_seconds,
        stop_when_solved=args.stop_when_solved,
        given=tuple(sorted(given)),
        **values,
    )
    validate(cfg)
    return cfg


def build_test_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        description="Play a trained agent and export the gameplay video.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_env_flags(p)
    p.add_argument("--action-type", "--action_type", default=None, help="must match the checkpoint's (checked)")
    p.add_argument(
        "--checkpoint", default=None, help="checkpoint path (default: your newest run, else the shipped model)"
    )
    p.add_argument("--save-dir", "--saved_path", default="runs", help="where your training runs are")
    p.add_argument("--output", default=None, help="mp4 path (default output/<env>.mp4)")
    p.add_argument("--episodes", type=int, default=1, help="episodes to play; the video shows the first")
    p.add_argument("--sample", action="store_true", help="sample actions instead of playing greedily")
    p.add_argument("--render", action="store_true", help="also show the game in a window (needs a display)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first episode")
    p.add_argument("--json", default=None, help="also write the summary as JSON here")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="device to run the model on")
    p.add_argument(
        "--sticky-actions",
        type=float,
        default=None,
        help="Atari: play at this repeat_action_probability instead of the run's own",
    )
    return p


def test_main(argv: list[str] | None = None) -> int:
    """test.py: play a checkpoint (or with --stage all a whole world), write the mp4, report."""
    import torch

    from mario_a3c.evaluate import Play, evaluate

    args = build_test_parser().parse_args(argv)
    torch.set_num_threads(1)
    if args.episodes < 1:
        raise UserError(f"--episodes {args.episodes}: must be positive")
    whole = args.stage == "all" and args.env is None
    env_id = f"SuperMarioBros-{args.world}-all" if whole else env_id_from_args(args)
    if args.sticky_actions is not None:
        validate(Config(env_id=env_id, sticky_actions=args.sticky_actions))
    slug = f"mario_{args.world}_all" if whole else Config(env_id=env_id).slug
    if whole:
        from mario_a3c.world import check_world

        if args.checkpoint or args.episodes != 1:
            raise UserError("--stage all plays one episode with each stage's own model: drop --checkpoint/--episodes")
        check_world(args.world)
        found = _world_checkpoints(args)
    elif args.checkpoint:
        ckpt, source = Path(args.checkpoint), "--checkpoint"
    else:
        ckpt, source = find_checkpoint(args.save_dir, slug)
        if ckpt is None:
            how = f"--world {args.world} --stage {args.stage}" if args.env is None else f"--env {env_id}"
            raise UserError(
                f"no checkpoint for {slug} under {args.save_dir}/ or trained_models/ (shipped models: "
                f"{_shipped_stages()}); train one with: python train.py {how}"
            )
    output = Path(args.output or f"output/{slug}.mp4")
    ensure_writable_dir(output.parent, f"--output {output}")
    if args.json:
        ensure_writable_dir(Path(args.json).parent, f"--json {args.json}")
    play = Play(
        output, args.episodes, args.sample, args.seed, args.render, args.device, args.action_type, args.sticky_actions
    )
    if whole:
        from mario_a3c.world import play_world

        summary = play_world(args.world, found, play)
    else:
        summary = evaluate(ckpt, env_id, play, source)
    if args.json:
        write_json(Path(args.json), summary)
    return 0


def _shipped_stages() -> str:
    names = sorted(p.stem for p in SHIPPED_DIR.glob("mario_*_*.pt"))
    return ", ".join(n.removeprefix("mario_").replace("_", "-") for n in names) or "none"


def _world_checkpoints(args: argparse.Namespace) -> dict[int, tuple[Path, str]]:
    """Stage -> (checkpoint, where it came from) for stages 1, 2, ... up to the first without one."""
    found = {}
    for stage in range(1, 5):
        ckpt, source = find_checkpoint(args.save_dir, f"mario_{args.world}_{stage}")
        if ckpt is None:
            break
        found[stage] = (ckpt, source)
    if not found:
        raise UserError(
            f"--world {args.world} --stage all: no model for {args.world}-1 under {args.save_dir}/ or "
            f"trained_models/ (shipped models: {_shipped_stages()})"
        )
    return found
