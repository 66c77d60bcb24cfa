"""Gymnasium wrappers, one concern each, and the one env factory ``make_env``."""

from wrappers.factory import (
    EnvError,
    default_sticky_actions,
    is_mario,
    make_env,
    mario_id,
    space_signature,
    sticky_actions_of,
)

__all__ = [
    "EnvError",
    "default_sticky_actions",
    "is_mario",
    "make_env",
    "mario_id",
    "space_signature",
    "sticky_actions_of",
]
