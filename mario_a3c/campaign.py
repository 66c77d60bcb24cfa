"""A campaign: Mario stages trained one after another, each from the previous stage's
clearing weights, restartable at any point.

    python train.py --stages 1-1 1-2 1-3 1-4 --gamma 0.99 --stage-limit 10800

For each stage in turn:

* a stage whose shipped model (``trained_models/mario_W_S.pt``) clears it greedily is
  skipped, and its weights start the next stage;
* otherwise the stage trains with ``--stop-when-solved`` from the previous stage's clearing
  checkpoint (``--from-stage``), or continues its own interrupted run (``--resume``), for
  what is left of ``--stage-limit`` seconds of training (summed over its runs);
* its clearing checkpoint is shipped (float16), played greedily once (the video, and its
  last seconds as a GIF) and sampled over 10 episodes (the clear rate).

``<save-dir>/campaign.json`` holds one row per stage (where it started from, frames and
seconds to the first greedy clear, the clearing episode's agent steps, the sampled clear
rate, the run directory's name beside the book); it is written before a stage trains and after it ends, so a
killed campaign continues where it was. Ctrl-C or SIGTERM stops the stage's run as any
run stops (checkpoint, summary) and the campaign with it: the same command continues.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path

from mario_a3c.checkpoint import load_checkpoint
from mario_a3c.config import Config
from mario_a3c.errors import UserError
from mario_a3c.evaluate import Play, evaluate
from mario_a3c.progress import first_greedy_clear
from mario_a3c.rundir import SIGNAL_STOPS, ensure_writable_dir, new_run_dir, shipped_model, write_json
from mario_a3c.ship import ship
from mario_a3c.trainer import train
from mario_a3c.video import clip_gif
from wrappers import mario_id


def parse_stages(specs: list[str]) -> list[tuple[int, int]]:
    """``["1-1", "1-2"]`` -> ``[(1, 1), (1, 2)]``; UserError naming a bad one."""
    stages = []
    for spec in specs:
        world, _, stage = spec.partition("-")
        if not (world.isdigit() and stage.isdigit() and 1 <= int(world) <= 8 and 1 <= int(stage) <= 4):
            raise UserError(f"--stages {spec}: say W-S with world 1-8 and stage 1-4 (1-1 1-2 ...)")
        stages.append((int(world), int(stage)))
    if len(set(stages)) != len(stages):
        raise UserError(f"--stages {' '.join(specs)}: a stage is named twice")
    return stages


def run_campaign(cfg: Config, stages: list[tuple[int, int]], stage_limit: float) -> int:
    if stage_limit <= 0:
        raise UserError(f"--stage-limit {stage_limit:g}: must be positive")
    ensure_writable_dir(Path(cfg.save_dir), f"--save-dir {cfg.save_dir}")  # a fresh clone has no runs/ yet
    book_path = Path(cfg.save_dir) / "campaign.json"
    book = _read_book(book_path)
    previous: str | None = cfg.from_stage
    for world, stage in stages:
        name = f"{world}-{stage}"
        shipped = shipped_model(f"mario_{world}_{stage}")
        row = book.get(name, {})
        video = Path(cfg.save_dir) / f"mario_{world}_{stage}_greedy.mp4"
        if shipped.is_file() and _play_checkpoint(shipped, world, stage, video=video)["clear_rate"] == 1.0:
            _gif(video)
            print(f"campaign {name}: the shipped {shipped.name} clears it; next stage starts from it", flush=True)
            previous = str(shipped)
            continue
        if row.get("shipped"):  # cleared by this campaign before: its weights start the next stage
            previous = row["shipped"]
        run_dir = _run_dir(book_path, row["run_dir"]) if row.get("run_dir") else None
        # a stage's run goes on unless it ended for good: solved, or its frame budget spent
        done = row.get("stopped_by") in ("solved", "frame budget")
        resume = run_dir is not None and (run_dir / "last.pt").is_file() and not done
        spent = float(load_checkpoint(run_dir / "last.pt")[0].get("wall_seconds", 0.0)) if resume else 0.0
        if done or spent >= stage_limit:
            why = row.get("stopped_by") if done else f"--stage-limit {stage_limit:g} s"
            print(f"campaign {name}: not cleared ({why}); going on", flush=True)
            continue
        if not resume:
            run_dir = new_run_dir(cfg.save_dir, f"mario_{world}_{stage}")
            row = {"stage": name, "from": previous or "scratch", "cleared": False}
            row["run_dir"] = run_dir.name  # beside the book: any working directory finds it
        book[name] = row
        write_json(book_path, book)
        stage_cfg = dataclasses.replace(
            cfg,
            env_id=mario_id(world, stage),
            stop_when_solved=True,
            max_seconds=stage_limit - spent,
            resume=str(run_dir) if resume else None,
            from_stage=None if resume else previous,
        )
        how = f"continuing {run_dir}" if resume else f"from {row['from']}"
        print(f"campaign {name}: training {how}, up to {stage_limit - spent:.0f} s", flush=True)
        code = train(stage_cfg, run_dir=None if resume else run_dir)
        summary = json.loads((run_dir / "summary.json").read_text())
        row.update(frames=summary["frames"], wall_seconds=summary["wall_seconds"], stopped_by=summary["stopped_by"])
        if summary["solved"]:
            row.update(_shipped_row(run_dir, world, stage, summary))
            previous = row["shipped"]
        book[name] = row
        write_json(book_path, book)
        if code or summary["stopped_by"] in SIGNAL_STOPS:
            print(f"campaign stopped at {name}; the same command continues it", flush=True)
            return code
    print(table(book, stages), flush=True)
    return 0


def _shipped_row(run_dir: Path, world: int, stage: int, summary: dict) -> dict:
    """Ship the clearing checkpoint, then play it: greedily once (video), sampled 10 times."""
    clear = run_dir / "clear.pt"  # the tester's weights of the first greedy clear
    out = ship(clear if clear.is_file() else run_dir / "best.pt")
    first = first_greedy_clear(run_dir) or {}
    greedy = _play_checkpoint(out, world, stage, video=run_dir / f"mario_{world}_{stage}_greedy.mp4")
    sampled = _play_checkpoint(out, world, stage, sample=True)
    gif = _gif(Path(greedy["video"]))
    return {
        "cleared": bool(greedy["clear_rate"] == 1.0),
        "clear_frames": summary["solved_at_frames"],
        "clear_seconds": summary["solved_at_seconds"],
        "clear_agent_steps": first.get("length"),
        "shipped": str(out),
        "shipped_greedy_x_pos": greedy["max_x_pos"],
        "sampled_clear_rate": sampled["clear_rate"],
        "video": greedy["video"],
        "gif": str(gif) if gif else None,
    }


def _gif(video: Path) -> Path | None:
    """The clear's last seconds beside its video; a picture, so a failure costs only it."""
    try:
        return clip_gif(video, video.with_suffix(".gif"))
    except Exception as err:  # noqa: BLE001 (imageio/Pillow/disk: the stage's result must still be written)
        print(f"campaign: no GIF of {video} ({type(err).__name__}: {err})", flush=True)
        return None


