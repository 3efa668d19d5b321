"""Small metal things: bunches of keys, coins, belt buckles."""

from __future__ import annotations

import math

import numpy as np

from screener.sim.geometry import Cylinder, Part, Pose, SceneObject, box, prism
from screener.sim.items.outlines import convex_outline, rounded_rect
from screener.sim.items.parts import (
    benign_article,
    bounds,
    hollow,
    part,
    place,
    rod_between,
    rounded_shell,
)
from screener.sim.items.random_draws import chance, pick, uniform


def _key(rng: np.random.Generator, material: str) -> list[Part]:
    """A flat key along +x with its ring hole at the origin."""
    t = uniform(rng, 1.8, 2.4)
    bow_r = uniform(rng, 11, 15)
    parts: list[Part] = []
    bow = prism(convex_outline([(bow_r * math.cos(a), bow_r * math.sin(a) * 0.9)
                                for a in np.linspace(0, 2 * math.pi, 10, endpoint=False)]), t)
    parts.append(part(bow, material, (bow_r * 0.55, 0, 0)))
    parts.append(part(Cylinder(2.6, 2.6, t - 0.1), material, (0.0, 0, 0), negative=True))
    blade_len = uniform(rng, 28, 45)
    blade_w = uniform(rng, 6.5, 9)
    bx0 = bow_r * 0.55 + bow_r - 0.5
    parts.append(part(box(blade_len, blade_w, t), material, (bx0 + blade_len / 2, 0, 0)))
    for k in range(int(rng.integers(3, 7))):  # cut teeth along one edge
        depth = uniform(rng, 1.5, 3.5)
        x = bx0 + 5 + k * (blade_len - 8) / 6
        parts.append(part(prism([(-2.5, 0.0), (2.5, 0.0), (0.0, depth)], t), material,
                          (x, blade_w / 2 + 0.01, 0)))
    return parts


def make_keys(rng: np.random.Generator) -> SceneObject:
    """A bunch of keys on a steel split ring, sometimes with a car key fob."""
    ring_r = uniform(rng, 11, 16)
    wire = 0.9
    parts: list[Part] = []
    segments = 12
    for k in range(segments):
        a0 = 2 * math.pi * k / segments
        a1 = 2 * math.pi * (k + 1) / segments
        parts.append(rod_between((ring_r * math.cos(a0), ring_r * math.sin(a0), 0.0),
                                 (ring_r * math.cos(a1), ring_r * math.sin(a1), 0.0), wire,
                                 "iron"))
    n = int(rng.integers(1, 6))
    z = wire + 1.4
    for _ in range(n):
        angle = uniform(rng, -0.9, 0.9)
        material = pick(rng, ["brass", "iron"], [3, 2])
        key = _key(rng, material)
        # the key's hole sits on the ring at the angle the key hangs
        hole = np.array([ring_r * math.cos(angle), ring_r * math.sin(angle)])
        parts += place(key, Pose.at(hole[0], hole[1], z, rz=angle))
        z += 2.6
    if chance(rng, 0.35):  # car key fob: plastic case, board, coin cell, folding blade
        angle = uniform(rng, 2.0, 4.2)
        fob: list[Part] = []
        fob += rounded_shell(60.0, 32.0, 14.0, 10.0, 2.0, "abs", (38.0, 0, 0))
        fob.append(part(box(40.0, 20.0, 1.0), "fr4", (38.0, 0, -4.0)))
        fob.append(part(Cylinder(10.0, 10.0, 3.2), "iron", (45.0, 0, -1.8)))
        fob.append(part(box(40.0, 7.0, 2.5), "iron", (38.0 + 12, 0, 4.2 - 2.5)))
        hole = np.array([ring_r * math.cos(angle), ring_r * math.sin(angle)])
        parts += place(fob, Pose.at(hole[0] + 8 * math.cos(angle), hole[1] + 8 * math.sin(angle),
                                    z + 7.5, rz=angle))
    return benign_article("keys", parts)


