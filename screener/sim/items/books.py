"""Books: paperbacks, hardbacks, spiral notebooks and magazines."""

from __future__ import annotations

import math

import numpy as np

from screener.sim.geometry import Cylinder, Part, SceneObject, box
from screener.sim.items.parts import benign_article, hollow, part
from screener.sim.items.random_draws import pick, uniform


def make_book(rng: np.random.Generator) -> SceneObject:
    """A paperback, a hardback with boards, a notebook with a wire spiral, or a magazine."""
    style = pick(rng, ["paperback", "hardback", "notebook", "magazine"], [3, 2, 1, 1])
    sx, sy = uniform(rng, 175, 300), uniform(rng, 120, 215)
    sy = min(sy, sx * 0.85)
    parts: list[Part] = []
    if style == "magazine":
        t = uniform(rng, 3, 8)
        parts.append(part(box(sx, sy, t), "paper", density_scale=uniform(rng, 1.1, 1.4)))
    elif style == "hardback":
        t = uniform(rng, 15, 50)
        board = uniform(rng, 2.0, 3.0)
        parts.append(part(box(sx - 6, sy - 4, t), "paper", (2, 0, 0),
                          density_scale=uniform(rng, 0.85, 1.0)))
        for side in (-1, 1):
            parts.append(part(box(sx, sy, board), "paper",
                              (0, 0, side * (t / 2 + board / 2 + 0.01)), density_scale=0.9))
        parts.append(part(box(board, sy, t), "paper", (-sx / 2 + board / 2 - 0.02, 0, 0),
                          density_scale=0.9))
        parts[0] = part(box(sx - 6 - board, sy - 4, t), "paper", (board / 2 + 2, 0, 0),
                        density_scale=parts[0].density_scale)
    else:
        t = uniform(rng, 8, 35)
        parts.append(part(box(sx, sy, t), "paper", density_scale=uniform(rng, 0.85, 1.0)))
        if style == "notebook":  # wire coil through holes along the spine
            t_coil = t + 6
            rc = t_coil / 2
            for k in range(int(sy / 9) - 1):
                y = -sy / 2 + 9 * (k + 1)
                parts += hollow(Cylinder(rc, rc, 1.0), Cylinder(rc - 0.9, rc - 0.9, 0.98),
                                "iron", (-sx / 2 - 0.5 - rc, y, 0), (math.pi / 2, 0, 0))
    return benign_article("book", parts)
