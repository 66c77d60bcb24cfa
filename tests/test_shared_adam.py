"""The shared Adam: one state stepped by several processes; one rollout's gradient per update."""

import torch
import torch.multiprocessing as mp

from mario_a3c.shared_adam import SharedAdam


def _step_many(params, optimizer, grad_value, n):
    for _ in range(n):
        optimizer.step([torch.full_like(p, grad_value) for p in params])


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
    optimizer = SharedAdam(model.parameters(), lr=0.001).share_memory()
    before = [p.detach().clone() for p in model.parameters()]
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_step_many, args=(list(model.parameters()), optimizer, 1.0, 10)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert int(optimizer.steps) == 20  # both processes' steps counted in one place
    # The first moment saw 20 updates of gradient 1: m = 1 - 0.9**20 (up to Hogwild races).
    assert abs(float(optimizer.exp_avg[0].mean()) - (1 - 0.9**20)) < 0.05
    # The parent's view of the weights moved: the children wrote into shared memory.
    for b, p in zip(before, model.parameters(), strict=True):
        assert torch.all(p < b)
