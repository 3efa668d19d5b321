"""An FTI as the screener would see it: its high- and low-energy transmissions rendered
by the display pipeline (:mod:`screener.imaging.render`) with the standard
pseudo-colour, on a margin of open beam like an article alone on the belt.

The FTI's channels are real dual-energy transmissions in (0, 1] (1 outside the article),
so they go through the same calibration (its scanner profile's) and colour tables as a
bag: organic orange, inorganic green, metal blue. Pure numpy; the trainer view turns the
result into a QImage on its worker thread.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from screener.imaging.render import classifier_for, prepare, render
from screener.scan.model import View
from screener.tip.fti import FtiImage

#: Open beam around the article, in pixels.
MARGIN = 24
FUNCTION = "standard"


def fti_view(fti: FtiImage, margin: int = MARGIN) -> View:
    """The FTI as a dual-energy view, with ``margin`` pixels of open beam around it."""
    high = np.pad(fti.high, margin, constant_values=np.float32(1.0))
    low = np.pad(fti.low, margin, constant_values=np.float32(1.0))
    return View(fti.fti_id, high, low, 1.0, (fti.pixel_pitch_mm, fti.pixel_pitch_mm))


def render_fti(fti: FtiImage, function: str = FUNCTION,
               margin: int = MARGIN) -> NDArray[np.uint8]:
    """RGBA uint8 of the FTI shown with the preset ``function``. Without a calibration
    for its scanner profile, a colour function raises
    :class:`~screener.imaging.render.FunctionUnavailableError` with the reason, as it
    would for a bag."""
    found = classifier_for(fti.scanner_profile)
    classifier = None if isinstance(found, str) else found
    view = prepare(fti_view(fti, margin), classifier,
                   missing_reason=found if isinstance(found, str) else None)
    return render(view, function)
