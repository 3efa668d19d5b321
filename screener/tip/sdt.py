"""Signal-detection formulas for TIP scoring: pure functions on numpy arrays.

Every function takes scalars or arrays (``numpy.typing.ArrayLike``) and returns a float64
array of the broadcast shape (a 0-d array for scalars: ``float(d_prime(0.8, 0.1))``).
The definitions are in docs/tip-scoring.md:

* hit and false-alarm rates with the log-linear correction (Hautus 1995):
  ``(x + 0.5) / (n + 1)``, never 0 or 1, so ``z`` stays finite;
* ``z`` is the inverse of the standard normal CDF (the probit). It is the standard
  library's :meth:`statistics.NormalDist.inv_cdf` (Wichura's AS 241, accurate to about
  1e-16), so the package needs no scipy;
* ``d' = z(H) - z(F)`` and ``c = -(z(H) + z(F)) / 2``;
* A' (Grier 1971) with its mirror for ``H < F``, so ``A'(H, F) = 1 - A'(F, H)``;
* Wilson score intervals for a binomial proportion.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

__all__ = ["Z95", "a_prime", "criterion", "d_prime", "loglinear_rate", "probit",
           "wilson_interval"]

_NORMAL = NormalDist()
Z95 = _NORMAL.inv_cdf(0.975)  # 1.959963984540054: the two-sided 95 % normal quantile

Floats = NDArray[np.float64]


def loglinear_rate(count: npt.ArrayLike, n: npt.ArrayLike) -> Floats:
    """``(count + 0.5) / (n + 1)``: a rate that is never 0 or 1 (0.5 when ``n`` is 0)."""
    x = np.asarray(count, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    rate: Floats = (x + 0.5) / (total + 1.0)
    return rate


def probit(p: npt.ArrayLike) -> Floats:
    """``z(p)``, the standard normal quantile. 0 gives -inf, 1 gives +inf, anything
    outside [0, 1] or NaN gives NaN."""
    values = np.asarray(p, dtype=np.float64)
    out = np.full(values.shape, np.nan, dtype=np.float64)
    inside = (values > 0.0) & (values < 1.0)
    out[inside] = [_NORMAL.inv_cdf(float(v)) for v in values[inside]]
    out[values == 0.0] = -np.inf
    out[values == 1.0] = np.inf
    return out


def d_prime(hit_rate: npt.ArrayLike, false_alarm_rate: npt.ArrayLike) -> Floats:
    """Sensitivity ``z(H) - z(F)``."""
    result: Floats = probit(hit_rate) - probit(false_alarm_rate)
    return result


def criterion(hit_rate: npt.ArrayLike, false_alarm_rate: npt.ArrayLike) -> Floats:
    """Response bias ``c = -(z(H) + z(F)) / 2``: positive means conservative (few
    "suspect" calls), negative liberal."""
    result: Floats = -(probit(hit_rate) + probit(false_alarm_rate)) / 2.0
    return result


def a_prime(hit_rate: npt.ArrayLike, false_alarm_rate: npt.ArrayLike) -> Floats:
    """Grier's (1971) non-parametric sensitivity A' in [0, 1] (0.5 = chance):

    * ``H >= F``: ``0.5 + (H - F)(1 + H - F) / (4 H (1 - F))``
    * ``H <  F``: ``0.5 - (F - H)(1 + F - H) / (4 F (1 - H))``

    ``H == F`` gives 0.5 (the formula's 0/0 at H = F = 0 or 1 included)."""
    h, f = np.broadcast_arrays(np.asarray(hit_rate, dtype=np.float64),
                               np.asarray(false_alarm_rate, dtype=np.float64))
    above = h >= f
    diff = np.abs(h - f)
    denominator = np.where(above, 4.0 * h * (1.0 - f), 4.0 * f * (1.0 - h))
    safe = np.where(denominator > 0.0, denominator, 1.0)
    term = np.where(diff > 0.0, diff * (1.0 + diff) / safe, 0.0)
    result: Floats = np.where(above, 0.5 + term, 0.5 - term)
    result[np.isnan(h) | np.isnan(f)] = np.nan
    return result


def wilson_interval(count: npt.ArrayLike, n: npt.ArrayLike,
                    z: float = Z95) -> tuple[Floats, Floats]:
    """Wilson score interval (default 95 %) for the proportion ``count / n``:
    ``(x + z²/2) / (n + z²)  ±  z / (n + z²) · sqrt(x (n - x) / n + z²/4)``.
    ``n == 0`` gives (0, 1): nothing is known."""
    x = np.asarray(count, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    x, total = np.broadcast_arrays(x, total)
    z2 = z * z
    safe_n = np.where(total > 0.0, total, 1.0)
    centre = (x + z2 / 2.0) / (total + z2)
    half = z / (total + z2) * np.sqrt(np.maximum(x * (total - x) / safe_n, 0.0) + z2 / 4.0)
    low: Floats = np.where(total > 0.0, np.clip(centre - half, 0.0, 1.0), 0.0)
    high: Floats = np.where(total > 0.0, np.clip(centre + half, 0.0, 1.0), 1.0)
    return low, high
