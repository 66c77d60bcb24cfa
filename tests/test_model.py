"""The conv + LSTMCell actor-critic: shapes, initial policy, sequence == step-by-step."""

import torch

from models import Policy, build_model

MARIO_SIG = {"obs_shape": [4, 84, 84], "obs_dtype": "uint8", "action_kind": "discrete", "n_actions": 5}


def test_shapes_and_near_uniform_initial_policy():
    model = build_model(MARIO_SIG)
    obs = torch.randint(0, 255, (3, 4, 84, 84), dtype=torch.uint8)
    params, value, state = model(obs, model.initial_state(3))
    assert params.shape == (3, 5) and value.shape == (3,) and state[0].shape == (3, 512)
    probs = Policy(params).dist.probs
    assert torch.allclose(probs, torch.full_like(probs, 0.2), atol=0.02)
    assert model.encoder.out_dim == 32 * 6 * 6


def test_forward_sequence_reproduces_stepwise_forward_with_resets():
    torch.manual_seed(0)
    model = build_model(MARIO_SIG)
    T, B = 6, 2
    obs = torch.randint(0, 255, (T, B, 4, 84, 84), dtype=torch.uint8)
    starts = torch.zeros(T, B, dtype=torch.bool)
    starts[3, 1] = True  # env 1 begins a new episode at step 3
    state0 = tuple(torch.randn(B, 512) for _ in range(2))
    state, step_values = state0, []
    with torch.no_grad():
        for t in range(T):
            keep = (~starts[t]).float().unsqueeze(-1)
            state = tuple(s * keep for s in state)
            _, v, state = model(obs[t], state)
            step_values.append(v)
        _, seq_values = model.forward_sequence(obs, state0, starts)
    assert torch.allclose(torch.stack(step_values), seq_values, atol=1e-5)
