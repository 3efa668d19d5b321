"""A cargo scene: a loaded 20 ft ISO container on a skeletal trailer, for a drive-through portal.

The cargo view (:data:`CARGO_VIEW`) is a single side view 12 m along the direction of travel
and 4 m high, with rays across the trailer (along y). A 40 ft container is 12.19 m long and
does not fit it, so the scene holds a 20 ft container (6.06 m) on its trailer; the tractor
unit is outside the scan, as in portals that scan the trailer only.

Sizes follow ISO 668 / ISO 1496-1 for the container and common tri-axle skeletal chassis for
the trailer. Large flat pieces seen face-on (corrugated side walls) are modelled as their
real segments; pieces that the rays run *along* (front wall, doors, roof, floor bearers) are
boxes of their outer size whose density is scaled down to the steel they hold, which gives
the same mass along every ray at a fraction of the parts. Threats are hidden inside cargo
cartons, in any orientation: a cavity of the carton's content material, the threat's own
bounding box turned with it, is cut where each threat lies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from screener.errors import SimulationError
from screener.sim.containers import InnerVolume
from screener.sim.geometry import Cylinder, Part, Pose, SceneObject, box, random_rotation
from screener.sim.items.parts import (
    STEEL,
    bounds,
    hollow,
    part,
    place,
    rod_between,
    tube_between,
)
from screener.sim.items.random_draws import uniform
from screener.sim.packing import Scene, oriented_box
from screener.sim.projection import ViewGeometry

__all__ = ["CARGO_VIEW", "CONTAINER_20FT_MM", "pack_cargo"]

#: The cargo portal's side view: 12 m (x) by 4 m (z) at 2 mm pixels, rays along y.
CARGO_VIEW = ViewGeometry.side((2000, 6000), (2.0, 2.0))

#: External length, width and height of a 20 ft ISO container (mm).
CONTAINER_20FT_MM = (6058.0, 2438.0, 2591.0)

_X_MAX, _Z_MAX = 12000.0, 4000.0
_MARGIN = 100.0


# --------------------------------------------------------------------------------------
# Trailer
# --------------------------------------------------------------------------------------


def _wheel_set(x: float, y_side: float, radius: float, width: float) -> list[Part]:
    """Tyres (one wide single or a twin pair, as one rubber ring), steel rim, disc and drum.

    The tyre's steel belts are left out: as a ring they would cost the projection a whole
    wheel's footprint for 2 mm of steel.
    """
    rim_r = radius * 0.54
    parts: list[Part] = []
    along_y = (math.pi / 2, 0.0, 0.0)
    centre = (x, y_side, radius)
    # Tyre: a rubber ring; the carcass is hollow, so its bulk density is a fraction.
    parts += hollow(Cylinder(radius, radius, width), Cylinder(rim_r + 1, rim_r + 1, width - 0.2),
                    "rubber", centre, along_y, density_scale=0.45)
    # Rim barrel, wheel disc with its centre hole, and the brake drum and hub inside.
    parts += hollow(Cylinder(rim_r, rim_r, width), Cylinder(rim_r - 6, rim_r - 6, width - 0.2),
                    STEEL, centre, along_y)
    disc_y = y_side + math.copysign(width / 2 - 10, y_side)
    parts += hollow(Cylinder(rim_r - 6.1, rim_r - 6.1, 12.0), Cylinder(110.0, 110.0, 11.98),
                    STEEL, (x, disc_y, radius), along_y)
    drum_y = y_side - math.copysign(20.0, y_side)
    parts += hollow(Cylinder(rim_r - 40, rim_r - 40, width - 60),
                    Cylinder(rim_r - 52, rim_r - 52, width - 80), STEEL,
                    (x, drum_y, radius), along_y)
    return parts


def _trailer(rng: np.random.Generator, x0: float, deck: float,
             length: float) -> tuple[list[SceneObject], float]:
    """A skeletal trailer from x0 (front) with its deck top at ``deck``; returns (objects,
    x where the container's front goes)."""
    objects: list[SceneObject] = []
    beam_h = uniform(rng, 380, 460)
    frame: list[Part] = []
    for s in (-1, 1):  # two I-beams: web and flanges
        y = s * 480.0
        frame.append(part(box(length, 9.0, beam_h - 32), STEEL, (x0 + length / 2, y,
                                                                 deck - beam_h / 2)))
        for z in (deck - 8.0, deck - beam_h + 8.0):
            frame.append(part(box(length, 160.0, 16.0), STEEL,
                              (x0 + length / 2, y, z)))
    # Cross members: rectangular tubes across the frame (the rays run along them).
    n_cross = int(length // 1100)
    for k in range(n_cross):
        x = x0 + 300 + k * (length - 600) / max(n_cross - 1, 1)
        frame += hollow(box(100.0, 800.0, 120.0), box(90.0, 799.0, 110.0), STEEL,
                        (x, 0, deck - beam_h / 2))
    # Container bolsters with twist locks at front and rear.
    for x in (x0 + 250, x0 + length - 150):
        frame += hollow(box(160.0, 2440.0, 140.0), box(150.0, 2439.0, 130.0), STEEL,
                        (x, 0, deck - 70.0))
    # Kingpin plate and kingpin at the front, landing legs behind it.
    frame.append(part(box(1200.0, 1000.0, 10.0), STEEL,
                      (x0 + 800, 0, deck - beam_h - 5.01)))
    frame.append(rod_between((x0 + 900, 0, deck - beam_h - 10.02),
                             (x0 + 900, 0, deck - beam_h - 90), 45.0, STEEL))
    leg_x = x0 + 1900
    for s in (-1, 1):
        frame += tube_between((leg_x, s * 450, deck - beam_h - 0.02), (leg_x, s * 450, 280.0),
                              60.0, 5.0, STEEL)
        frame.append(part(box(250.0, 250.0, 12.0), STEEL, (leg_x, s * 450, 270.0)))
    # Rear bumper (underrun guard) and lamp bar.
    rear = x0 + length
    frame += hollow(box(100.0, 2300.0, 100.0), box(90.0, 2299.0, 90.0), STEEL,
                    (rear - 60, 0, 480.0))
    for s in (-1, 1):
        frame.append(part(box(80.0, 80.0, deck - beam_h - 530), STEEL,
                          (rear - 60, s * 800, (deck - beam_h + 530) / 2)))
    objects.append(SceneObject("trailer_frame", tuple(frame)))
    # Axles near the rear with their wheel sets.
    n_axles = int(rng.integers(2, 4))
    spacing = 1310.0
    radius = uniform(rng, 500, 540)
    twin = rng.random() < 0.5
    width = 2 * 280.0 + 40 if twin else 385.0
    last = rear - uniform(rng, 900, 1300)
    for k in range(n_axles):
        x = last - k * spacing
        axle: list[Part] = tube_between((x, -1000, radius), (x, 1000, radius), 70.0, 12.0, STEEL)
        for s in (-1, 1):
            axle += _wheel_set(x, s * (1000 + width / 2 + 20), radius, width)
            # leaf-spring hanger up to the beam
            axle.append(part(box(120.0, 90.0, deck - beam_h - radius - 70.01), STEEL,
                             (x, s * 480, (deck - beam_h + radius + 70) / 2)))
        objects.append(SceneObject("trailer_axle", tuple(axle)))
    return objects, x0 + 150.0


# --------------------------------------------------------------------------------------
# Container
# --------------------------------------------------------------------------------------


def _corrugated_wall(x0: float, x1: float, y_out: float, z0: float, z1: float) -> list[Part]:
    """A trapezoidal corrugated side wall (2 mm steel, 36 mm deep, 278 mm pitch)."""
    inward = -1.0 if y_out > 0 else 1.0
    t, depth = 2.0, 36.0
    flat_out, flat_in = 72.0, 68.0
    slant = (278.0 - flat_out - flat_in) / 2  # x run of each slanted web
    angle = math.atan2(depth, slant)
    length = math.hypot(slant, depth)
    h = z1 - z0
    zc = (z0 + z1) / 2
    parts: list[Part] = []
    x = x0
    y_o = y_out + inward * t / 2
    y_i = y_out + inward * (depth - t / 2)
    while x + 278.0 <= x1 + 1e-6:
        parts.append(part(box(flat_out, t, h), STEEL, (x + flat_out / 2, y_o, zc)))
        xs = x + flat_out + slant / 2
        parts.append(part(box(length - 2.2, t, h), STEEL, (xs, (y_o + y_i) / 2, zc),
                          (0, 0, inward * angle)))
        xi = x + flat_out + slant + flat_in / 2
        parts.append(part(box(flat_in, t, h), STEEL, (xi, y_i, zc)))
        xs2 = x + flat_out + slant + flat_in + slant / 2
        parts.append(part(box(length - 2.2, t, h), STEEL, (xs2, (y_o + y_i) / 2, zc),
                          (0, 0, -inward * angle)))
        x += 278.0
    if x1 - x > 1.0:  # a flat panel closes the wall
        parts.append(part(box(x1 - x, t, h), STEEL, ((x + x1) / 2, y_o, zc)))
    return parts


def _container(x0: float, z0: float) -> tuple[SceneObject, InnerVolume]:
    """A 20 ft dry container with its front at x0 and underside at z0."""
    length, width, height = CONTAINER_20FT_MM
    x1 = x0 + length
    half = width / 2
    post = 150.0  # corner posts
    rail_h = 162.0
    parts: list[Part] = []
    # Bottom side rails (C-channels), top side rails (square tubes).
    for s in (-1, 1):
        y = s * (half - 3.0)
        parts.append(part(box(length - 2 * 178, 6.0, rail_h - 12), STEEL,
                          (x0 + length / 2, y, z0 + rail_h / 2)))
        for z in (z0 + 3.0, z0 + rail_h - 3.0):
            parts.append(part(box(length - 2 * 178, 48.0, 6.0), STEEL,
                              (x0 + length / 2, y - s * 27.01, z)))
        parts += hollow(box(length - 2 * 178, 60.0, 60.0), box(length - 2 * 178, 54.0, 54.0),
                        STEEL, (x0 + length / 2, s * (half - 30), z0 + height - 30))
    # Floor bearers (C-sections across, steel smeared over their outline), plywood floor.
    floor_z = z0 + rail_h - 28.0
    n_bearers = 19
    for k in range(n_bearers):
        x = x0 + 200 + k * (length - 400) / (n_bearers - 1)
        parts.append(part(box(45.0, width - 2 * 60, 122.0), STEEL,
                          (x, 0, floor_z - 61.0 - 0.01), density_scale=0.17))
    parts.append(part(box(length - 2 * 20, width - 2 * 60, 28.0), "wood",
                      (x0 + length / 2, 0, floor_z + 14.0), density_scale=1.15))
    # Corrugated side walls between the corner posts.
    wall_z0, wall_z1 = z0 + rail_h + 0.01, z0 + height - 60.01
    for s in (-1, 1):
        parts += _corrugated_wall(x0 + post + 0.01, x1 - post - 0.01, s * half, wall_z0,
                                  wall_z1)
    # Roof: a 2 mm sheet (shallow corrugation smeared in).
    parts.append(part(box(length - 2 * post, width - 120, 20.0), STEEL,
                      (x0 + length / 2, 0, z0 + height - 12.0), density_scale=0.12))
    # Corner posts (hollow sections), corner castings.
    for x in (x0 + post / 2, x1 - post / 2):
        for s in (-1, 1):
            parts += hollow(box(post, post, height - 2 * 118), box(post - 12, post - 12,
                                                                   height - 2 * 118 - 0.02),
                            STEEL, (x, s * (half - post / 2), z0 + height / 2))
            for z in (z0 + 59.0, z0 + height - 59.0):
                parts += hollow(box(178.0, 162.0, 118.0), box(150.0, 134.0, 90.0), STEEL,
                                (x + math.copysign(14.0, x - x0 - length / 2), s * (half - 81),
                                 z))
    # Front wall (corrugated across: smeared) and rear doors with lock rods.
    parts.append(part(box(36.0, width - 2 * post, height - rail_h - 60.02), STEEL,
                      (x0 + 18.0, 0, (wall_z0 + wall_z1) / 2), density_scale=0.08))
    parts.append(part(box(40.0, width - 2 * post, height - rail_h - 60.02), STEEL,
                      (x1 - 20.0, 0, (wall_z0 + wall_z1) / 2), density_scale=0.07))
    for y in (-900.0, -350.0, 350.0, 900.0):
        parts += tube_between((x1 + 35, y, z0 + 200), (x1 + 35, y, z0 + height - 200), 16.5,
                              3.0, STEEL)
        for z in (z0 + 900, z0 + 1700):
            parts.append(part(box(30.0, 60.0, 80.0), STEEL, (x1 + 15.0 + 0.02, y + 60, z)))
    container = SceneObject("container", tuple(parts))
    inner = InnerVolume(np.array([x0 + 60.0, -half + 60.0, floor_z + 28.01]),
                        np.array([x1 - 60.0, half - 60.0, z0 + height - 30.0]))
    return container, inner


# --------------------------------------------------------------------------------------
# Cargo
# --------------------------------------------------------------------------------------

#: Carton contents: (material, density scale) pairs; several pairs make a mixture.
_CONTENTS: dict[str, tuple[tuple[str, float], ...]] = {
    "bottled_water": (("water", 0.62), ("polyethylene", 0.05)),
    "textiles": (("cotton", 0.55),),
    "paper_goods": (("paper", 0.55),),
    "canned_food": (("water", 0.55), (STEEL, 0.012), ("sugar", 0.1)),
    "electronics": (("abs", 0.15), ("fr4", 0.03), (STEEL, 0.01), ("copper", 0.004)),
    "tiles": (("ceramic", 0.5),),
}


def _pallet(x: float, z: float, size_x: float, size_y: float) -> list[Part]:
    """A wooden pallet: deck boards, three stringers, bottom boards (all at x..x+size_x)."""
    parts = [part(box(size_x, size_y, 22.0), "wood", (x + size_x / 2, 0, z + 144 - 11),
                  density_scale=0.7)]
    for s in (-1, 0, 1):
        parts.append(part(box(size_x, 100.0, 78.0), "wood",
                          (x + size_x / 2, s * (size_y / 2 - 50), z + 22 + 39 + 0.01)))
    parts.append(part(box(size_x, size_y, 22.0), "wood", (x + size_x / 2, 0, z + 11),
                      density_scale=0.5))
    return parts


def _carton_pallet(rng: np.random.Generator, x: float, z: float, size_x: float,
                   size_y: float, height: float) -> tuple[SceneObject, list[tuple[Part, ...]]]:
    """A pallet of cartons. Returns the object and each carton's content parts (several
    coincident parts when the content is a mixture)."""
    content = str(rng.choice(list(_CONTENTS)))
    parts = _pallet(x, z, size_x, size_y)
    cols = int(rng.integers(2, 4))
    layers = int(rng.integers(2, 5))
    cw, ch = size_x / cols, (height - 144) / layers
    cy = size_y - 10
    hosts: list[tuple[Part, ...]] = []
    wall = 5.0
    for i in range(cols):
        for j in range(layers):
            cx = x + (i + 0.5) * cw
            cz = z + 144 + 0.02 + (j + 0.5) * ch
            w, h = cw - 6, ch - 4
            parts += hollow(box(w, cy, h), box(w - 2 * wall, cy - 2 * wall, h - 2 * wall),
                            "paper", (cx, 0, cz), density_scale=0.25)
            fill = [part(box(w - 2 * wall - 0.2, cy - 2 * wall - 0.2, h - 2 * wall - 0.2),
                         material, (cx, 0, cz), density_scale=scale)
                    for material, scale in _CONTENTS[content]]
            parts += fill
            hosts.append(tuple(fill))
    return SceneObject(f"cargo_cartons_{content}", tuple(parts)), hosts


def _sack_pallet(rng: np.random.Generator, x: float, z: float, size_x: float,
                 size_y: float) -> SceneObject:
    material = str(rng.choice(["sugar", "salt"], p=[0.7, 0.3]))
    parts = _pallet(x, z, size_x, size_y)
    zz = z + 144.02
    for _ in range(int(rng.integers(5, 9))):
        t = uniform(rng, 110, 150)
        for i in range(2):
            parts.append(part(box(size_x / 2 - 20, size_y - 60, t), material,
                              (x + (i + 0.5) * size_x / 2 + uniform(rng, -10, 10), 0, zz + t / 2),
                              (0, 0, uniform(rng, -0.02, 0.02)), density_scale=0.95))
        zz += t + 0.5
    return SceneObject(f"cargo_sacks_{material}", tuple(parts))


def _machinery(rng: np.random.Generator, x: float, z: float, size_x: float) -> SceneObject:
    """A gearbox or machine base on a wooden skid: thick cast-iron housing, shafts, gears."""
    parts = [part(box(size_x, 1000.0, 100.0), "wood", (x + size_x / 2, 0, z + 50.0))]
    hx, hy, hz = size_x - 100, uniform(rng, 600, 900), uniform(rng, 500, 900)
    wall = uniform(rng, 20, 35)
    cz = z + 100.02 + hz / 2
    cx = x + size_x / 2
    parts += hollow(box(hx, hy, hz), box(hx - 2 * wall, hy - 2 * wall, hz - 2 * wall), STEEL,
                    (cx, 0, cz))
    shaft_r = uniform(rng, 35, 60)
    for k, zs in enumerate((cz - hz * 0.2, cz + hz * 0.2)):
        parts.append(rod_between((cx, -hy / 2 + wall + 0.1, zs), (cx, hy / 2 - wall - 0.1, zs),
                                 shaft_r, STEEL))
        gear_r = min(hz * 0.2 - 5, hx / 2 - wall - 5) if k == 0 else min(hz * 0.15, hx / 3)
        parts += hollow(Cylinder(gear_r, gear_r, 60.0), Cylinder(shaft_r + 0.5, shaft_r + 0.5,
                                                                 59.9),
                        STEEL, (cx + (k - 0.5) * 10, 0, zs), (math.pi / 2, 0, 0))
    return SceneObject("cargo_machinery", tuple(parts))


def _engine(rng: np.random.Generator, x: float, z: float) -> SceneObject:
    """An engine block on a pallet: block with bores, crankshaft, head, flywheel, oil pan."""
    metal = str(rng.choice(["aluminium", STEEL]))
    cylinders = int(rng.choice([4, 6]))
    bore = uniform(rng, 80, 100)
    bx = cylinders * (bore + 14) + 60
    by, bz = uniform(rng, 380, 450), uniform(rng, 300, 360)
    parts = _pallet(x, z, bx + 200, 1000.0)
    cx = x + (bx + 200) / 2
    pan_h = 120.0
    zb = z + 144.02 + pan_h + 0.02  # block bottom
    cz = zb + bz / 2
    parts += hollow(box(bx - 20, by - 60, pan_h), box(bx - 26, by - 66, pan_h - 6), STEEL,
                    (cx, 0, zb - pan_h / 2 - 0.01))
    parts.append(part(box(bx, by, bz), metal, (cx, 0, cz)))
    crank_box = (bx - 40, by * 0.5, bz * 0.35)
    crank_z = zb + crank_box[2] / 2 + 5
    parts.append(part(box(*crank_box), metal, (cx, 0, crank_z), negative=True))
    for k in range(cylinders):
        xk = cx - bx / 2 + 30 + (bore + 14) * (k + 0.5)
        parts.append(part(Cylinder(bore / 2, bore / 2, bz * 0.55), metal,
                          (xk, 0, zb + bz - bz * 0.275 - 5), negative=True))
    parts.append(rod_between((cx - bx / 2 + 25, 0, crank_z), (cx + bx / 2 - 25, 0, crank_z),
                             30.0, STEEL))
    parts.append(part(box(bx, by * 0.8, 110.0), "aluminium", (cx, 0, zb + bz + 55.01)))
    parts.append(part(Cylinder(170.0, 170.0, 40.0), STEEL, (cx + bx / 2 + 20.01, 0, crank_z),
                      (0, math.pi / 2, 0)))
    return SceneObject("cargo_engine", tuple(parts))


def _tyres(rng: np.random.Generator, x: float, z: float, max_len: float,
           max_h: float) -> SceneObject:
    """Car tyres standing in a row along the container, or lying in two stacks."""
    radius, inner, width = uniform(rng, 300, 340), uniform(rng, 190, 215), uniform(rng, 185, 245)
    parts: list[Part] = []
    if rng.random() < 0.5:  # standing in a row along x, axes across
        n = max(1, min(int(max_len // (width + 10)), 9))
        for k in range(n):  # stood up like books: axes along x, seen edge-on
            parts += hollow(Cylinder(radius, radius, width), Cylinder(inner, inner, width - 0.2),
                            "rubber", (x + (k + 0.5) * (width + 10), 0, z + radius + 1),
                            (0, math.pi / 2, 0), density_scale=0.5)
    else:  # stacks lying flat, two stacks across
        n = max(1, min(int(max_h // (width + 2)), 8))
        for s in (-1, 1):
            for k in range(n):
                parts += hollow(Cylinder(radius, radius, width),
                                Cylinder(inner, inner, width - 0.2), "rubber",
                                (x + radius, s * (radius + 20), z + (k + 0.5) * (width + 2)),
                                density_scale=0.5)
    return SceneObject("cargo_tyres", tuple(parts))


def _drums(rng: np.random.Generator, x: float, z: float) -> SceneObject:
    """Four 200 l steel drums on a pallet, partly full of oil or water."""
    parts = _pallet(x, z, 1200.0, 1200.0)
    fill = str(rng.choice(["water", "polyethylene"]))  # polyethylene stands in for oil
    scale = 1.0 if fill == "water" else 0.9
    for i in (-1, 1):
        for j in (-1, 1):
            cx, cy = x + 600 + i * 295, j * 295
            cz = z + 144.02 + 440
            parts += hollow(Cylinder(286, 286, 880), Cylinder(284.8, 284.8, 877.6), STEEL,
                            (cx, cy, cz))
            level = 877.0 * uniform(rng, 0.5, 0.95)
            parts.append(part(Cylinder(284.7, 284.7, level), fill,
                              (cx, cy, cz - 438.7 + level / 2 + 0.05), density_scale=scale))
    return SceneObject("cargo_drums", tuple(parts))


def _tile_crates(rng: np.random.Generator, x: float, z: float, size_x: float) -> SceneObject:
    """Wooden crates of ceramic tiles stacked on a pallet."""
    parts = _pallet(x, z, size_x, 1000.0)
    zz = z + 144.02
    for _ in range(int(rng.integers(1, 3))):
        h = uniform(rng, 250, 400)
        parts += hollow(box(size_x - 20, 960.0, h), box(size_x - 60, 920.0, h - 40), "wood",
                        (x + size_x / 2, 0, zz + h / 2))
        parts.append(part(box(size_x - 62, 918.0, h - 42), "ceramic",
                          (x + size_x / 2, 0, zz + h / 2), density_scale=uniform(rng, 0.45, 0.6)))
        zz += h + 0.5
    return SceneObject("cargo_tile_crates", tuple(parts))


def _load(rng: np.random.Generator, inner: InnerVolume
          ) -> tuple[list[SceneObject], list[tuple[int, tuple[Part, ...]]]]:
    """Fill the container floor from front to back; returns objects and carton hosts.

    Every load holds a carton pallet (one is put in past the middle if none came before),
    so a threat always has somewhere to hide and the load does not depend on whether one
    is asked for."""
    x = float(inner.lo[0]) + 20.0
    x_end = float(inner.hi[0]) - 20.0
    z = float(inner.lo[2]) + 0.01
    max_h = float(inner.hi[2] - inner.lo[2]) - 20.0
    objects: list[SceneObject] = []
    hosts: list[tuple[int, tuple[Part, ...]]] = []
    kinds = ["cartons", "cartons", "cartons", "sacks", "machinery", "engine", "tyres", "drums",
             "tiles", "gap"]
    while x < x_end - 400:
        kind = str(rng.choice(kinds))
        if not hosts and x > (inner.lo[0] + inner.hi[0]) / 2:
            kind = "cartons"  # threats need a carton to hide in
        room = x_end - x
        if kind == "cartons":
            size = min(float(rng.choice([800.0, 1000.0, 1200.0])), room)
            if size < 500:
                break
            height = min(uniform(rng, 900, 1500), max_h)
            obj, found = _carton_pallet(rng, x, z, size, 1000.0, height)
            hosts += [(len(objects), fill) for fill in found]
            width = size
            if max_h - height > 800 and rng.random() < 0.7:  # a second pallet on top
                objects.append(obj)
                top = min(uniform(rng, 700, 1400), max_h - height - 20)
                obj, found = _carton_pallet(rng, x, z + height + 5.0, size, 1000.0, top)
                hosts += [(len(objects), fill) for fill in found]
        elif kind == "sacks":
            width = min(1200.0, room)
            obj = _sack_pallet(rng, x, z, width, 1000.0)
        elif kind == "machinery":
            width = min(uniform(rng, 800, 1400), room)
            obj = _machinery(rng, x, z, width)
        elif kind == "engine":
            obj = _engine(rng, x, z)
            width = float(oriented_box(obj).half[0] * 2)
            if width > room:
                continue
        elif kind == "tyres":
            obj = _tyres(rng, x, z, min(room, 2000.0), max_h)
            width = float(oriented_box(obj).half[0] * 2)
        elif kind == "drums":
            if room < 1200:
                continue
            obj = _drums(rng, x, z)
            width = 1200.0
        elif kind == "tiles":
            width = min(uniform(rng, 800, 1200), room)
            obj = _tile_crates(rng, x, z, width)
        else:
            x += uniform(rng, 100, 400)
            continue
        objects.append(obj)
        x += width + uniform(rng, 20, 150)
    return objects, hosts


#: Orientations tried per carton for a threat, turned anyhow; then upright, turned about
#: the vertical only (a long knife may fit a shallow carton no other way).
_HIDE_TRIES = (16, 4)


def _hide(rng: np.random.Generator, threat: SceneObject, objects: list[SceneObject],
          hosts: list[tuple[int, tuple[Part, ...]]], used: set[int]) -> SceneObject:
    """Put ``threat`` inside a carton's content in a random 3D orientation, cutting a cavity
    of the content there: the threat's bounding box (its own frame) turned with it."""
    local = SceneObject(threat.label, tuple(place(threat.parts, threat.pose)), threat.threat)
    lo_own, hi_own = bounds(local.parts)
    half = (hi_own - lo_own) / 2 + 0.5  # the cavity: 0.5 mm of air around the threat
    centre_own = (lo_own + hi_own) / 2
    signs = np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)])
    cavity_corners = centre_own + signs * half
    for any_way, tries in zip((True, False), _HIDE_TRIES, strict=True):
        for h in rng.permutation(len(hosts)):
            if int(h) in used:
                continue
            index, fill = hosts[int(h)]
            host = fill[0]
            size = host.shape.corners().max(axis=0) * 2  # a box centred on its pose
            for _ in range(tries):
                if any_way:
                    rotation = random_rotation(rng)
                else:
                    rotation = Pose.at(rz=float(rng.uniform(0, 2 * math.pi))).rotation
                turned = cavity_corners @ rotation.T
                lo, hi = turned.min(axis=0), turned.max(axis=0)
                room_lo = -size / 2 + 0.5 - lo
                room_hi = size / 2 - 0.5 - hi
                if np.any(room_hi < room_lo):
                    continue
                translation = host.pose.translation + rng.uniform(room_lo, room_hi)
                placed = local.placed(Pose(rotation, translation))
                where = translation + rotation @ centre_own
                cut = tuple(part(box(*(2 * half)), p.material, where, rotation=rotation,
                                 density_scale=p.density_scale, negative=True) for p in fill)
                obj = objects[index]
                objects[index] = SceneObject(obj.label, obj.parts + cut, obj.threat, obj.pose)
                used.add(int(h))
                return placed
    raise SimulationError(f"threat {threat.label!r} does not fit in any cargo carton")


def pack_cargo(rng: np.random.Generator, threats: Sequence[SceneObject] = (),
               threat_rng: np.random.Generator | None = None) -> Scene:
    """A trailer carrying a loaded 20 ft container, seen by :data:`CARGO_VIEW`.

    ``threats`` are hidden in cargo cartons, each in a cavity cut into the carton's
    contents; they are the only labelled objects (the cargo classes are not detector
    classes). The load is drawn from ``rng`` alone and always holds a carton pallet; the
    threats' places and orientations come from ``threat_rng`` (``rng`` if None, after
    every load draw), so the same ``rng`` state gives the same load with or without
    threats, apart from the cavities. Raises :class:`SimulationError` if a threat fits no
    carton.
    """
    deck = uniform(rng, 1200, 1320)
    trailer_len = CONTAINER_20FT_MM[0] + uniform(rng, 900, 1300)
    x0 = uniform(rng, _MARGIN, _X_MAX - _MARGIN - trailer_len - 60)
    trailer, container_x = _trailer(rng, x0, deck, trailer_len)
    container, inner = _container(container_x, deck + 0.02)
    cargo, hosts = _load(rng, inner)
    threat_rng = rng if threat_rng is None else threat_rng
    used: set[int] = set()
    hidden = [_hide(threat_rng, threat, cargo, hosts, used) for threat in threats]
    objects = (*trailer, container, *cargo, *hidden)
    labelled = (False,) * (len(trailer) + 1 + len(cargo)) + (True,) * len(hidden)
    return Scene(objects, labelled, "cargo", inner)
