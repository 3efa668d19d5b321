"""Electronics: laptops, phones, chargers and cables."""

from __future__ import annotations

import itertools
import math

import numpy as np

from screener.sim.geometry import Cylinder, FloatArray, Part, SceneObject, box, prism
from screener.sim.items.outlines import rounded_rect
from screener.sim.items.parts import (
    benign_article,
    bounds,
    hollow,
    part,
    rod_between,
    rounded_shell,
    tube_between,
)
from screener.sim.items.random_draws import chance, pick, uniform


def _cells_row(n: int, x0: float, x1: float, y: float, z: float, cell_y: float,
               cell_t: float, gap: float = 2.0) -> list[Part]:
    """``n`` pouch cells side by side along x in [x0, x1], centred on (y, z)."""
    cell_x = (x1 - x0 - gap * (n - 1)) / n
    return [part(box(cell_x, cell_y, cell_t), "li_ion",
                 (x0 + cell_x / 2 + k * (cell_x + gap), y, z)) for k in range(n)]


def make_laptop(rng: np.random.Generator) -> SceneObject:
    """A closed laptop: case, keyboard plate, board with chips, heat pipes, battery, screws."""
    old = chance(rng, 0.2)
    lx, ly = uniform(rng, 300, 365), uniform(rng, 210, 250)
    base_t = uniform(rng, 24, 30) if old else uniform(rng, 12, 17)
    lid_t = uniform(rng, 5, 8)
    case = "abs" if old else pick(rng, ["aluminium", "abs"], [3, 2])
    wall = 1.0 if case == "aluminium" else 2.0
    parts: list[Part] = []
    corner = uniform(rng, 5, 12)
    outline = rounded_rect(lx, ly, corner)
    inner_outline = rounded_rect(lx - 2 * wall, ly - 2 * wall, corner - wall)
    parts += [part(prism(outline, base_t), case, (0, 0, base_t / 2)),
              part(prism(inner_outline, base_t - 2 * wall), case, (0, 0, base_t / 2),
                   negative=True)]
    # Lid: a thin shell with the display glass and light guide inside.
    lid_z = base_t + 0.3 + lid_t / 2
    glass_t = 0.7 if not old else 1.5
    lid_t = max(lid_t, 2 * wall + glass_t + 1.5)
    lid_z = base_t + 0.3 + lid_t / 2
    parts += [part(prism(outline, lid_t), case, (0, 0, lid_z)),
              part(prism(inner_outline, lid_t - 2 * wall), case, (0, 0, lid_z), negative=True)]
    parts.append(part(box(lx - 2 * wall - 12, ly - 2 * wall - 14, glass_t), "glass",
                      (0, -2, lid_z - (lid_t - 2 * wall) / 2 + glass_t / 2 + 0.05)))
    parts.append(part(box(lx - 2 * wall - 12, ly - 2 * wall - 14, 0.6), "polycarbonate",
                      (0, -2, lid_z - (lid_t - 2 * wall) / 2 + glass_t + 0.45)))
    # Cavity of the base: z from zb to zt; front (y < 0) holds the battery, back the board.
    zb, zt = wall + 0.05, base_t - wall - 0.05
    ix, iy = lx - 2 * wall - 2, ly - 2 * wall - 2
    kb_t = 1.6
    # Keyboard: steel backing plate and plastic keys under the top wall, over the middle.
    parts.append(part(box(ix * 0.82, iy * 0.42, 0.3), "iron", (0, iy * 0.12, zt - kb_t - 0.2)))
    parts.append(part(box(ix * 0.82, iy * 0.42, kb_t - 0.1), "abs",
                      (0, iy * 0.12, zt - kb_t / 2)))
    below = zt - kb_t - 0.6  # everything else sits below the keyboard
    if old:  # 18650 cells in steel cans, in a row across the front
        n = int(rng.integers(4, 7))
        span = n * 19.0
        x0 = -span / 2
        for k in range(n):
            x = x0 + 9.5 + 19.0 * k
            y = -iy / 2 + 34.0
            parts += tube_between((x, y - 32.5, zb + 9.2), (x, y + 32.5, zb + 9.2), 9.0, 0.3,
                                  "iron")
            parts.append(rod_between((x, y - 32.0, zb + 9.2), (x, y + 32.0, zb + 9.2), 8.6,
                                     "li_ion"))
        battery_depth = 68.0
    else:
        n = int(rng.integers(3, 7))
        cell_y = uniform(rng, 55, 75)
        cell_t = min(below - zb - 0.4, uniform(rng, 4.5, 7.0))
        parts += _cells_row(n, -ix * 0.42, ix * 0.42, -iy / 2 + cell_y / 2 + 4,
                            zb + cell_t / 2 + 0.2, cell_y, cell_t)
        battery_depth = cell_y + 8
        # Trackpad glass over the battery, under the top wall
        parts.append(part(box(ix * 0.35, 65.0, 0.6), "glass",
                          (0, -iy / 2 + 38.0, zt - 0.35)))
    # Main board behind the battery.
    board_y0 = -iy / 2 + battery_depth + 3
    board_y1 = iy / 2 - 20  # hinges and back screws behind it
    board_t = 1.2
    board_z = zb + 0.8 + board_t / 2
    bx = ix * uniform(rng, 0.55, 0.8)
    board_cx = uniform(rng, -(ix - bx) / 2, (ix - bx) / 2)
    by = board_y1 - board_y0
    board_cy = (board_y0 + board_y1) / 2
    parts.append(part(box(bx, by, board_t), "fr4", (board_cx, board_cy, board_z)))
    chip_z = board_z + board_t / 2
    cpu_x = board_cx + uniform(rng, -bx * 0.2, bx * 0.2)
    parts.append(part(box(24.0, 24.0, 1.0), "fr4", (cpu_x, board_cy, chip_z + 0.51)))
    parts.append(part(box(12.0, 11.0, 0.8), "silicon", (cpu_x, board_cy, chip_z + 1.42)))
    chip_y = board_cy + (by / 2 - 9.0 if by > 50 else 0.0)
    for k in range(int(rng.integers(2, 6))):  # memory and storage chips in a row
        cx = board_cx - bx / 2 + 8 + 14 * k
        if abs(cx - cpu_x) < 19 and abs(chip_y - board_cy) < 19:
            continue
        if cx < board_cx + bx / 2 - 6:
            parts.append(part(box(11.0, 13.0, 1.0), "silicon", (cx, chip_y, chip_z + 0.51)))
    # Copper heat pipes from the CPU to a fin stack at the back corner.
    fin_x = ix / 2 - 22 if cpu_x < ix / 2 - 60 else -ix / 2 + 22
    pipe_z = chip_z + 1.9 + 1.3
    space = below - pipe_z - 1.5
    if space > 0:
        for k in range(int(rng.integers(1, 4))):
            y = board_cy + (k - 1) * 8.0
            parts.append(rod_between((cpu_x, y, pipe_z), (fin_x, y, pipe_z), 3.5, "copper",
                                     radius2=1.2))
        parts.append(part(box(14.0, 40.0, min(space + 2.0, 5.0)), "copper",
                          (fin_x + math.copysign(7.01, fin_x), board_cy, pipe_z)))
    # Speaker magnets at the front corners and screw bosses around the edge.
    for side in (-1, 1):
        parts.append(part(box(12.0, 10.0, 3.0), "iron", (side * (ix / 2 - 12), -iy / 2 + 12,
                                                         zb + 1.6)))
    for k in range(int(rng.integers(6, 11))):
        t = k / 10
        if t < 0.5:
            sx, sy = -ix / 2 + 3 + (ix - 6) * 2 * t, -iy / 2 + 3
        else:
            sx, sy = -ix / 2 + 3 + (ix - 6) * (2 * t - 1), iy / 2 - 3
        parts.append(part(Cylinder(1.1, 1.1, 4.0), "iron", (sx, sy, zb + 2.1)))
    # Hinges at the back.
    for side in (-1, 1):
        parts.append(part(box(24.0, 8.0, min(below - zb - 1, 6.0)), pick(rng, ["zinc", "iron"]),
                          (side * ix * 0.33, iy / 2 - 13, zb + min(below - zb - 1, 6.0) / 2)))
    return benign_article("laptop", parts)


