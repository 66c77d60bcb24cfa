"""test.py --stage all: Mario through a whole world in one episode of the whole game.

The game itself runs (``SuperMarioBros-v0``: 1-1 on, the next stage after each flag, the
game's lives, a death replays the stage); the model playing is the one of the stage Mario
is in, switched (with a fresh recurrent state) when the stage changes. The episode ends at
game over, at the end of the world, or on entering a stage no model was given for.
"""

from __future__ import annotations

from pathlib import Path

from mario_a3c.config import FRAME_SKIP
from mario_a3c.errors import UserError
from mario_a3c.evaluate import Play, load_for, model_for
from mario_a3c.play import play_episode
from mario_a3c.video import Mp4Writer, Tee, count_frames, video_fps
from mario_a3c.viewer import Window
from wrappers import make_env, mario_id

GAME_ID = "SuperMarioBros-v0"  # the whole game, from 1-1


def check_world(world: int) -> None:
    if world != 1:
        raise UserError(f"--world {world} --stage all: the whole game starts at 1-1, so only World 1 plays whole")


def play_world(world: int, checkpoints: dict[int, tuple[Path, str]], play: Play) -> dict:
    """Play World ``world`` with ``checkpoints`` (stage -> (path, where it came from)) for
    stages 1..k; write one mp4; print and return per-stage results."""
    check_world(world)
    viewer = Window(f"mario-a3c: World {world}") if play.render else None  # no display: one line, nothing written
    models, action_types = {}, set()
    for stage, (ckpt, source) in sorted(checkpoints.items()):
        meta, weights, cfg = load_for(ckpt, mario_id(world, stage), play.action_type)
        models[stage] = model_for(meta, weights, cfg, play.device)
        action_types.add(cfg.action_type)
        print(f"stage {world}-{stage}: {ckpt} ({source}; trained {meta.get('frames', 0):,} frames)")
    if len(action_types) != 1:
        raise UserError(f"the stages' models use different action sets ({', '.join(sorted(action_types))})")
    last = max(models)
    env = make_env(
        GAME_ID, render_mode="rgb_array", action_type=action_types.pop(), stuck_patience=400, last_stage=last
    )
    stages = {s: {"cleared": False, "x_pos": 0, "frames": 0, "deaths": 0} for s in models}
    seen = {"stage": 1, "life": None}

    def follow(info: dict):
        """Per-stage bookkeeping after each step; the model of the stage Mario is now in."""
        stage = int(info["stage"])
        row = stages.get(stage) if int(info["world"]) == world else None
        if row is not None:
            row["frames"] += int(info["frames"])
            row["x_pos"] = max(row["x_pos"], int(info["x_pos"]))
            if seen["life"] is not None and int(info["life"]) < seen["life"] and stage == seen["stage"]:
                row["deaths"] += 1
            row["cleared"] |= bool(info["flag_get"])  # the flag, or the axe of a castle
        if (int(info["world"]), stage) != (world, seen["stage"]) and seen["stage"] in stages:
            stages[seen["stage"]]["cleared"] = True  # the game moved Mario on: he finished that stage
        seen.update(stage=stage, life=int(info["life"]))
        return models.get(stage)

    writer = Mp4Writer(play.output, fps=video_fps(env, FRAME_SKIP))
    tee = Tee(writer, viewer)
    try:
        ep = play_episode(env, models[1], greedy=not play.sample, seed=play.seed, writer=tee, device=play.device,
                          switch=follow)  # fmt: skip
    finally:
        writer.close(keep=True)
        if viewer is not None:
            viewer.close()
        env.close()
    for stage, row in stages.items():
        what = "CLEARED" if row["cleared"] else "not cleared"
        print(f"{world}-{stage}: {what} | max x_pos {row['x_pos']} | {row['frames']:,} frames | deaths {row['deaths']}")
    cleared = [s for s, r in stages.items() if r["cleared"]]
    if len(cleared) == len(stages):
        span = f"{world}-1" if last == 1 else f"{world}-1..{world}-{last}"
        end = f"Mario cleared World {world}" if last == 4 else f"Mario cleared {span}"
        end += "" if last == 4 else f"; no model for {world}-{last + 1} yet (shipped models stop there)"
    else:
        where = next(s for s in stages if not stages[s]["cleared"])
        why = "game over" if ep.get("terminated") else "stuck"
        end = f"Mario got through {len(cleared)} of {len(stages)} stages: {why} in {world}-{where}"
    print(end)
    summary = {"world": world, "stages": {f"{world}-{s}": r for s, r in stages.items()}, "result": end}
    summary.update(video=str(play.output), video_frames=count_frames(play.output), frames=int(ep["frames"]))
    print(f"video: {play.output} ({summary['video_frames']} frames)")
    return summary