def _play_checkpoint(ckpt: Path, world: int, stage: int, sample: bool = False, video: Path | None = None) -> dict:
    """test.py's play of ``ckpt``: one greedy episode, or 10 sampled ones; its summary."""
    with tempfile.TemporaryDirectory() as tmp:
        play = Play(Path(video or Path(tmp) / "play.mp4"), episodes=10 if sample else 1, sample=sample)
        return evaluate(ckpt, mario_id(world, stage), play, "the campaign's check")


def _run_dir(book_path: Path, stored: str) -> Path:
    """A row's run directory: its name, beside the book (books written before that hold a
    path, as the first call's --save-dir gave it: relative to that call's working directory)."""
    return book_path.parent / stored if Path(stored).name == stored else Path(stored)


def _read_book(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise UserError(f"{path} is not readable JSON ({err}); move it aside to start the campaign afresh") from None


def table(book: dict, stages: list[tuple[int, int]]) -> str:
    lines = [
        "| stage | started from | cleared | frames to clear | minutes to clear | agent steps | sampled clear rate |",
        "|---|---|---|---|---|---|---|",
    ]
    for world, stage in stages:
        r = book.get(f"{world}-{stage}")
        if r is None:
            lines.append(f"| {world}-{stage} | shipped model | yes | | | | |")
            continue
        minutes = f"{r['clear_seconds'] / 60:.1f}" if r.get("clear_seconds") else ""
        frames = f"{r['clear_frames']:,}" if r.get("clear_frames") else ""
        rate = f"{r['sampled_clear_rate']:.0%}" if "sampled_clear_rate" in r else ""
        lines.append(
            f"| {world}-{stage} | {Path(r['from']).name} | {'yes' if r.get('cleared') else 'no'} | {frames}"
            f" | {minutes} | {r.get('clear_agent_steps') or ''} | {rate} |"
        )
    return "\n".join(lines)
