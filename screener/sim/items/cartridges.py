"""Cartridges: calibres, rounds (case, primer, powder, bullet) and shotgun shells.

A cartridge runs along +x from the base of its case.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from screener.sim.geometry import Cylinder, Ellipsoid, Part, Pose
from screener.sim.items.parts import insert, revolved, tube
from screener.sim.items.random_draws import pick, uniform


@dataclass(frozen=True)
class Calibre:
    """Cartridge dimensions (mm): case body radius and length, overall length, bullet radius.

    ``neck_radius`` > 0 makes a bottlenecked rifle case; ``rim_radius`` > 0 a rimmed one.
    """

    name: str
    case_radius: float
    case_length: float
    overall_length: float
    bullet_radius: float
    neck_radius: float = 0.0
    rim_radius: float = 0.0
    pointed: bool = False


CALIBRES: Mapping[str, Calibre] = MappingProxyType({
    "9x19": Calibre("9x19mm Parabellum", 4.96, 19.15, 29.7, 4.51),
    ".380": Calibre(".380 ACP", 4.76, 17.3, 25.0, 4.50),
    ".40": Calibre(".40 S&W", 5.38, 21.6, 28.8, 5.10),
    ".45": Calibre(".45 ACP", 6.04, 22.8, 32.4, 5.74),
    ".38": Calibre(".38 Special", 4.83, 29.3, 39.0, 4.55, rim_radius=5.56),
    ".357": Calibre(".357 Magnum", 4.83, 33.0, 40.0, 4.55, rim_radius=5.56),
    ".22": Calibre(".22 Long Rifle", 2.85, 15.6, 25.0, 2.85, rim_radius=3.45),
    "5.56": Calibre("5.56x45mm NATO", 4.79, 44.7, 57.4, 2.85, neck_radius=3.2, pointed=True),
    "7.62x39": Calibre("7.62x39mm", 5.63, 38.7, 56.0, 3.96, neck_radius=4.3, pointed=True),
})
PISTOL_CALIBRES = ("9x19", "9x19", "9x19", ".40", ".45", ".380")


def _case_profiles(cal: Calibre, rim_t: float, base_t: float
                   ) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Outer and inner (cavity) stations of a case, the inner nested span by span."""
    r, length = cal.case_radius, cal.case_length
    if cal.neck_radius <= 0:
        inner_r = min(cal.bullet_radius, r - 0.3)
        return [(rim_t, r), (length, r)], [(base_t, inner_r), (length, inner_r)]
    wall = 0.45
    xs, xn = 0.80 * length, 0.86 * length
    steps = [(xs + (xn - xs) * k / 3, r + (cal.neck_radius - r) * k / 3) for k in range(4)]
    outer = [(rim_t, r), *steps, (length, cal.neck_radius)]
    neck_in = min(cal.bullet_radius, cal.neck_radius - 0.3)
    inner = [(base_t, r - wall)] + [(x, rr - wall) for x, rr in steps[:-1]]
    inner += [(xn, neck_in), (length, neck_in)]
    return outer, inner


def _bullet_stations(cal: Calibre, x_seat: float, mouth_radius: float
                     ) -> list[tuple[float, float]]:
    """Bullet profile: a heel as wide as the case mouth inside it, the shank, then the nose."""
    exposed = cal.overall_length - cal.case_length
    nose = exposed * (0.85 if cal.pointed else 0.75)
    tip = cal.overall_length
    shank_end = tip - nose
    rb = cal.bullet_radius
    heel = min(rb, mouth_radius)
    stations = [(x_seat, heel), (cal.case_length, heel), (cal.case_length, rb), (shank_end, rb)]
    for k in range(1, 5):
        t = k / 4
        shape = (1 - t ** 1.5) ** 0.7 if cal.pointed else math.sqrt(max(1 - (0.9 * t) ** 2, 0))
        stations.append((shank_end + nose * t, max(rb * shape, 0.0)))
    return stations