def make_phone(rng: np.random.Generator) -> SceneObject:
    """A smartphone: aluminium frame, glass faces, battery, board, camera, sometimes a case."""
    lx, ly, t = uniform(rng, 138, 165), uniform(rng, 66, 78), uniform(rng, 7.4, 9.0)
    rail = uniform(rng, 1.2, 2.0)
    frame = pick(rng, ["aluminium", "iron", "polycarbonate"], [5, 1, 1])
    back = pick(rng, ["glass", "polycarbonate"], [3, 1])
    parts: list[Part] = []
    for side in (-1, 1):  # side rails along x, end rails between them
        parts.append(part(box(lx, rail, t), frame, (0, side * (ly / 2 - rail / 2), 0)))
        parts.append(part(box(rail, ly - 2 * rail - 0.02, t), frame,
                          (side * (lx / 2 - rail / 2), 0, 0)))
    gx, gy = lx - 2 * rail - 0.04, ly - 2 * rail - 0.04
    g = 0.7
    parts.append(part(box(gx, gy, g), "glass", (0, 0, t / 2 - g / 2)))
    parts.append(part(box(gx, gy, g), back, (0, 0, -t / 2 + g / 2)))
    zb, zt = -t / 2 + g + 0.05, t / 2 - g - 0.05
    cav = zt - zb
    batt_t = cav - 1.3
    batt_x = lx * uniform(rng, 0.5, 0.6)
    parts.append(part(box(batt_x, gy - 6, batt_t), "li_ion",
                      (-lx / 2 + rail + 11 + batt_x / 2, 0, zb + batt_t / 2 + 0.1)))
    board_x = lx - 2 * rail - batt_x - 18
    board_cx = lx / 2 - rail - 2 - board_x / 2
    parts.append(part(box(board_x, gy - 8, 0.8), "fr4", (board_cx, 0, zb + 0.5)))
    chip_xs = board_cx + np.linspace(-board_x * 0.3, board_x * 0.3, int(rng.integers(2, 4)))
    for cx in chip_xs:  # processor, memory, modem side by side on the board
        parts.append(part(box(min(9.0, board_x * 0.18), 9.0, 0.8), "silicon",
                          (float(cx), uniform(rng, -gy * 0.25, gy * 0.25), zb + 1.31)))
    # Camera module: lens glass in an aluminium barrel, bump below the back face.
    cam_x, cam_y = lx / 2 - 18, ly / 2 - 18
    for k in range(int(rng.integers(1, 4))):
        parts += [part(Cylinder(5.5, 5.5, 1.6), "aluminium",
                       (cam_x - 13 * k, cam_y, -t / 2 - 0.8 - 0.01)),
                  part(Cylinder(4.0, 4.0, 3.0), "glass", (cam_x - 13 * k, cam_y, zb + 1.8 + 1.5))]
    # Speaker magnet at the bottom end.
    parts.append(part(box(10.0, 14.0, 2.5), "iron", (-lx / 2 + rail + 6, gy * 0.25,
                                                     zb + 1.3)))
    if chance(rng, 0.35):  # protective case
        ct = 1.4
        case_material = pick(rng, ["rubber", "polycarbonate"])
        lo, hi = bounds(parts)
        size = hi - lo
        centre = (lo + hi) / 2
        # corners rounded little enough that the boxy phone fits the cavity
        outer = prism(rounded_rect(size[0] + 2 * ct, size[1] + 2 * ct, 2 * ct), size[2] + 2 * ct)
        parts += hollow(outer, box(size[0] + 0.02, size[1] + 0.02, size[2] + 0.02),
                        case_material, centre)
    return benign_article("phone", parts)


