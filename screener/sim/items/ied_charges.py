"""Main charges of an improvised explosive device, each with its detonator in it: blocks,
stick bundles, pipe bombs."""

from __future__ import annotations

import math

import numpy as np

from screener.sim.geometry import Ellipsoid, Part, Pose
from screener.sim.items.ied_components import IedComponent, ied_component
from screener.sim.items.outlines import arc
from screener.sim.items.parts import STEEL, block, hollow_box, place, polygon_parts, rod, tube
from screener.sim.items.random_draws import chance, pick, uniform


def _detonator(rng: np.random.Generator) -> tuple[list[Part], float, float]:
    """Electric detonator along +y from y = 0: a thin metal tube with a base charge (PETN), a
    dense primary charge (lead azide) above it and a rubber plug where the leg wires enter.
    Returns (parts, length, radius)."""
    length, r = uniform(rng, 35.0, 70.0), uniform(rng, 3.2, 3.8)
    shell = pick(rng, ("aluminium", "copper"))
    wall, bottom = 0.35, 0.6
    bore = r - wall
    parts = tube(length, r, bore, shell, Pose.at(y=length / 2), axis="y", end_walls=(bottom, 0.0))
    base = length * uniform(rng, 0.2, 0.3)
    primary = uniform(rng, 4.0, 7.0)
    plug = uniform(rng, 6.0, 10.0)
    parts.append(rod(base, bore, "explosive", Pose.at(y=bottom + base / 2), axis="y"))
    parts.append(rod(primary, bore, "lead", Pose.at(y=bottom + base + primary / 2), axis="y",
                     density_scale=0.42))
    parts.append(rod(plug, bore, "rubber", Pose.at(y=length - plug / 2), axis="y"))
    return parts, length, r


def main_charge(rng: np.random.Generator, max_width: float) -> IedComponent:
    """Organic main charge with the detonator in it: blocks, a stick bundle or a pipe bomb."""
    kind = pick(rng, ("block", "block", "sticks", "pipe"))
    det, det_len, det_r = _detonator(rng)
    if kind == "pipe":
        return _pipe_bomb(rng, det, det_len, det_r)
    if kind == "sticks":
        return _stick_bundle(rng, det, det_len, det_r, max_width)
    return _block_charge(rng, det, det_len, det_r, max_width)


def _block_charge(rng: np.random.Generator, det: list[Part], det_len: float, det_r: float,
                  max_width: float) -> IedComponent:
    count = int(rng.integers(1, 4))
    bw = min(uniform(rng, 45.0, 110.0), max_width / count)
    bh, bz = uniform(rng, 35.0, 75.0), uniform(rng, 18.0, 40.0)
    width = bw * count
    parts = [block((bw, bh, bz), (-width / 2 + (k + 0.5) * bw, 0.0, 0.0), "explosive")
             for k in range(count)]
    x_det = -width / 2 + bw * uniform(rng, 0.25, 0.75)
    depth = min(det_len * uniform(rng, 0.4, 0.7), bh - 4.0)
    wrap = uniform(rng, 0.3, 0.8) if chance(rng, 0.6) else 0.0
    parts.append(rod(depth, det_r, "explosive", Pose.at(x_det, bh / 2 - depth / 2), axis="y",
                     negative=True))
    if wrap > 0:
        wrap_mat = pick(rng, ("polyethylene", "paper", "polyethylene"))
        parts += hollow_box((width + 2 * wrap, bh + 2 * wrap, bz + 2 * wrap), wrap, wrap_mat)
        parts.append(rod(wrap, det_r, wrap_mat, Pose.at(x_det, bh / 2 + wrap / 2), axis="y",
                         negative=True))
    parts += place(det, Pose.at(x_det, bh / 2 - depth))
    if chance(rng, 0.4):
        parts += _shrapnel(rng, width, bh, bz / 2 + wrap)
    top = bh / 2 - depth + det_len
    return ied_component(parts, [(x_det - 1.3, top), (x_det + 1.3, top)])


