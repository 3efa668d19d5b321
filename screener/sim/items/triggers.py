"""Trigger guards and triggers, shared by pistols and revolvers (a gun lies on its side,
muzzle towards +x)."""

from __future__ import annotations

from screener.sim.geometry import Part
from screener.sim.items.outlines import rounded
from screener.sim.items.parts import stroke_parts


def trigger_guard(x_front: float, x_back: float, y_top: float, depth: float, width: float,
                  thickness: float, material: str, lean: float) -> list[Part]:
    """A trigger guard hanging from the frame at ``y_top``: down at the front, back underneath.

    The front leg starts square on the frame; the bottom run ends square at ``x_back``.
    """
    y_bot = y_top - depth
    path = [(x_front, y_top), (x_front, y_top - 3.0), (x_front + lean, y_bot),
            (x_back, y_bot)]
    smooth = rounded(path, [0.0, 2.0, min(8.0, depth / 2), 0.0], steps=5)
    return stroke_parts(smooth, width, thickness, material)


def trigger(x: float, y_top: float, length: float, width: float, thickness: float,
            material: str) -> list[Part]:
    """A curved trigger blade hanging from the frame, its finger face towards -x."""
    path = [(x, y_top), (x, y_top - 2.5), (x - 1.4, y_top - 0.45 * length),
            (x - 0.4, y_top - 0.8 * length), (x + 1.2, y_top - length)]
    return stroke_parts(rounded(path, 2.0, steps=3), width, thickness, material)
