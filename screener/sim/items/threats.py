"""Threat articles: handguns, gun parts, ammunition, knives, improvised explosive devices, grenades.

Each maker draws one article from a random generator and returns a
:class:`~screener.sim.geometry.SceneObject` labelled with its class from
:data:`screener.sim.labels.THREAT_CLASSES`. The article lies in its own frame: centred at the
origin, flat (longest extent along x, thinnest along z), in millimetres; the bag packer gives
it a pose. Articles are unions of convex parts that abut without overlapping; hollow pieces
(a barrel's bore, a cartridge case, a grenade body) are a solid with a negative part inside.
Dimensions, proportions, materials and which parts are present all vary with the generator,
and the same generator state always gives the same article.

Frames used while building (before :func:`~screener.sim.items.parts.lay_flat`): a gun lies on
its side with the muzzle towards +x and the top of the slide towards +y; a knife has its tip
towards +x and its spine towards +y; a cartridge runs along +x from the base of its case.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

import numpy as np

from screener.sim.geometry import Cylinder, Ellipsoid, Part, Pose, SceneObject, box
from screener.sim.items.parts import (
    Outline,
    Point,
    arc,
    bezier,
    bounds,
    convex_pieces,
    convex_prism,
    cylinder_between,
    hollow_box,
    insert,
    lay_flat,
    place,
    polygon_parts,
    revolved,
    ring_parts,
    rod,
    rounded,
    scale_outline,
    split_convex,
    stroke_parts,
    tube,
)

STEEL = "iron"
_T = TypeVar("_T")


# --------------------------------------------------------------------------- small helpers


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _pick(rng: np.random.Generator, options: Sequence[_T]) -> _T:
    return options[int(rng.integers(len(options)))]


def _chance(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


def _block(size: tuple[float, float, float], centre: tuple[float, float, float], material: str,
           *, density_scale: float = 1.0, negative: bool = False) -> Part:
    """An axis-aligned box of full ``size`` centred at ``centre``."""
    return Part(box(*size), material, Pose.at(*centre), density_scale, negative)


def _rect(x0: float, y0: float, x1: float, y1: float) -> Outline:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _article(label: str, parts: Sequence[Part]) -> SceneObject:
    return SceneObject(label, tuple(lay_flat(parts)), threat=True)


# --------------------------------------------------------------------------- cartridges


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
_PISTOL_CALIBRES = ("9x19", "9x19", "9x19", ".40", ".45", ".380")


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
    length = _pick(rng, (65.0, 70.0, 76.0))
    head = _u(rng, 8.0, 16.0)
    parts = revolved([(0.0, 11.0), (1.5, 11.0)], "brass", where)
    parts += tube(head - 1.5, 10.3, 9.95, "brass", Pose.at(1.5 + (head - 1.5) / 2).then(where))
    parts += revolved([(1.5, 9.95), (head, 9.95)], "polyethylene", where)
    parts += revolved([(head, 10.3), (length, 10.3)], "polyethylene", where)
    cavity = [(8.0, 9.3), (length - 1.2, 9.3)]
    parts += revolved(cavity, "polyethylene", where, negative=True)
    parts += revolved([(8.0, 9.3), (11.5, 9.3)], "explosive", where, density_scale=0.5)
    parts += revolved([(11.5, 9.3), (24.0, 9.3)], "polyethylene", where, density_scale=0.4)
    load = _pick(rng, ("buck", "bird", "slug"))
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


# --------------------------------------------------------------------------- magazines


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
            parts.append(cylinder_between(a, b, 0.5, STEEL))
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
    parts = [_block(size, (0.0, -length / 2, 0.0), body)]
    cavity_len = length - wall
    parts.append(_block((inner_x, cavity_len, inner_z), (0.0, -cavity_len / 2, 0.0), body,
                        negative=True))
    base_h = 5.0 if rng is None else _u(rng, 3.5, 7.0)
    parts.append(_block((size[0] + 2.5, base_h, size[2] + 2.5),
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
    parts.append(_block((inner_x - 0.4, follower_h, inner_z - 0.4),
                        (0.0, top_of_follower - follower_h / 2, 0.0), "pom"))
    spring_top = top_of_follower - follower_h - 0.6
    spring_bottom = -cavity_len + 0.6
    if spring_top - spring_bottom > 3.0:
        coils = max(int((spring_top - spring_bottom) / 6.0), 3)
        parts += _coil_spring(inner_x - 3.0, spring_top, spring_bottom, inner_z - 1.2, coils)
    return parts


# --------------------------------------------------------------------------- gun furniture


def _trigger_guard(x_front: float, x_back: float, y_top: float, depth: float, width: float,
                   thickness: float, material: str, lean: float) -> list[Part]:
    """A trigger guard hanging from the frame at ``y_top``: down at the front, back underneath.

    The front leg starts square on the frame; the bottom run ends square at ``x_back``.
    """
    y_bot = y_top - depth
    path = [(x_front, y_top), (x_front, y_top - 3.0), (x_front + lean, y_bot),
            (x_back, y_bot)]
    smooth = rounded(path, [0.0, 2.0, min(8.0, depth / 2), 0.0], steps=5)
    return stroke_parts(smooth, width, thickness, material)


def _trigger(x: float, y_top: float, length: float, width: float, thickness: float,
             material: str) -> list[Part]:
    """A curved trigger blade hanging from the frame, its finger face towards -x."""
    path = [(x, y_top), (x, y_top - 2.5), (x - 1.4, y_top - 0.45 * length),
            (x - 0.4, y_top - 0.8 * length), (x + 1.2, y_top - length)]
    return stroke_parts(rounded(path, 2.0, steps=3), width, thickness, material)


def _line_point(origin: Point, normal: Point, along: Point, offset: float, y: float) -> Point:
    """Where the line ``origin + offset*normal + t*along`` crosses height ``y``."""
    bx, by = origin[0] + normal[0] * offset, origin[1] + normal[1] * offset
    t = (y - by) / along[1]
    return bx + along[0] * t, y


# --------------------------------------------------------------------------- pistols


class _Pistol:
    """A self-loading pistol, drawn at random; coordinates: slide rear at x = 0, slide bottom
    at y = 0, muzzle towards +x."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.cal = CALIBRES[_pick(rng, _PISTOL_CALIBRES)]
        compact = self.cal.name == CALIBRES[".380"].name or _chance(rng, 0.3)
        self.length = _u(rng, 135.0, 165.0) if compact else _u(rng, 165.0, 205.0)
        self.polymer = _chance(rng, 0.55)
        self.frame_material = _pick(rng, ("pom", "nylon")) if self.polymer else _pick(
            rng, (STEEL, STEEL, "aluminium"))
        self.double_stack = _chance(rng, 0.7)
        self._slide_dims()
        self._frame_dims(compact)

    def _slide_dims(self) -> None:
        rng, cal = self.rng, self.cal
        self.top_wall = _u(rng, 3.0, 4.5)
        self.r_chamber = max(_u(rng, 6.5, 7.8), cal.case_radius + 1.8)
        self.r_barrel = min(_u(rng, 5.8, 7.0), self.r_chamber - 0.3)
        self.width = max(_u(rng, 21.0, 30.0), 2 * self.r_chamber + 6.0)
        self.side_wall = min(_u(rng, 3.0, 5.0), self.width / 2 - self.r_chamber - 0.3)
        self.front_wall = _u(rng, 6.0, 10.0)
        self.breech = self.length * _u(rng, 0.32, 0.42)
        self.chamber_len = cal.case_length + _u(rng, 5.0, 10.0)
        self.r_spring = _u(rng, 3.2, 4.5)
        self.r_guide = self.r_spring * _u(rng, 0.45, 0.6)
        self.bottom_wall = 1.2
        need = (self.top_wall + self.r_chamber + self.r_barrel + 2 * self.r_spring + 0.6
                + self.bottom_wall)
        self.height = max(_u(rng, 26.0, 34.0), need + 0.5)
        self.y_bore = self.height - self.top_wall - self.r_chamber
        self.y_spring = self.y_bore - self.r_barrel - self.r_spring - 0.3

    def _frame_dims(self, compact: bool) -> None:
        rng, cal = self.rng, self.cal
        self.frame_h = _u(rng, 11.0, 16.0)
        self.frame_w = _u(rng, 20.0, 26.0) if self.polymer else _u(rng, 18.0, 24.0)
        self.x_front = self.length - _u(rng, 6.0, 28.0)
        self.x_rear = _u(rng, -4.0, 3.0)
        self.grip_angle = math.radians(_u(rng, 14.0, 22.0))
        self.grip_height = (_u(rng, 62.0, 80.0) if compact else _u(rng, 78.0, 100.0))
        self.mag_x = cal.overall_length + 1.2 + 1.6
        diameter = 2 * cal.case_radius
        self.mag_z = (1.75 if self.double_stack else 1.0) * diameter + 0.4 + 1.6
        self.well_w = self.mag_x + 0.8
        self.well_z = self.mag_z + 0.8
        self.wall_front = _u(rng, 2.5, 4.5)
        self.wall_rear = _u(rng, 4.0, 9.0)
        if self.polymer:
            self.grip_z = self.well_z + 2 * _u(rng, 2.5, 4.0)
        else:
            self.grip_z = self.well_z + 2 * _u(rng, 1.2, 2.0)
        s, c = math.sin(self.grip_angle), math.cos(self.grip_angle)
        self.u = (-s, -c)
        self.n = (c, -s)
        grip_rear_top = self.x_rear + _u(rng, -3.0, 3.0)
        self.p0 = (grip_rear_top + (self.well_w / 2 + self.wall_rear) / c, -self.frame_h)
        self.y_bottom = -self.frame_h - self.grip_height

    # -- pieces

    def slide(self) -> list[Part]:
        """Slide: a steel box, hollow in front of the breech face where the barrel and recoil
        spring sit, with holes in the front wall, a striker channel and sights on top."""
        h, w, length = self.height, self.width, self.length
        parts = [_block((length, h, w), (length / 2, h / 2, 0.0), STEEL)]
        x0, x1 = self.breech, length - self.front_wall
        y0, y1 = self.bottom_wall, h - self.top_wall
        parts.append(_block((x1 - x0, y1 - y0, w - 2 * self.side_wall),
                            ((x0 + x1) / 2, (y0 + y1) / 2, 0.0), STEEL, negative=True))
        mid = length - self.front_wall / 2
        parts.append(rod(self.front_wall, self.r_barrel, STEEL, Pose.at(mid, self.y_bore),
                         negative=True))
        parts.append(rod(self.front_wall, self.r_guide, STEEL, Pose.at(mid, self.y_spring),
                         negative=True))
        parts.append(rod(self.breech - 8.0, 2.2, STEEL, Pose.at(self.breech / 2, self.y_bore),
                         negative=True))
        rng = self.rng
        parts += self._ejection_port() + self._serrations()
        front_h, rear_h = _u(rng, 3.5, 6.0), _u(rng, 4.0, 6.5)
        fx = length - _u(rng, 6.0, 12.0)
        parts.append(convex_prism([(fx - 8, h), (fx, h), (fx - 1.5, h + front_h),
                                   (fx - 6, h + front_h)], 3.2, STEEL))
        rx = _u(rng, 5.0, 12.0)
        parts.append(convex_prism([(rx, h), (rx + 9, h), (rx + 7.5, h + rear_h),
                                   (rx + 1, h + rear_h)], w * 0.75, STEEL))
        return parts

    def _ejection_port(self) -> list[Part]:
        """A window cut in the right side wall and the top of the slide over the chamber."""
        if not _chance(self.rng, 0.75):
            return []
        h, w, sw, tw = self.height, self.width, self.side_wall, self.top_wall
        length = self.cal.case_length + _u(self.rng, 8.0, 16.0)
        x = self.breech + 1.0 + length / 2
        y0 = self.y_bore - 2.0
        return [
            _block((length, h - tw - y0, sw), (x, (y0 + h - tw) / 2, w / 2 - sw / 2), STEEL,
                   negative=True),
            _block((length, tw, w / 2), (x, h - tw / 2, w / 4), STEEL, negative=True),
        ]

    def _serrations(self) -> list[Part]:
        """Grip grooves across both sides of the slide behind the breech face."""
        count = int(self.rng.integers(0, 12))
        pitch, depth = _u(self.rng, 2.0, 3.2), 0.7
        x0 = _u(self.rng, 3.0, 8.0)
        parts: list[Part] = []
        for k in range(count):
            x = x0 + k * pitch
            if x + pitch > self.breech - 4.0:
                break
            for side in (-1.0, 1.0):
                parts.append(_block((pitch * 0.5, self.height * 0.75, depth),
                                    (x, self.height * 0.5, side * (self.width - depth) / 2),
                                    STEEL, negative=True))
        return parts

    def barrel(self, chambered: bool) -> list[Part]:
        """Barrel: a steel tube, thicker over the chamber, rifled bore in front of it."""
        x0, length = self.breech, self.length
        lc, cal = self.chamber_len, self.cal
        front_len = length - x0 - lc
        parts = [
            rod(lc, self.r_chamber, STEEL, Pose.at(x0 + lc / 2, self.y_bore)),
            rod(front_len, self.r_barrel, STEEL, Pose.at(x0 + lc + front_len / 2, self.y_bore)),
        ]
        ch_len = cal.case_length + 0.3
        parts.append(rod(ch_len, cal.case_radius + 0.12, STEEL,
                         Pose.at(x0 + ch_len / 2, self.y_bore), negative=True))
        bore_len = length - x0 - ch_len
        parts.append(rod(bore_len, cal.bullet_radius + 0.05, STEEL,
                         Pose.at(x0 + ch_len + bore_len / 2, self.y_bore), negative=True))
        if chambered:
            parts += cartridge(cal, Pose.at(x0 + 0.1, self.y_bore))
        return parts

    def recoil_spring(self) -> list[Part]:
        """Recoil spring (a loosely wound steel tube) around its guide rod, under the barrel."""
        x0 = self.breech + self.chamber_len + 2.0
        x1 = self.length - self.front_wall
        spring = tube(x1 - x0, self.r_spring, self.r_guide, STEEL,
                      Pose.at((x0 + x1) / 2, self.y_spring), density_scale=0.3)
        guide = rod(self.length - x0, self.r_guide, STEEL,
                    Pose.at((x0 + self.length) / 2, self.y_spring))
        return [*spring, guide]

    def _grip_outline(self) -> Outline:
        p0, n, u, yb, top = self.p0, self.n, self.u, self.y_bottom, -self.frame_h
        front = self.well_w / 2 + self.wall_front
        rear = -(self.well_w / 2 + self.wall_rear)
        ch = min(_u(self.rng, 2.0, 5.0), 0.9 * self.wall_front)
        bulge = _u(self.rng, 0.0, 2.5)
        tf = _line_point(p0, n, u, front, top)
        bf1 = _line_point(p0, n, u, front, yb + ch)
        bf = _line_point(p0, n, u, front, yb)
        br = _line_point(p0, n, u, rear, yb)
        br1 = _line_point(p0, n, u, rear, yb + ch)
        mid = _line_point(p0, n, u, rear - bulge, (top + yb) / 2)
        tr = _line_point(p0, n, u, rear, top)
        return [tf, bf1, (bf[0] - ch, yb), (br[0] + ch, yb), br1, mid, tr]

    def _well(self) -> Outline:
        p0, n, u = self.p0, self.n, self.u
        half = self.well_w / 2
        return [_line_point(p0, n, u, half, -self.frame_h),
                _line_point(p0, n, u, half, self.y_bottom),
                _line_point(p0, n, u, -half, self.y_bottom),
                _line_point(p0, n, u, -half, -self.frame_h)]

    def frame(self) -> list[Part]:
        """Frame: dust cover and receiver under the slide, the grip raked back behind the
        trigger with the magazine well, the trigger guard and trigger; a polymer frame has steel
        rail inserts, a metal one a hammer and grip scales."""
        rng, mat = self.rng, self.frame_material
        grip = self._grip_outline()
        tr = grip[-1]
        tf = grip[0]
        hf = self.frame_h
        x_bottom_rear = min(tr[0], self.x_rear)
        tail = _u(rng, 2.0, 6.0) if self.polymer else _u(rng, 5.0, 14.0)
        ch = _u(rng, 1.5, 4.0)
        outline = [(self.x_front, 0.0), (self.x_rear, 0.0),
                   (x_bottom_rear - tail, -0.45 * hf), (x_bottom_rear, -hf),
                   (self.x_front - ch, -hf), (self.x_front, -hf + ch)]
        parts = [convex_prism(outline, self.frame_w, mat)]
        if self.polymer:
            parts += polygon_parts(grip, self.grip_z, mat)
            parts += polygon_parts(self._well(), self.well_z, mat, negative=True)
        else:
            parts += self._metal_grip(grip)
        guard_w = _u(rng, 3.5, 5.5)
        depth = _u(rng, 18.0, 24.0)
        opening = _u(rng, 24.0, 32.0)
        x_back = tf[0] - (depth - guard_w / 2) * math.tan(self.grip_angle) + 0.4
        x_front_leg = min(tf[0] + opening, self.x_front - ch - guard_w / 2 - 1.0)
        guard_mat = mat if mat != "aluminium" or _chance(rng, 0.5) else STEEL
        parts += _trigger_guard(x_front_leg, x_back, -hf, depth, guard_w,
                                _u(rng, 7.0, 11.0), guard_mat, _u(rng, -1.0, 4.0))
        x_t = x_back + (x_front_leg - x_back) * _u(rng, 0.45, 0.6)
        t_len = depth - guard_w / 2 - 4.0
        parts += _trigger(x_t, -hf, t_len, _u(rng, 3.0, 4.5), _u(rng, 4.5, 7.0),
                          _pick(rng, (STEEL, mat)))
        if self.polymer:
            parts += self._rail_inserts(x_t)
        else:
            parts += self._hammer()
        if _chance(rng, 0.6):
            lever = _rect(x_t - 4.0, -0.6 * hf, x_t + _u(rng, 14.0, 28.0), -1.5)
            parts.append(convex_prism(lever, 1.2, STEEL, Pose.at(z=self.frame_w / 2 + 0.6)))
        return parts

    def _metal_grip(self, grip: Outline) -> list[Part]:
        rng = self.rng
        parts = polygon_parts(grip, self.grip_z, self.frame_material)
        parts += polygon_parts(self._well(), self.well_z, self.frame_material, negative=True)
        scale_mat = _pick(rng, ("wood", "rubber", "pom", "nylon", "wood"))
        scale_t = _u(rng, 2.5, 5.5)
        panel = scale_outline(grip, 0.9)
        centre = np.mean(np.asarray(panel), axis=0)
        for side in (-1.0, 1.0):
            z = side * (self.grip_z / 2 + scale_t / 2)
            parts += polygon_parts(panel, scale_t, scale_mat, Pose.at(z=z))
            screw = Cylinder(2.2, 2.2, scale_t)
            parts += insert(screw, Pose.at(float(centre[0]), float(centre[1]), z), STEEL,
                            scale_mat)
        return parts

    def _rail_inserts(self, x_trigger: float) -> list[Part]:
        rng, hf = self.rng, self.frame_h
        parts: list[Part] = []
        for x0, length in ((max(self.x_rear, 0.0) + 2.0, _u(rng, 10.0, 16.0)),
                           (x_trigger - 6.0, _u(rng, 12.0, 20.0))):
            h = min(_u(rng, 5.0, 8.0), hf - 2.0)
            shape = box(length, h, self.frame_w * 0.75)
            parts += insert(shape, Pose.at(x0 + length / 2, -h / 2), STEEL, self.frame_material)
        return parts

    def _hammer(self) -> list[Part]:
        rng = self.rng
        hx = _u(rng, 9.0, 14.0)
        top = self.height * _u(rng, 0.45, 0.65)
        outline = [(-0.6, 0.0), (-0.6, top * 0.8), (-hx * 0.45, top),
                   (-hx, top * 0.85), (-hx + 2.0, 0.0)]
        return [convex_prism(outline, _u(rng, 6.0, 9.0), STEEL)]

    def _mag_placement(self) -> tuple[float, float, float]:
        """Top centre (x, y) and length of a magazine seated in the well."""
        s, c = math.sin(self.grip_angle), math.cos(self.grip_angle)
        d0 = s * self.mag_x / (2 * c) + 0.3
        qx, qy = self.p0[0] + self.u[0] * d0, self.p0[1] + self.u[1] * d0
        return qx, qy, (qy - self.y_bottom + s * (self.mag_x / 2 + 1.25) + 0.4) / c

    def magazine(self, rounds: int, seated: bool = True) -> list[Part]:
        """The magazine in the well, its top just under the frame, base plate below the grip
        (or, not ``seated``, on its own with its top centre at the origin)."""
        qx, qy, length = self._mag_placement()
        mag = magazine(self.cal, rounds, double_stack=self.double_stack, length=length,
                       base=_pick(self.rng, ("pom", "nylon", STEEL)), rng=self.rng)
        if not seated:
            return mag
        return place(mag, Pose.at(qx, qy, 0.0, rz=-self.grip_angle))

    def components(self) -> dict[str, list[Part]]:
        rng = self.rng
        loaded = _chance(rng, 0.75)
        rounds = int(rng.integers(1, 18)) if loaded else 0
        chambered = loaded and _chance(rng, 0.5)
        return {
            "slide": self.slide(),
            "barrel": self.barrel(chambered) + self.recoil_spring(),
            "frame": self.frame(),
            "magazine": self.magazine(rounds),
        }


