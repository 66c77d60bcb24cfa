"""test.py --render: a window that shows each frame as it is played (pygame, SDL 2).

The pinned OpenCV is the headless build (no GUI); pygame is already a dependency (the
classic-control envs render with it). Where no display can be opened, SDL would quietly
fall back to its offscreen driver: that is refused up front with one line, before
anything is written. ``SDL_VIDEODRIVER`` set by the user (dummy, offscreen, x11, wayland,
...) is honoured as given.
"""

from __future__ import annotations

import os

import numpy as np

from mario_a3c.errors import UserError

_HEADLESS = ("offscreen", "dummy")
_INSTEAD = "without --render the video is still written"


class Window:
    """Call with an RGB frame (H, W, 3) to show it; the window takes the first frame's size x2."""

    def __init__(self, title: str = "mario-a3c", scale: int = 2):
        if not any(os.environ.get(k) for k in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY")):
            raise UserError(f"--render: no display for a window (is DISPLAY set?); {_INSTEAD}")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self.pg, self.title, self.scale, self.screen = pygame, title, scale, None
        try:
            pygame.display.init()
        except pygame.error as err:
            raise UserError(f"--render: no window can be opened ({err}); {_INSTEAD}") from None
        driver = pygame.display.get_driver()
        if driver in _HEADLESS and os.environ.get("SDL_VIDEODRIVER") != driver:
            pygame.display.quit()
            raise UserError(f"--render: no display for a window (is DISPLAY set?); {_INSTEAD}")

    def __call__(self, frame: np.ndarray) -> None:
        pg = self.pg
        h, w = frame.shape[:2]
        if self.screen is None:
            self.screen = pg.display.set_mode((w * self.scale, h * self.scale))
            pg.display.set_caption(self.title)
        surface = pg.surfarray.make_surface(np.ascontiguousarray(frame.swapaxes(0, 1)))
        pg.transform.scale(surface, self.screen.get_size(), self.screen)
        pg.display.flip()
        pg.event.pump()  # keep the window responsive

    def close(self) -> None:
        self.pg.display.quit()
