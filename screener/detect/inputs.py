"""Model input images made straight from a view's transmission, without the display
pipeline: greyscale from the high-energy channel and the two-channel dual-energy input.

Pseudo-colour input must come from the display pipeline's standard rendering (the image
as the screener sees it), so it is not made here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from screener.detect.errors import DetectionInputError
from screener.scan.model import View


def greyscale_from_high(view: View) -> NDArray[np.uint8]:
    """High-energy transmission scaled to 8 bits: air 255, opaque 0."""
    transmission = np.clip(view.transmission("high"), 0.0, 1.0)
    return np.round(transmission * np.float32(255.0)).astype(np.uint8)


def dual_energy(view: View) -> NDArray[np.float32]:
    """(rows, columns, 2) float32 transmission, high then low."""
    if view.low is None:
        raise DetectionInputError(f"view {view.name!r}", "the model needs both energy "
                                  "channels, but this view has no low-energy channel "
                                  "(single-energy or pseudo-colour scan)")
    stacked = np.stack([view.transmission("high"), view.transmission("low")], axis=-1)
    return np.clip(stacked, 0.0, 1.0).astype(np.float32)
