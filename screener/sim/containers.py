"""Bag shells (suitcase, backpack, tray) and the conveyor belt, as unlabelled scene objects.

A container is built in its own *bag frame*: x along its length, y across, z up, centred on
x and y, resting on z = 0. It carries the box inside it where contents may go
(:class:`InnerVolume`), so the packer can fill it and tests can check that everything stays
inside. Dimensions are those of real luggage; every container fits the cabin scanner's
tunnel (500 mm wide, 400 mm high) and its 750 mm top view at some yaw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from screener.errors import SimulationError
from screener.sim.geometry import Cylinder, FloatArray, Part, Pose, SceneObject, box, prism
from screener.sim.items.outlines import convex_outline, rounded_rect
from screener.sim.items.parts import hollow, part, rod_between, rounded_box, tube_between
from screener.sim.items.random_draws import pick, uniform

__all__ = [
    "BELT_THICKNESS_MM",
    "CONTAINER_MAKERS",
    "Container",
    "InnerVolume",
    "make_backpack",
    "make_belt",
    "make_container",
    "make_suitcase",
    "make_tray",
]

#: Thickness of the rubber conveyor belt under the bags (mm); its top surface is z = 0.
BELT_THICKNESS_MM = 5.0


@dataclass(frozen=True)
class InnerVolume:
    """An oriented box: the points ``pose.apply(p)`` with ``lo <= p <= hi`` (mm)."""

    lo: FloatArray
    hi: FloatArray
    pose: Pose = field(default_factory=Pose)

    def placed(self, pose: Pose) -> InnerVolume:
        """The same box moved by ``pose`` (applied after its current pose)."""
        return InnerVolume(self.lo, self.hi, self.pose.then(pose))

    def corners(self) -> FloatArray:
        """The eight corners in the world frame."""
        signs = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)])
        local = self.lo + signs * (self.hi - self.lo)
        return self.pose.apply(local)

    def contains(self, points: FloatArray, tolerance: float = 1e-6) -> bool:
        """Whether all world ``points`` (N, 3) lie inside the box."""
        local = (np.asarray(points, dtype=np.float64) - self.pose.translation) @ self.pose.rotation
        return bool(np.all(local >= self.lo - tolerance) and np.all(local <= self.hi + tolerance))


@dataclass(frozen=True)
class Container:
    """A bag shell in its bag frame: its pieces and the volume its contents may fill."""

    kind: str
    shell: tuple[SceneObject, ...]
    inner: InnerVolume

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        """Axis-aligned bounds of the shell and the inner volume, in the bag frame."""
        pts = np.vstack([obj.world_corners() for obj in self.shell] + [self.inner.corners()])
        return pts.min(axis=0), pts.max(axis=0)


def make_belt(length_mm: float, width_mm: float) -> SceneObject:
    """The rubber conveyor belt under a view's footprint: x in [0, length], y in [0, width]."""
    t = BELT_THICKNESS_MM
    return SceneObject("belt", (Part(box(length_mm, width_mm, t), "rubber",
                                     Pose.at(length_mm / 2, width_mm / 2, -t / 2)),))


# --------------------------------------------------------------------------------------
# Suitcase
# --------------------------------------------------------------------------------------


