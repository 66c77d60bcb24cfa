"""The LSTMCell recurrence over a whole rollout, with a hand-written backward pass.

Autograd through a Python loop of ``LSTMCell`` steps computes the recurrent weight's
gradient once per time step (an outer product the size of ``W_hh``, 4 MB for 512 units)
and adds it into an accumulator: at batch 1 that traffic, not arithmetic, dominated the
learner. Here the backward pass walks the steps once for the hidden-state gradient and
then forms ``dW_hh = dZ^T H_prev`` as a single matrix product over all T*B steps.

Numerically it is the same cell as ``nn.LSTMCell`` (gate order i, f, g, o); the tests
compare it with the cell and with ``torch.autograd.gradcheck``.
"""

from __future__ import annotations

import torch


class LSTMSequence(torch.autograd.Function):
    """h_1..h_T from input projections, the recurrent weight and the initial state.

    Inputs: ``proj`` (T, B, 4H) = W_ih x_t + b_ih + b_hh for every step; ``w_hh`` (4H, H);
    ``h0``, ``c0`` (B, H); ``keep`` (T, B, 1) float, 0 where an episode starts at step t
    (the state entering that step is zeroed). Output: hidden states (T, B, H).
    """

    @staticmethod
    def forward(ctx, proj, w_hh, h0, c0, keep):
        with torch.autocast(proj.device.type, enabled=False):
            return LSTMSequence._forward(ctx, proj, w_hh, h0, c0, keep)

    @staticmethod
    def _forward(ctx, proj, w_hh, h0, c0, keep):
        T, B, G = proj.shape
        H = G // 4
        gates = proj.new_empty(T, B, G)  # activated i, f, g, o
        h_in = proj.new_empty(T, B, H)  # state entering each step (after the reset mask)
        c_in = proj.new_empty(T, B, H)
        cells = proj.new_empty(T, B, H)
        hs = proj.new_empty(T, B, H)
        w_t = w_hh.t()
        h, c = h0, c0
        for t in range(T):
            torch.mul(h, keep[t], out=h_in[t])
            torch.mul(c, keep[t], out=c_in[t])
            z = torch.addmm(proj[t], h_in[t], w_t)
            g = gates[t]
            torch.sigmoid(z[:, : 2 * H], out=g[:, : 2 * H])
            torch.tanh(z[:, 2 * H : 3 * H], out=g[:, 2 * H : 3 * H])
            torch.sigmoid(z[:, 3 * H :], out=g[:, 3 * H :])
            i, f, gg, o = g.chunk(4, dim=1)
            c = torch.addcmul(f * c_in[t], i, gg, out=cells[t])
            h = torch.mul(o, torch.tanh(c), out=hs[t])
        ctx.save_for_backward(w_hh, keep, gates, h_in, c_in, cells)
        return hs

    @staticmethod
    def backward(ctx, d_hs):
        with torch.autocast(d_hs.device.type, enabled=False):
            return LSTMSequence._backward(ctx, d_hs.to(ctx.saved_tensors[0].dtype))

    @staticmethod
    def _backward(ctx, d_hs):
        w_hh, keep, gates, h_in, c_in, cells = ctx.saved_tensors
        T, B, G = gates.shape
        H = G // 4
        d_z = gates.new_empty(T, B, G)
        dh = gates.new_zeros(B, H)
        dc = gates.new_zeros(B, H)
        for t in reversed(range(T)):
            dh = dh + d_hs[t]
            i, f, g, o = gates[t].chunk(4, dim=1)
            tc = torch.tanh(cells[t])
            dc = dc + dh * o * (1 - tc * tc)
            dzi, dzf, dzg, dzo = d_z[t].chunk(4, dim=1)
            torch.mul(dc * g, i * (1 - i), out=dzi)
            torch.mul(dc * c_in[t], f * (1 - f), out=dzf)
            torch.mul(dc * i, 1 - g * g, out=dzg)
            torch.mul(dh * tc, o * (1 - o), out=dzo)
            dh = torch.mm(d_z[t], w_hh) * keep[t]
            dc = dc * f * keep[t]
        d_w = torch.mm(d_z.view(T * B, G).t(), h_in.view(T * B, H))
        return d_z, d_w, dh, dc, None


def lstm_sequence(proj, w_hh, h0, c0, keep):
    """Hidden states (T, B, H) of the LSTM recurrence; see :class:`LSTMSequence`.

    Under autocast (``--bf16``) the input projection arrives in bfloat16; the recurrence
    runs in the weights' dtype (float32) all the same (its state is carried over T steps,
    and its products need one dtype), and so do the gradients it hands back.
    """
    dtype = w_hh.dtype
    return LSTMSequence.apply(proj.to(dtype), w_hh, h0.to(dtype), c0.to(dtype), keep.to(dtype))
