"""The run's configuration: one frozen dataclass, per-environment presets, the CLI parser.

Defaults live in ``PRESETS`` (one row per environment family, readable at a glance);
flags override them. ``--num_global_steps`` and the other spellings of the predecessor
(uvipen/Super-mario-bros-A3C-pytorch) are accepted as aliases.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import dataclass

from mario_a3c.errors import ArgumentParser, UserError
from wrappers import is_mario, mario_id

FRAME_SKIP = 4  # emulator frames per agent step for pixel envs


@dataclass(frozen=True)
class Config:
    env_id: str = "SuperMarioBros-1-1-v0"
    """Gymnasium id; for Mario built from --world/--stage."""
    action_type: str = "right"
    """Mario joypad action set: right (5 actions), simple (7) or complex (12)."""
    algo: str = "a3c"
    """a3c: asynchronous workers and a shared Adam; a2c: one learner, N envs in lock-step."""
    num_processes: int = 2
    """A3C worker processes (the tester is one more)."""
    num_envs: int = 1
    """Environments each learner steps in lock-step: A2C's one learner (8 unless a preset
    says otherwise), or each A3C worker (1 unless a preset says otherwise)."""
    lr: float = 1e-4
    """Adam learning rate."""
    gamma: float = 0.9
    """Discount factor."""
    gae_lambda: float = 1.0
    """GAE lambda (1.0 = plain n-step returns)."""
    entropy_coef: float = 0.01
    """Weight of the entropy bonus."""
    reward_scale: float = 1.0
    """Rewards are multiplied by this for training only (episode returns are logged unscaled)."""
    value_coef: float = 0.5
    """Weight of the value loss."""
    normalize_advantages: bool = False
    """Scale each update's advantages to mean 0, std 1 (over its T*B steps) before the policy loss."""
    max_grad_norm: float = 40.0
    """Gradient norm clip."""
    epochs: int = 1
    """Optimizer steps each rollout makes: 1 is A3C/A2C as published; each later step re-reads
    the shared weights and bounds the policy's move with PPO's clipped ratio (``clip_coef``)."""
    clip_coef: float = 0.2
    """With epochs > 1: how far (ratio 1 +- this) a later step may move the policy from the one that acted."""
    num_local_steps: int = 50
    """Rollout length per update (agent steps)."""
    max_frames: int = 20_000_000
    """Stop after this many emulator frames (an agent step of a pixel env is 4 frames)."""
    max_seconds: float | None = None
    """Also stop after this much wall time in this session (None: no limit)."""
    solved_return: float | None = None
    """Mean return of the last 100 training episodes that counts as solved (None: the env's
    own ``reward_threshold``; Mario is solved by a greedy clear instead)."""
    stop_when_solved: bool = False
    """Stop as soon as the run counts as solved (Mario: a greedy clear; others: the env's threshold)."""
    lstm_size: int = 512
    """LSTMCell units (0 = feed-forward)."""
    eval_interval: float = 20.0
    """Seconds between the tester's greedy evaluations."""
    stuck_patience: int = 200
    """Mario: truncate an episode after this many agent steps without a new max x."""
    checkpoint_interval: float = 120.0
    """Seconds between periodic checkpoints of the whole run."""
    max_restarts: int = 3
    """How many times a dead worker or tester is restarted before the run stops."""
    save_dir: str = "runs"
    """Where run directories (checkpoints, videos, summary.json) are created."""
    log_dir: str = "runs"
    """Where TensorBoard events go (<log-dir>/<run-name>/tb)."""
    seed: int = 0
    """Base seed; worker i samples with seed + i, its env j is seeded with seed + i * num_envs + j."""
    device: str = "cpu"
    """cuda: learners re-forward and backpropagate on the GPU, the tester plays there; acting stays on the CPU."""
    backend: str = "mp"
    """mp: workers share the model in shared memory; ray: Ray actors and a parameter server."""
    ray_address: str | None = None
    """--backend ray: a running cluster to join (host:port or auto); None starts a local Ray instance."""
    max_staleness: int = 16
    """--backend ray: gradients computed from weights more than this many versions old are dropped."""
    resume: str | None = None
    """Continue a run: its directory, a checkpoint, or '' for the newest run of this env."""
    from_stage: str | None = None
    """Start from another stage's weights: W-S or a checkpoint path."""

    @property
    def frame_skip(self) -> int:
        return FRAME_SKIP if is_mario(self.env_id) or self.env_id.startswith("ALE/") else 1

    @property
    def workers(self) -> int:
        """Learner processes: one per A3C worker; A2C has a single learner."""
        return 1 if self.algo == "a2c" else self.num_processes

    @property
    def envs_per_worker(self) -> int:
        """Environments each learner steps in lock-step (each rollout is T x this)."""
        return self.num_envs

    def env_seed(self, rank: int) -> int:
        """Seed of learner ``rank``'s first env; its env i gets this + i, so every env of
        every worker has a seed of its own (seed + rank * envs_per_worker + i)."""
        return self.seed + rank * self.envs_per_worker

    @property
    def slug(self) -> str:
        """Short name used for run directories and default output files: mario_1_1, ALE-Pong-v5."""
        if is_mario(self.env_id):
            world, stage = self.env_id.split("-")[1:3]
            return f"mario_{world}_{stage}"
        return self.env_id.replace("/", "-").replace(":", "-")

    def env_kwargs(self) -> dict:
        """Keyword arguments for ``wrappers.make_env`` that this config fixes."""
        if is_mario(self.env_id):
            return {"action_type": self.action_type, "stuck_patience": self.stuck_patience}
        return {}


