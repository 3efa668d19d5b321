"""Hand grenades: a filled fragmentation body, a fuse, the lever, pin and pull ring."""

from __future__ import annotations

import math

import numpy as np

from screener.sim.geometry import Ellipsoid, Part, Pose, SceneObject
from screener.sim.items.outlines import rect, rounded
from screener.sim.items.parts import (
    STEEL,
    block,
    convex_prism,
    ring_parts,
    rod,
    stroke_parts,
    threat_article,
    tube,
)
from screener.sim.items.random_draws import pick, uniform


def _fibonacci_sphere(count: int, radius: float) -> list[tuple[float, float, float]]:
    golden = math.pi * (3.0 - math.sqrt(5.0))
    pts = []
    for k in range(count):
        z = 1.0 - 2.0 * (k + 0.5) / count
        r = math.sqrt(max(1.0 - z * z, 0.0))
        pts.append((radius * r * math.cos(golden * k), radius * r * math.sin(golden * k),
                    radius * z))
    return pts


def _ball_layer(radius: float, ball: float) -> list[Part]:
    """Steel balls on a sphere of ``radius``, as many as fit without touching."""
    count = int(4 * math.pi * radius ** 2 / (2 * ball + 0.4) ** 2 * 0.8)
    while count > 4:
        pts = np.array(_fibonacci_sphere(count, radius))
        d = np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=2)
        np.fill_diagonal(d, np.inf)
        if d.min() > 2 * ball + 0.2:
            break
        count = int(count * 0.93)
    return [Part(Ellipsoid(ball, ball, ball), STEEL, Pose.at(*p))
            for p in _fibonacci_sphere(count, radius)]


def _grenade_body(rng: np.random.Generator, kind: str
                  ) -> tuple[list[Part], tuple[float, float], tuple[float, float], str]:
    """Body and filler. Returns (parts, outer (rx, ry), filler (rx, ry), filler material)."""
    if kind == "can":
        radius, length, wall = (uniform(rng, 20.0, 27.0), uniform(rng, 75.0, 110.0),
                                uniform(rng, 1.2, 2.5))
        shell = pick(rng, (STEEL, "aluminium"))
        parts = tube(length, radius, radius - wall, shell, end_walls=(wall, wall))
        filler = rod(length - 2 * wall, radius - wall, "explosive", Pose(),
                     density_scale=uniform(rng, 0.6, 0.9))
        return [*parts, filler], (length / 2, radius), (length / 2 - wall, radius - wall), "can"
    if kind == "pineapple":
        rx, ry, wall = uniform(rng, 33.0, 40.0), uniform(rng, 25.0, 30.0), uniform(rng, 5.0, 8.0)
        shell = STEEL
    elif kind == "sphere":
        rx = ry = uniform(rng, 29.0, 33.0)
        wall = uniform(rng, 2.5, 4.0)
        shell = STEEL
    else:
        rx = ry = uniform(rng, 30.0, 35.0)
        wall = uniform(rng, 2.0, 3.0)
        shell = pick(rng, ("abs", "nylon", "aluminium"))
    parts = [Part(Ellipsoid(rx, ry, ry), shell),
             Part(Ellipsoid(rx - wall, ry - wall, ry - wall), shell, negative=True)]
    fx, fy = rx - wall, ry - wall
    if kind == "ball":
        ball = uniform(rng, 2.0, 3.0)
        layer = fy - ball - 0.2
        parts += _ball_layer(layer, ball)
        fx = fy = layer - ball - 0.3
    parts.append(Part(Ellipsoid(fx, fy, fy), "explosive"))
    return parts, (rx, ry), (fx, fy), "ellipsoid"