def make_coins(rng: np.random.Generator) -> SceneObject:
    """A handful of coins, loose or in a leather purse."""
    n = int(rng.integers(3, 13))
    placed: list[tuple[float, float, float, float, float]] = []  # x, y, r, z_bottom, t
    parts: list[Part] = []
    spread = 25.0 + 3.0 * n
    for _ in range(n):
        r = uniform(rng, 8, 14)
        t = uniform(rng, 1.5, 2.4)
        x, y = uniform(rng, -spread, spread), uniform(rng, -spread * 0.6, spread * 0.6)
        z0 = 0.0
        for px, py, pr, pz, pt in placed:
            if math.hypot(px - x, py - y) < pr + r + 0.1:
                z0 = max(z0, pz + pt + 0.05)
        placed.append((x, y, r, z0, t))
        kind = pick(rng, ["copper", "brass", "iron", "zinc", "bimetal"], [2, 2, 2, 1, 1.5])
        centre = (x, y, z0 + t / 2)
        if kind == "bimetal":  # a brass ring around a cupronickel centre
            parts.append(part(Cylinder(r, r, t), "brass", centre))
            parts.append(part(Cylinder(r * 0.7, r * 0.7, t - 0.02), "brass", centre,
                              negative=True))
            parts.append(part(Cylinder(r * 0.7 - 0.05, r * 0.7 - 0.05, t - 0.04), "copper",
                              centre))
        else:
            parts.append(part(Cylinder(r, r, t), kind, centre))
    if chance(rng, 0.4):  # in a leather purse
        lo, hi = bounds(parts)
        size = hi - lo
        wall = 1.5
        # corners rounded little enough that the coins' square bounds fit the cavity
        parts += hollow(prism(rounded_rect(size[0] + 8, size[1] + 8, 6), size[2] + 2 * wall + 1),
                        box(size[0] + 1, size[1] + 1, size[2] + 0.5), "leather", (lo + hi) / 2)
    return benign_article("coins", parts)


def make_belt_buckle(rng: np.random.Generator) -> SceneObject:
    """A belt buckle (steel frame with prong or die-cast zinc plate), often on a rolled belt."""
    material = pick(rng, ["iron", "zinc"])
    bx, by = uniform(rng, 40, 60), uniform(rng, 35, 50)
    bar = uniform(rng, 4.5, 8)
    t = uniform(rng, 3, 5)
    parts: list[Part] = []
    if chance(rng, 0.7):  # frame with prong
        for side in (-1, 1):
            parts.append(part(box(bar, by, t), material, (side * (bx / 2 - bar / 2), 0, 0)))
            parts.append(part(box(bx - 2 * bar - 0.02, bar, t), material,
                              (0, side * (by / 2 - bar / 2), 0)))
        # the prong lies across the frame, on top of it
        prong_z = t / 2 + 1.61
        parts.append(rod_between((-bx / 2 + bar / 2, 0, prong_z), (bx / 2 + 3, 0, prong_z), 1.6,
                                 "iron"))
    else:  # solid plate with a hook behind it
        parts.append(part(prism(rounded_rect(bx, by, 6), t), material))
        parts.append(part(box(8.0, 10.0, 4.0), material, (bx / 4, 0, -t / 2 - 2.01)))
    if chance(rng, 0.6):  # the rolled leather belt beside it
        width = by * 0.75
        rr = uniform(rng, 40, 55)
        turns_t = uniform(rng, 9, 16)
        parts += hollow(Cylinder(rr, rr, width), Cylinder(rr - turns_t, rr - turns_t, width - 0.2),
                        "leather", (bx / 2 + rr + 3, 0, 0), (0, 0, 0))
        parts.append(part(box(12.0, width - 4, 2.0), "brass",
                          (bx / 2 + rr + 3, -rr + turns_t / 2, width / 2 + 1.01)))
    return benign_article("belt_buckle", parts)
