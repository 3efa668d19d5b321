"""Screening colours as pure functions: class and Zeff hues, the lightness ramp, adjustments.

Everything here works on float32 arrays in ``[0, 1]`` (colours have a trailing axis of 3,
RGB) and is evaluated twice over: once on the few tens of thousands of cells of a lookup
table (:mod:`screener.imaging.lut`) and once, directly, on pixels in the tests that check
those tables.

The ramp (``ramp``) takes a hue to a displayed colour at a lightness ``L`` (1 = nothing in
the beam, 0 = nothing got through): white at ``L = 1``, the pure hue at ``L = pivot``, black
at ``L = 0``, linear in between. So thin organics are pale orange, thick ones saturated
orange, very dense ones dark brown: "darker means more attenuation" for every hue.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Float32Array = NDArray[np.float32]
Rgb = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """The colours of the screening display (data: loaded from the preset file).

    ``zeff_stops`` are ``(zeff, rgb)`` pairs with increasing Zeff for the continuous Zeff
    colouring; between stops the hue is interpolated linearly, beyond the ends it is held.
    """

    organic: Rgb = (235, 135, 30)
    inorganic: Rgb = (45, 160, 50)
    metal: Rgb = (35, 85, 215)
    impenetrable: Rgb = (0, 0, 0)
    removed: Rgb = (255, 255, 255)
    pivot: float = 0.6
    zeff_stops: tuple[tuple[float, Rgb], ...] = (
        (6.0, (235, 135, 30)),
        (9.5, (225, 165, 30)),
        (11.0, (130, 170, 40)),
        (14.0, (45, 160, 50)),
        (17.0, (30, 150, 140)),
        (19.0, (35, 85, 215)),
        (27.0, (95, 45, 200)),
    )

    def __post_init__(self) -> None:
        for name in ("organic", "inorganic", "metal", "impenetrable", "removed"):
            _check_rgb(name, getattr(self, name))
        if not 0.0 < self.pivot < 1.0:
            raise ValueError(f"pivot: must lie strictly between 0 and 1, not {self.pivot}")
        if not self.zeff_stops:
            raise ValueError("zeff_stops: needs at least one stop")
        zs = [z for z, _ in self.zeff_stops]
        if any(b <= a for a, b in itertools.pairwise(zs)):
            raise ValueError(f"zeff_stops: Zeff values must increase, got {zs}")
        for i, (_, rgb) in enumerate(self.zeff_stops):
            _check_rgb(f"zeff_stops[{i}]", rgb)


def _check_rgb(name: str, rgb: Rgb) -> None:
    if len(rgb) != 3 or not all(isinstance(c, int) and 0 <= c <= 255 for c in rgb):
        raise ValueError(f"{name}: must be three integers 0-255, not {rgb!r}")


def as_unit(rgb: Rgb) -> Float32Array:
    """An 8-bit colour as float32 RGB in [0, 1]."""
    return np.asarray(rgb, dtype=np.float32) / np.float32(255.0)


def zeff_hue(zeff: NDArray[np.floating], palette: Palette) -> Float32Array:
    """The continuous-Zeff hue of each value, shape ``zeff.shape + (3,)``, float32 [0, 1]."""
    z = np.asarray(zeff, dtype=np.float32)
    stops_z = np.array([s for s, _ in palette.zeff_stops], dtype=np.float32)
    stops_rgb = np.array([rgb for _, rgb in palette.zeff_stops], dtype=np.float32) / 255.0
    out = np.empty((*z.shape, 3), dtype=np.float32)
    for c in range(3):
        out[..., c] = np.interp(z, stops_z, stops_rgb[:, c])
    return out


def ramp(hue: Float32Array, lightness: Float32Array, pivot: float) -> Float32Array:
    """White at lightness 1, ``hue`` at ``pivot``, black at 0, linear in between.

    ``hue`` has shape ``S + (3,)`` and ``lightness`` shape ``S`` (broadcasting allowed).
    """
    light = np.asarray(lightness, dtype=np.float32)[..., None]
    p = np.float32(pivot)
    towards_white = hue + (1.0 - hue) * ((light - p) / (1.0 - p))
    towards_black = hue * (light / p)
    out: Float32Array = np.where(light >= p, towards_white, towards_black).astype(np.float32)
    return out


def adjust(rgb: Float32Array, brightness: float, contrast: float, gamma: float) -> Float32Array:
    """Gamma, then contrast about mid-grey, then brightness, clipped to [0, 1].

    ``x' = clip((x ** (1 / gamma) - 0.5) * contrast + 0.5 + brightness, 0, 1)`` per channel:
    gamma above 1 lifts dark detail, contrast above 1 spreads the middle, brightness shifts.
    """
    x = np.clip(np.asarray(rgb, dtype=np.float32), 0.0, 1.0)
    if gamma != 1.0:
        x = np.power(x, np.float32(1.0 / gamma), dtype=np.float32)
    if contrast != 1.0 or brightness != 0.0:
        x = (x - np.float32(0.5)) * np.float32(contrast) + np.float32(0.5 + brightness)
    out: Float32Array = np.clip(x, 0.0, 1.0).astype(np.float32)
    return out


def to_bytes(rgb: Float32Array) -> NDArray[np.uint8]:
    """Float RGB in [0, 1] to uint8, rounding to nearest."""
    scaled = np.clip(np.asarray(rgb, dtype=np.float32), 0.0, 1.0) * np.float32(255.0)
    out: NDArray[np.uint8] = np.rint(scaled).astype(np.uint8)
    return out


def invert(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The negative of an 8-bit RGB(A) image: ``255 - value`` per colour channel.

    Alpha (a fourth channel) is kept. Exactly its own inverse.
    """
    out = np.array(image, dtype=np.uint8, copy=True)
    colour = out[..., :3]
    np.subtract(np.uint8(255), colour, out=colour)
    return out
