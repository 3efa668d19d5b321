"""Box magazines for pistols and rifles: tube, base plate, follower, coil spring, rounds."""

from __future__ import annotations

import math

import numpy as np

from screener.sim.geometry import Part, Pose
from screener.sim.items.cartridges import Calibre, cartridge
from screener.sim.items.parts import STEEL, block, rod_between
from screener.sim.items.random_draws import uniform


def _coil_spring(width: float, top: float, bottom: float, depth: float,
                 coils: int) -> list[Part]:
    """A coil spring along -y seen from the side: front strands one way, back strands the other."""
    parts: list[Part] = []
    pitch = (top - bottom) / coils
    for k in range(coils):
        y0 = top - k * pitch
        front = ((-width / 2, y0, depth / 2), (width / 2, y0 - pitch / 2, depth / 2))
        back = ((width / 2, y0 - pitch / 2, -depth / 2), (-width / 2, y0 - pitch, -depth / 2))
        for a, b in (front, back):
            # A round wire looks the same in any frame about its axis; this one (x square to
            # the x axis) is the frame the springs have always had, so scenes stay the same.
            parts.append(rod_between(a, b, 0.5, STEEL, reference=(1.0, 0.0, 0.0),
                                     fallback=(0.0, 1.0, 0.0)))
    return parts


def magazine(cal: Calibre, rounds: int, *, double_stack: bool, length: float,
             body: str = STEEL, base: str = "pom", rng: np.random.Generator | None = None
             ) -> list[Part]:
    """A box magazine with its top centre at the origin, feeding towards +y, rounds along +x.

    Anatomy: a sheet-steel (or aluminium) tube open at the top, a base plate, a follower and a
    coil spring; rounds lie in one column (single stack) or staggered in two (double stack),
    the top one just under the feed lips. ``rounds`` is capped at what fits.
    """
    wall = 0.8 if body == STEEL else 1.1
    diameter = 2 * max(cal.case_radius, cal.rim_radius)
    inner_x = cal.overall_length + 1.2
    inner_z = (1.75 if double_stack else 1.0) * diameter + 0.4
    size = (inner_x + 2 * wall, length, inner_z + 2 * wall)
    parts = [block(size, (0.0, -length / 2, 0.0), body)]
    cavity_len = length - wall
    parts.append(block((inner_x, cavity_len, inner_z), (0.0, -cavity_len / 2, 0.0), body,
                       negative=True))
    base_h = 5.0 if rng is None else uniform(rng, 3.5, 7.0)
    parts.append(block((size[0] + 2.5, base_h, size[2] + 2.5),
                       (0.0, -length - base_h / 2, 0.0), base))
    dz = (inner_z - diameter) / 2 - 0.05
    step = math.sqrt(max((diameter + 0.1) ** 2 - (2 * dz) ** 2, 0.0)) if double_stack else (
        diameter + 0.1)
    follower_h, spring_min = 4.0, 8.0
    capacity = int((cavity_len - follower_h - spring_min - diameter) // step) + 1
    y = -diameter / 2 - 0.3
    for k in range(min(rounds, max(capacity, 0))):
        z = (dz if k % 2 == 0 else -dz) if double_stack else 0.0
        parts += cartridge(cal, Pose.at(-cal.overall_length / 2, y - k * step, z))
    loaded = min(rounds, max(capacity, 0))
    top_of_follower = y - (loaded - 1) * step - diameter / 2 - 0.2 if loaded else -1.0
    parts.append(block((inner_x - 0.4, follower_h, inner_z - 0.4),
                       (0.0, top_of_follower - follower_h / 2, 0.0), "pom"))
    spring_top = top_of_follower - follower_h - 0.6
    spring_bottom = -cavity_len + 0.6
    if spring_top - spring_bottom > 3.0:
        coils = max(int((spring_top - spring_bottom) / 6.0), 3)
        parts += _coil_spring(inner_x - 3.0, spring_top, spring_bottom, inner_z - 1.2, coils)
    return parts
