"""Self-loading pistols: slide, barrel, recoil spring, frame with grip, magazine.

A pistol lies on its side with the muzzle towards +x and the top of the slide towards +y.
"""

from __future__ import annotations

import math

import numpy as np

from screener.sim.geometry import Cylinder, Part, Pose, box
from screener.sim.items.cartridges import CALIBRES, PISTOL_CALIBRES, cartridge
from screener.sim.items.magazines import magazine
from screener.sim.items.outlines import Outline, Point, rect, scale_outline
from screener.sim.items.parts import (
    STEEL,
    block,
    convex_prism,
    insert,
    place,
    polygon_parts,
    rod,
    tube,
)
from screener.sim.items.random_draws import chance, pick, uniform
from screener.sim.items.triggers import trigger, trigger_guard


def _line_point(origin: Point, normal: Point, along: Point, offset: float, y: float) -> Point:
    """Where the line ``origin + offset*normal + t*along`` crosses height ``y``."""
    bx, by = origin[0] + normal[0] * offset, origin[1] + normal[1] * offset
    t = (y - by) / along[1]
    return bx + along[0] * t, y


class Pistol:
    """A self-loading pistol, drawn at random; coordinates: slide rear at x = 0, slide bottom
    at y = 0, muzzle towards +x."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.cal = CALIBRES[pick(rng, PISTOL_CALIBRES)]
        compact = self.cal.name == CALIBRES[".380"].name or chance(rng, 0.3)
        self.length = uniform(rng, 135.0, 165.0) if compact else uniform(rng, 165.0, 205.0)
        self.polymer = chance(rng, 0.55)
        self.frame_material = pick(rng, ("pom", "nylon")) if self.polymer else pick(
            rng, (STEEL, STEEL, "aluminium"))
        self.double_stack = chance(rng, 0.7)
        self._slide_dims()
        self._frame_dims(compact)

    def _slide_dims(self) -> None:
        rng, cal = self.rng, self.cal
        self.top_wall = uniform(rng, 3.0, 4.5)
        self.r_chamber = max(uniform(rng, 6.5, 7.8), cal.case_radius + 1.8)
        self.r_barrel = min(uniform(rng, 5.8, 7.0), self.r_chamber - 0.3)
        self.width = max(uniform(rng, 21.0, 30.0), 2 * self.r_chamber + 6.0)
        self.side_wall = min(uniform(rng, 3.0, 5.0), self.width / 2 - self.r_chamber - 0.3)
        self.front_wall = uniform(rng, 6.0, 10.0)
        self.breech = self.length * uniform(rng, 0.32, 0.42)
        self.chamber_len = cal.case_length + uniform(rng, 5.0, 10.0)
        self.r_spring = uniform(rng, 3.2, 4.5)
        self.r_guide = self.r_spring * uniform(rng, 0.45, 0.6)
        self.bottom_wall = 1.2
        need = (self.top_wall + self.r_chamber + self.r_barrel + 2 * self.r_spring + 0.6
                + self.bottom_wall)
        self.height = max(uniform(rng, 26.0, 34.0), need + 0.5)
        self.y_bore = self.height - self.top_wall - self.r_chamber
        self.y_spring = self.y_bore - self.r_barrel - self.r_spring - 0.3

    def _frame_dims(self, compact: bool) -> None:
        rng, cal = self.rng, self.cal
        self.frame_h = uniform(rng, 11.0, 16.0)
        self.frame_w = uniform(rng, 20.0, 26.0) if self.polymer else uniform(rng, 18.0, 24.0)
        self.x_front = self.length - uniform(rng, 6.0, 28.0)
        self.x_rear = uniform(rng, -4.0, 3.0)
        self.grip_angle = math.radians(uniform(rng, 14.0, 22.0))
        self.grip_height = (uniform(rng, 62.0, 80.0) if compact else uniform(rng, 78.0, 100.0))
        self.mag_x = cal.overall_length + 1.2 + 1.6
        diameter = 2 * cal.case_radius
        self.mag_z = (1.75 if self.double_stack else 1.0) * diameter + 0.4 + 1.6
        self.well_w = self.mag_x + 0.8
        self.well_z = self.mag_z + 0.8
        self.wall_front = uniform(rng, 2.5, 4.5)
        self.wall_rear = uniform(rng, 4.0, 9.0)
        if self.polymer:
            self.grip_z = self.well_z + 2 * uniform(rng, 2.5, 4.0)
        else:
            self.grip_z = self.well_z + 2 * uniform(rng, 1.2, 2.0)
        s, c = math.sin(self.grip_angle), math.cos(self.grip_angle)
        self.u = (-s, -c)
        self.n = (c, -s)
        grip_rear_top = self.x_rear + uniform(rng, -3.0, 3.0)
        self.p0 = (grip_rear_top + (self.well_w / 2 + self.wall_rear) / c, -self.frame_h)
        self.y_bottom = -self.frame_h - self.grip_height

    # -- pieces

    def slide(self) -> list[Part]:
        """Slide: a steel box, hollow in front of the breech face where the barrel and recoil
        spring sit, with holes in the front wall, a striker channel and sights on top."""
        h, w, length = self.height, self.width, self.length
        parts = [block((length, h, w), (length / 2, h / 2, 0.0), STEEL)]
        x0, x1 = self.breech, length - self.front_wall
        y0, y1 = self.bottom_wall, h - self.top_wall
        parts.append(block((x1 - x0, y1 - y0, w - 2 * self.side_wall),
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
        front_h, rear_h = uniform(rng, 3.5, 6.0), uniform(rng, 4.0, 6.5)
        fx = length - uniform(rng, 6.0, 12.0)
        parts.append(convex_prism([(fx - 8, h), (fx, h), (fx - 1.5, h + front_h),
                                   (fx - 6, h + front_h)], 3.2, STEEL))
        rx = uniform(rng, 5.0, 12.0)
        parts.append(convex_prism([(rx, h), (rx + 9, h), (rx + 7.5, h + rear_h),
                                   (rx + 1, h + rear_h)], w * 0.75, STEEL))
        return parts

    def _ejection_port(self) -> list[Part]:
        """A window cut in the right side wall and the top of the slide over the chamber."""
        if not chance(self.rng, 0.75):
            return []
        h, w, sw, tw = self.height, self.width, self.side_wall, self.top_wall
        length = self.cal.case_length + uniform(self.rng, 8.0, 16.0)
        x = self.breech + 1.0 + length / 2
        y0 = self.y_bore - 2.0
        return [
            block((length, h - tw - y0, sw), (x, (y0 + h - tw) / 2, w / 2 - sw / 2), STEEL,
                  negative=True),
            block((length, tw, w / 2), (x, h - tw / 2, w / 4), STEEL, negative=True),
        ]

    def _serrations(self) -> list[Part]:
        """Grip grooves across both sides of the slide behind the breech face."""
        count = int(self.rng.integers(0, 12))
        pitch, depth = uniform(self.rng, 2.0, 3.2), 0.7
        x0 = uniform(self.rng, 3.0, 8.0)
        parts: list[Part] = []
        for k in range(count):
            x = x0 + k * pitch
            if x + pitch > self.breech - 4.0:
                break
            for side in (-1.0, 1.0):
                parts.append(block((pitch * 0.5, self.height * 0.75, depth),
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
        ch = min(uniform(self.rng, 2.0, 5.0), 0.9 * self.wall_front)
        bulge = uniform(self.rng, 0.0, 2.5)
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
        tail = uniform(rng, 2.0, 6.0) if self.polymer else uniform(rng, 5.0, 14.0)
        ch = uniform(rng, 1.5, 4.0)
        outline = [(self.x_front, 0.0), (self.x_rear, 0.0),
                   (x_bottom_rear - tail, -0.45 * hf), (x_bottom_rear, -hf),
                   (self.x_front - ch, -hf), (self.x_front, -hf + ch)]
        parts = [convex_prism(outline, self.frame_w, mat)]
        if self.polymer:
            parts += polygon_parts(grip, self.grip_z, mat)
            parts += polygon_parts(self._well(), self.well_z, mat, negative=True)
        else:
            parts += self._metal_grip(grip)
        guard_w = uniform(rng, 3.5, 5.5)
        depth = uniform(rng, 18.0, 24.0)
        opening = uniform(rng, 24.0, 32.0)
        x_back = tf[0] - (depth - guard_w / 2) * math.tan(self.grip_angle) + 0.4
        x_front_leg = min(tf[0] + opening, self.x_front - ch - guard_w / 2 - 1.0)
        guard_mat = mat if mat != "aluminium" or chance(rng, 0.5) else STEEL
        parts += trigger_guard(x_front_leg, x_back, -hf, depth, guard_w,
                               uniform(rng, 7.0, 11.0), guard_mat, uniform(rng, -1.0, 4.0))
        x_t = x_back + (x_front_leg - x_back) * uniform(rng, 0.45, 0.6)
        t_len = depth - guard_w / 2 - 4.0
        parts += trigger(x_t, -hf, t_len, uniform(rng, 3.0, 4.5), uniform(rng, 4.5, 7.0),
                         pick(rng, (STEEL, mat)))
        if self.polymer:
            parts += self._rail_inserts(x_t)
        else:
            parts += self._hammer()
        if chance(rng, 0.6):
            lever = rect(x_t - 4.0, -0.6 * hf, x_t + uniform(rng, 14.0, 28.0), -1.5)
            parts.append(convex_prism(lever, 1.2, STEEL, Pose.at(z=self.frame_w / 2 + 0.6)))
        return parts

    def _metal_grip(self, grip: Outline) -> list[Part]:
        rng = self.rng
        parts = polygon_parts(grip, self.grip_z, self.frame_material)
        parts += polygon_parts(self._well(), self.well_z, self.frame_material, negative=True)
        scale_mat = pick(rng, ("wood", "rubber", "pom", "nylon", "wood"))
        scale_t = uniform(rng, 2.5, 5.5)
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
        for x0, length in ((max(self.x_rear, 0.0) + 2.0, uniform(rng, 10.0, 16.0)),
                           (x_trigger - 6.0, uniform(rng, 12.0, 20.0))):
            h = min(uniform(rng, 5.0, 8.0), hf - 2.0)
            shape = box(length, h, self.frame_w * 0.75)
            parts += insert(shape, Pose.at(x0 + length / 2, -h / 2), STEEL, self.frame_material)
        return parts

    def _hammer(self) -> list[Part]:
        rng = self.rng
        hx = uniform(rng, 9.0, 14.0)
        top = self.height * uniform(rng, 0.45, 0.65)
        outline = [(-0.6, 0.0), (-0.6, top * 0.8), (-hx * 0.45, top),
                   (-hx, top * 0.85), (-hx + 2.0, 0.0)]
        return [convex_prism(outline, uniform(rng, 6.0, 9.0), STEEL)]

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
                       base=pick(self.rng, ("pom", "nylon", STEEL)), rng=self.rng)
        if not seated:
            return mag
        return place(mag, Pose.at(qx, qy, 0.0, rz=-self.grip_angle))

    def components(self) -> dict[str, list[Part]]:
        """The whole pistol by component: slide, barrel (with recoil spring), frame and a
        magazine, usually loaded, sometimes with a round chambered."""
        rng = self.rng
        loaded = chance(rng, 0.75)
        rounds = int(rng.integers(1, 18)) if loaded else 0
        chambered = loaded and chance(rng, 0.5)
        return {
            "slide": self.slide(),
            "barrel": self.barrel(chambered) + self.recoil_spring(),
            "frame": self.frame(),
            "magazine": self.magazine(rounds),
        }
