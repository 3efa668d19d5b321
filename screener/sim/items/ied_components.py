"""Parts of an improvised explosive device other than its charge: power sources and
switches or timers, each an :class:`IedComponent` wires can reach."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from screener.sim.geometry import Cylinder, Part, Pose
from screener.sim.items.outlines import Point
from screener.sim.items.parts import (
    STEEL,
    block,
    bounds,
    hollow_box,
    insert,
    place,
    ring_parts,
    rod,
    stroke_parts,
    tube,
)
from screener.sim.items.random_draws import chance, pick, uniform


@dataclass(frozen=True)
class IedComponent:
    """An IED component in its own frame, its xy bounding box centred at the origin.

    ``anchors`` are where wires end, (x, y) in that frame, reached from straight above.
    """

    parts: list[Part]
    anchors: list[Point]
    width: float
    height: float


def ied_component(parts: list[Part], anchors: Sequence[Point]) -> IedComponent:
    """The component of ``parts`` with wire ``anchors`` (in the parts' frame), moved so that
    its xy bounding box is centred at the origin."""
    lo, hi = bounds(parts)
    cx, cy = float(lo[0] + hi[0]) / 2, float(lo[1] + hi[1]) / 2
    moved = place(parts, Pose.at(-cx, -cy))
    return IedComponent(moved, [(x - cx, y - cy) for x, y in anchors],
                        float(hi[0] - lo[0]), float(hi[1] - lo[1]))


def power_source(rng: np.random.Generator) -> IedComponent:
    """Power source: a 9 V block, a holder of AA cells, or lithium-ion cells."""
    kind = pick(rng, ("9v", "9v", "aa", "li_ion"))
    if kind == "9v":
        shell = hollow_box((26.5, 48.5, 17.5), 0.35, STEEL)
        inner = block((25.8, 47.8, 16.8), (0.0, 0.0, 0.0), "zinc", density_scale=0.45)
        snaps = [rod(3.0, r, STEEL, Pose.at(x, 25.75), axis="y")
                 for x, r in ((-6.35, 3.0), (6.35, 4.0))]
        return ied_component([*shell, inner, *snaps], [(-6.35, 27.25), (6.35, 27.25)])
    if kind == "aa":
        count = int(rng.integers(2, 5))
        parts = hollow_box((count * 14.8 + 3.0, 60.0, 16.0), (1.5, 3.0, 0.75), "abs",
                           cavity_offset=(0.0, 0.0, 0.75))
        for k in range(count):
            x = (k - (count - 1) / 2) * 14.8
            parts += _aa_cell(Pose.at(x, 0.0, 0.75 + 0.1), flip=k % 2 == 1)
        return ied_component(parts, [(-(count - 1) * 7.4, 30.0), ((count - 1) * 7.4, 30.0)])
    count = int(rng.integers(1, 4))
    parts = []
    for k in range(count):
        x = (k - (count - 1) / 2) * 18.4
        parts += tube(65.0, 9.2, 8.95, STEEL, Pose.at(x), axis="y", end_walls=(0.3, 0.3))
        parts += tube(64.4, 8.95, 1.5, "li_ion", Pose.at(x), axis="y")
    half = max((count - 1) * 9.2, 1.3)
    return ied_component(parts, [(-half, 32.5), (half, 32.5)])


def _aa_cell(pose: Pose, flip: bool) -> list[Part]:
    """An alkaline AA cell along y: steel can, manganese dioxide ring, zinc gel, brass pin."""
    parts = tube(50.0, 7.1, 6.8, STEEL, pose, axis="y", end_walls=(0.3, 0.3))
    parts += tube(49.4, 6.8, 4.0, STEEL, pose, axis="y", density_scale=0.3)
    parts.append(rod(49.4, 4.0, "zinc", pose, axis="y", density_scale=0.5))
    parts += insert(Cylinder(0.7, 0.7, 40.0), Pose.at(rx=-math.pi / 2).then(pose), "brass", "zinc",
                    host_density_scale=0.5)
    nub_y = -25.75 if flip else 25.75
    parts.append(rod(1.5, 2.6, STEEL, Pose.at(y=nub_y).then(pose), axis="y"))
    return parts


def switch_or_timer(rng: np.random.Generator) -> IedComponent:
    """Switch or timer: a bare circuit board with parts, a mechanical kitchen timer, or a
    mobile phone."""
    kind = pick(rng, ("pcb", "pcb", "mechanical", "phone"))
    if kind == "pcb":
        w, h = uniform(rng, 40.0, 75.0), uniform(rng, 30.0, 55.0)
        parts = _circuit_board(w, h, rng)
        return ied_component(parts, [(-w / 2 + 4.0, h / 2), (w / 2 - 4.0, h / 2)])
    if kind == "mechanical":
        r = uniform(rng, 24.0, 33.0)
        parts = _kitchen_timer(r, rng)
        return ied_component(parts, [(-r * 0.3, r), (r * 0.3, r)])
    w, h = uniform(rng, 45.0, 60.0), uniform(rng, 95.0, 120.0)
    parts = _phone(w, h, rng)
    return ied_component(parts, [(-w / 4, h / 2), (w / 4, h / 2)])


def _circuit_board(w: float, h: float, rng: np.random.Generator) -> list[Part]:
    """FR-4 board; chips, electrolytic capacitors, a relay, a buzzer or a display on top,
    solder joints underneath."""
    board_t = 1.6
    parts = [block((w, h, board_t), (0.0, 0.0, 0.0), "fr4")]
    top = board_t / 2
    cols, rows = max(int(w // 18), 1), max(int(h // 16), 1)
    cw, ch = w / cols, h / rows
    for i in range(cols):
        for j in range(rows):
            if not chance(rng, 0.7):
                continue
            x, y = -w / 2 + (i + 0.5) * cw, -h / 2 + (j + 0.5) * ch
            kind = pick(rng, ("chip", "chip", "cap", "relay", "buzzer", "display"))
            parts += _board_part(kind, x, y, min(cw, ch) - 2.0, top, rng)
            for k in range(int(rng.integers(2, 7))):
                sx = x + (k - 2.5) * 2.0
                parts.append(rod(0.8, 0.7, "lead", Pose.at(sx, y - 3.0, -top - 0.4), axis="z",
                                 density_scale=0.75))
    return parts


def _board_part(kind: str, x: float, y: float, size: float, z0: float,
                rng: np.random.Generator) -> list[Part]:
    if kind == "chip":
        lx, ly = size * uniform(rng, 0.5, 0.9), size * uniform(rng, 0.3, 0.6)
        lz = uniform(rng, 1.5, 3.5)
        return [block((lx, ly, lz), (x, y, z0 + lz / 2), "silicon", density_scale=0.35)]
    if kind == "cap":
        r, hz = min(size / 2, uniform(rng, 2.5, 6.5)), uniform(rng, 7.0, 20.0)
        return [*tube(hz, r, r - 0.3, "aluminium", Pose.at(x, y, z0 + hz / 2), axis="z",
                      end_walls=(0.0, 0.3)),
                rod(hz - 0.3, r - 0.3, "paper", Pose.at(x, y, z0 + (hz - 0.3) / 2), axis="z")]
    if kind == "relay":
        lx, ly, lz = size * 0.9, size * 0.7, uniform(rng, 10.0, 15.0)
        shell = hollow_box((lx, ly, lz), 0.8, "abs", Pose.at(x, y, z0 + lz / 2))
        coil = rod(lz - 3.0, min(lx, ly) / 2 - 1.5, "copper", Pose.at(x, y, z0 + lz / 2), axis="z",
                   density_scale=0.6)
        return [*shell, coil]
    if kind == "buzzer":
        r = size / 2
        return [rod(6.0, r, "pom", Pose.at(x, y, z0 + 3.0), axis="z"),
                rod(0.3, r * 0.8, "brass", Pose.at(x, y, z0 + 6.15), axis="z")]
    lx, ly = size * 0.95, size * 0.6
    return [block((lx, ly, 6.0), (x, y, z0 + 3.0), "glass", density_scale=0.5)]


def _kitchen_timer(r: float, rng: np.random.Generator) -> list[Part]:
    """Round plastic case with a coiled steel mainspring, brass gear wheels and a bell."""
    depth = uniform(rng, 22.0, 32.0)
    parts = [rod(depth, r, pick(rng, ("abs", "pom", "polycarbonate")), Pose(), axis="z")]
    material = parts[0].material
    parts.append(rod(depth - 3.0, r - 1.5, material, Pose(), axis="z", negative=True))
    z = -depth / 2 + 2.0
    turns = uniform(rng, 4.0, 7.0)
    spiral = [((3.0 + (r * 0.55 - 3.0) * t / (turns * 2 * math.pi)) * math.cos(t),
               (3.0 + (r * 0.55 - 3.0) * t / (turns * 2 * math.pi)) * math.sin(t))
              for t in np.linspace(0.0, turns * 2 * math.pi, int(turns * 24))]
    parts += stroke_parts(spiral, 0.5, 4.0, STEEL, Pose.at(z=z + 2.0))
    z += 5.0
    for k in range(int(rng.integers(2, 5))):
        gr = uniform(rng, 5.0, r * 0.45)
        angle = k * 2.1
        cx, cy = (r - gr - 2.5) * math.cos(angle), (r - gr - 2.5) * math.sin(angle)
        parts.append(rod(0.8, gr, "brass", Pose.at(cx, cy, z + k * 1.2 + 0.4), axis="z"))
    parts += ring_parts(r - 2.5, r - 2.5, 0.8, 6.0, STEEL,
                        Pose.at(z=depth / 2 - 1.5 - 3.5))
    return parts


def _phone(w: float, h: float, rng: np.random.Generator) -> list[Part]:
    """Mobile phone: plastic shell, glass screen, circuit board, lithium-ion battery."""
    t = uniform(rng, 11.0, 16.0)
    shell_mat = pick(rng, ("abs", "polycarbonate"))
    parts = hollow_box((w, h, t), (1.5, 1.5, 1.2), shell_mat)
    inner_t = t - 2.4
    layer = inner_t / 3
    z0 = -inner_t / 2
    parts.append(block((w - 4.0, h - 4.0, 1.0), (0.0, 0.0, z0 + inner_t - 0.5), "glass"))
    parts.append(block((w - 6.0, h * 0.42, 1.0), (0.0, h * 0.23, z0 + layer), "fr4"))
    for k in range(3):
        parts.append(block((6.0, 6.0, 1.2), (-w / 4 + k * w / 4, h * 0.25, z0 + layer + 1.1),
                           "silicon", density_scale=0.5))
    parts.append(block((w - 8.0, h * 0.4, layer), (0.0, -h * 0.2, z0 + layer / 2 + 0.2),
                       "li_ion"))
    parts += ring_parts(4.0, 4.0, 1.0, 1.5, STEEL, Pose.at(0.0, h / 2 - 8.0, z0 + layer + 1.5))
    return parts