def _fuse(rng: np.random.Generator, outer: tuple[float, float], filler: tuple[float, float],
          shape: str) -> tuple[list[Part], float, float]:
    """Fuse: a delay/detonator tube in a well in the filler, a neck and a striker housing on
    the body. Returns (parts, x where the housing ends, half-height of neck and housing)."""
    rf = uniform(rng, 4.5, 6.5)
    fx, fy = filler
    x_in = fx if shape == "can" else fx * math.sqrt(1.0 - (rf / fy) ** 2)
    x_in -= 0.3
    length = min(uniform(rng, 28.0, 45.0), x_in + 0.5 * fx)
    centre = Pose.at(x_in - length / 2)
    parts = [rod(length, rf, "explosive", centre, negative=True)]
    parts += tube(length, rf, rf - 0.6, "aluminium", centre, end_walls=(0.6, 0.0))
    bore = rf - 0.6
    parts.append(rod(length * 0.5, bore, "explosive", Pose.at(x_in - length + 0.6 + length * 0.25),
                     density_scale=0.8))
    parts.append(rod(5.0, bore, "lead", Pose.at(x_in - length * 0.5 + 3.1), density_scale=0.42))
    x = outer[0]
    neck_len, neck_r = uniform(rng, 5.0, 9.0), uniform(rng, 8.0, 11.0)
    head_mat = pick(rng, ("zinc", STEEL, "aluminium"))
    parts.append(rod(neck_len, neck_r, head_mat, Pose.at(x + neck_len / 2)))
    x += neck_len
    head_len, head_h, head_z = (uniform(rng, 14.0, 24.0), uniform(rng, 18.0, 24.0),
                                uniform(rng, 14.0, 20.0))
    outline = rounded(rect(x, -head_h / 2, x + head_len, head_h / 2), [0, 3.0, 3.0, 0], 3,
                      closed=True)
    parts.append(convex_prism(outline, head_z, head_mat, density_scale=0.8))
    parts.append(rod(head_len * 0.6, 2.0, STEEL, Pose.at(x + head_len * 0.5, 0.0, 0.0)))
    parts.append(rod(head_len * 0.6, 2.0, head_mat, Pose.at(x + head_len * 0.5, 0.0, 0.0),
                     negative=True, density_scale=0.8))
    return parts, x + head_len, max(head_h / 2, neck_r)


def _lever_and_ring(rng: np.random.Generator, outer: tuple[float, float], x_head_end: float,
                    head_half: float, shape: str, x_neck: float) -> list[Part]:
    """Safety lever (spoon) over the fuse and down the body side; pin and pull ring below."""
    lt, lw = uniform(rng, 1.0, 1.6), uniform(rng, 11.0, 17.0)
    gap = lt / 2 + 1.0
    y_lever = head_half + lt / 2 + 0.4
    rx, ry = outer[0] + gap, outer[1] + gap
    if shape == "can":
        path = [(x_head_end - 1.0, y_lever), (x_neck + 3.0, y_lever),
                (x_neck + 1.5, ry), (-outer[0] * uniform(rng, 0.2, 0.7), ry)]
    else:
        t0 = math.asin(min(y_lever / ry, 0.95))
        start = (rx * math.cos(t0), y_lever)
        t1 = uniform(rng, 1.6, 2.2)
        curve = [(rx * math.cos(t), ry * math.sin(t)) for t in np.linspace(t0, t1, 12)]
        path = [(x_head_end - 1.0, y_lever), start, *curve[1:]]
    parts = stroke_parts(path, lt, lw, STEEL)
    wire = uniform(rng, 1.5, 2.0)
    ring_r = min(uniform(rng, 9.0, 13.0), (x_head_end - x_neck) / 2 - wire)
    x_pin = max((x_neck + x_head_end) / 2 + uniform(rng, -2.0, 2.0), x_neck + ring_r + wire + 0.5)
    pin_len = uniform(rng, 3.0, 6.0)
    parts.append(block((1.6, pin_len, 1.6), (x_pin, -head_half - pin_len / 2, 0.0), STEEL))
    centre = (x_pin, -head_half - pin_len - ring_r - wire / 2)
    parts += ring_parts(ring_r, ring_r, wire, wire, STEEL, Pose.at(*centre), segments=20)
    return parts


def make_grenade(rng: np.random.Generator) -> SceneObject:
    """Hand grenade: a fragmentation body filled with explosive, a fuse, lever, pin and ring.

    Bodies: a thin-walled steel sphere (M67 type), a thick cast-iron oval (pineapple type),
    a plastic or aluminium sphere lined with a layer of steel balls, or a steel or aluminium
    can (stun/blast type); each hollow and filled with a cast explosive. The fuse is an
    aluminium delay/detonator tube (delay column, dense primary charge) sitting in a well in
    the filler, screwed into the body through a neck, topped by a zinc or steel striker
    housing with a steel striker. The safety lever is a steel strip over the housing and down
    the side of the body; a steel pin through the housing carries the pull ring.
    """
    kind = pick(rng, ("sphere", "sphere", "pineapple", "ball", "can"))
    body, outer, filler, shape = _grenade_body(rng, kind)
    fuse, x_head_end, head_half = _fuse(rng, outer, filler, shape)
    parts = body + fuse
    parts += _lever_and_ring(rng, outer, x_head_end, head_half, shape, outer[0])
    return threat_article("grenade", parts)
