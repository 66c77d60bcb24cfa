"""The run's configuration: one frozen dataclass, per-environment presets, validation.

Defaults live in ``PRESETS`` (one row per environment family, readable at a glance);
flags (``mario_a3c/cli.py``) override them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from mario_a3c.errors import UserError
from wrappers import is_mario

FRAME_SKIP = 4  # emulator frames per agent step for pixel envs
ATARI_GAMES = 20  # an Atari run is solved by the mean true score of this many whole games


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
    num_envs: int = 8
    """Environments each learner steps in lock-step (one batched forward per step): each
    A3C worker, or A2C's one learner."""
    lr: float = 3e-4
    """Adam learning rate."""
    lr_anneal: bool = False
    """The learning rate falls linearly from ``lr`` to 0 at ``max_frames``."""
    gamma: float = 0.9
    """Discount factor."""
    gae_lambda: float = 1.0
    """GAE lambda (1.0 = plain n-step returns)."""
    entropy_coef: float = 0.01
    """Weight of the entropy bonus."""
    entropy_anneal_frames: int = 0
    """The entropy bonus falls linearly from ``entropy_coef`` to 0 at this many frames, and
    stays 0 after (0: a constant bonus): exploration while the agent learns, none once it plays."""
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
    num_local_steps: int = 10
    """Rollout length per update (agent steps)."""
    late_frames: int = 0
    """From this many frames of the run on (0: never), rollouts of ``late_num_local_steps``
    steps and no entropy bonus: once the agent plays, advantages over whole rallies and no
    push to explore (what lifted sticky Pong's plateau; README, Pong)."""
    late_num_local_steps: int = 128
    """The rollout length from ``late_frames`` on."""
    max_frames: int = 20_000_000
    """Stop after this many emulator frames (an agent step of a pixel env is 4 frames)."""
    max_seconds: float | None = None
    """Also stop after this much wall time in this session (None: no limit)."""
    solved_return: float | None = None
    """Mean return of the last 100 training episodes that counts as solved, Atari: mean true
    score of the last 20 whole games (None: the env's own ``reward_threshold``; Mario is
    solved by a greedy clear instead)."""
    stop_when_solved: bool = False
    """Stop as soon as the run counts as solved (Mario: a greedy clear; others: the env's threshold)."""
    lstm_size: int = 512
    """LSTMCell units (0 = feed-forward)."""
    encoder: str = "conv4"
    """Pixel torso: conv4 (four 3x3 stride-2 convolutions, the Mario network) or nature (the
    DQN Nature paper's, the Atari preset's: about six times cheaper on a CPU)."""
    bf16: bool = False
    """Learners act and re-forward under bfloat16 autocast (the LSTM recurrence, the loss and
    the shared Adam stay float32): matrix units of recent CPUs run it about twice as fast."""
    eval_interval: float = 10.0
    """Seconds between the tester's greedy evaluations."""
    stuck_patience: int = 200
    """Mario: truncate an episode after this many agent steps without a new max x."""
    stuck_death: bool = False
    """Mario: a stuck episode ends as a death (terminal, the death's -5) instead of a bootstrapped truncation."""
    explore_starts: float = 0.0
    """Mario: the fraction of training episodes that begin from an archived emulator state
    where earlier episodes got to, rarely reached places first (``wrappers/explore.py``); 0: off."""
    sticky_actions: float | None = None
    """Atari: the chance that the emulator repeats the previous action at each frame
    (ALE's ``repeat_action_probability``); None: the game id's own (v5: 0.25; 0 is the
    deterministic game the published A3C results were measured on)."""
    checkpoint_interval: float = 120.0
    """Seconds between periodic checkpoints of the whole run."""
    max_restarts: int = 3
    """How many times a dead worker or tester is restarted before the run stops."""
    save_dir: str = "runs"
    """Where run directories (checkpoints, videos, summary.json) are created."""
    log_dir: str | None = None
    """Where TensorBoard events go (<log-dir>/<run-name>/tb); None: inside the run directory."""
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
    given: tuple[str, ...] = dataclasses.field(default=(), compare=False)
    """The preset fields a command line set by a flag: what ``--resume`` applies (how long,
    how often) or refuses to change (how the run learns); a resumed run's keeps those of
    every earlier session too."""
    retuned: tuple[str, ...] = dataclasses.field(default=(), compare=False)
    """What each ``--resume`` changed of how the run makes its updates, and from which
    frame on ("at 24,000,000 frames: --num-local-steps 128 --entropy-coef 0.0")."""

    @property
    def frame_skip(self) -> int:
        return FRAME_SKIP if is_mario(self.env_id) or self.env_id.startswith("ALE/") else 1

    @property
    def anneal_frames(self) -> int | None:
        """Where --lr-anneal brings the learning rate to 0 (None: a constant rate)."""
        return self.max_frames if self.lr_anneal else None

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

    def model_kwargs(self) -> dict:
        """Keyword arguments for ``models.build_model`` that this config fixes."""
        return {"lstm_size": self.lstm_size, "encoder": self.encoder}

    def env_kwargs(self) -> dict:
        """Keyword arguments for ``wrappers.make_env`` that this config fixes."""
        if is_mario(self.env_id):
            return {
                "action_type": self.action_type,
                "stuck_patience": self.stuck_patience,
                "stuck_death": self.stuck_death,
                "explore_starts": self.explore_starts,
            }
        if self.env_id.startswith("ALE/") and self.sticky_actions is not None:
            return {"sticky_actions": self.sticky_actions}
        return {}