def _shrapnel(rng: np.random.Generator, width: float, height: float, z0: float) -> list[Part]:
    """A layer of steel balls, nuts or nails taped onto the charge (above ``z0``)."""
    kind = pick(rng, ("balls", "nails", "nuts"))
    parts: list[Part] = []
    if kind == "nails":
        length, r = uniform(rng, 25.0, min(60.0, width - 4.0)), uniform(rng, 1.2, 2.0)
        step = 4.6 * r + 0.5
        for k in range(int((height - 6.0) // step)):
            y = -height / 2 + 3.0 + (k + 0.5) * step
            x = uniform(rng, -width / 2 + length / 2 + 1, width / 2 - length / 2 - 1)
            parts.append(rod(length, r, STEEL, Pose.at(x, y, z0 + 2.3 * r + 0.1)))
            parts.append(rod(1.0, r * 2.3, STEEL,
                             Pose.at(x - length / 2 - 0.5, y, z0 + 2.3 * r + 0.1)))
        return parts
    r = uniform(rng, 2.0, 4.5)
    step = 2 * r + uniform(rng, 0.5, 3.0)
    for i in range(int((width - 2) // step)):
        for j in range(int((height - 2) // step)):
            x = -width / 2 + 1 + (i + 0.5) * step
            y = -height / 2 + 1 + (j + 0.5) * step
            if kind == "balls":
                parts.append(Part(Ellipsoid(r, r, r), STEEL, Pose.at(x, y, z0 + r + 0.1)))
            else:
                hexagon = arc(0.0, 0.0, r, r, 0.0, 2 * math.pi, 7)[:-1]
                parts += polygon_parts(hexagon, r * 0.8, STEEL, Pose.at(x, y, z0 + 0.5 * r))
                parts += polygon_parts(arc(0.0, 0.0, r * 0.5, r * 0.5, 0.0, 2 * math.pi, 9)[:-1],
                                       r * 0.8, STEEL, Pose.at(x, y, z0 + 0.5 * r), negative=True)
    return parts


def _stick_bundle(rng: np.random.Generator, det: list[Part], det_len: float, det_r: float,
                  max_width: float) -> IedComponent:
    count = int(rng.integers(2, 5))
    r = min(uniform(rng, 12.0, 16.0), max_width / (2 * count))
    length = uniform(rng, 120.0, 200.0)
    parts: list[Part] = []
    paper = 0.8
    for k in range(count):
        x = (k - (count - 1) / 2) * 2 * r
        parts += tube(length, r, r - paper, "paper", Pose.at(x), axis="y")
        parts.append(rod(length, r - paper, "explosive", Pose.at(x), axis="y",
                         density_scale=uniform(rng, 0.75, 0.9)))
    if chance(rng, 0.7):
        for y in (-length * 0.3, length * 0.3):
            parts.append(block((count * 2 * r, 18.0, 0.4), (0.0, y, r + 0.2), "polyethylene"))
    x_det = (int(rng.integers(count)) - (count - 1) / 2) * 2 * r
    depth = det_len * uniform(rng, 0.4, 0.7)
    scale = parts[1].density_scale
    parts.append(rod(depth, det_r, "explosive", Pose.at(x_det, length / 2 - depth / 2), axis="y",
                     negative=True, density_scale=scale))
    parts += place(det, Pose.at(x_det, length / 2 - depth))
    top = length / 2 - depth + det_len
    return ied_component(parts, [(x_det - 1.3, top), (x_det + 1.3, top)])


def _pipe_bomb(rng: np.random.Generator, det: list[Part], det_len: float,
               det_r: float) -> IedComponent:
    r = uniform(rng, 13.0, 25.0)
    wall = uniform(rng, 2.5, 4.0)
    length = uniform(rng, 100.0, 180.0)
    parts = tube(length, r, r - wall, STEEL, axis="y")
    cap_len = uniform(rng, 12.0, 20.0)
    cap_r = r + uniform(rng, 2.0, 4.0)
    hole = 2.6
    for side in (-1.0, 1.0):
        y = side * (length + cap_len) / 2
        parts.append(rod(cap_len, cap_r, STEEL, Pose.at(y=y), axis="y"))
    parts.append(rod(cap_len, hole, STEEL, Pose.at(y=(length + cap_len) / 2), axis="y",
                     negative=True))
    scale = uniform(rng, 0.55, 0.95)
    parts.append(rod(length, r - wall, "explosive", Pose(), axis="y", density_scale=scale))
    det_len = min(det_len, length * 0.6)
    parts.append(rod(det_len, det_r, "explosive", Pose.at(y=length / 2 - det_len / 2), axis="y",
                     negative=True, density_scale=scale))
    parts += [p for p in place(det, Pose.at(y=length / 2 - det_len))
              if p.pose.translation[1] < length / 2]
    return ied_component(parts, [(-1.3, length / 2), (1.3, length / 2)])
