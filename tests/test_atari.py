"""Atari through the same factory, workers, tester and test.py (real ALE, ROMs from ale-py)."""

import json

import numpy as np
import pytest
from conftest import run_cli
from gymnasium.utils.env_checker import check_env

from mario_a3c.video import count_frames
from models import build_model
from wrappers import make_env, space_signature, sticky_actions_of


def _play(env, steps: int, seed: int = 0, reset: bool = True):
    if reset:  # else: on from where the env is
        env.reset(seed=seed)
        env.action_space.seed(seed)
    out = []
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        out.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            break
    return out


@pytest.mark.parametrize("training", [True, False])
def test_atari_env_is_preprocessed_and_passes_the_checker(training):
    env = make_env("ALE/Pong-v5", training=training)
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    steps = _play(env, 50)
    assert all(s[4]["frames"] == 4 for s in steps)  # frame skip 4, counted as emulator frames
    assert not np.array_equal(steps[0][0], steps[-1][0])
    assert build_model(space_signature(env)).lstm is not None  # pixels -> conv + LSTMCell
    env.close()


def _frames(sticky: float, action: int, steps: int = 40) -> np.ndarray:
    env = make_env("ALE/Pong-v5", training=False, sticky_actions=sticky)
    assert sticky_actions_of(env) == sticky
    frames = [env.reset(seed=3)[0]] + [env.step(action)[0] for _ in range(steps)]
    env.close()
    return np.stack(frames)


def test_sticky_actions_reach_the_emulator():
    from mario_a3c.config import Config

    env = make_env("ALE/Pong-v5")
    assert sticky_actions_of(env) == 0.25  # v5's own
    env.close()
    assert sticky_actions_of(make_env("CartPole-v1")) is None
    assert not np.array_equal(_frames(0.0, 0), _frames(0.0, 2))  # at 0 the paddle answers UP at once
    assert np.array_equal(_frames(1.0, 0), _frames(1.0, 2))  # at 1 the reset's NOOP repeats for ever
    assert Config(env_id="ALE/Pong-v5", sticky_actions=0.0).env_kwargs() == {"sticky_actions": 0.0}
    assert Config(env_id="ALE/Pong-v5").env_kwargs() == {}


def test_training_episodes_end_at_a_lost_life_with_clipped_rewards_eval_plays_whole_games():
    train_env = make_env("ALE/Breakout-v5", training=True)
    lives_before = train_env.reset(seed=1)[1]["lives"]
    steps = _play(train_env, 5000, seed=1)
    obs, reward, terminated, truncated, info = steps[-1]
    assert terminated and info["lives"] == lives_before - 1  # one life, not the whole game
    assert np.isnan(info["episode"]["game"])  # the game goes on: no whole-game score yet
    assert {s[1] for s in steps} <= {-1.0, 0.0, 1.0}
    frame = train_env.unwrapped.ale.getEpisodeFrameNumber()
    again = train_env.reset()[0]  # after a lost life the game continues instead of restarting,
    assert train_env.unwrapped.ale.lives() == lives_before - 1
    assert train_env.unwrapped.ale.getEpisodeFrameNumber() == frame  # from where the life was lost:
    assert np.array_equal(again[-1], obs[-1])  # no emulator step in between

    # every life of the game, episode after episode: the whole game's score comes with the
    # step that ends it (none is lost to a reset), and it is the sum of all its lives' scores
    raw, games = sum(s[4]["raw_reward"] for s in steps), []
    while not games:
        for step in _play(train_env, 5000, reset=False):
            raw += step[4]["raw_reward"]
            if "episode" in step[4] and not np.isnan(step[4]["episode"]["game"]):
                games.append(step[4]["episode"]["game"])
        train_env.reset()
    assert games == [raw] and train_env.unwrapped.ale.lives() == lives_before  # a new game

    eval_env = make_env("ALE/Breakout-v5", training=False)
    steps = _play(eval_env, 20000, seed=1)
    info = steps[-1][4]
    assert steps[-1][2] and info["lives"] == 0  # a whole game
    assert info["episode"]["game"] == info["episode"]["r"] == sum(s[1] for s in steps)
    eval_env.close()
    train_env.close()


