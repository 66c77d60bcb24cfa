"""The shared Adam: one state stepped by several processes; one rollout's gradient per update."""

import pytest
import torch
import torch.multiprocessing as mp
from conftest import tensorboard_scalars

from mario_a3c.shared_adam import SharedAdam


def _step_many(params, optimizer, grad_value, n, slot=0):
    for _ in range(n):
        optimizer.step([torch.full_like(p, grad_value) for p in params], slot)


def test_matches_torch_adam_and_applies_each_gradient_once():
    torch.manual_seed(0)
    ref = torch.nn.Linear(3, 2)
    mine = torch.nn.Linear(3, 2)
    mine.load_state_dict(ref.state_dict())
    torch_adam = torch.optim.Adam(ref.parameters(), lr=0.01)
    shared_adam = SharedAdam(mine.parameters(), lr=0.01)
    for i in range(5):
        grads = [torch.randn_like(p) for p in ref.parameters()]
        for p, g in zip(ref.parameters(), grads, strict=True):
            p.grad = g.clone()
        torch_adam.step()
        torch_adam.zero_grad()  # torch >= 2: grads become None
        shared_adam.step(grads)
        for a, b in zip(ref.parameters(), mine.parameters(), strict=True):
            assert torch.allclose(a, b, atol=1e-6), f"diverged at update {i}"
    assert int(shared_adam.steps) == 5


def test_two_processes_advance_one_shared_state():
    model = torch.nn.Linear(4, 4)
    model.share_memory()
    optimizer = SharedAdam(model.parameters(), lr=0.001, slots=2).share_memory()
    before = [p.detach().clone() for p in model.parameters()]
    ctx = mp.get_context("spawn")
    params = list(model.parameters())
    procs = [ctx.Process(target=_step_many, args=(params, optimizer, 1.0, 2000, rank)) for rank in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert optimizer.steps == 4000  # both processes' steps counted, none lost to a race
    # The first moment saw 4000 updates of gradient 1: m = 1 - 0.9**4000 = 1 (up to Hogwild races).
    assert abs(float(optimizer.exp_avg[0].mean()) - 1.0) < 0.05
    # The parent's view of the weights moved: the children wrote into shared memory.
    for b, p in zip(before, model.parameters(), strict=True):
        assert torch.all(p < b)


def test_a_gradient_in_another_layout_updates_the_same_elements():
    """The fused kernel ignores strides: a channels-last conv weight given an NCHW gradient
    (as one unpickled from numpy may be) must still get exactly its own update."""
    from models import build_model

    torch.manual_seed(0)
    sig = {"obs_shape": [4, 84, 84], "n_actions": 5, "action_kind": "discrete"}
    model = build_model(sig)
    obs = torch.randint(0, 255, (3, 4, 84, 84), dtype=torch.uint8)
    params, value, _ = model(obs, model.initial_state(3))
    (params.sum() + value.sum()).backward()
    conv = model.encoder.net[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    grads = [
        p.grad.clone(memory_format=torch.channels_last if p.dim() == 4 else torch.contiguous_format)
        for p in model.parameters()
    ]
    updated = []
    for layout in (torch.channels_last, torch.contiguous_format):  # the parameter's own, then NCHW
        copy = build_model(sig)
        copy.load_state_dict(model.state_dict())
        optimizer = SharedAdam(copy.parameters(), lr=0.1)
        optimizer.step([g.contiguous(memory_format=layout) if g.dim() == 4 else g for g in grads])
        updated.append(copy.encoder.net[0].weight.detach().clone())
    assert torch.equal(updated[0], updated[1])
    # and that update is Adam's first step, -lr * g / (|g| + eps): -lr * sign(g) where |g| >> eps
    g = conv.grad
    big = g.abs() > 1e-4
    assert big.float().mean() > 0.9
    assert torch.allclose((updated[0] - conv.detach())[big], -0.1 * torch.sign(g)[big], atol=1e-4)


def test_lr_anneal_scales_each_step_by_the_frames_left():
    """Adam's first step moves each weight by lr (the gradient's sign): annealed, by lr times
    the fraction of the frame budget left, and not at all once it is spent."""
    moved = []
    for frames in (0, 250, 750, 1000, 1500):
        model = torch.nn.Linear(3, 2)
        before = [p.detach().clone() for p in model.parameters()]
        optimizer = SharedAdam(model.parameters(), lr=0.01, anneal_frames=1000)
        optimizer.step([torch.ones_like(p) for p in model.parameters()], frames=frames)
        moved.append(max(float((b - p).abs().max()) for b, p in zip(before, model.parameters(), strict=True)))
    assert moved[0] == pytest.approx(0.01, rel=1e-4)
    assert moved[1] == pytest.approx(0.0075, rel=1e-4) and moved[2] == pytest.approx(0.0025, rel=1e-4)
    assert moved[3] == moved[4] == 0.0
    assert SharedAdam([], lr=0.01).lr_at(10**9) == 0.01  # without anneal_frames the rate is constant


def test_the_annealed_rate_is_logged_to_tensorboard(tmp_path):
    import time

    from mario_a3c.messages import Update
    from mario_a3c.monitor import Monitor

    monitor = Monitor(tmp_path, tmp_path / "tb", "CartPole-v1", 0, 0.0, None, lr=(0.01, 4000))
    losses = dict(policy_loss=0.0, value_loss=0.0, entropy=0.0, entropy_coef=0.0, clip_fraction=0.0, rollout_steps=10)
    monitor.update(Update(rank=0, frames=1000, losses=losses, grad_norm=0.0, skipped=False, episodes=[]))
    monitor._fps_mark = (time.time() - 6.0, 0)  # frames/s and the rate are written every 5 s
    monitor.flush()
    monitor.close()
    logged = tensorboard_scalars(tmp_path / "tb", "charts/learning_rate")
    assert logged == [(1000, pytest.approx(0.0075))]