def make_suitcase(rng: np.random.Generator) -> Container:
    """A hard-shell trolley case lying on its back, wheels at +x and handle at -x."""
    length, width, height = uniform(rng, 520, 620), uniform(rng, 340, 410), uniform(rng, 200, 260)
    material = pick(rng, ["abs", "polycarbonate"], [1, 1])
    wall = uniform(rng, 2.5, 3.5)
    foot = 5.0
    z0 = foot  # underside of the shell
    zc = z0 + height / 2
    corner = uniform(rng, 30, 55)
    edge = uniform(rng, 15, 30)
    # The shell: a rounded box minus a rounded box; ribs pressed into the lid.
    shell_parts = hollow(rounded_box(length, width, height, corner, edge),
                         rounded_box(length - 2 * wall, width - 2 * wall, height - 2 * wall,
                                     corner - wall, max(edge - wall, 1.0)),
                         material, (0, 0, zc))
    n_ribs = int(rng.integers(0, 6))
    for k in range(n_ribs):
        y = (k - (n_ribs - 1) / 2) * width * 0.8 / max(n_ribs, 1)
        shell_parts.append(part(box(length - 2 * corner - 40, 10.0, 1.6), material,
                                (0, y, z0 + height + 0.81)))
    # Feet on the back and a zip (or an aluminium frame) around the seam between the halves.
    for sx in (-1, 1):
        for sy in (-1, 1):
            shell_parts.append(part(Cylinder(12.0, 12.0, foot - 0.1), "rubber",
                                    (sx * (length / 2 - 60), sy * (width / 2 - 60), foot / 2)))
    seam = pick(rng, ["pom", "iron", "aluminium"], [3, 1, 1])
    seam_t, seam_h, seam_scale = (2.0, 8.0, 0.7) if seam != "aluminium" else (3.0, 14.0, 1.0)
    if seam == "iron":
        seam_scale = 0.35  # metal zip teeth: half metal, half gaps
    straight_x, straight_y = length - 2 * corner, width - 2 * corner
    for s in (-1, 1):
        shell_parts.append(part(box(straight_x, seam_t, seam_h), seam,
                                (0, s * (width / 2 + seam_t / 2 + 0.01), zc),
                                density_scale=seam_scale))
        shell_parts.append(part(box(seam_t, straight_y, seam_h), seam,
                                (s * (length / 2 + seam_t / 2 + 0.01), 0, zc),
                                density_scale=seam_scale))
    shell = SceneObject("suitcase_shell", tuple(shell_parts))

    # Telescopic handle: two nested aluminium tubes each side in a channel along the back,
    # under a lining board; the grip outside the -x end.
    spacing = uniform(rng, 95, 125)
    t_len = length - 2 * wall - 30
    channel_z = z0 + wall + 0.2
    handle: list[Part] = []
    for s in (-1, 1):
        y = s * spacing
        x_mid = -length / 2 + wall + 2 + t_len / 2
        handle += hollow(box(t_len, 28.0, 14.0), box(t_len - 2.0, 26.0, 12.0), "aluminium",
                         (x_mid, y, channel_z + 7.0))
        handle += hollow(box(t_len - 6.0, 23.0, 9.5), box(t_len - 8.0, 21.4, 7.9), "aluminium",
                         (x_mid + 1.0, y, channel_z + 7.0))
    board_z = channel_z + 14.0 + 1.5
    for s in (-1, 1):  # channel covers over the tubes
        handle.append(part(box(t_len, 50.0, 2.5), "polyethylene",
                           (-length / 2 + wall + 2 + t_len / 2, s * spacing, board_z),
                           density_scale=0.6))
    grip_z = channel_z + 10
    handle += hollow(box(30.0, 2 * spacing + 50, 28.0), box(26.0, 2 * spacing + 46, 24.0),
                     "abs", (-length / 2 - 15.01, 0, grip_z))
    # Carry handle on the +y side.
    handle.append(part(box(130.0, 12.0, 22.0), "abs", (0, width / 2 + 2.01 + 6 + 2, zc + 22)))
    handle_obj = SceneObject("suitcase_handle", tuple(handle))

    # Spinner wheels at the +x end: plastic housing, rubber wheel on a steel axle.
    wheels: list[Part] = []
    wheel_r = uniform(rng, 20, 27)
    wheel_w = uniform(rng, 16, 22)
    for sy in (-1, 1):
        for sz in (-1, 1):
            y = sy * (width / 2 - 40)
            z = zc + sz * (height / 2 - 40)
            hx = length / 2 + 0.01
            wheels.append(part(box(18.0, 50.0, 50.0), "abs", (hx + 9.0, y, z)))
            wx = hx + 18.0 + wheel_r + 1.0
            axis = np.array([0.0, 1.0, 0.0])
            a = np.array([wx, y, z]) - axis * wheel_w / 2
            b = np.array([wx, y, z]) + axis * wheel_w / 2
            wheels += tube_between(a, b, wheel_r, wheel_r - 4.0, "rubber", end_wall=0.01)
            wheels.append(rod_between(a + axis * 0.05, b - axis * 0.05, 4.0, "iron"))
    wheel_obj = SceneObject("suitcase_wheels", tuple(wheels))

    # Combination lock and zip pullers on the -y side near the handle end.
    lock_x = -length / 2 + corner + 60
    lock: list[Part] = hollow(box(45.0, 14.0, 28.0), box(41.0, 10.0, 24.0), "zinc",
                              (lock_x, -width / 2 - 7.02, zc))
    for k in range(3):
        lock.append(part(Cylinder(4.5, 4.5, 2.0), "brass", (lock_x - 12 + 12 * k, -width / 2 - 7.02,
                                                            zc + 4), (math.pi / 2, 0, 0)))
    for s in (-1, 1):
        lock.append(part(box(20.0, 5.0, 9.0), "zinc", (lock_x + s * 40, -width / 2 - 2.5 - 2.05,
                                                       zc)))
    lock_obj = SceneObject("suitcase_lock", tuple(lock))

    inner = InnerVolume(
        np.array([-length / 2 + wall + 0.3 * edge + 2, -width / 2 + wall + 0.3 * corner + 2,
                  board_z + 1.5]),
        np.array([length / 2 - wall - 0.3 * edge - 2, width / 2 - wall - 0.3 * corner - 2,
                  z0 + height - wall - 0.3 * edge - 1]),
    )
    return Container("suitcase", (shell, handle_obj, wheel_obj, lock_obj), inner)


