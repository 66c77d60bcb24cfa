"""The one environment factory: train, test, the tester and the benchmarks all call it."""

from __future__ import annotations

import os
import re

import gymnasium as gym
import numpy as np

from wrappers.atari import ClipReward, EpisodicLife, FrameCount, GameScore
from wrappers.explore import FrontierStarts
from wrappers.frames import ChannelsFirst, GrayResize, MaxAndSkip, is_channels_last
from wrappers.mario import Joypad, MarioReward, StuckTruncation, WorldEnd
from wrappers.stats import EpisodeStats

MARIO_ID = re.compile(r"^SuperMarioBros-(\d)-(\d)-v[0-3]$")
MARIO_GAME_ID = re.compile(r"^SuperMarioBros-v[0-3]$")  # the whole game: 1-1 on, with the game's lives


class EnvError(ValueError):
    """An environment id or option the factory cannot build."""


def mario_id(world: int, stage: int) -> str:
    """The Gymnasium id of a Super Mario Bros stage, ``SuperMarioBros-W-S-v0``."""
    return f"SuperMarioBros-{world}-{stage}-v0"


def is_mario(env_id: str) -> bool:
    return MARIO_ID.match(env_id) is not None


def mario_actions(action_type: str) -> list[list[str]]:
    """gym-super-mario-bros' action list for ``right``, ``simple`` or ``complex``."""
    from gym_super_mario_bros.actions import COMPLEX_MOVEMENT, RIGHT_ONLY, SIMPLE_MOVEMENT

    table = {"right": RIGHT_ONLY, "simple": SIMPLE_MOVEMENT, "complex": COMPLEX_MOVEMENT}
    if action_type not in table:
        raise EnvError(f"unknown action type {action_type!r}; choose one of {', '.join(table)}")
    return table[action_type]


def make_env(
    env_id: str,
    *,
    action_type: str = "right",
    render_mode: str | None = None,
    stuck_patience: int = 200,
    stuck_death: bool = False,
    explore_starts: float = 0.0,
    sticky_actions: float | None = None,
    training: bool = True,
    last_stage: int = 4,
) -> gym.Env:
    """Build the environment for ``env_id`` with the project's preprocessing.

    Mario: joypad actions -> frame skip 4 (max of last two) -> shaped reward ->
    stuck guard -> grayscale 84x84 -> stack of 4 (channel-first, uint8) -> episode stats.
    With ``explore_starts`` (training only, single stages) a fraction of episodes begin
    where earlier ones got to (:class:`wrappers.explore.FrontierStarts`).
    ``SuperMarioBros-v0`` (the whole game from 1-1, the game's lives) gets the same stack,
    its episode cut where Mario enters a stage past 1-``last_stage`` (World 2, at most).
    Atari (``ALE/...``): Gymnasium's AtariPreprocessing (no-op starts, frame skip 4 with
    max-pooling, 84x84 grayscale) -> stack of 4; when ``training``, a lost life ends the
    episode and rewards are clipped to their sign, while evaluation (``training=False``,
    the tester and test.py) plays whole games with true scores. ``sticky_actions`` sets
    ALE's ``repeat_action_probability`` (None: the id's own, 0.25 for v5).
    Other ids: the Gymnasium env with episode statistics; images laid out height x width x
    channels are turned channels-first.
    ``render_mode="rgb_array"`` lets a caller grab full-colour frames with ``env.render()``.
    """
    if is_mario(env_id) or MARIO_GAME_ID.match(env_id):
        explore = explore_starts if training and is_mario(env_id) else 0.0
        return _make_mario(env_id, action_type, render_mode, stuck_patience, stuck_death, last_stage, explore)
    if env_id.startswith("ALE/"):
        return _make_atari(env_id, render_mode, training, sticky_actions)
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")  # pygame-rendered envs: never open a sound card
    try:
        env = gym.make(env_id, render_mode=render_mode)
    except gym.error.Error as err:
        raise EnvError(f"unknown environment {env_id!r}: {err}") from None
    if is_channels_last(env.observation_space):  # CarRacing's 96 x 96 x 3: the encoder reads 3 x 96 x 96
        env = ChannelsFirst(env)
    return EpisodeStats(env)


