"""Actor-critic networks: encoder -> core (LSTMCell, or for pixels without one a hidden
layer; identity for vectors) -> policy and value heads.

One API for every agent (the worker loop never asks which model it has):

* ``initial_state(batch)`` -> recurrent state (an empty tuple for feed-forward models)
* ``forward(obs, state)`` -> ``(dist_params, value, state)`` for one time step of a batch
* ``forward_sequence(obs, state, starts)`` -> the same over a (T, B) rollout, the LSTM
  state zeroed where ``starts`` marks a new episode; the convolution runs once over all
  T*B frames, which is what makes the learner's re-forward cheap on a CPU.

Initialisation: orthogonal weights everywhere (gain sqrt(2) for hidden layers), policy
head gain 0.01 (near-uniform initial policy), value head gain 1.0, all biases 0, LSTM
weights orthogonal with zero biases.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from models.lstm_sequence import lstm_sequence

State = tuple[torch.Tensor, ...]


def layer_init(layer: nn.Module, gain: float = math.sqrt(2)) -> nn.Module:
    """Orthogonal weights with ``gain``, zero biases."""
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class ConvEncoder(nn.Module):
    """Four 3x3 stride-2 convolutions of 32 channels with ELU; uint8 pixels / 255 inside."""

    def __init__(self, obs_shape: tuple[int, ...]):
        super().__init__()
        layers: list[nn.Module] = []
        channels = obs_shape[0]
        for _ in range(4):
            layers += [layer_init(nn.Conv2d(channels, 32, 3, stride=2, padding=1)), nn.ELU()]
            channels = 32
        self.net = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():
            self.out_dim = self.net(torch.zeros(1, *obs_shape)).shape[1]

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs.float() / 255.0)  # (N, 4, 84, 84) uint8 -> (N, 1152)


class NatureEncoder(nn.Module):
    """The DQN Nature paper's torso (the Atari standard of cleanrl, SB3 and the Atari A3C
    papers' successors): 32 8x8 stride-4, 64 4x4 stride-2 and 64 3x3 convolutions with ReLU.
    On a CPU core it is about six times cheaper to run and train than ``ConvEncoder`` at
    84x84 (big strides early leave little to convolve); uint8 pixels / 255 inside."""

    def __init__(self, obs_shape: tuple[int, ...]):
        super().__init__()
        self.net = nn.Sequential(
            layer_init(nn.Conv2d(obs_shape[0], 32, 8, stride=4)),
            nn.ReLU(),
            layer_init(nn.Conv2d(32, 64, 4, stride=2)),
            nn.ReLU(),
            layer_init(nn.Conv2d(64, 64, 3, stride=1)),
            nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            self.out_dim = self.net(torch.zeros(1, *obs_shape)).shape[1]

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs.float() / 255.0)  # (N, 4, 84, 84) uint8 -> (N, 3136)


# --encoder: the pixel torso and the units of the hidden layer a feed-forward model (--lstm-size 0) puts on it
ENCODERS: dict[str, tuple[type[nn.Module], int]] = {"conv4": (ConvEncoder, 256), "nature": (NatureEncoder, 512)}


class MLPEncoder(nn.Module):
    """Two tanh layers of ``hidden`` units over a flat vector observation."""

    def __init__(self, obs_shape: tuple[int, ...], hidden: int = 64):
        super().__init__()
        size = math.prod(obs_shape)
        self.net = nn.Sequential(
            nn.Flatten(),
            layer_init(nn.Linear(size, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, hidden)),
            nn.Tanh(),
        )
        self.out_dim = hidden

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs.float())


class ActorCritic(nn.Module):
    """Encoder, optional LSTMCell core, policy head (logits or Gaussian mean), value head."""

    def __init__(
        self,
        obs_shape: tuple[int, ...],
        n_actions: int,
        *,
        continuous: bool = False,
        pixels: bool = True,
        lstm_size: int = 512,
        hidden: int = 64,
        encoder: str = "conv4",
    ):
        super().__init__()
        conv, ff_hidden = ENCODERS[encoder]
        self.encoder = conv(obs_shape) if pixels else MLPEncoder(obs_shape, hidden)
        feat = self.encoder.out_dim
        self.lstm: nn.LSTMCell | None = None
        self.torso: nn.Module | None = None
        if lstm_size > 0:
            self.lstm = nn.LSTMCell(feat, lstm_size)
            for name, p in self.lstm.named_parameters():
                nn.init.orthogonal_(p) if "weight" in name else nn.init.zeros_(p)
            feat = lstm_size
        elif pixels:  # feed-forward over the frame stack: one hidden layer, as the published Atari A3C
            self.torso = nn.Sequential(layer_init(nn.Linear(feat, ff_hidden)), nn.ReLU())
            feat = ff_hidden
        self.policy = layer_init(nn.Linear(feat, n_actions), gain=0.01)
        # Vector states: the critic gets an MLP of its own (as SB3's MlpPolicy), so value
        # targets of a few hundred cannot swamp the policy's features. Pixels share the trunk.
        self.critic: MLPEncoder | None = None
        if not pixels and lstm_size == 0:
            self.critic = MLPEncoder(obs_shape, hidden)
        self.value = layer_init(nn.Linear(self.critic.out_dim if self.critic else feat, 1), gain=1.0)
        self.log_std = nn.Parameter(torch.zeros(n_actions)) if continuous else None
        if pixels:  # NHWC convolution weights: about 20% faster on a CPU (oneDNN's native layout)
            self.encoder.to(memory_format=torch.channels_last)

    def initial_state(self, batch: int) -> State:
        if self.lstm is None:
            return ()
        zeros = torch.zeros(batch, self.lstm.hidden_size)
        return (zeros, zeros.clone())

    def _heads(self, h: torch.Tensor, obs: torch.Tensor):
        # float32 even under autocast (--bf16): sampling needs exact logits (bfloat16's ties
        # and coarse Gumbel noise skew the actions taken) and advantages exact values; the
        # heads are a few thousand weights
        with torch.autocast(h.device.type, enabled=False):
            h = h.float()
            logits = self.policy(h)
            params = (logits, self.log_std) if self.log_std is not None else logits
            v = self.critic(obs) if self.critic is not None else h
            return params, self.value(v).squeeze(-1)

    def forward(self, obs: torch.Tensor, state: State):
        """One step: obs (B, ...) -> (dist_params, value (B,), state)."""
        h = self.encoder(obs)
        if self.lstm is not None:
            state = tuple(s.float() for s in self.lstm(h, state))  # carried in float32 (--bf16)
            h = state[0]
        elif self.torso is not None:
            h = self.torso(h)
        params, value = self._heads(h, obs)
        return params, value, state

    def forward_sequence(self, obs: torch.Tensor, state: State, starts: torch.Tensor):
        """A rollout: obs (T, B, ...), starts (T, B) bool -> params (T, B, A), values (T, B)."""
        T, B = starts.shape
        flat = obs.reshape(T * B, *obs.shape[2:])
        h = self.encoder(flat)  # (T*B, F), one batched conv
        if self.lstm is not None:
            h = self._lstm_sequence(h.view(T, B, -1), state, starts)
        elif self.torso is not None:
            h = self.torso(h)
        params, value = self._heads(h, flat)
        if isinstance(params, tuple):
            return (params[0].view(T, B, -1), params[1]), value.view(T, B)
        return params.view(T, B, -1), value.view(T, B)

    def _lstm_sequence(self, x: torch.Tensor, state: State, starts: torch.Tensor) -> torch.Tensor:
        """LSTMCell over (T, B, F) inputs: (T*B, H) outputs, numerically the same cell.

        The input projection W_ih x + b runs as one matrix product over all T*B inputs
        (and so does its gradient); the recurrence runs in ``lstm_sequence``, whose
        hand-written backward forms the recurrent weight's gradient in one product.
        """
        T, B, _ = x.shape
        lstm = self.lstm
        proj = torch.addmm(lstm.bias_ih + lstm.bias_hh, x.reshape(T * B, -1), lstm.weight_ih.t()).view(T, B, -1)
        keep = (~starts).to(proj.dtype).unsqueeze(-1)  # (T, B, 1)
        h, c = state
        return lstm_sequence(proj, lstm.weight_hh, h, c, keep).view(T * B, -1)


def copy_weights(dst: nn.Module, src: nn.Module) -> None:
    """dst <- src, parameter by parameter, in place (no allocation)."""
    with torch.no_grad():
        for d, s in zip(dst.parameters(), src.parameters(), strict=True):
            d.copy_(s)


def build_model(sig: dict, lstm_size: int | None = None, encoder: str = "conv4") -> ActorCritic:
    """The model for a space signature (see ``wrappers.space_signature``): pixels -> conv+LSTM;
    ``encoder`` names the pixel torso (``ENCODERS``; vectors take an MLP whatever it says)."""
    pixels = len(sig["obs_shape"]) == 3
    if lstm_size is None:
        lstm_size = 512 if pixels else 0
    return ActorCritic(
        tuple(sig["obs_shape"]),
        sig["n_actions"],
        continuous=sig["action_kind"] == "box",
        pixels=pixels,
        lstm_size=lstm_size,
        encoder=encoder,
    )
