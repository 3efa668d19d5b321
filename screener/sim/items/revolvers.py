"""Double-action revolvers: frame, cylinder, barrel, hammer, grip.

A revolver lies on its side with the muzzle towards +x and the top strap towards +y.
"""

from __future__ import annotations

import math

import numpy as np

from screener.sim.geometry import Cylinder, Part, Pose
from screener.sim.items.cartridges import CALIBRES, cartridge
from screener.sim.items.outlines import Point, bezier, rounded
from screener.sim.items.parts import STEEL, block, convex_prism, insert, polygon_parts, rod, tube
from screener.sim.items.random_draws import chance, pick, uniform
from screener.sim.items.triggers import trigger, trigger_guard


class Revolver:
    """A double-action revolver; coordinates: cylinder axis along x at y = 0, rear face at
    x = 0, muzzle towards +x."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.cal = CALIBRES[pick(rng, (".38", ".38", ".357", ".22"))]
        self.frame_material = STEEL if chance(rng, 0.8) else "aluminium"
        self.chambers = 8 if self.cal is CALIBRES[".22"] else pick(rng, (5, 6, 6))
        self.r_chamber = self.cal.case_radius + 0.1
        gap = 2 * self.r_chamber + 1.2
        self.r_pitch = gap / (2 * math.sin(math.pi / self.chambers)) + uniform(rng, 0.0, 1.2)
        self.r_cyl = self.r_pitch + self.r_chamber + uniform(rng, 1.6, 2.6)
        self.len_cyl = self.cal.overall_length + uniform(rng, 0.6, 3.0)
        self.barrel_len = uniform(rng, 48.0, 115.0)

    def cylinder(self, load: float) -> list[Part]:
        """The cylinder: a steel drum bored through with 5-8 chambers, some holding rounds
        (live, or fired cases)."""
        lc = self.len_cyl
        parts = [rod(lc, self.r_cyl, STEEL, Pose.at(lc / 2))]
        for k in range(self.chambers):
            phi = 2 * math.pi * k / self.chambers
            y, z = self.r_pitch * math.cos(phi), self.r_pitch * math.sin(phi)
            parts.append(rod(lc, self.r_chamber, STEEL, Pose.at(lc / 2, y, z), negative=True))
            if chance(self.rng, load):
                fired = chance(self.rng, 0.2)
                parts += cartridge(self.cal, Pose.at(0.3, y, z), fired=fired, rim=False)
        return parts

    def parts(self) -> dict[str, list[Part]]:
        """The whole revolver by component: frame (with hammer, grip, guard and trigger),
        cylinder (usually partly loaded) and barrel."""
        rng, mat = self.rng, self.frame_material
        y_top = self.r_cyl + 0.5
        y_bot = -y_top
        xw0, xw1 = -0.5, self.len_cyl + 0.5
        tb, lf, lr = uniform(rng, 5.0, 9.0), uniform(rng, 10.0, 16.0), uniform(rng, 6.0, 10.0)
        y_fb = y_bot - tb
        x_f, x_r = xw1 + lf, xw0 - lr
        hx, y_h = uniform(rng, 10.0, 15.0), y_top - uniform(rng, 8.0, 13.0)
        x_gtr = x_r - hx - uniform(rng, 0.0, 6.0)
        ch = uniform(rng, 1.5, 3.5)
        outline = [(x_f, y_top), (xw1, y_top), (xw1, y_bot), (xw0, y_bot), (xw0, y_top),
                   (x_r, y_top), (x_r, y_h), (x_r - hx, y_h), (x_gtr, y_fb),
                   (x_f - ch, y_fb), (x_f, y_fb + ch)]
        z_frame = uniform(rng, 24.0, 32.0)
        ts = uniform(rng, 5.0, 8.0)
        frame = polygon_parts(outline, z_frame, mat)
        frame.append(block((x_f - x_r, ts, uniform(rng, 13.0, 19.0)),
                           ((x_f + x_r) / 2, y_top + ts / 2, 0.0), mat))
        frame += self._hammer(x_r, hx, y_h, y_top + ts)
        grip, grip_front, angle = self._grip(x_gtr, y_fb)
        frame += grip
        frame += self._guard(grip_front, angle, y_fb, x_f - ch)
        return {
            "frame": frame,
            "cylinder": self.cylinder(uniform(rng, 0.0, 1.0) if chance(rng, 0.8) else 0.0),
            "barrel": self._barrel(x_f),
        }

    def _hammer(self, x_r: float, hx: float, y_h: float, y_strap: float) -> list[Part]:
        rng = self.rng
        spur = uniform(rng, 3.0, 8.0)
        outline = [(x_r, y_h), (x_r, y_strap - 1.5),
                   (x_r - 0.5 * hx, y_strap + uniform(rng, 2.0, 5.0)),
                   (x_r - hx - spur, y_strap + uniform(rng, 3.0, 7.0)),
                   (x_r - hx - 0.5 * spur, y_strap - 1.0),
                   (x_r - hx, y_h + 3.0), (x_r - hx, y_h)]
        return polygon_parts(outline, uniform(rng, 6.0, 9.0), STEEL)

    def _grip(self, x_gtr: float, y_fb: float) -> tuple[list[Part], Point, float]:
        """Grip: a steel grip frame strip between two wooden or rubber panels, round butt."""
        rng = self.rng
        angle = math.radians(uniform(rng, 16.0, 30.0))
        width, height = uniform(rng, 30.0, 40.0), uniform(rng, 55.0, 80.0)
        u = (-math.sin(angle), -math.cos(angle))
        tf = (x_gtr + width, y_fb)
        bf = (tf[0] + u[0] * height / math.cos(angle), y_fb - height)
        br = (x_gtr + u[0] * height / math.cos(angle), y_fb - height)
        swell = uniform(rng, 2.0, 6.0)
        mid_rear = ((x_gtr + br[0]) / 2 - swell, y_fb - height / 2)
        rear = bezier((x_gtr, y_fb), (mid_rear[0] - swell, mid_rear[1] + 0.25 * height), br, 6)
        butt = rounded([*rear, bf, tf], [0.0] * 5 + [width * 0.35, width * 0.45, 0.0],
                       steps=5, closed=True)
        z_core = uniform(rng, 7.0, 11.0)
        strip = [(x_gtr + 3.0, y_fb), (tf[0] - 3.0, y_fb),
                 (tf[0] - 3.0 + u[0] * 0.8 * height / math.cos(angle), y_fb - 0.8 * height),
                 (x_gtr + 3.0 + u[0] * 0.8 * height / math.cos(angle), y_fb - 0.8 * height)]
        parts = polygon_parts(strip, z_core, self.frame_material)
        panel_mat = pick(rng, ("wood", "wood", "rubber", "nylon"))
        panel_t = uniform(rng, 4.0, 7.0)
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
        width, depth = uniform(rng, 3.5, 5.0), uniform(rng, 17.0, 23.0)
        x_back = grip_front[0] - (depth - width / 2) * math.tan(angle) + 0.4
        x_front = min(x_back + uniform(rng, 24.0, 32.0), x_limit - width / 2 - 0.5)
        parts = trigger_guard(x_front, x_back, y_fb, depth, width, uniform(rng, 7.0, 10.0),
                              self.frame_material, uniform(rng, -1.0, 2.0))
        x_t = x_back + (x_front - x_back) * uniform(rng, 0.5, 0.65)
        parts += trigger(x_t, y_fb, depth - width / 2 - 4.0, uniform(rng, 3.5, 5.5),
                         uniform(rng, 5.0, 7.0), STEEL)
        return parts

    def _barrel(self, x_f: float) -> list[Part]:
        """Barrel screwed into the frame in line with the top chamber; ejector rod or shroud
        under it, front sight (and sometimes a rib) on top."""
        rng, length = self.rng, self.barrel_len
        r_rod = uniform(rng, 2.5, 3.2)
        r_b = min(uniform(rng, 7.0, 9.0), self.r_pitch - r_rod - 0.6)
        parts = tube(length, r_b, self.cal.bullet_radius + 0.05, STEEL,
                     Pose.at(x_f + length / 2, self.r_pitch))
        ej_len = min(length - 4.0, self.len_cyl * uniform(rng, 0.8, 1.0))
        y_under = self.r_pitch - r_b
        if chance(rng, 0.4):
            lug_h = y_under + r_rod + 1.5
            parts.append(block((ej_len, lug_h, 2 * r_rod + 3.0),
                               (x_f + ej_len / 2, y_under - lug_h / 2, 0.0), STEEL))
        else:
            parts.append(rod(ej_len, r_rod, STEEL, Pose.at(x_f + ej_len / 2)))
        y_sight = self.r_pitch + r_b
        if chance(rng, 0.3):
            rib_h = uniform(rng, 2.5, 5.0)
            parts.append(block((length, rib_h, uniform(rng, 5.0, 9.0)),
                               (x_f + length / 2, y_sight + rib_h / 2, 0.0), STEEL))
            y_sight += rib_h
        x_s = x_f + length - uniform(rng, 3.0, 8.0)
        sight_h = uniform(rng, 3.5, 7.0)
        parts.append(convex_prism([(x_s - 10.0, y_sight), (x_s, y_sight), (x_s, y_sight + sight_h),
                                   (x_s - 4.0, y_sight + sight_h)], 3.0, STEEL))
        return parts