def cartridge(cal: Calibre, pose: Pose | None = None, *, bullet: str = "lead",
              fired: bool = False, rim: bool = True) -> list[Part]:
    """One round along +x from the base of its case at x = 0 (then placed by ``pose``).

    Anatomy: a drawn brass case (solid head, thin walls; a bottleneck for rifle rounds, a rim
    for revolver and rimfire rounds), a copper primer set into the head (centrefire only),
    a propellant charge (nitrocellulose, loosely packed) and a lead bullet seated in the mouth.
    A fired case has neither bullet nor powder.
    """
    where = Pose() if pose is None else pose
    rim_t = 1.3 if (cal.rim_radius > 0 and rim) else 0.0
    base_t = min(3.0, 0.15 * cal.case_length)
    outer, inner = _case_profiles(cal, rim_t, base_t)
    parts: list[Part] = []
    if rim_t > 0:
        parts += revolved([(0.0, cal.rim_radius), (rim_t, cal.rim_radius)], "brass", where)
    parts += revolved(outer, "brass", where)
    parts += revolved(inner, "brass", where, negative=True)
    if cal.name != CALIBRES[".22"].name:
        primer = Cylinder(0.42 * cal.case_radius, 0.42 * cal.case_radius, 1.8)
        parts += insert(primer, Pose.at(0.9, ry=math.pi / 2).then(where), "copper", "brass")
    if fired:
        return parts
    exposed = cal.overall_length - cal.case_length
    x_seat = cal.case_length - min(0.55 * exposed + 0.5, cal.case_length - base_t - 3.0)
    powder_end = min(x_seat, inner[1][0])
    if powder_end - base_t > 0.5:
        parts += revolved([(base_t, inner[0][1]), (powder_end, inner[0][1])], "explosive",
                          where, density_scale=0.55)
    parts += revolved(_bullet_stations(cal, x_seat, inner[-1][1]), bullet, where)
    return parts


def shotshell(pose: Pose | None, rng: np.random.Generator) -> list[Part]:
    """A 12-gauge shotgun shell along +x: brass head, plastic hull, wad and shot (or a slug)."""
    where = Pose() if pose is None else pose
    length = pick(rng, (65.0, 70.0, 76.0))
    head = uniform(rng, 8.0, 16.0)
    parts = revolved([(0.0, 11.0), (1.5, 11.0)], "brass", where)
    parts += tube(head - 1.5, 10.3, 9.95, "brass", Pose.at(1.5 + (head - 1.5) / 2).then(where))
    parts += revolved([(1.5, 9.95), (head, 9.95)], "polyethylene", where)
    parts += revolved([(head, 10.3), (length, 10.3)], "polyethylene", where)
    cavity = [(8.0, 9.3), (length - 1.2, 9.3)]
    parts += revolved(cavity, "polyethylene", where, negative=True)
    parts += revolved([(8.0, 9.3), (11.5, 9.3)], "explosive", where, density_scale=0.5)
    parts += revolved([(11.5, 9.3), (24.0, 9.3)], "polyethylene", where, density_scale=0.4)
    load = pick(rng, ("buck", "bird", "slug"))
    if load == "slug":
        parts += revolved([(24.5, 8.9), (43.0, 8.9)], "lead", where)
    elif load == "bird":
        parts += revolved([(24.5, 9.3), (length - 3.0, 9.3)], "lead", where, density_scale=0.6)
    else:
        for layer in range(int((length - 28.0) // 8.6)):
            for k in range(3):
                phi = 2 * math.pi * k / 3 + layer * math.pi / 3
                centre = Pose.at(28.8 + 8.6 * layer, 5.0 * math.cos(phi), 5.0 * math.sin(phi))
                parts.append(Part(Ellipsoid(4.2, 4.2, 4.2), "lead", centre.then(where)))
    return parts
