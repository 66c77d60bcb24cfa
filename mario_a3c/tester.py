"""The tester process: every ``eval_interval`` seconds it plays the global model greedily.

Each evaluation is logged; the best so far is saved as ``best.pt``, the first that reaches
the flag as ``clear.pt``; its video is kept when it beats the best or reaches the flag
(``videos/eval_<frames>.mp4``).
Between evaluations it sleeps, and it encodes video only for the episodes it keeps, so it
costs the workers little CPU.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from pathlib import Path

from mario_a3c.checkpoint import make_meta, save_checkpoint
from mario_a3c.config import Config
from mario_a3c.messages import ChildError, Evaluation
from mario_a3c.play import play_episode
from mario_a3c.shared import SharedRun, child_setup
from mario_a3c.video import Mp4Writer, video_fps
from models import build_model, copy_weights
from wrappers import make_env


def test_worker(cfg: Config, sig: dict, shared: SharedRun, run_dir: str) -> None:
    """Process entry point; reports any exception to the trainer before dying with it."""
    try:
        _evaluate_forever(cfg, sig, shared, Path(run_dir))
    except Exception as err:
        shared.queue.put(ChildError("tester", f"{type(err).__name__}: {err}", traceback.format_exc()))
        raise


def _evaluate_forever(cfg: Config, sig: dict, shared: SharedRun, run_dir: Path) -> None:
    child_setup(cfg.seed + 10_000, "a3c-tester", shared.trainer_pid)
    env = make_env(cfg.env_id, render_mode="rgb_array", training=False, **cfg.env_kwargs())
    model = build_model(sig, **cfg.model_kwargs()).to(cfg.device).eval()
    videos = run_dir / "videos"
    videos.mkdir(exist_ok=True)
    fps = video_fps(env, cfg.frame_skip)
    while not shared.stop.wait(cfg.eval_interval):
        copy_weights(model, shared.model)
        frames = shared.frames.value
        started = time.time()
        play = dict(greedy=True, seed=cfg.seed, device=cfg.device, should_stop=shared.stop.is_set)
        ep = play_episode(env, model, **play)
        if ep["aborted"]:
            break
        improved = ep["r"] > shared.best_eval.value
        video = None
        if improved or ep["flag"] > 0:
            # Greedy play of fixed weights on the deterministic emulator repeats exactly, so
            # the video is recorded by a replay: the common case (no video) never encodes.
            writer = Mp4Writer(videos / f"eval_{frames:010d}.mp4", fps=fps)
            replay = play_episode(env, model, writer=writer, **play)
            video = writer.close(keep=not replay["aborted"])
        first_clear = ep["flag"] > 0 and not (run_dir / "clear.pt").exists()
        if improved or first_clear:
            state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            meta = make_meta(dataclasses.asdict(cfg), sig, frames=frames, eval=ep, best_eval_return=ep["r"])
        if improved:
            shared.best_eval.value = ep["r"]
            save_checkpoint(run_dir / "best.pt", state, meta)
        if first_clear:  # the weights of the first greedy clear: what a campaign ships
            save_checkpoint(run_dir / "clear.pt", state, meta)
        shared.queue.put(Evaluation(frames, ep, str(video) if video else None, time.time() - started))
    env.close()