@pytest.mark.slow
def test_pong_trains_with_the_same_workers_tester_and_test_py(tmp_path):
    proc = run_cli(
        "train.py", "--env", "ALE/Pong-v5", "--num-processes", "2", "--max-frames", "6000",
        "--eval-interval", "1", "--sticky-actions", "0", "--save-dir", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = tmp_path / "ALE-Pong-v5"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["frames"] >= 6000 and summary["config"]["gamma"] == 0.99
    assert summary["config"]["lstm_size"] == 0 and summary["config"]["num_envs"] == 8  # the Atari preset
    assert summary["config"]["encoder"] == "nature"
    assert summary["config"]["sticky_actions"] == 0.0
    assert (run / "last.pt").is_file() and (run / "curve.png").is_file()
    assert list((run / "tb").glob("events.out.tfevents.*"))
    out, report = tmp_path / "pong.mp4", tmp_path / "pong.json"
    play = run_cli(
        "test.py", "--env", "ALE/Pong-v5", "--save-dir", str(tmp_path), "--output", str(out), "--json", str(report)
    )
    assert play.returncode == 0, play.stderr
    assert "return" in play.stdout and count_frames(out) > 100  # a whole game of Pong is long
    assert json.loads(report.read_text())["sticky_actions"] == 0.0  # played as the run trained
    again = run_cli("test.py", "--env", "ALE/Pong-v5", "--save-dir", str(tmp_path), "--output", str(out),
                    "--json", str(report), "--sticky-actions", "0.25")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert json.loads(report.read_text())["sticky_actions"] == 0.25  # read back from the emulator
    # --resume keeps the setting (no --env needed) and refuses to change it
    refused = run_cli("train.py", "--resume", str(run), "--sticky-actions", "0.25", "--save-dir", str(tmp_path))
    assert refused.returncode == 2 and "--sticky-actions" in refused.stderr and "Traceback" not in refused.stderr
    more = run_cli("train.py", "--resume", str(run), "--sticky-actions", "0", "--max-frames", "9000",
                   "--save-dir", str(tmp_path))  # fmt: skip
    assert more.returncode == 0, more.stderr[-2000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["frames"] >= 9000 and summary["config"]["sticky_actions"] == 0.0


def test_an_atari_game_ships_by_its_name_and_mario_by_its_stage():
    from mario_a3c.config import Config
    from mario_a3c.rundir import SHIPPED_DIR, shipped_model

    assert shipped_model(Config(env_id="ALE/Pong-v5").slug) == SHIPPED_DIR / "pong.pt"
    assert shipped_model(Config(env_id="ALE/Breakout-v5").slug) == SHIPPED_DIR / "breakout.pt"
    assert shipped_model(Config(env_id="SuperMarioBros-1-2-v0").slug) == SHIPPED_DIR / "mario_1_2.pt"


@pytest.mark.slow
def test_fresh_clone_plays_the_shipped_pong_model_to_a_won_game(tmp_path):
    out = tmp_path / "pong.mp4"
    proc = run_cli("test.py", "--env", "ALE/Pong-v5", "--save-dir", str(tmp_path / "no-runs"), "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "trained_models/pong.pt" in proc.stdout and "the model shipped with the repository" in proc.stdout
    score = float(proc.stdout.split("episode 1: return ")[1].split()[0])
    assert score >= 18, proc.stdout  # a whole greedy game, true score (seed 0)
    assert count_frames(out) > 1000


def test_atari_is_solved_by_the_mean_of_its_last_20_whole_games_and_resume_keeps_them(tmp_path):
    from mario_a3c.messages import Update
    from mario_a3c.monitor import ATARI_GAMES, Monitor

    def update(*games):  # a rollout of 1,000 frames in which these Pong games ended (lives cut none)
        eps = [dict(r=g, raw_r=g, l=900, x_pos=0, flag=False, game=g) for g in games]
        return Update(rank=0, frames=1000, losses={}, grad_norm=0.0, skipped=False, episodes=eps)

    monitor = Monitor(tmp_path, tmp_path / "tb", "ALE/Pong-v5", 0, 0.0, solved_threshold=18.0)
    monitor.update(update(*[21.0] * (ATARI_GAMES - 1)))
    monitor.update(update(float("nan")))  # a lost life inside a game (Breakout): no whole game yet
    assert ATARI_GAMES == 20 and monitor.solved_at is None  # 19 games: the window is not full
    monitor.update(update(12.0))  # 20 games, mean (19 * 21 + 12) / 20 = 20.55
    assert monitor.solved_at["frames"] == 3000 and monitor.summary({}, "end")["last_20_game_mean"] == 20.55

    state = monitor.state()
    monitor.close()
    resumed = Monitor(tmp_path, tmp_path / "tb", "ALE/Pong-v5", 3000, 10.0, solved_threshold=19.0, state=state)
    assert list(resumed.games) == [21.0] * 19 + [12.0]
    resumed.solved_at = None
    resumed.update(update(-21.0))  # the oldest game drops out: (18 * 21 + 12 - 21) / 20 = 18.45 < 19
    assert resumed.solved_at is None and resumed.game_mean == 18.45
    resumed.close()