# Per-environment defaults: anything not listed uses the Config defaults above. A row
# "<env> a2c" overrides its env's row when --algo a2c (one learner, a bigger batch).
# Vector envs: each learner steps 8 envs (a batch-1 forward would cost more than the env
# step), rewards x0.1 for training (value targets of a few tens, not hundreds, beside a
# gradient clip of 0.5: CartPole solved in half the steps, Pendulum at all).
VECTOR = dict(
    lstm_size=0,
    gamma=0.99,
    gae_lambda=0.95,
    num_local_steps=16,
    num_envs=8,
    reward_scale=0.1,
    max_grad_norm=0.5,
    entropy_coef=0.0,
)
PRESETS: dict[str, dict] = {
    "mario": dict(),
    # a whole Atari game (what the tester plays) lasts minutes: evaluate once a minute
    "atari": dict(gamma=0.99, num_local_steps=20, max_frames=40_000_000, eval_interval=60.0),
    "vector": VECTOR,  # any other env with vector observations
    "CartPole-v1": dict(VECTOR, lr=1e-3, max_frames=500_000),
    "CartPole-v1 a2c": dict(lr=2e-3, num_local_steps=8),
    # LunarLander: plain A2C/A3C steps rise, then crash (the seed posts' "roller coaster"; SB3's
    # PPO at the same small batches does too). Long rollouts (GAE over 128 steps, gamma 0.999:
    # the +100 for coming to rest is worth waiting for) and 4 clipped steps per rollout hold.
    "LunarLander-v3": dict(
        VECTOR,
        lr=3e-4,
        gamma=0.999,
        gae_lambda=0.98,
        num_local_steps=128,
        epochs=4,
        entropy_coef=0.01,
        normalize_advantages=True,
        max_frames=10_000_000,
    ),
    "Pendulum-v1": dict(VECTOR, solved_return=-200.0, lr=1e-3, gamma=0.95, max_frames=1_000_000),
    # unsolved either way; at reward x0.1 the Gaussian's mean drifts past the bound (return
    # -99.9: full thrust, every step), at x1 it settles on not pushing (return ~0)
    "MountainCarContinuous-v0": dict(VECTOR, lr=1e-3, reward_scale=1.0, max_frames=1_000_000),
}


