"""One fictional threat image (FTI): a threat article captured alone, as dual-energy
transmission, in one orientation. The projector multiplies it into a bag's transmission
(DESIGN.md, "TIP composition is physical")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray


class FtiCategory(StrEnum):
    """Threat categories as TIP reports them (ICAO groups)."""

    GUN = "gun"
    KNIFE = "knife"
    IED = "ied"
    OTHER = "other"


@dataclass(frozen=True, eq=False)
class FtiImage:
    """``high`` and ``low`` are transmissions in (0, 1] (1 = nothing in the beam) of the
    article alone, cropped to its extent; ``mask`` marks the article's pixels. Pixels
    outside the mask are 1.0 in both channels."""

    fti_id: str  # unique per image: the article id and the orientation
    article_id: str  # the physical article; several images per article
    category: FtiCategory
    subcategory: str  # e.g. "handgun", "revolver", "kitchen knife"
    orientation_deg: tuple[float, float, float]  # rotation about x, y, z when captured
    source: str  # how it was made: simulator and seed, or scanner and site
    added: str  # ISO date the image entered the library (replacement policy)
    scanner_profile: str  # the scanner whose channels these are
    pixel_pitch_mm: float
    high: NDArray[np.float32]
    low: NDArray[np.float32]
    mask: NDArray[np.bool_]

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.high.shape[0]), int(self.high.shape[1]))
