"""Checks of the construction rules of :mod:`screener.sim.items.parts` (use them in tests of
item factories): no material counted twice, no negative piece outside its host."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from screener.sim.geometry import Ellipsoid, FloatArray, HalfSpaces, Part, Shape
from screener.sim.items.parts import bounds


def contains(shape: Shape, points: FloatArray) -> NDArray[np.bool_]:
    """Which local points (N, 3) lie inside a shape (boundary included)."""
    if isinstance(shape, HalfSpaces):
        inside: NDArray[np.bool_] = np.all(points @ shape.normals.T <= shape.offsets + 1e-9,
                                           axis=1)
        return inside
    if isinstance(shape, Ellipsoid):
        q = points / np.array([shape.rx, shape.ry, shape.rz])
        within: NDArray[np.bool_] = np.einsum("ij,ij->i", q, q) <= 1.0 + 1e-9
        return within
    radial = (points[:, 0] / shape.rx) ** 2 + (points[:, 1] / shape.ry) ** 2
    return (radial <= 1.0 + 1e-9) & (np.abs(points[:, 2]) <= shape.length / 2 + 1e-9)


def material_counts(parts: Sequence[Part], points: FloatArray) -> dict[str, NDArray[np.int64]]:
    """Per material, how many positive pieces minus negative pieces hold each point (N, 3).

    A sound object has every count 0 or 1 and at most one material at 1 at any point.
    """
    counts: dict[str, NDArray[np.int64]] = {}
    for part in parts:
        local = (points - part.pose.translation) @ part.pose.rotation
        hit = contains(part.shape, local).astype(np.int64)
        tally = counts.setdefault(part.material, np.zeros(len(points), dtype=np.int64))
        tally += -hit if part.negative else hit
    return counts


def soundness(parts: Sequence[Part], rng: np.random.Generator, samples: int = 20000
              ) -> tuple[float, float]:
    """Monte Carlo check of the construction rules over the parts' bounding box.

    Returns (overlap, deficit): the fractions of occupied sample points where material is
    counted more than once (overlapping positives) or less than zero (a negative piece
    outside its host). Both are 0 for a well-built object.
    """
    lo, hi = bounds(parts)
    points = lo + rng.random((samples, 3)) * (hi - lo)
    counts = material_counts(parts, points)
    stack = np.vstack(list(counts.values()))
    total = stack.sum(axis=0)
    occupied = max(int(np.count_nonzero(np.any(stack != 0, axis=0))), 1)
    overlap = int(np.count_nonzero((total > 1) | np.any(stack > 1, axis=0)))
    deficit = int(np.count_nonzero(np.any(stack < 0, axis=0)))
    return overlap / occupied, deficit / occupied