def preset_for(env_id: str, algo: str = "a3c") -> dict:
    """The preset row for ``env_id`` (and ``--algo``), merged over its family's and over
    the algorithm's own default (A2C's one learner steps 8 environments)."""
    if is_mario(env_id):
        row = PRESETS["mario"]
    elif env_id.startswith("ALE/"):
        row = PRESETS["atari"]
    else:
        row = dict(PRESETS.get(env_id, VECTOR), **PRESETS.get(f"{env_id} {algo}", {}))
    return dict({"num_envs": 8} if algo == "a2c" else {}, **row)


def solved_threshold(cfg: Config, env) -> float | None:
    """The mean return over 100 training episodes that solves this env (None for Mario: a
    greedy clear solves it). train.py and test.py both ask this."""
    if is_mario(cfg.env_id):
        return None
    if cfg.solved_return is not None:
        return cfg.solved_return
    return env.spec.reward_threshold if env.spec else None


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
    ("gamma", None, float, "discount factor"),
    ("gae-lambda", "--tau", float, "GAE lambda"),
    ("entropy-coef", "--beta", float, "entropy coefficient"),
    ("value-coef", None, float, "value loss coefficient"),
    ("reward-scale", None, float, "training reward multiplier"),
    ("normalize-advantages", None, on_off, "advantages to mean 0, std 1 per update (on/off)"),
    ("max-grad-norm", None, float, "gradient norm clip"),
    ("epochs", None, int, "optimizer steps per rollout (above 1: PPO's clipped ratio bounds the later ones)"),
    ("clip-coef", None, float, "with --epochs above 1: the ratio's clip range 1 +- this"),
    ("num-local-steps", "--num_local_steps", int, "rollout length"),
    ("num-envs", None, int, "environments per learner in lock-step (A2C: 8)"),
    ("max-frames", None, int, "emulator frames to train for"),
    ("lstm-size", None, int, "LSTMCell units, 0 for none"),
    ("eval-interval", None, float, "seconds between greedy evaluations"),
    ("checkpoint-interval", None, float, "seconds between checkpoints"),
    ("max-restarts", None, int, "restarts allowed per dead process"),
]


def add_env_flags(p: argparse.ArgumentParser) -> None:
    """--world, --stage and --env: the flags train.py and test.py share to name the game."""
    p.add_argument("--world", type=int, default=1, help="Mario world 1-8")
    p.add_argument("--stage", type=int, default=1, help="Mario stage 1-4")
    p.add_argument("--env", default=None, help="any Gymnasium env id instead of Mario (CartPole-v1, ALE/Pong-v5, ...)")


def env_id_from_args(args: argparse.Namespace) -> str:
    """The env id the --world/--stage/--env flags name; UserError for a stage that does not exist."""
    if args.env is not None:
        return args.env
    if not (1 <= args.world <= 8):
        raise UserError(f"--world {args.world}: Super Mario Bros has worlds 1-8")
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
    p.add_argument("--action-type", "--action_type", default=d.action_type, help="right, simple or complex")
    p.add_argument(
        "--algo",
        default=d.algo,
        choices=["a3c", "a2c"],
        help="a3c: asynchronous workers; a2c: one learner; each steps --num-envs envs in lock-step",
    )
    p.add_argument(
        "--num-processes", "--num_processes", type=int, default=None, help="A3C workers (default: the number of cores)"
    )
    for name, alias, kind, help_ in PRESET_FLAGS:
        names = [f"--{name}"] + ([alias] if alias else [])
        default = getattr(d, name.replace("-", "_"))
        p.add_argument(
            *names, type=kind, default=None, help=f"{help_} (default: {default} for Mario, else the env's preset)"
        )
    p.add_argument("--max-seconds", type=float, default=None, help="also stop after this much wall time")
    p.add_argument("--stop-when-solved", action="store_true", help="stop once solved (benchmarks use this)")
    p.add_argument(
        "--solved-return", type=float, default=None, help="mean return of 100 episodes that counts as solved (preset)"
    )
    p.add_argument("--num_global_steps", type=int, default=None, help="agent steps (predecessor's flag; x4 frames)")
    p.add_argument("--save-dir", "--saved_path", default=d.save_dir, help="where run directories go")
    p.add_argument("--log-dir", "--log_path", default=d.log_dir, help="where TensorBoard events go")
    p.add_argument("--seed", type=int, default=d.seed, help="base seed")
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
        help="continue a run (newest of this env, or a run dir / checkpoint path)",
    )
    p.add_argument("--from-stage", default=None, help="initial weights from another stage: W-S or a path")
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