def _make_mario(
    env_id: str,
    action_type: str,
    render_mode: str | None,
    patience: int,
    stuck_death: bool,
    last_stage: int,
    explore: float,
) -> gym.Env:
    import gym_super_mario_bros  # noqa: F401  (registers the SuperMarioBros ids)

    if match := MARIO_ID.match(env_id):
        world, stage = map(int, match.groups())
        if not (1 <= world <= 8 and 1 <= stage <= 4):
            raise EnvError(f"no such Mario stage {world}-{stage}: world is 1-8, stage is 1-4")
    env = gym.make(env_id, render_mode=render_mode)
    if explore:
        env = FrontierStarts(env, prob=explore)
    env = Joypad(env, mario_actions(action_type))
    env = MaxAndSkip(env, skip=4)
    env = MarioReward(env)
    env = StuckTruncation(env, patience=patience, death_reward=env.death_reward if stuck_death else None)
    if MARIO_GAME_ID.match(env_id):
        env = WorldEnd(env, world=1, last_stage=last_stage)
    env = GrayResize(env, size=84)
    env = gym.wrappers.FrameStackObservation(env, stack_size=4)
    env = EpisodeStats(env)
    return env


def _register_ale() -> None:
    """Register the ALE/ ids with Gymnasium (ale_py loads only when an Atari id is asked for)."""
    import ale_py

    gym.register_envs(ale_py)


def _make_atari(env_id: str, render_mode: str | None, training: bool, sticky_actions: float | None) -> gym.Env:
    _register_ale()
    sticky = {} if sticky_actions is None else {"repeat_action_probability": sticky_actions}
    try:
        env = gym.make(env_id, frameskip=1, render_mode=render_mode, **sticky)
    except gym.error.Error as err:
        raise EnvError(f"unknown environment {env_id!r}: {err}") from None
    env = gym.wrappers.AtariPreprocessing(env, noop_max=30, frame_skip=4, screen_size=84, grayscale_obs=True)
    env = FrameCount(env)
    env = GameScore(env)
    if training:
        env = EpisodicLife(env)
        env = ClipReward(env)
    env = gym.wrappers.FrameStackObservation(env, stack_size=4)
    return EpisodeStats(env, games=True)


def default_sticky_actions(env_id: str) -> float:
    """The repeat_action_probability an ALE id runs at when not told (v5: 0.25, v4 ids: 0)."""
    _register_ale()
    try:
        spec = gym.spec(env_id)
    except gym.error.Error as err:
        raise EnvError(f"unknown environment {env_id!r}: {err}") from None
    return float(spec.kwargs.get("repeat_action_probability", 0.25))  # ALE's own default


def sticky_actions_of(env: gym.Env) -> float | None:
    """The repeat_action_probability an Atari env's emulator runs at (None for other envs)."""
    ale = getattr(env.unwrapped, "ale", None)
    return None if ale is None else round(float(ale.getFloat("repeat_action_probability")), 6)


def space_signature(env: gym.Env) -> dict:
    """Plain-JSON description of an env's spaces, stored in checkpoints to rebuild models;
    EnvError for spaces the models do not take (observations: a Box, a vector or
    channel-first images; actions: Discrete or Box)."""
    obs, act = env.observation_space, env.action_space
    if not isinstance(obs, gym.spaces.Box) or len(obs.shape) not in (1, 2, 3):
        raise EnvError(
            f"{env.spec.id if env.spec else 'this env'}: observation space {obs} is not supported "
            "(the models take a vector of numbers or images)"
        )
    sig = {"obs_shape": list(obs.shape), "obs_dtype": str(obs.dtype)}
    if isinstance(act, gym.spaces.Discrete):
        sig.update(action_kind="discrete", n_actions=int(act.n))
    elif isinstance(act, gym.spaces.Box):
        sig.update(
            action_kind="box",
            n_actions=int(np.prod(act.shape)),
            low=act.low.tolist(),
            high=act.high.tolist(),
        )
    else:
        raise EnvError(f"unsupported action space {act}")
    return sig