# --------------------------------------------------------------------------------------
# Backpack
# --------------------------------------------------------------------------------------


def make_backpack(rng: np.random.Generator) -> Container:
    """A soft backpack lying on its back: padded straps and back panel under a nylon body."""
    length, width, depth = uniform(rng, 430, 500), uniform(rng, 300, 345), uniform(rng, 140, 200)
    wall = uniform(rng, 0.8, 1.4)
    fabric = 0.8  # coated nylon fabric is not solid nylon
    r_xy, r_xz = uniform(rng, 40, 80), uniform(rng, 25, 40)
    strap_t, panel_t = uniform(rng, 10, 14), uniform(rng, 10, 16)
    parts: list[Part] = []
    # Shoulder straps: foam in a nylon webbing, with buckles and a sternum clip.
    for s in (-1, 1):
        y = s * width * 0.22
        parts.append(part(box(length * 0.8, 60.0, strap_t), "polyethylene",
                          (-length * 0.05, y, strap_t / 2), (0, 0, s * 0.06), density_scale=0.12))
        buckle = pick(rng, ["pom", "iron", "aluminium"], [5, 1, 1])
        parts.append(part(prism(convex_outline([(-20.0, -22.0), (20.0, -18.0), (20.0, 18.0),
                                                (-20.0, 22.0)]), 4.0), buckle,
                          (length * 0.42, y * 1.15, 2.0)))
    if rng.random() < 0.6:
        parts.append(part(box(30.0, 45.0, 5.0), pick(rng, ["pom", "zinc"], [4, 1]),
                          (-length * 0.1, 0, strap_t - 2.5)))
    # Padded back panel: foam on a plastic frame sheet, sometimes aluminium stays.
    z = strap_t + 0.01
    parts.append(part(prism(rounded_rect(length * 0.95, width * 0.9, r_xy * 0.8), 1.5),
                      "polyethylene", (0, 0, z + 0.75)))
    z += 1.51
    parts.append(part(prism(rounded_rect(length * 0.95, width * 0.9, r_xy * 0.8), panel_t),
                      "polyethylene", (0, 0, z + panel_t / 2), density_scale=0.1))
    if rng.random() < 0.3:
        for s in (-1, 1):
            parts.append(part(box(length * 0.8, 22.0, 3.0), "aluminium",
                              (0, s * width * 0.25, z + panel_t / 2)))
            # the stays sit in sleeves cut into the foam
            parts.append(part(box(length * 0.8, 22.0, 3.0), "polyethylene",
                              (0, s * width * 0.25, z + panel_t / 2), density_scale=0.1,
                              negative=True))
    z += panel_t + 0.01
    # Main compartment: a rounded nylon body.
    zc = z + depth / 2
    parts += hollow(rounded_box(length, width, depth, r_xy, r_xz),
                    rounded_box(length - 2 * wall, width - 2 * wall, depth - 2 * wall,
                                r_xy - wall, r_xz - wall), "nylon", (0, 0, zc),
                    density_scale=fabric)
    # Front pocket on top of the body at the -x end.
    pl, pw = length * uniform(rng, 0.4, 0.55), width * uniform(rng, 0.6, 0.8)
    pd = uniform(rng, 25, 45)
    px = -length / 2 + r_xz + pl / 2
    pz = z + depth + pd / 2 + 0.01
    parts += hollow(rounded_box(pl, pw, pd, min(40.0, pw / 3), 8.0),
                    rounded_box(pl - 2 * wall, pw - 2 * wall, pd - 2 * wall,
                                min(40.0, pw / 3) - wall, 8.0 - wall), "nylon", (px, 0, pz),
                    density_scale=fabric)
    # Zips: the main zip runs along both sides near the top of the body; pocket zip on top.
    zip_material = pick(rng, ["pom", "brass", "iron"], [5, 1, 1])
    zip_scale = 0.7 if zip_material == "pom" else 0.35
    for s in (-1, 1):
        parts.append(part(box(length - 2 * r_xy, 2.0, 6.0), zip_material,
                          (0, s * (width / 2 + 1.01), z + depth * 0.75), density_scale=zip_scale))
        parts.append(part(box(22.0, 3.0, 8.0), "zinc",
                          (length / 2 - r_xy - 11, s * (width / 2 + 3.5 + 0.02), z + depth * 0.75)))
    parts.append(part(box(pl * 0.8, 6.0, 2.0), zip_material, (px, 0, pz + pd / 2 + 1.01),
                      density_scale=zip_scale))
    parts.append(part(box(22.0, 8.0, 3.0), "zinc", (px + pl * 0.4 + 12, 0, pz + pd / 2 + 1.51)))
    # Grab handle (webbing loop) at the top end.
    parts.append(part(box(12.0, 80.0, 3.0), "nylon", (-length / 2 - 6.01, 0, z + depth * 0.5)))
    body = SceneObject("backpack_shell", tuple(parts))
    inset_x = 0.3 * max(r_xy, r_xz) + wall + 2
    inset_y = 0.3 * r_xy + wall + 2
    inset_z = 0.3 * r_xz + wall + 1
    inner = InnerVolume(
        np.array([-length / 2 + inset_x, -width / 2 + inset_y, z + wall + 1]),
        np.array([length / 2 - inset_x, width / 2 - inset_y, z + depth - inset_z]),
    )
    return Container("backpack", (body,), inner)