def make_charger(rng: np.random.Generator) -> SceneObject:
    """A wall charger or laptop power brick: plastic case, transformer, capacitor, board."""
    brick = chance(rng, 0.5)
    if brick:
        lx, ly, lz = uniform(rng, 95, 140), uniform(rng, 48, 68), uniform(rng, 26, 33)
    else:
        lx, ly, lz = uniform(rng, 42, 62), uniform(rng, 38, 55), uniform(rng, 24, 32)
    wall = 1.8
    parts = rounded_shell(lx, ly, lz, 6.0, wall, "abs")
    zb = -lz / 2 + wall + 0.05
    ix, iy = lx - 2 * wall - 0.2, ly - 2 * wall - 0.2
    parts.append(part(box(ix, iy, 1.2), "fr4", (0, 0, zb + 0.6)))
    top = zb + 1.25
    height = lz / 2 - wall - 0.05 - top
    # Transformer: copper winding around a ferrite core (modelled as iron), on the board.
    cr = min(iy * 0.3, height / 2 - 0.2, 14.0)
    coil_len = min(ix * 0.3, 30.0)
    tx = ix / 2 - coil_len / 2 - 3
    axis = (tx - coil_len / 2, 0, top + cr + 0.1), (tx + coil_len / 2, 0, top + cr + 0.1)
    parts += tube_between(*axis, cr, cr * 0.5, "copper", end_wall=0.01, density_scale=0.55)
    parts.append(rod_between((axis[0][0] + 0.5, 0, top + cr + 0.1),
                             (axis[1][0] - 0.5, 0, top + cr + 0.1), cr * 0.45, "iron",
                             density_scale=0.7))
    # Electrolytic capacitor: an aluminium can with a rolled paper-and-foil winding inside.
    cap_r = min(height / 2 - 0.3, 8.0)
    cap_len = min(ix * 0.35, 30.0)
    cx = -ix / 2 + cap_len / 2 + 2
    if cx + cap_len / 2 < tx - coil_len / 2 - 1:
        cap_axis = (cx - cap_len / 2, iy * 0.2, top + cap_r + 0.1), \
                   (cx + cap_len / 2, iy * 0.2, top + cap_r + 0.1)
        parts += tube_between(*cap_axis, cap_r, 0.4, "aluminium")
        parts.append(rod_between((cap_axis[0][0] + 0.5, iy * 0.2, top + cap_r + 0.1),
                                 (cap_axis[1][0] - 0.5, iy * 0.2, top + cap_r + 0.1),
                                 cap_r - 0.5, "paper", density_scale=1.3))
    if not brick:  # mains pins outside the case
        for side in (-1, 1):
            parts.append(part(box(16.0, 2.0, 6.5), "brass",
                              (-lx / 2 - 8.0, side * 9.0, 0)))
    else:  # a socket and a short strain relief for the cable
        parts.append(part(box(4.0, 12.0, 8.0), "brass", (-ix / 2 + 2.2, -iy * 0.25, top + 5)))
    return benign_article("charger", parts)