# Per-environment defaults: anything not listed uses the Config defaults above. A row
# "<env> a2c" overrides a vector env's row when --algo a2c (one learner, a bigger batch);
# an Atari game's own row (ALE/Pong-v5) goes over the "atari" one.
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
    # Atari, measured on Pong (README): the DQN Nature torso without the LSTMCell over the
    # 4-frame stack (3 x conv4's frames/s), 8 envs per worker in lock-step (one batched
    # forward), bfloat16 acting and re-forward, A2C-sized 10-step rollouts with a clip of
    # 0.5; 100 M frames are about 3 hours here; a whole game (what the tester plays) lasts
    # minutes: evaluate once a minute
    "atari": dict(
        lstm_size=0,
        encoder="nature",
        num_envs=8,
        bf16=True,
        gamma=0.99,
        gae_lambda=0.95,
        lr=5e-4,
        num_local_steps=10,
        max_grad_norm=0.5,
        max_frames=100_000_000,
        eval_interval=60.0,
    ),
    # Pong: solved at +18 over the last 20 whole games; from 20 M frames (the agent plays,
    # about +10) 128-step rollouts without an entropy bonus lift the sticky game's +14
    # plateau: +18 at 99 and 112 minutes on two seeds, the preset alone never (README, Pong)
    "ALE/Pong-v5": dict(solved_return=18.0, late_frames=20_000_000),
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
        row = dict(PRESETS["atari"], **PRESETS.get(env_id, {}))
    else:
        row = dict(PRESETS.get(env_id, VECTOR), **PRESETS.get(f"{env_id} {algo}", {}))
    return dict({"num_envs": 8} if algo == "a2c" else {}, **row)


def solved_threshold(cfg: Config, env) -> float | None:
    """The mean return over 100 training episodes (Atari: the mean true score of the last
    ATARI_GAMES whole games) that solves this env (None for Mario: a greedy clear solves
    it). train.py and test.py both ask this."""
    if is_mario(cfg.env_id):
        return None
    if cfg.solved_return is not None:
        return cfg.solved_return
    return env.spec.reward_threshold if env.spec else None


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
        ("--late-num-local-steps", cfg.late_num_local_steps),
        ("--epochs", cfg.epochs),
        ("--clip-coef", cfg.clip_coef),
        ("--max-frames", cfg.max_frames),
        ("--lr", cfg.lr),
        ("--max-grad-norm", cfg.max_grad_norm),  # a clip at or below 0 would zero or reverse the gradient
        ("--reward-scale", cfg.reward_scale),
        ("--eval-interval", cfg.eval_interval),
        ("--stuck-patience", cfg.stuck_patience),
        ("--checkpoint-interval", cfg.checkpoint_interval),
        ("--max-seconds", 1 if cfg.max_seconds is None else cfg.max_seconds),
    ]:
        if not value > 0:
            raise UserError(f"{flag} {value}: must be positive")
    for flag, value in [
        ("--max-staleness", cfg.max_staleness),
        ("--value-coef", cfg.value_coef),
        ("--entropy-coef", cfg.entropy_coef),
        ("--entropy-anneal-frames", cfg.entropy_anneal_frames),
        ("--late-frames", cfg.late_frames),
        ("--seed", cfg.seed),
        ("--max-restarts", cfg.max_restarts),
    ]:
        if not value >= 0:
            raise UserError(f"{flag} {value}: must be 0 or more")
    if cfg.ray_address is not None and cfg.backend != "ray":
        raise UserError("--ray-address joins a Ray cluster: add --backend ray")
    if not (0 < cfg.gamma <= 1 and 0 <= cfg.gae_lambda <= 1):
        raise UserError(f"--gamma {cfg.gamma} / --gae-lambda {cfg.gae_lambda}: must lie in (0, 1] / [0, 1]")
    if not 0 <= cfg.explore_starts < 1:
        raise UserError(f"--explore-starts {cfg.explore_starts}: must lie in [0, 1)")
    if cfg.explore_starts and not is_mario(cfg.env_id):
        raise UserError("--explore-starts restores emulator states: Mario stages only")
    if cfg.sticky_actions is not None and not 0 <= cfg.sticky_actions < 1:  # at 1 no action would ever act
        raise UserError(f"--sticky-actions {cfg.sticky_actions}: must lie in [0, 1)")
    if cfg.sticky_actions is not None and not cfg.env_id.startswith("ALE/"):
        raise UserError("--sticky-actions sets the Atari emulator's repeat_action_probability: ALE/ games only")
    # last, as the CUDA check: the names live beside the networks, and importing them loads
    # torch (a second or more), which the checks above need not wait for
    from models.actor_critic import ENCODERS

    if cfg.encoder not in ENCODERS:
        raise UserError(f"--encoder {cfg.encoder!r}: choose {' or '.join(ENCODERS)}")
    if cfg.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UserError("--device cuda: no CUDA device is visible on this machine")


def config_to_dict(cfg: Config) -> dict:
    return dataclasses.asdict(cfg)


def config_from_dict(data: dict) -> Config:
    """Rebuild a Config from a checkpoint's JSON, ignoring keys this version does not know."""
    known = {f.name for f in dataclasses.fields(Config)}
    values = {k: v for k, v in data.items() if k in known}
    values["given"] = tuple(values.get("given", ()))  # JSON keeps them as lists
    values["retuned"] = tuple(values.get("retuned", ()))
    return Config(**values)


__all__ = ["Config", "PRESETS", "UserError", "config_from_dict", "config_to_dict", "preset_for", "validate"]
