"""Small random draws shared by the item, container and cargo factories.

Each draws from the generator it is given, exactly once per call, so that a seed always
gives the same scene.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

_T = TypeVar("_T")


def uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """A number drawn uniformly from [``lo``, ``hi``)."""
    return float(rng.uniform(lo, hi))


def pick(rng: np.random.Generator, options: Sequence[_T],
         weights: Sequence[float] | None = None) -> _T:
    """One of ``options``: equally likely, or in proportion to ``weights``."""
    if weights is None:
        return options[int(rng.integers(len(options)))]
    w = np.asarray(weights, dtype=np.float64)
    return options[int(rng.choice(len(options), p=w / w.sum()))]


def chance(rng: np.random.Generator, p: float) -> bool:
    """True with probability ``p``."""
    return bool(rng.random() < p)
