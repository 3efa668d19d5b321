"""Ammunition articles: loose rounds, cartons, loaded magazines, shotgun shells."""

from __future__ import annotations

import math

import numpy as np

from screener.sim.geometry import Part, Pose, SceneObject
from screener.sim.items.cartridges import CALIBRES, PISTOL_CALIBRES, cartridge, shotshell
from screener.sim.items.magazines import magazine
from screener.sim.items.parts import STEEL, hollow_box, threat_article
from screener.sim.items.random_draws import chance, pick, uniform


def _scatter(rng: np.random.Generator, count: int, cell: float) -> list[tuple[float, float]]:
    """``count`` points on a jittered grid of ``cell`` mm: any two are at least ``cell`` apart
    along one axis minus the jitter, so items shorter than ``cell * 0.8`` never touch."""
    cols = max(math.ceil(math.sqrt(count * uniform(rng, 0.7, 1.4))), 1)
    cells = rng.permutation(cols * (count // cols + 2))[:count]
    return [(float(c % cols) * cell + uniform(rng, -0.1, 0.1) * cell,
             float(c // cols) * cell + uniform(rng, -0.1, 0.1) * cell) for c in cells]


def _loose_rounds(rng: np.random.Generator) -> list[Part]:
    cal = CALIBRES[pick(rng, tuple(CALIBRES))]
    count = int(rng.integers(1, 11 if cal.overall_length < 45.0 else 7))
    cell = cal.overall_length * 1.25
    parts: list[Part] = []
    for x, y in _scatter(rng, count, cell):
        angle = uniform(rng, 0.0, 2 * math.pi)
        roll = uniform(rng, 0.0, 2 * math.pi)
        half = cal.overall_length / 2
        pose = Pose.at(-half, rx=roll).then(Pose.at(x, y, 0.0, rz=angle))
        parts += cartridge(cal, pose, fired=chance(rng, 0.1))
    return parts


def _ammo_box(rng: np.random.Generator) -> list[Part]:
    """A carton of rounds: upright in a grid, or lying in rows."""
    cal = CALIBRES[pick(rng, ("9x19", "9x19", ".45", ".40", ".38", ".22", "5.56"))]
    d = 2 * max(cal.case_radius, cal.rim_radius) + uniform(rng, 0.8, 2.0)
    upright = chance(rng, 0.6)
    if upright:
        nx, ny = int(rng.integers(4, 11)), int(rng.integers(2, 6))
        inner = (nx * d, ny * d, cal.overall_length + 1.0)
    else:
        nx, ny = int(rng.integers(1, 3)), int(rng.integers(4, 11))
        inner = (nx * (cal.overall_length + 1.0), ny * d, d)
    wall = uniform(rng, 0.6, 1.2)
    material = pick(rng, ("paper", "paper", "polyethylene"))
    size = (inner[0] + 2 * wall, inner[1] + 2 * wall, inner[2] + 2 * wall)
    parts = hollow_box(size, wall, material)
    fill = uniform(rng, 0.4, 1.0)
    for i in range(nx):
        for j in range(ny):
            if not chance(rng, fill):
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
    if chance(rng, 0.6):
        cal = CALIBRES[pick(rng, PISTOL_CALIBRES)]
        double = chance(rng, 0.7)
        length = uniform(rng, 70.0, 125.0)
        body = STEEL
    else:
        cal = CALIBRES[pick(rng, ("5.56", "7.62x39"))]
        double = True
        length = uniform(rng, 110.0, 190.0)
        body = pick(rng, (STEEL, "aluminium"))
    rounds = int(rng.integers(3, 40))
    return magazine(cal, rounds, double_stack=double, length=length, body=body,
                    base=pick(rng, ("pom", "nylon", STEEL)), rng=rng)


def _shotshells(rng: np.random.Generator) -> list[Part]:
    parts: list[Part] = []
    if chance(rng, 0.5):
        for k in range(int(rng.integers(1, 9))):
            parts += shotshell(Pose.at(0.0, k * 22.4, 0.0), rng)
    else:
        for x, y in _scatter(rng, int(rng.integers(1, 4)), 95.0):
            turn = Pose.at(x, y, 0.0, rz=uniform(rng, 0, 2 * math.pi))
            parts += shotshell(Pose.at(-35.0).then(turn), rng)
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
    kind = pick(rng, ("loose", "loose", "box", "magazine", "magazine", "shells"))
    if kind == "loose":
        parts = _loose_rounds(rng)
    elif kind == "box":
        parts = _ammo_box(rng)
    elif kind == "magazine":
        parts = _loaded_magazine(rng)
    else:
        parts = _shotshells(rng)
    return threat_article("ammunition", parts)
