"""test.py's engine: load a checkpoint, play N episodes, write the video, report."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from mario_a3c.checkpoint import load_checkpoint
from mario_a3c.cli import add_env_flags, env_id_from_args
from mario_a3c.config import Config, config_from_dict, solved_threshold
from mario_a3c.errors import ArgumentParser, UserError
from mario_a3c.play import play_episode
from mario_a3c.rundir import ensure_writable_dir, find_checkpoint, write_json
from mario_a3c.video import Mp4Writer, count_frames, video_fps
from mario_a3c.viewer import Window
from models import build_model
from wrappers import is_mario, make_env, space_signature


def build_parser() -> argparse.ArgumentParser:
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
    return p


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(1)
    if args.episodes < 1:
        raise UserError(f"--episodes {args.episodes}: must be positive")
    env_id = env_id_from_args(args)
    slug = Config(env_id=env_id).slug
    if args.checkpoint:
        ckpt, source = Path(args.checkpoint), "--checkpoint"
    else:
        ckpt, source = find_checkpoint(args.save_dir, slug)
        if ckpt is None:
            how = f"--world {args.world} --stage {args.stage}" if args.env is None else f"--env {env_id}"
            raise UserError(
                f"no checkpoint for {slug} under {args.save_dir}/ or trained_models/; "
                f"train one with: python train.py {how}"
            )
    output = Path(args.output or f"output/{slug}.mp4")
    ensure_writable_dir(output.parent, f"--output {output}")
    if args.json:
        ensure_writable_dir(Path(args.json).parent, f"--json {args.json}")
    meta, weights, _ = load_checkpoint(ckpt)
    cfg = config_from_dict(meta["config"])
    viewer = Window(f"mario-a3c: {cfg.env_id}") if args.render else None  # no display: one line, exit 2
    if cfg.env_id != env_id:
        raise UserError(f"{ckpt} was trained on {cfg.env_id}, not {env_id}")
    if args.action_type and args.action_type != cfg.action_type:
        raise UserError(f"{ckpt} was trained with action type {cfg.action_type!r}, not {args.action_type!r}")
    print(f"loaded {ckpt} ({source}; trained {meta.get('frames', 0):,} frames)")
    try:
        return _play(args, cfg, meta, weights, output, viewer)
    finally:
        if viewer is not None:
            viewer.close()


def _play(args, cfg: Config, meta: dict, weights: dict, output: Path, viewer) -> int:
    env = make_env(cfg.env_id, render_mode="rgb_array", training=False, **cfg.env_kwargs())
    if space_signature(env) != meta["spaces"]:
        raise UserError(f"checkpoint spaces {meta['spaces']} do not match {cfg.env_id}'s {space_signature(env)}")
    model = build_model(meta["spaces"], cfg.lstm_size)
    model.load_state_dict(weights)
    model.to(args.device).eval()
    mario = is_mario(cfg.env_id)
    threshold = solved_threshold(cfg, env)
    results = []
    for i in range(args.episodes):
        writer = Mp4Writer(output, fps=video_fps(env, cfg.frame_skip)) if i == 0 else None
        wrapped = _Tee(writer, viewer) if (writer or viewer) else None
        ep = play_episode(env, model, greedy=not args.sample, seed=args.seed + i, writer=wrapped, device=args.device)
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
        "greedy": not args.sample,
        "clear_rate": float(np.mean([r["flag"] for r in results])),
        "mean_x_pos": float(np.mean([r["x_pos"] for r in results])),
        "max_x_pos": int(max(r["x_pos"] for r in results)),
        "mean_return": float(np.mean([r["r"] for r in results])),
        "solved_threshold": threshold,
        "video": str(output),
        "video_frames": count_frames(output),
        "results": results,
    }
    if args.episodes > 1:
        rate = summary["clear_rate"]
        if mario:
            parts = [f"clear rate {rate:.0%}", f"mean x_pos {summary['mean_x_pos']:.0f}"]
            parts.append(f"max x_pos {summary['max_x_pos']}")
        else:  # the share of episodes whose return reached the solved threshold ("clear_rate" in the JSON)
            parts = [] if threshold is None else [f"{rate:.0%} at or above {threshold:g}"]
        parts.append(f"mean return {summary['mean_return']:.1f}")
        print("summary: " + " | ".join(parts))
    print(f"video: {output} ({summary['video_frames']} frames)")
    if args.json:
        write_json(Path(args.json), summary)
    return 0


class _Tee:
    """Sends each rendered frame to the mp4 writer and, with --render, to a window."""

    def __init__(self, writer, viewer):
        self.writer, self.viewer = writer, viewer

    def append(self, frame: np.ndarray) -> None:
        if self.writer is not None:
            self.writer.append(frame)
        if self.viewer is not None:
            self.viewer(frame)