# --------------------------------------------------------------------------------------
# Tray
# --------------------------------------------------------------------------------------


def make_tray(rng: np.random.Generator) -> Container:
    """An open airport tray of polypropylene (modelled as polyethylene): floor, walls, rim."""
    length, width, height = uniform(rng, 600, 650), uniform(rng, 400, 430), uniform(rng, 100, 125)
    wall = uniform(rng, 3.5, 5.0)
    runner = 8.0
    parts: list[Part] = []
    for k in (-1, 0, 1):
        parts.append(part(box(length - 80, 12.0, runner), "polyethylene",
                          (0, k * width * 0.35, runner / 2)))
    z_floor = runner + 0.01
    parts.append(part(prism(rounded_rect(length, width, 30.0, 2), wall), "polyethylene",
                      (0, 0, z_floor + wall / 2)))
    wall_h = height - wall
    zw = z_floor + wall + 0.01 + wall_h / 2
    for s in (-1, 1):
        parts.append(part(box(length - 40, wall, wall_h), "polyethylene",
                          (0, s * (width / 2 - wall / 2), zw)))
        parts.append(part(box(wall, width - 40, wall_h), "polyethylene",
                          (s * (length / 2 - wall / 2), 0, zw)))
        # rounded corners as short diagonal walls
        for t in (-1, 1):
            cx = s * (length / 2 - 10 - wall * 0.7)
            cy = t * (width / 2 - 10 - wall * 0.7)
            parts.append(part(box(24.0, wall, wall_h), "polyethylene",
                              (cx, cy, zw), (0, 0, -s * t * math.pi / 4)))
    # Rim: a thick lip around the top, outside the walls.
    lip = 14.0
    z_lip = z_floor + wall + wall_h - 4.0
    for s in (-1, 1):
        parts.append(part(box(length - 40, lip, 6.0), "polyethylene",
                          (0, s * (width / 2 + lip / 2 + 0.01), z_lip)))
        parts.append(part(box(lip, width - 40, 6.0), "polyethylene",
                          (s * (length / 2 + lip / 2 + 0.01), 0, z_lip)))
    tray = SceneObject("tray", tuple(parts))
    inner = InnerVolume(
        np.array([-length / 2 + wall + 24, -width / 2 + wall + 24, z_floor + wall + 0.5]),
        np.array([length / 2 - wall - 24, width / 2 - wall - 24, z_floor + height + 120.0]),
    )
    return Container("tray", (tray,), inner)


CONTAINER_MAKERS: Mapping[str, Callable[[np.random.Generator], Container]] = MappingProxyType({
    "suitcase": make_suitcase,
    "backpack": make_backpack,
    "tray": make_tray,
})


def make_container(kind: str, rng: np.random.Generator) -> Container:
    """The container called ``kind``; :class:`SimulationError` naming the valid kinds if not."""
    try:
        maker = CONTAINER_MAKERS[kind]
    except KeyError:
        raise SimulationError(
            f"unknown bag kind {kind!r}; valid kinds: {', '.join(CONTAINER_MAKERS)}"
        ) from None
    return maker(rng)
