"""Positions along the belt, the axis that every view of a line scanner shares.

A line scanner draws each view one column at a time while the belt carries the object
through fan beams that stand across the belt, so column ``x`` of every view images the
same slice of the object whatever the view's angle: an article covers the same extent
along the belt in each view (tip/projector.py places TIP articles this way;
detect/view_fusion.py pairs detections this way). A view whose belt runs right to left
is mirrored on screen, so its columns count from the other end.
"""

from __future__ import annotations

from collections.abc import Sequence

from screener.scan.model import BeltDirection, View

#: How far two views' lengths along the belt may differ, as a share of the longer, and
#: still be taken as one pass of one object (rounding of the last column, a trimmed edge).
SAME_BELT_TOLERANCE = 0.02


def belt_mm(view: View, x: float) -> float:
    """Millimetres along the belt from the scan's leading edge of column coordinate ``x``
    (continuous pixel corners: 0 is the left edge of column 0, as in detection boxes)."""
    position = x if view.belt_direction is BeltDirection.LEFT_TO_RIGHT else view.shape[1] - x
    return position * view.pixel_pitch_mm[1]


def x_at_belt_mm(view: View, millimetres: float) -> float:
    """The column coordinate (continuous pixel corners) of a position along the belt: the
    inverse of :func:`belt_mm`."""
    x = millimetres / view.pixel_pitch_mm[1]
    return x if view.belt_direction is BeltDirection.LEFT_TO_RIGHT else view.shape[1] - x


def belt_length_mm(view: View) -> float:
    return view.shape[1] * view.pixel_pitch_mm[1]


def share_belt(views: Sequence[View]) -> bool:
    """Whether ``views`` cover the same length of belt (within
    :data:`SAME_BELT_TOLERANCE`), as the views of one pass through one scanner do; views
    that do not (an image put together from several scanners, a view cut short) cannot be
    related column by column."""
    lengths = [belt_length_mm(v) for v in views]
    if not lengths or min(lengths) <= 0:
        return False
    return (max(lengths) - min(lengths)) <= SAME_BELT_TOLERANCE * max(lengths)