def config_from_args(argv: list[str] | None = None) -> Config:
    """Parse and validate; raises UserError with a one-line message on bad input."""
    args = build_parser().parse_args(argv)
    env_id = env_id_from_args(args)
    values = preset_for(env_id, args.algo)
    for key in [name.replace("-", "_") for name, *_ in PRESET_FLAGS] + ["solved_return"]:
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    if args.num_global_steps is not None:
        values["max_frames"] = args.num_global_steps * Config(env_id=env_id).frame_skip
    cfg = Config(
        env_id=env_id,
        action_type=args.action_type,
        algo=args.algo,
        num_processes=args.num_processes if args.num_processes is not None else (os.cpu_count() or 1),
        save_dir=args.save_dir,
        log_dir=args.log_dir,
        seed=args.seed,
        device=args.device,
        resume=args.resume,
        from_stage=args.from_stage,
        backend=args.backend,
        ray_address=args.ray_address,
        max_staleness=args.max_staleness,
        max_seconds=args.max_seconds,
        stop_when_solved=args.stop_when_solved,
        **values,
    )
    validate(cfg)
    return cfg


def validate(cfg: Config) -> None:
    """Reject values no run can use, naming the flag."""
    if cfg.algo not in ("a3c", "a2c"):
        raise UserError(f"--algo {cfg.algo!r}: choose a3c or a2c")
    if cfg.action_type not in ("right", "simple", "complex"):
        raise UserError(f"--action-type {cfg.action_type!r}: choose right, simple or complex")
    for flag, value in [
        ("--num-processes", cfg.num_processes),
        ("--num-envs", cfg.num_envs),
        ("--num-local-steps", cfg.num_local_steps),
        ("--epochs", cfg.epochs),
        ("--clip-coef", cfg.clip_coef),
        ("--max-frames", cfg.max_frames),
        ("--lr", cfg.lr),
        ("--reward-scale", cfg.reward_scale),
        ("--eval-interval", cfg.eval_interval),
        ("--checkpoint-interval", cfg.checkpoint_interval),
        ("--max-seconds", 1 if cfg.max_seconds is None else cfg.max_seconds),
    ]:
        if not value > 0:
            raise UserError(f"{flag} {value}: must be positive")
    if cfg.max_staleness < 0:
        raise UserError(f"--max-staleness {cfg.max_staleness}: must be 0 or more")
    if cfg.ray_address is not None and cfg.backend != "ray":
        raise UserError("--ray-address joins a Ray cluster: add --backend ray")
    if not (0 < cfg.gamma <= 1 and 0 <= cfg.gae_lambda <= 1):
        raise UserError(f"--gamma {cfg.gamma} / --gae-lambda {cfg.gae_lambda}: must lie in (0, 1] / [0, 1]")
    if cfg.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UserError("--device cuda: no CUDA device is visible on this machine")


def config_to_dict(cfg: Config) -> dict:
    return dataclasses.asdict(cfg)


def config_from_dict(data: dict) -> Config:
    """Rebuild a Config from a checkpoint's JSON, ignoring keys this version does not know."""
    known = {f.name for f in dataclasses.fields(Config)}
    return Config(**{k: v for k, v in data.items() if k in known})


__all__ = [
    "Config",
    "PRESETS",
    "UserError",
    "build_parser",
    "config_from_args",
    "config_from_dict",
    "config_to_dict",
    "validate",
]
