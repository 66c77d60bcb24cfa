"""GAE against small examples computed by hand."""

import pytest
import torch

from mario_a3c.gae import compute_gae


def test_gae_matches_hand_computation():
    # One env, three steps, no episode end; gamma 0.5, lambda 0.5.
    rewards = torch.tensor([[1.0], [0.0], [2.0]])
    values = torch.tensor([[0.5], [1.0], [0.0]])
    last_value = torch.tensor([4.0])
    dones = torch.zeros(3, 1, dtype=torch.bool)
    adv, ret = compute_gae(rewards, values, last_value, dones, gamma=0.5, lam=0.5)
    # deltas: d2 = 2 + 0.5*4 - 0 = 4; d1 = 0 + 0.5*0 - 1 = -1; d0 = 1 + 0.5*1 - 0.5 = 1
    # A2 = 4; A1 = -1 + 0.25*4 = 0; A0 = 1 + 0.25*0 = 1
    assert adv[:, 0].tolist() == pytest.approx([1.0, 0.0, 4.0])
    assert ret[:, 0].tolist() == pytest.approx([1.5, 1.0, 4.0])


def test_episode_end_stops_bootstrapping():
    rewards = torch.tensor([[1.0], [1.0]])
    values = torch.tensor([[0.0], [0.0]])
    dones = torch.tensor([[True], [False]])
    adv, _ = compute_gae(rewards, values, torch.tensor([10.0]), dones, gamma=0.9, lam=1.0)
    # Step 0 ends its episode: its advantage is its reward alone. Step 1 bootstraps 0.9*10.
    assert adv[:, 0].tolist() == pytest.approx([1.0, 10.0])


def test_lambda_one_gives_discounted_n_step_returns():
    rewards = torch.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    values = torch.rand(3, 2)
    last = torch.tensor([2.0, -1.0])
    dones = torch.zeros(3, 2, dtype=torch.bool)
    _, ret = compute_gae(rewards, values, last, dones, gamma=0.9, lam=1.0)
    expected0 = 1 + 0.9 * 1 + 0.81 * 1 + 0.729 * 2.0
    expected1 = 0 + 0.9 * 1 + 0.81 * 2 + 0.729 * -1.0
    assert ret[0].tolist() == pytest.approx([expected0, expected1], rel=1e-5)