def make_cable(rng: np.random.Generator) -> SceneObject:
    """A coiled or loose cable: plastic jacket around copper conductors, plugs at the ends."""
    r_out = uniform(rng, 1.6, 3.5)
    r_cu = r_out * uniform(rng, 0.3, 0.45)
    jacket = pick(rng, ["polyethylene", "rubber", "nylon"], [3, 2, 1])
    path: list[FloatArray] = []
    coiled = chance(rng, 0.6)
    if coiled:  # loops stacked on each other
        loops = int(rng.integers(2, 5))
        rx, ry = uniform(rng, 45, 80), uniform(rng, 30, 60)
        per = 10
        phase = uniform(rng, 0, 2 * math.pi)
        drift = rng.normal(0, 4.0, size=2)
        for k in range(loops * per + 1):
            phi = phase + 2 * math.pi * k / per
            wobble = 1.0 + 0.08 * math.sin(3 * phi + phase) + uniform(rng, -0.04, 0.04)
            turn = k / per
            path.append(np.array([rx * wobble * math.cos(phi) + drift[0] * turn,
                                  ry * wobble * math.sin(phi) + drift[1] * turn,
                                  2.05 * r_out * turn]))
    else:  # loose: a smooth random walk on the plane
        heading = uniform(rng, 0, 2 * math.pi)
        p = np.zeros(3)
        path.append(p.copy())
        for _ in range(int(rng.integers(10, 18))):
            heading += uniform(rng, -0.7, 0.7)
            p = p + 28.0 * np.array([math.cos(heading), math.sin(heading), 0.0])
            path.append(p.copy())
    parts: list[Part] = []
    for a, b in itertools.pairwise(path):
        parts += tube_between(a, b, r_out, r_out - r_cu - 0.05, jacket, end_wall=0.02)
        parts.append(rod_between(a, b, r_cu, "copper", density_scale=0.85))
    # Plugs: a plastic body with a metal shell or pins, in line with the first/last segment.
    for sign, end, prev in ((-1.0, path[0], path[1]), (1.0, path[-1], path[-2])):
        d = (end - prev) / np.linalg.norm(end - prev)
        kind = pick(rng, ["usb_c", "usb_a", "mains", "barrel"])
        body_len = {"usb_c": 18.0, "usb_a": 24.0, "mains": 35.0, "barrel": 20.0}[kind]
        body_r = {"usb_c": 5.0, "usb_a": 7.0, "mains": 11.0, "barrel": 5.5}[kind]
        b0 = end + d * (r_out * 0.2)
        if coiled:  # a plug thicker than the cable hangs below the bottom loop / above the top
            b0 = b0 + np.array([0.0, 0.0, sign * max(0.0, 0.6 * body_r - 1.05 * r_out + 0.1)])
        b1 = b0 + d * body_len
        parts.append(rod_between(b0, b1, body_r, "abs", radius2=body_r * 0.6))
        metal = {"usb_c": "iron", "usb_a": "iron", "mains": "brass", "barrel": "brass"}[kind]
        m_len = {"usb_c": 6.5, "usb_a": 12.0, "mains": 16.0, "barrel": 9.0}[kind]
        m_r = {"usb_c": 4.2, "usb_a": 6.0, "mains": 2.5, "barrel": 2.8}[kind]
        if kind != "mains":
            parts += tube_between(b1 + d * 0.01, b1 + d * m_len, m_r, min(0.4, m_r * 0.2),
                                  metal, end_wall=0.3)
        else:
            parts.append(rod_between(b1 + d * 0.01, b1 + d * m_len, m_r, metal))
    return benign_article("cable", parts)
