"""Image-based difficulty factors of one TIP placement: superposition, clutter, opacity.

Recorded at projection time from the bag's own high-energy transmission under the placed
FTI (never the composite), so they describe what the bag does to the threat. Definitions,
formulas and the literature they follow are in docs/tip-projection.md ("Measures"):

* **superposition** ``S = mean over M of (min(A_bag, A_opaque) - A_air)``: the mean
  high-energy log attenuation the bag adds over the FTI's pixels ``M``, above the empty
  belt's ``A_air``. In log space the composite is ``A_bag + A_fti``, so ``A_bag - A_air``
  is exactly how far the bag moves each threat pixel from the threat seen alone on the
  belt. 0 over air; in nepers.
* **clutter** ``C``: the fraction of the FTI's bounding box where the bag's attenuation has
  an edge, ``|grad(G_1.5 * min(A_bag, A_opaque))| > edge_threshold`` (Gaussian sigma
  1.5 pixels, Sobel gradient per pixel; threshold 0.05). 0 on a uniform background, at most 1.
* **opacity** ``O``: the fraction of ``M`` over bag pixels darker than the scanner's
  opaque floor, ``A_bag > A_opaque``. In [0, 1].

View difficulty, the fourth factor, belongs to the FTI (the article's orientation when it
was captured) and is the library's to record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
from numpy.typing import NDArray

Float32Array = NDArray[np.float32]

#: Minimum signal-to-noise ratio of a pixel that is not opaque (the Rose criterion, as the
#: display calibration's impenetrable class: screener.imaging.calibration.MIN_CHANNEL_SNR).
OPAQUE_MIN_SNR: Final = 5.0
#: A box pixel is an edge where the bag's A changes by more than this per pixel.
CLUTTER_EDGE_THRESHOLD: Final = 0.05
#: Gaussian smoothing (pixels) before the clutter gradient, against quantum noise.
CLUTTER_SMOOTHING_PX: Final = 1.5
#: Transmissions are floored here before the logarithm.
MIN_TRANSMISSION: Final = 1e-12


@dataclass(frozen=True)
class ImageFactors:
    """Superposition (nepers), clutter and opacity (fractions) of one placement."""

    superposition: float
    clutter: float
    opacity: float

    def as_dict(self) -> dict[str, float]:
        return {"superposition": self.superposition, "clutter": self.clutter,
                "opacity": self.opacity}  # fmt: skip


def opaque_attenuation(open_beam_quanta: float, electronic_noise: float,
                       min_snr: float = OPAQUE_MIN_SNR) -> float:  # fmt: skip
    """Largest A at which a channel's signal-to-noise ratio is still ``min_snr``.

    With ``n = N T`` detected quanta and electronic noise ``e N`` quanta the SNR is
    ``n / sqrt(n + (e N)^2)``; it equals ``s`` at ``n* = (s^2 + sqrt(s^4 + 4 s^2 (e N)^2)) / 2``
    and ``A_opaque = ln(N / n*)`` (the same floor as the display calibration's impenetrable
    class, :func:`screener.imaging.calibration.impenetrable_threshold`).
    """
    n_open = float(open_beam_quanta)
    s2 = min_snr * min_snr
    quanta = (s2 + math.sqrt(s2 * s2 + 4.0 * s2 * (electronic_noise * n_open) ** 2)) / 2.0
    return math.log(max(n_open / quanta, 1.0))


def bag_attenuation(t_bag: Float32Array, a_opaque: float) -> Float32Array:
    """``min(-ln max(T, 1e-12), a_opaque)`` as float32 (negative A from noise kept)."""
    a = np.maximum(np.asarray(t_bag, dtype=np.float32), np.float32(MIN_TRANSMISSION))
    np.log(a, out=a)
    np.negative(a, out=a)
    if math.isfinite(a_opaque):
        np.minimum(a, np.float32(a_opaque), out=a)
    return a


def opacity(t_bag: Float32Array, mask: NDArray[np.bool_], a_opaque: float) -> float:
    """Fraction of ``mask`` where ``t_bag < exp(-a_opaque)``."""
    n = int(np.count_nonzero(mask))
    if n == 0:
        return 0.0
    floor = np.float32(math.exp(-a_opaque)) if math.isfinite(a_opaque) else np.float32(0.0)
    return int(np.count_nonzero(t_bag[mask] < floor)) / n


def superposition(a_bag: Float32Array, mask: NDArray[np.bool_], a_air: float = 0.0) -> float:
    """Mean of the (capped) bag attenuation over ``mask``, less the air level ``a_air``."""
    if not mask.any():
        return 0.0
    return float(np.mean(a_bag[mask], dtype=np.float64)) - a_air


def edge_map(a_bag: Float32Array, edge_threshold: float = CLUTTER_EDGE_THRESHOLD,
             smoothing_px: float = CLUTTER_SMOOTHING_PX) -> NDArray[np.bool_]:  # fmt: skip
    """Where ``a_bag``'s smoothed gradient magnitude exceeds ``edge_threshold`` per pixel
    (Gaussian ``smoothing_px``, Sobel 3x3 / 8, borders replicated)."""
    a = np.ascontiguousarray(a_bag, dtype=np.float32)
    if a.size == 0:
        return np.zeros(a.shape, dtype=bool)
    if smoothing_px > 0.0:
        a = np.asarray(cv2.GaussianBlur(a, (0, 0), sigmaX=smoothing_px, sigmaY=smoothing_px,
                                        borderType=cv2.BORDER_REPLICATE))  # fmt: skip
    # Sobel 3x3 divided by 8: the central difference, averaged across three rows
    gx = np.asarray(cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3, scale=0.125,
                              borderType=cv2.BORDER_REPLICATE))  # fmt: skip
    gy = np.asarray(cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3, scale=0.125,
                              borderType=cv2.BORDER_REPLICATE))  # fmt: skip
    magnitude2 = gx * gx + gy * gy
    edges: NDArray[np.bool_] = magnitude2 > np.float32(edge_threshold**2)
    return edges


def clutter(a_bag: Float32Array, edge_threshold: float = CLUTTER_EDGE_THRESHOLD,
            smoothing_px: float = CLUTTER_SMOOTHING_PX) -> float:  # fmt: skip
    """Edge density of ``a_bag`` (the FTI's bounding box): the fraction of its pixels in
    :func:`edge_map`."""
    if a_bag.size == 0:
        return 0.0
    return int(np.count_nonzero(edge_map(a_bag, edge_threshold, smoothing_px))) / a_bag.size


def measure(t_bag_box: Float32Array, mask: NDArray[np.bool_], a_opaque: float, *,
            a_air: float = 0.0,
            edge_threshold: float = CLUTTER_EDGE_THRESHOLD) -> ImageFactors:  # fmt: skip
    """All three factors from the bag's high-energy transmission over the FTI's box, the
    FTI's mask in that box, the opaque floor and the empty belt's attenuation ``a_air``."""
    a_bag = bag_attenuation(t_bag_box, a_opaque)
    return ImageFactors(
        superposition=superposition(a_bag, mask, a_air),
        clutter=clutter(a_bag, edge_threshold),
        opacity=opacity(t_bag_box, mask, a_opaque),
    )
