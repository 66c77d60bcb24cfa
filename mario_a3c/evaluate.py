"""test.py's engine: load a checkpoint, play N episodes, write the video, report.

``evaluate`` is called by test.py (``cli.test_main``) and by the campaign, which plays each
stage's shipped model greedily once and sampled ten times.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mario_a3c.checkpoint import load_checkpoint
from mario_a3c.config import Config, config_from_dict, solved_threshold
from mario_a3c.errors import UserError
from mario_a3c.play import play_episode
from mario_a3c.video import Mp4Writer, Tee, count_frames, video_fps
from mario_a3c.viewer import Window
from models import build_model
from wrappers import is_mario, make_env, space_signature, sticky_actions_of


@dataclass(frozen=True)
class Play:
    """How to play a checkpoint (test.py's flags)."""

    output: Path  # the mp4 of the first episode
    episodes: int = 1
    sample: bool = False  # sample actions instead of the greedy ones
    seed: int = 0  # of the first episode
    render: bool = False  # also show a window
    device: str = "cpu"
    action_type: str | None = None  # must match the checkpoint's when given
    sticky_actions: float | None = None  # Atari: another repeat_action_probability than the run trained at


def load_for(ckpt: Path, env_id: str, action_type: str | None = None) -> tuple[dict, dict, Config]:
    """(meta, weights, the checkpoint's Config); UserError unless it was trained on ``env_id``."""
    meta, weights, _ = load_checkpoint(ckpt)
    cfg = config_from_dict(meta["config"])
    if cfg.env_id != env_id:
        raise UserError(f"{ckpt} was trained on {cfg.env_id}, not {env_id}")
    if action_type and action_type != cfg.action_type:
        raise UserError(f"{ckpt} was trained with action type {cfg.action_type!r}, not {action_type!r}")
    return meta, weights, cfg


def model_for(meta: dict, weights: dict, cfg: Config, device: str):
    """The checkpoint's network with its weights, in eval mode on ``device``."""
    model = build_model(meta["spaces"], **cfg.model_kwargs())
    model.load_state_dict(weights)
    return model.to(device).eval()


def evaluate(ckpt: Path, env_id: str, play: Play, source: str = "") -> dict:
    """Play ``ckpt`` on ``env_id`` as ``play`` says; print each episode; return the summary."""
    meta, weights, cfg = load_for(ckpt, env_id, play.action_type)
    viewer = Window(f"mario-a3c: {cfg.env_id}") if play.render else None  # no display: one line, exit 2
    print(f"loaded {ckpt} ({source or 'given'}; trained {meta.get('frames', 0):,} frames)")
    try:
        return _play(play, cfg, meta, weights, viewer)
    finally:
        if viewer is not None:
            viewer.close()


def _play(play: Play, cfg: Config, meta: dict, weights: dict, viewer) -> dict:
    if play.sticky_actions is not None:
        cfg = dataclasses.replace(cfg, sticky_actions=play.sticky_actions)
    env = make_env(cfg.env_id, render_mode="rgb_array", training=False, **cfg.env_kwargs())
    if space_signature(env) != meta["spaces"]:
        raise UserError(f"checkpoint spaces {meta['spaces']} do not match {cfg.env_id}'s {space_signature(env)}")
    model = model_for(meta, weights, cfg, play.device)
    mario = is_mario(cfg.env_id)
    threshold = solved_threshold(cfg, env)
    sticky = sticky_actions_of(env)  # what the Atari emulator runs at (None: not Atari)
    results = []
    for i in range(play.episodes):
        writer = Mp4Writer(play.output, fps=video_fps(env, cfg.frame_skip)) if i == 0 else None
        wrapped = Tee(writer, viewer) if (writer or viewer) else None
        ep = play_episode(env, model, greedy=not play.sample, seed=play.seed + i, writer=wrapped, device=play.device)
        if writer:
            writer.close(keep=True)
        if not mario:  # "cleared": the episode's return reaches the env's solved threshold
            ep["flag"] = float(threshold is not None and ep["r"] >= threshold)
        results.append(ep)
        if mario:
            what = f"{'CLEARED' if ep['flag'] else 'not cleared'} | max x_pos {int(ep['x_pos'])} | "
            what += f"return {ep['r']:.1f} (game reward {ep['raw_r']:.0f})"
        else:
            goal = "" if threshold is None else f" ({'at or above' if ep['flag'] else 'below'} {threshold:g})"
            what = f"return {ep['r']:.1f}{goal} | {int(ep['l']):,} steps"
        print(f"episode {i + 1}: {what} | {int(ep['frames']):,} frames")
    env.close()
    summary = {
        "env_id": cfg.env_id,
        "episodes": len(results),
        "greedy": not play.sample,
        "clear_rate": float(np.mean([r["flag"] for r in results])),
        "mean_x_pos": float(np.mean([r["x_pos"] for r in results])),
        "max_x_pos": int(max(r["x_pos"] for r in results)),
        "mean_return": float(np.mean([r["r"] for r in results])),
        "solved_threshold": threshold,
        "sticky_actions": sticky,
        "video": str(play.output),
        "video_frames": count_frames(play.output),
        "results": results,
    }
    if play.episodes > 1:
        rate = summary["clear_rate"]
        if mario:
            parts = [f"clear rate {rate:.0%}", f"mean x_pos {summary['mean_x_pos']:.0f}"]
            parts.append(f"max x_pos {summary['max_x_pos']}")
        else:  # the share of episodes whose return reached the solved threshold ("clear_rate" in the JSON)
            parts = [] if threshold is None else [f"{rate:.0%} at or above {threshold:g}"]
        parts.append(f"mean return {summary['mean_return']:.1f}")
        print("summary: " + " | ".join(parts))
    print(f"video: {play.output} ({summary['video_frames']} frames)")
    return summary
