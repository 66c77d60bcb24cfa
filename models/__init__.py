"""Networks: the conv+LSTMCell and MLP actor-critics, and action distributions."""

from models.actor_critic import ActorCritic, State, build_model, copy_weights, layer_init
from models.distributions import Policy, to_env

__all__ = ["ActorCritic", "Policy", "State", "build_model", "copy_weights", "layer_init", "to_env"]
