"""The conv + LSTMCell actor-critic: shapes, initial policy, sequence == step-by-step."""

import pytest
import torch

from models import Policy, build_model

MARIO_SIG = {"obs_shape": [4, 84, 84], "obs_dtype": "uint8", "action_kind": "discrete", "n_actions": 5}


def test_shapes_and_near_uniform_initial_policy():
    model = build_model(MARIO_SIG)
    obs = torch.randint(0, 255, (3, 4, 84, 84), dtype=torch.uint8)
    params, value, state = model(obs, model.initial_state(3))
    assert params.shape == (3, 5) and value.shape == (3,) and state[0].shape == (3, 512)
    probs = params.softmax(-1)
    assert torch.allclose(probs, torch.full_like(probs, 0.2), atol=0.02)
    assert model.encoder.out_dim == 32 * 6 * 6


def test_discrete_policy_matches_categorical_and_samples_its_probabilities():
    torch.manual_seed(0)
    logits = torch.tensor([[2.0, 0.5, -1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0, 9.0]])
    policy, ref = Policy(logits), torch.distributions.Categorical(logits=logits)
    actions = torch.tensor([0, 4])
    assert torch.allclose(policy.log_prob(actions), ref.log_prob(actions), atol=1e-6)
    assert torch.allclose(policy.entropy(), ref.entropy(), atol=1e-6)
    assert policy.greedy().tolist() == [0, 4]
    # Gumbel-max sampling: 20,000 draws per row land on each action with its probability.
    draws = Policy(logits.repeat_interleave(20_000, 0)).sample().view(2, 20_000)
    freq = torch.stack([torch.bincount(row, minlength=5) for row in draws]).float() / 20_000
    assert (freq - ref.probs).abs().max() < 0.01


def test_gumbel_noise_is_finite_at_both_ends_of_rand():
    from models.distributions import gumbel_noise

    u = torch.tensor([0.0, 0.5, 1.0 - 2**-24])  # rand's smallest and largest draws
    assert torch.isfinite(gumbel_noise(u)).all()


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


@pytest.mark.parametrize("encoder", ["conv4", "nature"])
def test_feed_forward_pixel_model_has_a_hidden_layer_and_the_same_values_batched(encoder):
    from models.actor_critic import ENCODERS

    torch.manual_seed(0)
    model = build_model(MARIO_SIG, lstm_size=0, encoder=encoder)
    assert isinstance(model.encoder, ENCODERS[encoder][0]) and model.torso[0].out_features == ENCODERS[encoder][1]
    assert model.lstm is None and model.initial_state(3) == ()
    obs = torch.randint(0, 255, (4, 3, 4, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        step = torch.stack([model(obs[t], ())[1] for t in range(4)])
        _, seq = model.forward_sequence(obs, (), torch.zeros(4, 3, dtype=torch.bool))
    assert torch.allclose(step, seq, atol=1e-5)


def _reference_lstm(cell: torch.nn.LSTMCell, x, h, c, starts):
    """nn.LSTMCell stepped by hand with the same reset rule: the definition being matched."""
    outs = []
    for t in range(x.shape[0]):
        keep = (~starts[t]).to(x.dtype).unsqueeze(-1)
        h, c = cell(x[t], (h * keep, c * keep))
        outs.append(h)
    return torch.stack(outs)


def test_lstm_sequence_matches_lstm_cell_values_and_gradients():
    from models.lstm_sequence import lstm_sequence

    torch.manual_seed(1)
    T, B, F, H = 7, 3, 5, 4
    cell = torch.nn.LSTMCell(F, H).double()
    x = torch.randn(T, B, F, dtype=torch.double, requires_grad=True)
    h0, c0 = torch.randn(B, H, dtype=torch.double), torch.randn(B, H, dtype=torch.double)
    starts = torch.zeros(T, B, dtype=torch.bool)
    starts[2, 0] = starts[5, 2] = True
    keep = (~starts).double().unsqueeze(-1)

    def fused(x, w_ih, w_hh, b, h0, c0):
        proj = (x.reshape(T * B, F) @ w_ih.t() + b).view(T, B, 4 * H)
        return lstm_sequence(proj, w_hh, h0, c0, keep)

    b = (cell.bias_ih + cell.bias_hh).detach()
    out = fused(x, cell.weight_ih, cell.weight_hh, b, h0, c0)
    ref = _reference_lstm(cell, x, h0, c0, starts)
    assert torch.allclose(out, ref, atol=1e-12)

    weights = torch.randn(T, B, H, dtype=torch.double)
    grads = torch.autograd.grad((out * weights).sum(), [x, cell.weight_hh])
    ref_grads = torch.autograd.grad((ref * weights).sum(), [x, cell.weight_hh])
    for g, r in zip(grads, ref_grads, strict=True):
        assert torch.allclose(g, r, atol=1e-10)

    inputs = (
        x,
        cell.weight_ih.detach().clone().requires_grad_(),
        cell.weight_hh.detach().clone().requires_grad_(),
        b.clone().requires_grad_(),
        h0.clone().requires_grad_(),
        c0.clone().requires_grad_(),
    )
    assert torch.autograd.gradcheck(fused, inputs)


def test_bf16_autocast_runs_the_recurrence_in_float32_and_stays_close():
    """--bf16: a Mario-sized rollout's loss and gradients under bfloat16 autocast are finite,
    float32 where they meet the shared Adam, and near the float32 ones; logits, values and
    the LSTM state come out float32."""
    from models import build_model

    torch.manual_seed(0)
    model = build_model({"obs_shape": [4, 84, 84], "obs_dtype": "uint8", "action_kind": "discrete", "n_actions": 5})
    T, B = 5, 3
    obs = torch.randint(0, 256, (T, B, 4, 84, 84), dtype=torch.uint8)
    starts = torch.zeros(T, B, dtype=torch.bool)
    starts[2, 1] = True

    def grads(bf16: bool):
        model.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits, values = model.forward_sequence(obs, model.initial_state(B), starts)
            step_logits, step_value, state = model(obs[0], model.initial_state(B))
            # the heads and the carried state stay float32: sampling and advantages need them exact
            assert {t.dtype for t in (logits, values, step_logits, step_value, *state)} == {torch.float32}
            loss = logits.float().logsumexp(-1).mean() + values.float().pow(2).mean()
        loss.backward()
        return [p.grad.clone() for p in model.parameters()]

    exact, low = grads(False), grads(True)
    for e, g in zip(exact, low, strict=True):
        assert g.dtype == torch.float32 and torch.isfinite(g).all()
        assert torch.linalg.norm(g - e) <= 0.1 * torch.linalg.norm(e) + 1e-6