# --------------------------------------------------------------------------- revolvers


class _Revolver:
    """A double-action revolver; coordinates: cylinder axis along x at y = 0, rear face at
    x = 0, muzzle towards +x."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.cal = CALIBRES[_pick(rng, (".38", ".38", ".357", ".22"))]
        self.frame_material = STEEL if _chance(rng, 0.8) else "aluminium"
        self.chambers = 8 if self.cal is CALIBRES[".22"] else _pick(rng, (5, 6, 6))
        self.r_chamber = self.cal.case_radius + 0.1
        gap = 2 * self.r_chamber + 1.2
        self.r_pitch = gap / (2 * math.sin(math.pi / self.chambers)) + _u(rng, 0.0, 1.2)
        self.r_cyl = self.r_pitch + self.r_chamber + _u(rng, 1.6, 2.6)
        self.len_cyl = self.cal.overall_length + _u(rng, 0.6, 3.0)
        self.barrel_len = _u(rng, 48.0, 115.0)

    def cylinder(self, load: float) -> list[Part]:
        """The cylinder: a steel drum bored through with 5-8 chambers, some holding rounds
        (live, or fired cases)."""
        lc = self.len_cyl
        parts = [rod(lc, self.r_cyl, STEEL, Pose.at(lc / 2))]
        for k in range(self.chambers):
            phi = 2 * math.pi * k / self.chambers
            y, z = self.r_pitch * math.cos(phi), self.r_pitch * math.sin(phi)
            parts.append(rod(lc, self.r_chamber, STEEL, Pose.at(lc / 2, y, z), negative=True))
            if _chance(self.rng, load):
                fired = _chance(self.rng, 0.2)
                parts += cartridge(self.cal, Pose.at(0.3, y, z), fired=fired, rim=False)
        return parts

    def parts(self) -> dict[str, list[Part]]:
        rng, mat = self.rng, self.frame_material
        y_top = self.r_cyl + 0.5
        y_bot = -y_top
        xw0, xw1 = -0.5, self.len_cyl + 0.5
        tb, lf, lr = _u(rng, 5.0, 9.0), _u(rng, 10.0, 16.0), _u(rng, 6.0, 10.0)
        y_fb = y_bot - tb
        x_f, x_r = xw1 + lf, xw0 - lr
        hx, y_h = _u(rng, 10.0, 15.0), y_top - _u(rng, 8.0, 13.0)
        x_gtr = x_r - hx - _u(rng, 0.0, 6.0)
        ch = _u(rng, 1.5, 3.5)
        outline = [(x_f, y_top), (xw1, y_top), (xw1, y_bot), (xw0, y_bot), (xw0, y_top),
                   (x_r, y_top), (x_r, y_h), (x_r - hx, y_h), (x_gtr, y_fb),
                   (x_f - ch, y_fb), (x_f, y_fb + ch)]
        z_frame = _u(rng, 24.0, 32.0)
        ts = _u(rng, 5.0, 8.0)
        frame = polygon_parts(outline, z_frame, mat)
        frame.append(_block((x_f - x_r, ts, _u(rng, 13.0, 19.0)),
                            ((x_f + x_r) / 2, y_top + ts / 2, 0.0), mat))
        frame += self._hammer(x_r, hx, y_h, y_top + ts)
        grip, grip_front, angle = self._grip(x_gtr, y_fb)
        frame += grip
        frame += self._guard(grip_front, angle, y_fb, x_f - ch)
        return {
            "frame": frame,
            "cylinder": self.cylinder(_u(rng, 0.0, 1.0) if _chance(rng, 0.8) else 0.0),
            "barrel": self._barrel(x_f),
        }

    def _hammer(self, x_r: float, hx: float, y_h: float, y_strap: float) -> list[Part]:
        rng = self.rng
        spur = _u(rng, 3.0, 8.0)
        outline = [(x_r, y_h), (x_r, y_strap - 1.5), (x_r - 0.5 * hx, y_strap + _u(rng, 2.0, 5.0)),
                   (x_r - hx - spur, y_strap + _u(rng, 3.0, 7.0)), (x_r - hx - 0.5 * spur,
                                                                    y_strap - 1.0),
                   (x_r - hx, y_h + 3.0), (x_r - hx, y_h)]
        return polygon_parts(outline, _u(rng, 6.0, 9.0), STEEL)

    def _grip(self, x_gtr: float, y_fb: float) -> tuple[list[Part], Point, float]:
        """Grip: a steel grip frame strip between two wooden or rubber panels, round butt."""
        rng = self.rng
        angle = math.radians(_u(rng, 16.0, 30.0))
        width, height = _u(rng, 30.0, 40.0), _u(rng, 55.0, 80.0)
        u = (-math.sin(angle), -math.cos(angle))
        tf = (x_gtr + width, y_fb)
        bf = (tf[0] + u[0] * height / math.cos(angle), y_fb - height)
        br = (x_gtr + u[0] * height / math.cos(angle), y_fb - height)
        swell = _u(rng, 2.0, 6.0)
        mid_rear = ((x_gtr + br[0]) / 2 - swell, y_fb - height / 2)
        rear = bezier((x_gtr, y_fb), (mid_rear[0] - swell, mid_rear[1] + 0.25 * height), br, 6)
        butt = rounded([*rear, bf, tf], [0.0] * 5 + [width * 0.35, width * 0.45, 0.0],
                       steps=5, closed=True)
        z_core = _u(rng, 7.0, 11.0)
        strip = [(x_gtr + 3.0, y_fb), (tf[0] - 3.0, y_fb),
                 (tf[0] - 3.0 + u[0] * 0.8 * height / math.cos(angle), y_fb - 0.8 * height),
                 (x_gtr + 3.0 + u[0] * 0.8 * height / math.cos(angle), y_fb - 0.8 * height)]
        parts = polygon_parts(strip, z_core, self.frame_material)
        panel_mat = _pick(rng, ("wood", "wood", "rubber", "nylon"))
        panel_t = _u(rng, 4.0, 7.0)
        centre = np.mean(np.asarray(strip), axis=0)
        for side in (-1.0, 1.0):
            z = side * (z_core + panel_t) / 2
            parts += polygon_parts(butt, panel_t, panel_mat, Pose.at(z=z))
            parts += insert(Cylinder(2.5, 2.5, panel_t),
                            Pose.at(float(centre[0]), float(centre[1]), z), STEEL, panel_mat)
        return parts, tf, angle

    def _guard(self, grip_front: Point, angle: float, y_fb: float, x_limit: float
               ) -> list[Part]:
        rng = self.rng
        width, depth = _u(rng, 3.5, 5.0), _u(rng, 17.0, 23.0)
        x_back = grip_front[0] - (depth - width / 2) * math.tan(angle) + 0.4
        x_front = min(x_back + _u(rng, 24.0, 32.0), x_limit - width / 2 - 0.5)
        parts = _trigger_guard(x_front, x_back, y_fb, depth, width, _u(rng, 7.0, 10.0),
                               self.frame_material, _u(rng, -1.0, 2.0))
        x_t = x_back + (x_front - x_back) * _u(rng, 0.5, 0.65)
        parts += _trigger(x_t, y_fb, depth - width / 2 - 4.0, _u(rng, 3.5, 5.5),
                          _u(rng, 5.0, 7.0), STEEL)
        return parts

    def _barrel(self, x_f: float) -> list[Part]:
        """Barrel screwed into the frame in line with the top chamber; ejector rod or shroud
        under it, front sight (and sometimes a rib) on top."""
        rng, length = self.rng, self.barrel_len
        r_rod = _u(rng, 2.5, 3.2)
        r_b = min(_u(rng, 7.0, 9.0), self.r_pitch - r_rod - 0.6)
        parts = tube(length, r_b, self.cal.bullet_radius + 0.05, STEEL,
                     Pose.at(x_f + length / 2, self.r_pitch))
        ej_len = min(length - 4.0, self.len_cyl * _u(rng, 0.8, 1.0))
        y_under = self.r_pitch - r_b
        if _chance(rng, 0.4):
            lug_h = y_under + r_rod + 1.5
            parts.append(_block((ej_len, lug_h, 2 * r_rod + 3.0),
                                (x_f + ej_len / 2, y_under - lug_h / 2, 0.0), STEEL))
        else:
            parts.append(rod(ej_len, r_rod, STEEL, Pose.at(x_f + ej_len / 2)))
        y_sight = self.r_pitch + r_b
        if _chance(rng, 0.3):
            rib_h = _u(rng, 2.5, 5.0)
            parts.append(_block((length, rib_h, _u(rng, 5.0, 9.0)),
                                (x_f + length / 2, y_sight + rib_h / 2, 0.0), STEEL))
            y_sight += rib_h
        x_s = x_f + length - _u(rng, 3.0, 8.0)
        sight_h = _u(rng, 3.5, 7.0)
        parts.append(convex_prism([(x_s - 10.0, y_sight), (x_s, y_sight), (x_s, y_sight + sight_h),
                                   (x_s - 4.0, y_sight + sight_h)], 3.0, STEEL))
        return parts


# --------------------------------------------------------------------------- gun makers


def make_handgun(rng: np.random.Generator) -> SceneObject:
    """Handgun: a self-loading pistol or a revolver, compact to full size (about 140-250 mm).

    A pistol is a steel slide (a box hollowed in front of the breech face, sights on top)
    riding on a frame; inside the slide a steel barrel with a thick chamber and a rifled bore,
    and a recoil spring on its guide rod. The frame is polymer (acetal or nylon, with steel
    rail inserts) or metal (steel or aluminium, with a hammer and grip scales of wood,
    rubber or plastic held by steel screws). The grip is raked back 14-22 degrees behind the
    trigger and holds the magazine well; a ring-shaped trigger guard hangs in front of it with
    a curved trigger inside. A magazine (steel tube, base plate, follower, coil spring) sits in
    the well, usually with cartridges (brass cases, lead bullets) in one or two columns, and
    sometimes a round is chambered.

    A revolver is a steel or aluminium frame with a window for the cylinder (five to eight
    chambers bored through a steel drum, some loaded with live rounds or fired cases), a top
    strap over it, a barrel in line with the top chamber, an ejector rod or shroud under the
    barrel, a hammer with a spur, a trigger guard and trigger, and a round-butted grip of two
    wooden or rubber panels around a steel grip frame.
    """
    groups = _Revolver(rng).parts() if _chance(rng, 0.3) else _Pistol(rng).components()
    return _article("handgun", [p for group in groups.values() for p in group])


def make_gun_part(rng: np.random.Generator) -> SceneObject:
    """Gun part: one major component of a handgun on its own.

    One of: a pistol slide (steel box hollowed in front of the breech, sights on top),
    sometimes with its barrel and recoil spring inside; a bare barrel (thick chamber, bore);
    a pistol frame/receiver with grip, trigger guard and trigger (polymer with steel inserts,
    or metal with grip scales); a magazine, empty or partly loaded; or a revolver cylinder
    with its chambers, empty or loaded.
    """
    kind = _pick(rng, ("slide", "slide_assembly", "barrel", "frame", "magazine", "cylinder"))
    if kind == "cylinder":
        revolver = _Revolver(rng)
        return _article("gun_part", revolver.cylinder(_u(rng, 0.0, 1.0)))
    pistol = _Pistol(rng)
    if kind == "slide":
        parts = pistol.slide()
    elif kind == "slide_assembly":
        parts = pistol.slide() + pistol.barrel(False) + pistol.recoil_spring()
    elif kind == "barrel":
        parts = pistol.barrel(False)
    elif kind == "frame":
        parts = pistol.frame()
    else:
        rounds = int(rng.integers(0, 16)) if _chance(rng, 0.5) else 0
        parts = pistol.magazine(rounds, seated=False)
    return _article("gun_part", parts)


# --------------------------------------------------------------------------- ammunition


def _scatter(rng: np.random.Generator, count: int, cell: float) -> list[tuple[float, float]]:
    """``count`` points on a jittered grid of ``cell`` mm: any two are at least ``cell`` apart
    along one axis minus the jitter, so items shorter than ``cell * 0.8`` never touch."""
    cols = max(math.ceil(math.sqrt(count * _u(rng, 0.7, 1.4))), 1)
    cells = rng.permutation(cols * (count // cols + 2))[:count]
    return [(float(c % cols) * cell + _u(rng, -0.1, 0.1) * cell,
             float(c // cols) * cell + _u(rng, -0.1, 0.1) * cell) for c in cells]


def _loose_rounds(rng: np.random.Generator) -> list[Part]:
    cal = CALIBRES[_pick(rng, tuple(CALIBRES))]
    count = int(rng.integers(1, 11 if cal.overall_length < 45.0 else 7))
    cell = cal.overall_length * 1.25
    parts: list[Part] = []
    for x, y in _scatter(rng, count, cell):
        angle = _u(rng, 0.0, 2 * math.pi)
        roll = _u(rng, 0.0, 2 * math.pi)
        half = cal.overall_length / 2
        pose = Pose.at(-half, rx=roll).then(Pose.at(x, y, 0.0, rz=angle))
        parts += cartridge(cal, pose, fired=_chance(rng, 0.1))
    return parts


def _ammo_box(rng: np.random.Generator) -> list[Part]:
    """A carton of rounds: upright in a grid, or lying in rows."""
    cal = CALIBRES[_pick(rng, ("9x19", "9x19", ".45", ".40", ".38", ".22", "5.56"))]
    d = 2 * max(cal.case_radius, cal.rim_radius) + _u(rng, 0.8, 2.0)
    upright = _chance(rng, 0.6)
    if upright:
        nx, ny = int(rng.integers(4, 11)), int(rng.integers(2, 6))
        inner = (nx * d, ny * d, cal.overall_length + 1.0)
    else:
        nx, ny = int(rng.integers(1, 3)), int(rng.integers(4, 11))
        inner = (nx * (cal.overall_length + 1.0), ny * d, d)
    wall = _u(rng, 0.6, 1.2)
    material = _pick(rng, ("paper", "paper", "polyethylene"))
    size = (inner[0] + 2 * wall, inner[1] + 2 * wall, inner[2] + 2 * wall)
    parts = hollow_box(size, wall, material)
    fill = _u(rng, 0.4, 1.0)
    for i in range(nx):
        for j in range(ny):
            if not _chance(rng, fill):
                continue
            if upright:
                x = -inner[0] / 2 + (i + 0.5) * d
                y = -inner[1] / 2 + (j + 0.5) * d
                pose = Pose.at(x, y, -inner[2] / 2 + 0.3, ry=-math.pi / 2)
            else:
                x = -inner[0] / 2 + i * (cal.overall_length + 1.0) + 0.5
                y = -inner[1] / 2 + (j + 0.5) * d
                pose = Pose.at(x, y, 0.0)
            parts += cartridge(cal, pose)
    return parts


def _loaded_magazine(rng: np.random.Generator) -> list[Part]:
    if _chance(rng, 0.6):
        cal = CALIBRES[_pick(rng, _PISTOL_CALIBRES)]
        double = _chance(rng, 0.7)
        length = _u(rng, 70.0, 125.0)
        body = STEEL
    else:
        cal = CALIBRES[_pick(rng, ("5.56", "7.62x39"))]
        double = True
        length = _u(rng, 110.0, 190.0)
        body = _pick(rng, (STEEL, "aluminium"))
    rounds = int(rng.integers(3, 40))
    return magazine(cal, rounds, double_stack=double, length=length, body=body,
                    base=_pick(rng, ("pom", "nylon", STEEL)), rng=rng)


def _shotshells(rng: np.random.Generator) -> list[Part]:
    parts: list[Part] = []
    if _chance(rng, 0.5):
        for k in range(int(rng.integers(1, 9))):
            parts += shotshell(Pose.at(0.0, k * 22.4, 0.0), rng)
    else:
        for x, y in _scatter(rng, int(rng.integers(1, 4)), 95.0):
            parts += shotshell(Pose.at(-35.0).then(Pose.at(x, y, 0.0,
                                                              rz=_u(rng, 0, 2 * math.pi))), rng)
    return parts


def make_ammunition(rng: np.random.Generator) -> SceneObject:
    """Ammunition: loose rounds, a carton of rounds, a loaded magazine, or shotgun shells.

    A cartridge is a drawn brass case (thick solid head with a copper primer cup set in it,
    thin walls; straight for pistol rounds, bottlenecked for rifle rounds, rimmed for revolver
    and .22 rimfire rounds) holding a loosely packed propellant and a lead bullet seated in
    its mouth, round-nosed (pistol) or pointed (rifle). Loose rounds lie scattered, some
    fired cases among them; a carton (paperboard or plastic) holds 8-50 rounds upright in a
    grid or lying in rows; a magazine (steel or aluminium box, follower, coil spring, base
    plate) holds a single or staggered column; a 12-gauge shell is a plastic hull on a brass
    head with a plastic wad and lead shot, buckshot balls or a slug.
    """
    kind = _pick(rng, ("loose", "loose", "box", "magazine", "magazine", "shells"))
    if kind == "loose":
        parts = _loose_rounds(rng)
    elif kind == "box":
        parts = _ammo_box(rng)
    elif kind == "magazine":
        parts = _loaded_magazine(rng)
    else:
        parts = _shotshells(rng)
    return _article("ammunition", parts)


# --------------------------------------------------------------------------- knives

_HANDLE_PLASTICS = ("pom", "nylon", "polyethylene", "abs", "polycarbonate", "rubber")


def _blade_outline(kind: str, length: float, height: float, rng: np.random.Generator
                   ) -> Outline:
    """A blade from the heel (x = 0) to the tip (x = length); spine at y = 0, edge at -height.

    Kinds: chef, paring, santoku, boning, bread (serrated edge), drop, tanto, clip (concave
    clip, optionally a saw-backed spine).
    """
    h, lb = height, length
    if kind == "tanto":
        x_t = lb * _u(rng, 0.75, 0.88)
        tip = -h * _u(rng, 0.05, 0.2)
        return [(0.0, -h), (x_t, -h), (lb, tip), (lb * 0.97, 0.0), (0.0, 0.0)]
    tip_height = {"chef": (0.6, 0.8), "paring": (0.4, 0.65), "santoku": (0.85, 0.95),
                  "boning": (0.2, 0.45), "bread": (0.45, 0.6), "drop": (0.35, 0.55),
                  "clip": (0.3, 0.5)}[kind]
    y_tip = -h * _u(rng, *tip_height)
    edge_ctrl = (lb * _u(rng, 0.62, 0.85), -h)
    x_belly = min(lb * _u(rng, 0.3, 0.5), edge_ctrl[0] - 5.0)
    if kind == "bread":
        edge = _serrated((0.0, -h), (lb * 0.88, -h), _u(rng, 3.0, 5.0), _u(rng, 0.8, 1.4))
        edge += bezier((lb * 0.88, -h), (lb, -h), (lb, y_tip), 5)[1:]
    else:
        edge = [(0.0, -h), *bezier((x_belly, -h), edge_ctrl, (lb, y_tip), 8)]
    spine_ctrl = (lb * _u(rng, 0.6, 0.8), 0.0)
    x_spine = min(lb * _u(rng, 0.3, 0.55), spine_ctrl[0] - 5.0)
    if kind == "clip":
        x_clip = lb * _u(rng, 0.55, 0.7)
        sag = -y_tip * _u(rng, 0.2, 0.45)
        clip = bezier((lb, y_tip), ((lb + x_clip) / 2, y_tip / 2 - sag), (x_clip, 0.0), 6)[1:]
        spine = clip + _saw_back(rng, x_clip, lb) + [(0.0, 0.0)]
    else:
        spine = bezier((lb, y_tip), spine_ctrl, (x_spine, 0.0), 8)[1:]
        spine += [(0.0, 0.0)]
    return edge + spine


def _serrated(a: Point, b: Point, pitch: float, depth: float) -> Outline:
    """Scallops along the straight edge from ``a`` to ``b`` (the blade above it)."""
    count = max(int(math.dist(a, b) / pitch), 1)
    pts: Outline = [a]
    for k in range(count):
        t0, t1 = k / count, (k + 1) / count
        mid = (t0 + t1) / 2
        pts.append((a[0] + (b[0] - a[0]) * mid, a[1] + depth))
        pts.append((a[0] + (b[0] - a[0]) * t1, a[1]))
    return pts


def _saw_back(rng: np.random.Generator, x_clip: float, length: float) -> Outline:
    """Saw teeth on the spine between x_clip and the heel (right to left), or none."""
    if not _chance(rng, 0.35):
        return []
    x1, x0 = x_clip - 0.05 * length, x_clip - _u(rng, 0.25, 0.4) * length
    pitch = _u(rng, 4.0, 6.0)
    teeth: Outline = []
    x = x1
    while x - pitch > x0:
        teeth += [(x, 0.0), (x - 0.6 * pitch, _u(rng, 2.0, 3.0))]
        x -= pitch
    return [*teeth, (x, 0.0)]


def _blade_parts(outline: Outline, height: float, thickness: float, material: str,
                 bevel: float = 0.45) -> list[Part]:
    """Blade prisms: the spine band full thickness, the ground edge band thinner."""
    parts: list[Part] = []
    for piece in convex_pieces(outline):
        above, below = split_convex(piece, (0.0, -height * bevel), (1.0, 0.0))
        if above:
            parts.append(convex_prism(above, thickness, material))
        if below:
            parts.append(convex_prism(below, 0.5 * thickness, material))
    return parts


def _handle_outline(x_front: float, length: float, y_top: float, height: float,
                    rng: np.random.Generator) -> Outline:
    """A slab handle outline, front edge square at ``x_front``, bellied, with a rounded butt."""
    belly = height * _u(rng, 0.0, 0.12)
    flare = height * _u(rng, 0.0, 0.15)
    x_mid, x_end = x_front - 0.5 * length, x_front - length
    pts = [(x_front, y_top), (x_front, y_top - height), (x_mid, y_top - height - belly),
           (x_end, y_top - height - flare), (x_end, y_top + flare * 0.5),
           (x_mid, y_top + belly * 0.3)]
    return rounded(pts, [0.0, 0.0, 0.0, height * 0.3, height * 0.3, 0.0], steps=3, closed=True)


def _scaled_handle(x_front: float, length: float, y_top: float, height: float,
                   tang_t: float, rng: np.random.Generator) -> list[Part]:
    """Full tang: a steel tang the shape of the handle between two scales held by rivets."""
    outline = _handle_outline(x_front, length, y_top, height, rng)
    parts = polygon_parts(outline, tang_t, STEEL)
    scale_mat = _pick(rng, ("wood", "wood", "pom", "nylon", "fr4", "polycarbonate"))
    scale_t = _u(rng, 3.5, 7.0)
    rivet_mat = _pick(rng, ("brass", STEEL, "aluminium", "copper"))
    rivets = int(rng.integers(2, 4))
    r = _u(rng, 1.8, 2.8)
    for side in (-1.0, 1.0):
        z = side * (tang_t + scale_t) / 2
        parts += polygon_parts(outline, scale_t, scale_mat, Pose.at(z=z))
        for k in range(rivets):
            x = x_front - length * (0.18 + 0.62 * k / (rivets - 1))
            parts += insert(Cylinder(r, r, scale_t), Pose.at(x, y_top - height / 2, z),
                            rivet_mat, scale_mat)
    return parts


def _moulded_handle(x_front: float, length: float, y_top: float, height: float,
                    tang_t: float, tang_mat: str, material: str,
                    rng: np.random.Generator) -> list[Part]:
    """A moulded slab handle with a narrower hidden tang inside it."""
    outline = _handle_outline(x_front, length, y_top, height, rng)
    thick = _u(rng, 13.0, 22.0)
    parts = polygon_parts(outline, thick, material)
    tang_len = length * _u(rng, 0.45, 0.85)
    tang_h = height * _u(rng, 0.3, 0.6)
    y_c = y_top - height / 2
    shape = box(tang_len, tang_h, tang_t)
    parts += insert(shape, Pose.at(x_front - tang_len / 2, y_c), tang_mat, material)
    return parts


def _round_handle(x_front: float, y_c: float, segments: Sequence[tuple[float, str]],
                  ry: float, rz: float, tang: tuple[float, float, float]) -> list[Part]:
    """A round grip along -x from ``x_front``: slices (length, material), each holding its
    length of a hidden tang (length, height, thickness) while the tang lasts."""
    parts: list[Part] = []
    x = x_front
    tang_end = x_front - tang[0]
    for seg_len, material in segments:
        mid = x - seg_len / 2
        parts.append(rod(seg_len, rz, material, Pose.at(mid, y_c), radius2=ry))
        inside = max(min(x, x_front) - max(x - seg_len, tang_end), 0.0)
        if inside > 0.05:
            piece = box(inside, tang[1], tang[2])
            parts += insert(piece, Pose.at(x - inside / 2, y_c), STEEL, material)
        x -= seg_len
    return parts


def _kitchen_knife(rng: np.random.Generator) -> list[Part]:
    kind = _pick(rng, ("chef", "chef", "paring", "santoku", "boning", "bread"))
    length = {"chef": (150.0, 215.0), "paring": (70.0, 100.0), "santoku": (130.0, 180.0),
              "boning": (120.0, 160.0), "bread": (180.0, 215.0)}[kind]
    lb = _u(rng, *length)
    ratio = {"chef": (0.2, 0.27), "paring": (0.18, 0.26), "santoku": (0.25, 0.32),
             "boning": (0.12, 0.17), "bread": (0.13, 0.17)}[kind]
    h = lb * _u(rng, *ratio)
    t = _u(rng, 1.4, 2.6)
    parts = _blade_parts(_blade_outline(kind, lb, h, rng), h, t, STEEL)
    handle_len = _u(rng, 95.0, 125.0) if lb > 110 else _u(rng, 75.0, 100.0)
    handle_h = min(_u(rng, 17.0, 25.0), max(h, 16.0))
    y_top = _u(rng, -1.0, 2.5)
    x_front = 0.0
    if _chance(rng, 0.5):
        bol = _u(rng, 6.0, 14.0)
        bol_outline = [(0.0, min(y_top, 0.0)), (0.0, -h * 0.98), (-bol, y_top - handle_h),
                       (-bol, y_top)]
        parts.append(convex_prism(bol_outline, _u(rng, 8.0, 13.0), STEEL))
        x_front = -bol
    if _chance(rng, 0.55):
        parts += _scaled_handle(x_front, handle_len, y_top, handle_h, t, rng)
    else:
        material = _pick(rng, ("wood", *_HANDLE_PLASTICS))
        parts += _moulded_handle(x_front, handle_len, y_top, handle_h, t, STEEL, material, rng)
    return parts


def _folding_knife(rng: np.random.Generator) -> list[Part]:
    """Pocket knife: blade on a pivot between liners and scales; open or folded shut."""
    handle_len = _u(rng, 80.0, 125.0)
    handle_h = _u(rng, 14.0, 22.0)
    lb = handle_len * _u(rng, 0.72, 0.9) - 8.0
    hb = handle_h * _u(rng, 0.8, 1.05)
    tb = _u(rng, 2.0, 3.5)
    kind = _pick(rng, ("drop", "drop", "clip", "tanto"))
    outline = _blade_outline(kind, lb, hb, rng)
    tang = arc(0.0, -hb / 2, hb / 2, hb / 2, math.pi / 2, 1.5 * math.pi, 7)
    pivot = (handle_len - 8.0, handle_h / 2)  # from the butt end, mid-height
    blade_outline = outline[:-1] + tang
    open_blade = _chance(rng, 0.6)
    angle = 0.0 if open_blade else math.pi
    blade_pose = Pose.at(0.0, hb / 2).then(Pose.at(pivot[0], pivot[1], rz=angle))
    parts = place(_blade_parts(blade_outline, hb, tb, STEEL), blade_pose)
    gap = tb + 0.5
    liner_t = _u(rng, 0.8, 1.3) if _chance(rng, 0.6) else 0.0
    scale_mat = _pick(rng, ("aluminium", "fr4", "wood", "nylon", "pom", "aluminium"))
    scale_t = _u(rng, 2.0, 4.0)
    handle = rounded(_rect(0.0, 0.0, handle_len, handle_h), handle_h * 0.35, steps=3, closed=True)
    for side in (-1.0, 1.0):
        z_liner = side * (gap + liner_t) / 2
        z_scale = side * (gap / 2 + liner_t + scale_t / 2)
        if liner_t > 0:
            parts += polygon_parts(handle, liner_t, STEEL, Pose.at(z=z_liner))
        parts += polygon_parts(handle, scale_t, scale_mat, Pose.at(z=z_scale))
        parts += insert(Cylinder(3.0, 3.0, scale_t), Pose.at(*pivot, z_scale), STEEL, scale_mat)
    room = handle_len - 8.0 - lb - 3.0 if not open_blade else handle_len - 8.0 - hb / 2 - 3.0
    if room > 4.0:
        spacer = min(room, handle_len * 0.45)
        parts.append(_block((spacer, handle_h * 0.3, gap), (1.0 + spacer / 2, handle_h * 0.8, 0.0),
                            _pick(rng, (STEEL, "aluminium", "nylon"))))
    if _chance(rng, 0.6):
        z = gap / 2 + liner_t + scale_t + 0.5
        clip = _rect(4.0, handle_h * 0.45, 4.0 + handle_len * _u(rng, 0.5, 0.7), handle_h * 0.85)
        parts.append(convex_prism(clip, 1.0, STEEL, Pose.at(z=z)))
    return parts


def _fighting_knife(rng: np.random.Generator) -> list[Part]:
    """Dagger (double-edged, central ridge) or combat/bowie knife (clip point), with a cross
    guard, a round grip over a hidden tang and a pommel."""
    dagger = _chance(rng, 0.45)
    lb = _u(rng, 100.0, 200.0)
    t = _u(rng, 3.0, 4.0) if dagger else _u(rng, 3.5, 5.0)
    if dagger:
        hb = _u(rng, 22.0, 36.0)
        half = hb / 2
        outline = [(0.0, -half), (lb * _u(rng, 0.55, 0.75), -half * 0.85), (lb, 0.0),
                   (lb * _u(rng, 0.55, 0.75), half * 0.85), (0.0, half)]
        parts: list[Part] = []
        ridge = half * _u(rng, 0.25, 0.4)
        top, rest = split_convex(outline, (0.0, ridge), (1.0, 0.0))
        middle, bottom = split_convex(rest, (0.0, -ridge), (1.0, 0.0))
        parts += [convex_prism(middle, t, STEEL), convex_prism(top, 0.5 * t, STEEL),
                  convex_prism(bottom, 0.5 * t, STEEL)]
        y_c = 0.0
    else:
        hb = _u(rng, 26.0, 42.0)
        kind = _pick(rng, ("clip", "clip", "drop", "tanto"))
        parts = _blade_parts(_blade_outline(kind, lb, hb, rng), hb, t, STEEL)
        y_c = -hb / 2
    guard_t = _u(rng, 4.0, 9.0)
    guard_h = hb + 2 * _u(rng, 6.0, 18.0)
    guard_mat = _pick(rng, (STEEL, STEEL, "brass", "aluminium"))
    parts.append(_block((guard_t, guard_h, _u(rng, 6.0, 12.0)), (-guard_t / 2, y_c, 0.0),
                        guard_mat))
    grip_len = _u(rng, 95.0, 125.0)
    ry, rz = _u(rng, 11.0, 15.0), _u(rng, 9.0, 13.0)
    style = _pick(rng, ("moulded", "stacked"))
    if style == "moulded":
        segments = [(grip_len, _pick(rng, ("rubber", "nylon", "wood", "polycarbonate")))]
    else:
        segments = _stacked_segments(rng, grip_len)
    tang = (grip_len * _u(rng, 0.7, 0.98), ry * 0.8, _u(rng, 3.0, 5.0))
    parts += _round_handle(-guard_t, y_c, segments, ry, rz, tang)
    pommel_len = _u(rng, 8.0, 20.0)
    parts.append(rod(pommel_len, rz * _u(rng, 1.0, 1.25), _pick(rng, (STEEL, "brass", "aluminium")),
                     Pose.at(-guard_t - grip_len - pommel_len / 2, y_c),
                     radius2=ry * _u(rng, 1.0, 1.2)))
    return parts


def _stacked_segments(rng: np.random.Generator, total: float) -> list[tuple[float, str]]:
    """Leather washers with occasional metal or fibre spacers, front to back."""
    segments: list[tuple[float, str]] = []
    spacer = _pick(rng, ("brass", "aluminium", "fr4"))
    left = total
    while left > 0.5:
        if segments and segments[-1][1] == "leather" and _chance(rng, 0.35):
            piece = (min(_u(rng, 1.0, 2.5), left), spacer)
        else:
            piece = (min(_u(rng, 5.0, 9.0), left), "leather")
        segments.append(piece)
        left -= piece[0]
    return segments


def _utility_knife(rng: np.random.Generator) -> list[Part]:
    """Box cutter: a snap-off segmented blade in a hollow plastic body with a steel channel and
    slider, or a trapezoid blade in a hollow die-cast body with spare blades inside."""
    if _chance(rng, 0.55):
        return _snap_off_cutter(rng)
    return _trapezoid_cutter(rng)


def _snap_off_cutter(rng: np.random.Generator) -> list[Part]:
    blade_h = _pick(rng, (9.0, 18.0, 18.0, 25.0))
    body_len = _u(rng, 115.0, 165.0)
    wall = _u(rng, 1.5, 2.5)
    body_h = blade_h + 2 * wall + _u(rng, 2.0, 6.0)
    body_z = _u(rng, 8.0, 14.0)
    material = _pick(rng, ("abs", "polycarbonate", "pom", "nylon"))
    back = _u(rng, 6.0, 12.0)
    cavity = (body_len - back, body_h - 2 * wall, body_z - 2 * wall)
    parts = [_block((body_len, body_h, body_z), (-body_len / 2, 0.0, 0.0), material),
             _block(cavity, (-cavity[0] / 2, 0.0, 0.0), material, negative=True)]
    exposed = _u(rng, 8.0, 60.0)
    slant = blade_h * 0.6
    blade_len = min(_u(rng, 80.0, 110.0), cavity[0] - 2.0 - slant + exposed)
    parts += _snap_off_blade(exposed, blade_len, blade_h, slant,
                             _u(rng, 7.0, 13.0) * (blade_h / 18.0) ** 0.5)
    channel_z = cavity[2] / 2 - 0.35
    if channel_z > 0.9:
        parts.append(_block((cavity[0] - 2.0, blade_h + 1.0, 0.5),
                            (-cavity[0] / 2, 0.0, -channel_z), STEEL))
    slider_x = exposed - blade_len + _u(rng, 5.0, 20.0)
    parts.append(_block((_u(rng, 12.0, 20.0), 3.0, body_z * 0.6),
                        (min(slider_x, -8.0), body_h / 2 + 1.5, 0.0),
                        _pick(rng, (material, "zinc", STEEL))))
    return parts


def _snap_off_blade(x_tip: float, length: float, height: float, slant: float,
                    segment: float) -> list[Part]:
    """A segmented blade: slanted parallelogram segments with thinner score lines between."""
    lo, hi, score = -height / 2, height / 2, 0.4
    parts: list[Part] = []
    x0 = x_tip
    x_rear = x_tip - length
    while x0 - x_rear > 0.5:
        x1 = max(x0 - segment, x_rear)
        start = x1 + score if x1 > x_rear else x1
        parts.append(convex_prism([(start, lo), (x0, lo), (x0 - slant, hi), (start - slant, hi)],
                                  0.5, STEEL))
        if x1 > x_rear:
            parts.append(convex_prism([(x1, lo), (start, lo), (start - slant, hi),
                                       (x1 - slant, hi)], 0.3, STEEL))
        x0 = x1
    return parts


def _trapezoid_cutter(rng: np.random.Generator) -> list[Part]:
    body_len = _u(rng, 140.0, 175.0)
    body_h = _u(rng, 28.0, 38.0)
    body_z = _u(rng, 14.0, 20.0)
    material = _pick(rng, ("aluminium", "zinc", "abs", "aluminium"))
    wall = _u(rng, 1.5, 2.5) if material != "abs" else _u(rng, 2.0, 3.0)
    nose = min(max(body_h * _u(rng, 0.6, 0.75), 20.0 + 2 * wall), body_h - 3.0)
    outline = [(0.0, -body_h / 2), (0.0, -body_h / 2 + nose), (-body_len * 0.3, body_h / 2),
               (-body_len, body_h / 2), (-body_len, -body_h / 2)]
    outline = rounded(outline, [0.0, 2.0, 10.0, 5.0, 5.0], steps=3, closed=True)
    parts = polygon_parts(outline, body_z, material)
    inner = [(0.0, -body_h / 2 + wall), (0.0, -body_h / 2 + nose - wall),
             (-body_len * 0.3 - wall, body_h / 2 - wall), (-body_len + wall, body_h / 2 - wall),
             (-body_len + wall, -body_h / 2 + wall)]
    parts += polygon_parts(inner, body_z - 2 * wall, material, negative=True)
    blade = [(0.0, 0.0), (61.0, 0.0), (61.0 - 19.0 * 0.55, 19.0), (19.0 * 0.55, 19.0)]
    exposed = _u(rng, 6.0, 20.0)
    y0 = -body_h / 2 + wall + 0.3
    parts.append(convex_prism(blade, 0.63, STEEL, Pose.at(exposed - 61.0, y0)))
    for k in range(int(rng.integers(0, 4))):
        z = (k + 1) * 0.8 * (1 if k % 2 == 0 else -1)
        if abs(z) + 0.35 < (body_z - 2 * wall) / 2:
            parts.append(convex_prism(blade, 0.63, STEEL,
                                      Pose.at(-body_len + wall + 4.0, y0, z)))
    return parts


def _ceramic_knife(rng: np.random.Generator) -> list[Part]:
    """Ceramic blade (alumina/zirconia-like, no metal at all) on a moulded plastic handle."""
    kind = _pick(rng, ("chef", "paring", "santoku"))
    lb = _u(rng, 75.0, 100.0) if kind == "paring" else _u(rng, 120.0, 180.0)
    h = lb * (_u(rng, 0.18, 0.25) if kind != "santoku" else _u(rng, 0.25, 0.3))
    t = _u(rng, 1.8, 3.0)
    parts = _blade_parts(_blade_outline(kind, lb, h, rng), h, t, "ceramic")
    handle_len = _u(rng, 85.0, 120.0)
    handle_h = min(_u(rng, 16.0, 24.0), max(h, 15.0))
    material = _pick(rng, ("pom", "abs", "polycarbonate", "polyethylene", "nylon"))
    parts += _moulded_handle(0.0, handle_len, _u(rng, -1.0, 2.0), handle_h, t, "ceramic",
                             material, rng)
    return parts


def make_knife(rng: np.random.Generator) -> SceneObject:
    """Knife: a kitchen knife, a folding pocket knife, a dagger or combat knife, a utility
    knife (box cutter) or a ceramic knife; 80-330 mm long.

    The blade is steel (1.4-5 mm thick, thinner along the ground edge) with a pointed or
    rounded tip: chef, paring, santoku, boning, serrated bread, drop-point, tanto or
    clip-point (concave clip, sometimes a saw back). Kitchen knives have a steel bolster
    sometimes, and a full tang between wooden or plastic scales with rivets, or a hidden tang
    in a moulded handle. A pocket knife folds on a pivot between steel liners and scales
    (aluminium, G10, wood, plastic) with a back spacer and a pocket clip; the blade is open or
    folded into the handle. Daggers are double-edged with a central ridge; daggers and combat
    knives have a cross guard, a round grip (moulded, or stacked leather washers with spacers)
    over a hidden tang, and a pommel. A box cutter is a thin segmented snap-off blade or a
    trapezoid blade in a hollow plastic or die-cast body. A ceramic knife has a ceramic
    blade and tang in a plastic handle: no metal at all, low contrast.
    """
    kind = _pick(rng, ("kitchen", "kitchen", "folding", "fighting", "utility", "ceramic"))
    builders: dict[str, Callable[[np.random.Generator], list[Part]]] = {
        "kitchen": _kitchen_knife, "folding": _folding_knife, "fighting": _fighting_knife,
        "utility": _utility_knife, "ceramic": _ceramic_knife,
    }
    return _article("knife", builders[kind](rng))


# --------------------------------------------------------------------------- IEDs

_WIRE = 2.2  # insulated wire, square section (mm)


@dataclass(frozen=True)
class _Component:
    """An IED component in its own frame, its xy bounding box centred at the origin.

    ``anchors`` are where wires end, (x, y) in that frame, reached from straight above.
    """

    parts: list[Part]
    anchors: list[Point]
    width: float
    height: float


def _component(parts: list[Part], anchors: Sequence[Point]) -> _Component:
    lo, hi = bounds(parts)
    cx, cy = float(lo[0] + hi[0]) / 2, float(lo[1] + hi[1]) / 2
    moved = place(parts, Pose.at(-cx, -cy))
    return _Component(moved, [(x - cx, y - cy) for x, y in anchors],
                      float(hi[0] - lo[0]), float(hi[1] - lo[1]))


def _wire(points: Sequence[Point], rng: np.random.Generator) -> list[Part]:
    """Insulated wire along a polyline in the xy plane: copper core inside a plastic sheath."""
    core = _u(rng, 0.5, 1.0)
    parts = stroke_parts(points, _WIRE, _WIRE, "polyethylene")
    parts += stroke_parts(points, core, core, "polyethylene", negative=True)
    parts += stroke_parts(points, core, core, "copper")
    return parts


def _detonator(rng: np.random.Generator) -> tuple[list[Part], float, float]:
    """Electric detonator along +y from y = 0: a thin metal tube with a base charge (PETN), a
    dense primary charge (lead azide) above it and a rubber plug where the leg wires enter.
    Returns (parts, length, radius)."""
    length, r = _u(rng, 35.0, 70.0), _u(rng, 3.2, 3.8)
    shell = _pick(rng, ("aluminium", "copper"))
    wall, bottom = 0.35, 0.6
    bore = r - wall
    parts = tube(length, r, bore, shell, Pose.at(y=length / 2), axis="y", end_walls=(bottom, 0.0))
    base = length * _u(rng, 0.2, 0.3)
    primary = _u(rng, 4.0, 7.0)
    plug = _u(rng, 6.0, 10.0)
    parts.append(rod(base, bore, "explosive", Pose.at(y=bottom + base / 2), axis="y"))
    parts.append(rod(primary, bore, "lead", Pose.at(y=bottom + base + primary / 2), axis="y",
                     density_scale=0.42))
    parts.append(rod(plug, bore, "rubber", Pose.at(y=length - plug / 2), axis="y"))
    return parts, length, r


def _battery(rng: np.random.Generator) -> _Component:
    """Power source: a 9 V block, a holder of AA cells, or lithium-ion cells."""
    kind = _pick(rng, ("9v", "9v", "aa", "li_ion"))
    if kind == "9v":
        shell = hollow_box((26.5, 48.5, 17.5), 0.35, STEEL)
        inner = _block((25.8, 47.8, 16.8), (0.0, 0.0, 0.0), "zinc", density_scale=0.45)
        snaps = [rod(3.0, r, STEEL, Pose.at(x, 25.75), axis="y")
                 for x, r in ((-6.35, 3.0), (6.35, 4.0))]
        return _component([*shell, inner, *snaps], [(-6.35, 27.25), (6.35, 27.25)])
    if kind == "aa":
        count = int(rng.integers(2, 5))
        parts = hollow_box((count * 14.8 + 3.0, 60.0, 16.0), (1.5, 3.0, 0.75), "abs",
                           cavity_offset=(0.0, 0.0, 0.75))
        for k in range(count):
            x = (k - (count - 1) / 2) * 14.8
            parts += _aa_cell(Pose.at(x, 0.0, 0.75 + 0.1), flip=k % 2 == 1)
        return _component(parts, [(-(count - 1) * 7.4, 30.0), ((count - 1) * 7.4, 30.0)])
    count = int(rng.integers(1, 4))
    parts = []
    for k in range(count):
        x = (k - (count - 1) / 2) * 18.4
        parts += tube(65.0, 9.2, 8.95, STEEL, Pose.at(x), axis="y", end_walls=(0.3, 0.3))
        parts += tube(64.4, 8.95, 1.5, "li_ion", Pose.at(x), axis="y")
    half = max((count - 1) * 9.2, 1.3)
    return _component(parts, [(-half, 32.5), (half, 32.5)])


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


def _timer(rng: np.random.Generator) -> _Component:
    """Switch or timer: a bare circuit board with parts, a mechanical kitchen timer, or a
    mobile phone."""
    kind = _pick(rng, ("pcb", "pcb", "mechanical", "phone"))
    if kind == "pcb":
        w, h = _u(rng, 40.0, 75.0), _u(rng, 30.0, 55.0)
        parts = _circuit_board(w, h, rng)
        return _component(parts, [(-w / 2 + 4.0, h / 2), (w / 2 - 4.0, h / 2)])
    if kind == "mechanical":
        r = _u(rng, 24.0, 33.0)
        parts = _kitchen_timer(r, rng)
        return _component(parts, [(-r * 0.3, r), (r * 0.3, r)])
    w, h = _u(rng, 45.0, 60.0), _u(rng, 95.0, 120.0)
    parts = _phone(w, h, rng)
    return _component(parts, [(-w / 4, h / 2), (w / 4, h / 2)])


def _circuit_board(w: float, h: float, rng: np.random.Generator) -> list[Part]:
    """FR-4 board; chips, electrolytic capacitors, a relay, a buzzer or a display on top,
    solder joints underneath."""
    board_t = 1.6
    parts = [_block((w, h, board_t), (0.0, 0.0, 0.0), "fr4")]
    top = board_t / 2
    cols, rows = max(int(w // 18), 1), max(int(h // 16), 1)
    cw, ch = w / cols, h / rows
    for i in range(cols):
        for j in range(rows):
            if not _chance(rng, 0.7):
                continue
            x, y = -w / 2 + (i + 0.5) * cw, -h / 2 + (j + 0.5) * ch
            kind = _pick(rng, ("chip", "chip", "cap", "relay", "buzzer", "display"))
            parts += _board_part(kind, x, y, min(cw, ch) - 2.0, top, rng)
            for k in range(int(rng.integers(2, 7))):
                sx = x + (k - 2.5) * 2.0
                parts.append(rod(0.8, 0.7, "lead", Pose.at(sx, y - 3.0, -top - 0.4), axis="z",
                                 density_scale=0.75))
    return parts


def _board_part(kind: str, x: float, y: float, size: float, z0: float,
                rng: np.random.Generator) -> list[Part]:
    if kind == "chip":
        lx, ly, lz = size * _u(rng, 0.5, 0.9), size * _u(rng, 0.3, 0.6), _u(rng, 1.5, 3.5)
        return [_block((lx, ly, lz), (x, y, z0 + lz / 2), "silicon", density_scale=0.35)]
    if kind == "cap":
        r, hz = min(size / 2, _u(rng, 2.5, 6.5)), _u(rng, 7.0, 20.0)
        return [*tube(hz, r, r - 0.3, "aluminium", Pose.at(x, y, z0 + hz / 2), axis="z",
                      end_walls=(0.0, 0.3)),
                rod(hz - 0.3, r - 0.3, "paper", Pose.at(x, y, z0 + (hz - 0.3) / 2), axis="z")]
    if kind == "relay":
        lx, ly, lz = size * 0.9, size * 0.7, _u(rng, 10.0, 15.0)
        shell = hollow_box((lx, ly, lz), 0.8, "abs", Pose.at(x, y, z0 + lz / 2))
        coil = rod(lz - 3.0, min(lx, ly) / 2 - 1.5, "copper", Pose.at(x, y, z0 + lz / 2), axis="z",
                   density_scale=0.6)
        return [*shell, coil]
    if kind == "buzzer":
        r = size / 2
        return [rod(6.0, r, "pom", Pose.at(x, y, z0 + 3.0), axis="z"),
                rod(0.3, r * 0.8, "brass", Pose.at(x, y, z0 + 6.15), axis="z")]
    lx, ly = size * 0.95, size * 0.6
    return [_block((lx, ly, 6.0), (x, y, z0 + 3.0), "glass", density_scale=0.5)]


def _kitchen_timer(r: float, rng: np.random.Generator) -> list[Part]:
    """Round plastic case with a coiled steel mainspring, brass gear wheels and a bell."""
    depth = _u(rng, 22.0, 32.0)
    parts = [rod(depth, r, _pick(rng, ("abs", "pom", "polycarbonate")), Pose(), axis="z")]
    material = parts[0].material
    parts.append(rod(depth - 3.0, r - 1.5, material, Pose(), axis="z", negative=True))
    z = -depth / 2 + 2.0
    turns = _u(rng, 4.0, 7.0)
    spiral = [((3.0 + (r * 0.55 - 3.0) * t / (turns * 2 * math.pi)) * math.cos(t),
               (3.0 + (r * 0.55 - 3.0) * t / (turns * 2 * math.pi)) * math.sin(t))
              for t in np.linspace(0.0, turns * 2 * math.pi, int(turns * 24))]
    parts += stroke_parts(spiral, 0.5, 4.0, STEEL, Pose.at(z=z + 2.0))
    z += 5.0
    for k in range(int(rng.integers(2, 5))):
        gr = _u(rng, 5.0, r * 0.45)
        angle = k * 2.1
        cx, cy = (r - gr - 2.5) * math.cos(angle), (r - gr - 2.5) * math.sin(angle)
        parts.append(rod(0.8, gr, "brass", Pose.at(cx, cy, z + k * 1.2 + 0.4), axis="z"))
    parts += ring_parts(r - 2.5, r - 2.5, 0.8, 6.0, STEEL,
                        Pose.at(z=depth / 2 - 1.5 - 3.5))
    return parts


def _phone(w: float, h: float, rng: np.random.Generator) -> list[Part]:
    """Mobile phone: plastic shell, glass screen, circuit board, lithium-ion battery."""
    t = _u(rng, 11.0, 16.0)
    shell_mat = _pick(rng, ("abs", "polycarbonate"))
    parts = hollow_box((w, h, t), (1.5, 1.5, 1.2), shell_mat)
    inner_t = t - 2.4
    layer = inner_t / 3
    z0 = -inner_t / 2
    parts.append(_block((w - 4.0, h - 4.0, 1.0), (0.0, 0.0, z0 + inner_t - 0.5), "glass"))
    parts.append(_block((w - 6.0, h * 0.42, 1.0), (0.0, h * 0.23, z0 + layer), "fr4"))
    for k in range(3):
        parts.append(_block((6.0, 6.0, 1.2), (-w / 4 + k * w / 4, h * 0.25, z0 + layer + 1.1),
                            "silicon", density_scale=0.5))
    parts.append(_block((w - 8.0, h * 0.4, layer), (0.0, -h * 0.2, z0 + layer / 2 + 0.2),
                        "li_ion"))
    parts += ring_parts(4.0, 4.0, 1.0, 1.5, STEEL, Pose.at(0.0, h / 2 - 8.0, z0 + layer + 1.5))
    return parts


def _main_charge(rng: np.random.Generator, max_width: float) -> _Component:
    """Organic main charge with the detonator in it: blocks, a stick bundle or a pipe bomb."""
    kind = _pick(rng, ("block", "block", "sticks", "pipe"))
    det, det_len, det_r = _detonator(rng)
    if kind == "pipe":
        return _pipe_bomb(rng, det, det_len, det_r)
    if kind == "sticks":
        return _stick_bundle(rng, det, det_len, det_r, max_width)
    return _block_charge(rng, det, det_len, det_r, max_width)


def _block_charge(rng: np.random.Generator, det: list[Part], det_len: float, det_r: float,
                  max_width: float) -> _Component:
    count = int(rng.integers(1, 4))
    bw = min(_u(rng, 45.0, 110.0), max_width / count)
    bh, bz = _u(rng, 35.0, 75.0), _u(rng, 18.0, 40.0)
    width = bw * count
    parts = [_block((bw, bh, bz), (-width / 2 + (k + 0.5) * bw, 0.0, 0.0), "explosive")
             for k in range(count)]
    x_det = -width / 2 + bw * _u(rng, 0.25, 0.75)
    depth = min(det_len * _u(rng, 0.4, 0.7), bh - 4.0)
    wrap = _u(rng, 0.3, 0.8) if _chance(rng, 0.6) else 0.0
    parts.append(rod(depth, det_r, "explosive", Pose.at(x_det, bh / 2 - depth / 2), axis="y",
                     negative=True))
    if wrap > 0:
        wrap_mat = _pick(rng, ("polyethylene", "paper", "polyethylene"))
        parts += hollow_box((width + 2 * wrap, bh + 2 * wrap, bz + 2 * wrap), wrap, wrap_mat)
        parts.append(rod(wrap, det_r, wrap_mat, Pose.at(x_det, bh / 2 + wrap / 2), axis="y",
                         negative=True))
    parts += place(det, Pose.at(x_det, bh / 2 - depth))
    if _chance(rng, 0.4):
        parts += _shrapnel(rng, width, bh, bz / 2 + wrap)
    top = bh / 2 - depth + det_len
    return _component(parts, [(x_det - 1.3, top), (x_det + 1.3, top)])


def _shrapnel(rng: np.random.Generator, width: float, height: float, z0: float) -> list[Part]:
    """A layer of steel balls, nuts or nails taped onto the charge (above ``z0``)."""
    kind = _pick(rng, ("balls", "nails", "nuts"))
    parts: list[Part] = []
    if kind == "nails":
        length, r = _u(rng, 25.0, min(60.0, width - 4.0)), _u(rng, 1.2, 2.0)
        step = 4.6 * r + 0.5
        for k in range(int((height - 6.0) // step)):
            y = -height / 2 + 3.0 + (k + 0.5) * step
            x = _u(rng, -width / 2 + length / 2 + 1, width / 2 - length / 2 - 1)
            parts.append(rod(length, r, STEEL, Pose.at(x, y, z0 + 2.3 * r + 0.1)))
            parts.append(rod(1.0, r * 2.3, STEEL,
                             Pose.at(x - length / 2 - 0.5, y, z0 + 2.3 * r + 0.1)))
        return parts
    r = _u(rng, 2.0, 4.5)
    step = 2 * r + _u(rng, 0.5, 3.0)
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
                  max_width: float) -> _Component:
    count = int(rng.integers(2, 5))
    r = min(_u(rng, 12.0, 16.0), max_width / (2 * count))
    length = _u(rng, 120.0, 200.0)
    parts: list[Part] = []
    paper = 0.8
    for k in range(count):
        x = (k - (count - 1) / 2) * 2 * r
        parts += tube(length, r, r - paper, "paper", Pose.at(x), axis="y")
        parts.append(rod(length, r - paper, "explosive", Pose.at(x), axis="y",
                         density_scale=_u(rng, 0.75, 0.9)))
    if _chance(rng, 0.7):
        for y in (-length * 0.3, length * 0.3):
            parts.append(_block((count * 2 * r, 18.0, 0.4), (0.0, y, r + 0.2), "polyethylene"))
    x_det = (int(rng.integers(count)) - (count - 1) / 2) * 2 * r
    depth = det_len * _u(rng, 0.4, 0.7)
    scale = parts[1].density_scale
    parts.append(rod(depth, det_r, "explosive", Pose.at(x_det, length / 2 - depth / 2), axis="y",
                     negative=True, density_scale=scale))
    parts += place(det, Pose.at(x_det, length / 2 - depth))
    top = length / 2 - depth + det_len
    return _component(parts, [(x_det - 1.3, top), (x_det + 1.3, top)])


def _pipe_bomb(rng: np.random.Generator, det: list[Part], det_len: float,
               det_r: float) -> _Component:
    r = _u(rng, 13.0, 25.0)
    wall = _u(rng, 2.5, 4.0)
    length = _u(rng, 100.0, 180.0)
    parts = tube(length, r, r - wall, STEEL, axis="y")
    cap_len = _u(rng, 12.0, 20.0)
    cap_r = r + _u(rng, 2.0, 4.0)
    hole = 2.6
    for side in (-1.0, 1.0):
        y = side * (length + cap_len) / 2
        parts.append(rod(cap_len, cap_r, STEEL, Pose.at(y=y), axis="y"))
    parts.append(rod(cap_len, hole, STEEL, Pose.at(y=(length + cap_len) / 2), axis="y",
                     negative=True))
    scale = _u(rng, 0.55, 0.95)
    parts.append(rod(length, r - wall, "explosive", Pose(), axis="y", density_scale=scale))
    det_len = min(det_len, length * 0.6)
    parts.append(rod(det_len, det_r, "explosive", Pose.at(y=length / 2 - det_len / 2), axis="y",
                     negative=True, density_scale=scale))
    parts += [p for p in place(det, Pose.at(y=length / 2 - det_len))
              if p.pose.translation[1] < length / 2]
    return _component(parts, [(-1.3, length / 2), (1.3, length / 2)])


def _route_wires(components: list[_Component], xs: list[float], ys: list[float],
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
        y = roof + level * (_WIRE + 2.0) + _u(rng, 0.0, 0.6)
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
    battery, timer = _battery(rng), _timer(rng)
    gaps = [_u(rng, 8.0, 25.0), _u(rng, 8.0, 25.0)]
    charge = _main_charge(rng, max(215.0 - battery.width - timer.width - sum(gaps), 40.0))
    order = _pick(rng, ((0, 1, 2), (1, 0, 2), (2, 0, 1), (2, 1, 0), (0, 2, 1)))
    comps = [battery, timer, charge]
    xs, ys = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
    x = 0.0
    for slot, i in enumerate(order):
        x += comps[i].width / 2
        xs[i] = x
        ys[i] = comps[i].height / 2 + _u(rng, -6.0, 6.0)
        x += comps[i].width / 2 + (gaps[slot] if slot < 2 else 0.0)
    parts: list[Part] = []
    for i, comp in enumerate(comps):
        parts += place(comp.parts, Pose.at(xs[i], ys[i]))
    parts += _route_wires(comps, xs, ys, rng)
    if _chance(rng, 0.25):
        lo, hi = bounds(parts)
        margin, wall = _u(rng, 3.0, 10.0), _u(rng, 1.5, 3.0)
        size = tuple(float(h - lo_) + 2 * (margin + wall) for lo_, h in zip(lo, hi, strict=True))
        centre = Pose.at(*((lo + hi) / 2).tolist())
        parts += hollow_box((size[0], size[1], size[2]), wall,
                            _pick(rng, ("abs", "polycarbonate", "polyethylene")), centre)
    return _article("ied", parts)


# --------------------------------------------------------------------------- grenades


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
        radius, length, wall = _u(rng, 20.0, 27.0), _u(rng, 75.0, 110.0), _u(rng, 1.2, 2.5)
        shell = _pick(rng, (STEEL, "aluminium"))
        parts = tube(length, radius, radius - wall, shell, end_walls=(wall, wall))
        filler = rod(length - 2 * wall, radius - wall, "explosive", Pose(),
                     density_scale=_u(rng, 0.6, 0.9))
        return [*parts, filler], (length / 2, radius), (length / 2 - wall, radius - wall), "can"
    if kind == "pineapple":
        rx, ry, wall = _u(rng, 33.0, 40.0), _u(rng, 25.0, 30.0), _u(rng, 5.0, 8.0)
        shell = STEEL
    elif kind == "sphere":
        rx = ry = _u(rng, 29.0, 33.0)
        wall = _u(rng, 2.5, 4.0)
        shell = STEEL
    else:
        rx = ry = _u(rng, 30.0, 35.0)
        wall = _u(rng, 2.0, 3.0)
        shell = _pick(rng, ("abs", "nylon", "aluminium"))
    parts = [Part(Ellipsoid(rx, ry, ry), shell),
             Part(Ellipsoid(rx - wall, ry - wall, ry - wall), shell, negative=True)]
    fx, fy = rx - wall, ry - wall
    if kind == "ball":
        ball = _u(rng, 2.0, 3.0)
        layer = fy - ball - 0.2
        parts += _ball_layer(layer, ball)
        fx = fy = layer - ball - 0.3
    parts.append(Part(Ellipsoid(fx, fy, fy), "explosive"))
    return parts, (rx, ry), (fx, fy), "ellipsoid"


def _fuse(rng: np.random.Generator, outer: tuple[float, float], filler: tuple[float, float],
          shape: str) -> tuple[list[Part], float, float]:
    """Fuse: a delay/detonator tube in a well in the filler, a neck and a striker housing on
    the body. Returns (parts, x where the housing ends, half-height of neck and housing)."""
    rf = _u(rng, 4.5, 6.5)
    fx, fy = filler
    x_in = fx if shape == "can" else fx * math.sqrt(1.0 - (rf / fy) ** 2)
    x_in -= 0.3
    length = min(_u(rng, 28.0, 45.0), x_in + 0.5 * fx)
    centre = Pose.at(x_in - length / 2)
    parts = [rod(length, rf, "explosive", centre, negative=True)]
    parts += tube(length, rf, rf - 0.6, "aluminium", centre, end_walls=(0.6, 0.0))
    bore = rf - 0.6
    parts.append(rod(length * 0.5, bore, "explosive", Pose.at(x_in - length + 0.6 + length * 0.25),
                     density_scale=0.8))
    parts.append(rod(5.0, bore, "lead", Pose.at(x_in - length * 0.5 + 3.1), density_scale=0.42))
    x = outer[0]
    neck_len, neck_r = _u(rng, 5.0, 9.0), _u(rng, 8.0, 11.0)
    head_mat = _pick(rng, ("zinc", STEEL, "aluminium"))
    parts.append(rod(neck_len, neck_r, head_mat, Pose.at(x + neck_len / 2)))
    x += neck_len
    head_len, head_h, head_z = _u(rng, 14.0, 24.0), _u(rng, 18.0, 24.0), _u(rng, 14.0, 20.0)
    outline = rounded(_rect(x, -head_h / 2, x + head_len, head_h / 2), [0, 3.0, 3.0, 0], 3,
                      closed=True)
    parts.append(convex_prism(outline, head_z, head_mat, density_scale=0.8))
    parts.append(rod(head_len * 0.6, 2.0, STEEL, Pose.at(x + head_len * 0.5, 0.0, 0.0)))
    parts.append(rod(head_len * 0.6, 2.0, head_mat, Pose.at(x + head_len * 0.5, 0.0, 0.0),
                     negative=True, density_scale=0.8))
    return parts, x + head_len, max(head_h / 2, neck_r)


def _lever_and_ring(rng: np.random.Generator, outer: tuple[float, float], x_head_end: float,
                    head_half: float, shape: str, x_neck: float) -> list[Part]:
    """Safety lever (spoon) over the fuse and down the body side; pin and pull ring below."""
    lt, lw = _u(rng, 1.0, 1.6), _u(rng, 11.0, 17.0)
    gap = lt / 2 + 1.0
    y_lever = head_half + lt / 2 + 0.4
    rx, ry = outer[0] + gap, outer[1] + gap
    if shape == "can":
        path = [(x_head_end - 1.0, y_lever), (x_neck + 3.0, y_lever),
                (x_neck + 1.5, ry), (-outer[0] * _u(rng, 0.2, 0.7), ry)]
    else:
        t0 = math.asin(min(y_lever / ry, 0.95))
        start = (rx * math.cos(t0), y_lever)
        t1 = _u(rng, 1.6, 2.2)
        curve = [(rx * math.cos(t), ry * math.sin(t)) for t in np.linspace(t0, t1, 12)]
        path = [(x_head_end - 1.0, y_lever), start, *curve[1:]]
    parts = stroke_parts(path, lt, lw, STEEL)
    wire = _u(rng, 1.5, 2.0)
    ring_r = min(_u(rng, 9.0, 13.0), (x_head_end - x_neck) / 2 - wire)
    x_pin = max((x_neck + x_head_end) / 2 + _u(rng, -2.0, 2.0), x_neck + ring_r + wire + 0.5)
    pin_len = _u(rng, 3.0, 6.0)
    parts.append(_block((1.6, pin_len, 1.6), (x_pin, -head_half - pin_len / 2, 0.0), STEEL))
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
    kind = _pick(rng, ("sphere", "sphere", "pineapple", "ball", "can"))
    body, outer, filler, shape = _grenade_body(rng, kind)
    fuse, x_head_end, head_half = _fuse(rng, outer, filler, shape)
    parts = body + fuse
    parts += _lever_and_ring(rng, outer, x_head_end, head_half, shape, outer[0])
    return _article("grenade", parts)


# --------------------------------------------------------------------------- registry

#: Maker per threat class; the keys are exactly those of ``labels.THREAT_CLASSES``.
THREAT_MAKERS: Mapping[str, Callable[[np.random.Generator], SceneObject]] = MappingProxyType({
    "handgun": make_handgun,
    "gun_part": make_gun_part,
    "ammunition": make_ammunition,
    "knife": make_knife,
    "ied": make_ied,
    "grenade": make_grenade,
})
