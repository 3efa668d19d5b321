"""Improvised explosive devices: power source, switch or timer, detonator and main charge,
joined by insulated wires."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from screener.sim.geometry import Part, Pose, SceneObject
from screener.sim.items.ied_charges import main_charge
from screener.sim.items.ied_components import IedComponent, power_source, switch_or_timer
from screener.sim.items.outlines import Point, rounded
from screener.sim.items.parts import bounds, hollow_box, place, stroke_parts, threat_article
from screener.sim.items.random_draws import chance, pick, uniform

_WIRE = 2.2  # insulated wire, square section (mm)


def _wire(points: Sequence[Point], rng: np.random.Generator) -> list[Part]:
    """Insulated wire along a polyline in the xy plane: copper core inside a plastic sheath."""
    core = uniform(rng, 0.5, 1.0)
    parts = stroke_parts(points, _WIRE, _WIRE, "polyethylene")
    parts += stroke_parts(points, core, core, "polyethylene", negative=True)
    parts += stroke_parts(points, core, core, "copper")
    return parts


def _route_wires(components: list[IedComponent], xs: list[float], ys: list[float],
                 rng: np.random.Generator) -> list[Part]:
    """Wires battery -> timer -> detonator -> battery, each up from an anchor, across above
    everything, and down to the next; anchors ordered so that no two wires cross."""
    def anchor(i: int, k: int) -> Point:
        ax, ay = components[i].anchors[k]
        return ax + xs[i], ay + ys[i]

    links = [(0, 1), (1, 2), (2, 0)]
    ends: dict[tuple[int, int], Point] = {}
    for i in range(3):
        mine = [link for link in links if i in link]
        other = [link[1] if link[0] == i else link[0] for link in mine]
        key = [(0 if xs[o] < xs[i] else 1, -xs[o]) for o in other]
        order = sorted(range(2), key=lambda m: key[m])
        for slot, m in enumerate(order):
            ends[(i, mine[m][1] if mine[m][0] == i else mine[m][0])] = anchor(i, slot)
    roof = max(ys[i] + components[i].height / 2 for i in range(3)) + 6.0
    spans = sorted(links, key=lambda lk: abs(ends[lk][0] - ends[(lk[1], lk[0])][0]))
    parts: list[Part] = []
    for level, (a, b) in enumerate(spans):
        pa, pb = ends[(a, b)], ends[(b, a)]
        y = roof + level * (_WIRE + 2.0) + uniform(rng, 0.0, 0.6)
        path = [pa, (pa[0], y), (pb[0], y), pb]
        parts += _wire(rounded(path, [0.0, 5.0, 5.0, 0.0], steps=4), rng)
    return parts


def make_ied(rng: np.random.Generator) -> SceneObject:
    """Improvised explosive device: power source, switch or timer, detonator and main charge,
    joined by insulated wires, spread over about 100-250 mm; sometimes in a plastic box.

    Power: a 9 V block (steel case, zinc-manganese cells), AA cells in a plastic holder (steel
    cans, manganese dioxide, zinc, brass pin) or lithium-ion cells (steel cans). Switch or
    timer: a circuit board (FR-4 with chips, capacitors, a relay, a buzzer or a display, lead
    solder joints), a mechanical kitchen timer (plastic case, steel mainspring, brass wheels,
    steel bell) or a mobile phone (glass, board, lithium-ion battery). Detonator: a thin
    aluminium or copper tube with a base charge, a dense lead azide primary charge and a rubber
    plug, pushed into the main charge. Main charge: blocks of a cast military-type explosive,
    often wrapped in tape, sometimes with a layer of steel balls, nuts or nails; a bundle of
    paper-wrapped sticks; or a steel pipe with end caps filled with explosive, the detonator
    inside under a cap with a hole for the wires. Wires: copper cores in plastic sheaths,
    running over the other parts.
    """
    battery, timer = power_source(rng), switch_or_timer(rng)
    gaps = [uniform(rng, 8.0, 25.0), uniform(rng, 8.0, 25.0)]
    charge = main_charge(rng, max(215.0 - battery.width - timer.width - sum(gaps), 40.0))
    order = pick(rng, ((0, 1, 2), (1, 0, 2), (2, 0, 1), (2, 1, 0), (0, 2, 1)))
    comps = [battery, timer, charge]
    xs, ys = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
    x = 0.0
    for slot, i in enumerate(order):
        x += comps[i].width / 2
        xs[i] = x
        ys[i] = comps[i].height / 2 + uniform(rng, -6.0, 6.0)
        x += comps[i].width / 2 + (gaps[slot] if slot < 2 else 0.0)
    parts: list[Part] = []
    for i, comp in enumerate(comps):
        parts += place(comp.parts, Pose.at(xs[i], ys[i]))
    parts += _route_wires(comps, xs, ys, rng)
    if chance(rng, 0.25):
        lo, hi = bounds(parts)
        margin, wall = uniform(rng, 3.0, 10.0), uniform(rng, 1.5, 3.0)
        size = tuple(float(h - lo_) + 2 * (margin + wall) for lo_, h in zip(lo, hi, strict=True))
        centre = Pose.at(*((lo + hi) / 2).tolist())
        parts += hollow_box((size[0], size[1], size[2]), wall,
                            pick(rng, ("abs", "polycarbonate", "polyethylene")), centre)
    return threat_article("ied", parts)
