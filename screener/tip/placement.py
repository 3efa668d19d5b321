"""Where an FTI may go in a view, and how it is turned: the bag outline, the pose, the warp.

Pure numpy/OpenCV, no Qt (docs/tip-projection.md, "Placement").

* :func:`find_outline` finds the bag or container in a view once (the projector caches it
  per view object): the high-energy channel is reduced by block averaging to about 10^5
  cells, cells darker than the air level by more than the noise are "bag", a morphological
  closing joins the bag's pieces, the largest connected component is kept and its holes are
  filled. The FTI may go where the filled outline is at least ``margin_mm`` from its edge
  and from the edge of the image.
* :func:`draw_pose` draws a rotation in the view plane, a mirror flip and a size jitter.
* :func:`warp_fti` turns, mirrors and rescales an FTI's transmissions and mask onto the
  view's pixel grid in one ``cv2.warpAffine`` (bilinear, padded with transmission 1.0 and
  mask 0), and crops the result to the pixels the FTI touches.
* :func:`propose_position` draws a position for a warped FTI and checks that every pixel it
  touches lies inside the outline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import cv2
import numpy as np
from numpy.typing import NDArray

from screener.scan.model import Channel

Float32Array = NDArray[np.float32]
BoolArray = NDArray[np.bool_]

#: The outline is found on the high channel reduced to about this many cells.
OUTLINE_CELLS: Final = 100_000
#: A cell is "bag" when its attenuation exceeds the air level's by at least this much (A)...
MIN_OUTLINE_CONTRAST: Final = 0.02
#: ...and by at least this many standard deviations of a cell's noise at the air level.
OUTLINE_NOISE_SIGMAS: Final = 4.0
#: Below this scale factor (FTI pitch x jitter / view pitch) the FTI is first shrunk by
#: area averaging (the detector integrates over its larger pixel), then warped.
AREA_RESIZE_BELOW: Final = 0.75
#: A proposed centre needs at least this fraction of the warped FTI's half-size as clearance
#: from the outline's edge before the exact pixel check is made (a cheap pre-filter).
MIN_CLEARANCE_FRACTION: Final = 0.5


class RotationMode(StrEnum):
    """How an FTI is turned in the view plane."""

    #: any angle, uniform in [0, 360) degrees (the default: an article lies any way round
    #: on the belt)
    ANY = "any"
    #: a quarter turn (0, 90, 180 or 270 degrees) plus a small uniform angle
    QUARTER_TURNS = "quarter-turns"
    #: as captured (no rotation)
    NONE = "none"


@dataclass(frozen=True)
class Pose:
    """How an FTI is turned before it is placed.

    ``angle_deg`` turns it counter-clockwise as seen on screen (rows downwards), after a
    mirror flip of its columns when ``flipped``; ``scale`` is the size jitter (1.0: the
    article's true size), on top of the rescaling from the FTI's pixel pitch to the view's.
    """

    angle_deg: float = 0.0
    flipped: bool = False
    scale: float = 1.0

    def mirrored(self) -> Pose:
        """The same pose seen in a view whose belt runs the other way (columns mirrored)."""
        return Pose((-self.angle_deg) % 360.0, not self.flipped, self.scale)


def draw_pose(rng: np.random.Generator, rotation: RotationMode, small_angle_deg: float,
              flip_probability: float, scale_jitter: float) -> Pose:  # fmt: skip
    """A random pose: the rotation per ``rotation``, a flip with ``flip_probability``, a scale
    uniform in ``[1 - scale_jitter, 1 + scale_jitter]``. Always draws the same three numbers
    from ``rng``, whatever the settings, so that a setting does not shift later draws."""
    u_angle, u_flip, u_scale = rng.random(3)
    quarter = int(rng.integers(4))
    if rotation is RotationMode.ANY:
        angle = 360.0 * float(u_angle)
    elif rotation is RotationMode.QUARTER_TURNS:
        angle = (90.0 * quarter + small_angle_deg * (2.0 * float(u_angle) - 1.0)) % 360.0
    else:
        angle = 0.0
    flipped = bool(u_flip < flip_probability)
    scale = 1.0 + scale_jitter * (2.0 * float(u_scale) - 1.0)
    return Pose(angle, flipped, scale)


# --------------------------------------------------------------------------------------
# The bag outline


@dataclass(frozen=True, eq=False)
class BagOutline:
    """The region of a view where an FTI may lie.

    ``allowed`` (the view's shape) is True where an FTI pixel may go: inside the filled bag
    outline and at least the margin from its edge and from the image's edge (``allowed_px``
    pixels). ``bag`` is the
    filled outline itself and ``clearance_px`` how far each cell's centre lies inside
    ``allowed`` (view pixels; 0 outside), both on the reduced grid of ``step`` x ``step``
    view pixels per cell. ``air_transmission`` is the high-channel transmission taken as
    empty (belt and air), ``air_cells`` the cells well away from the bag (for noise
    estimates).
    """

    allowed: BoolArray
    bag: BoolArray
    clearance_px: Float32Array
    air_cells: BoolArray
    step: int
    air_transmission: float
    margin_px: float
    allowed_px: int

    @property
    def max_clearance_px(self) -> float:
        """Radius (view pixels) of the largest disc that fits in ``allowed``, about."""
        return float(self.clearance_px.max()) if self.clearance_px.size else 0.0

    @property
    def is_empty(self) -> bool:
        return self.allowed_px == 0


def reduction_step(shape: tuple[int, int], cells: int = OUTLINE_CELLS) -> int:
    """Block size (view pixels per reduced cell side) that leaves at most about ``cells``."""
    return max(1, math.ceil(math.sqrt(shape[0] * shape[1] / cells)))


def reduce_channel(channel: Channel, full_scale: float, step: int) -> Float32Array:
    """Block means of a channel's transmission over ``step`` x ``step`` pixels (the view's
    trailing rows and columns that do not fill a block are left out)."""
    rows, cols = channel.shape[0] // step, channel.shape[1] // step
    if rows == 0 or cols == 0:
        return np.zeros((rows, cols), dtype=np.float32)
    crop = channel[: rows * step, : cols * step]
    if step == 1:
        small = np.asarray(crop, dtype=np.float32)
    else:
        small = np.asarray(cv2.resize(crop, (cols, rows), interpolation=cv2.INTER_AREA))
    out: Float32Array = small.astype(np.float32) * np.float32(1.0 / full_scale)
    return out


def _air_level(small: Float32Array) -> float:
    """Transmission of the empty belt: the median of the reduced image's outermost ring of
    cells (a line scan starts and ends with empty belt)."""
    ring = np.concatenate([small[0], small[-1], small[1:-1, 0], small[1:-1, -1]])
    return float(np.median(ring)) if ring.size else 1.0


def _odd(n: float) -> int:
    k = max(1, round(n))
    return k if k % 2 else k + 1


def find_outline(
    channel: Channel,
    full_scale: float,
    pixel_pitch_mm: tuple[float, float],
    *,
    noise_sigma_air: float,
    margin_mm: float,
    closing_mm: float,
    air_transmission: float | None = None,
) -> BagOutline:
    """The bag outline of a view from its high channel (see the module docstring).

    ``noise_sigma_air`` is the standard deviation of one pixel's transmission at the air
    level (from the noise model); it sets how much darker than air a cell must be to count
    as bag. ``air_transmission`` overrides the air level read from the image's edges.
    """
    rows, cols = int(channel.shape[0]), int(channel.shape[1])
    step = reduction_step((rows, cols))
    small = reduce_channel(channel, full_scale, step)
    air = float(air_transmission) if air_transmission is not None else _air_level(small)
    air = max(air, 1e-6)
    cell_pitch = step * min(pixel_pitch_mm)
    sigma_a = noise_sigma_air / air / step  # a cell averages step^2 pixels
    contrast = max(MIN_OUTLINE_CONTRAST, OUTLINE_NOISE_SIGMAS * sigma_a)
    dark = (small < np.float32(air * math.exp(-contrast))).astype(np.uint8)
    k = _odd(closing_mm / cell_pitch)
    if k > 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        pad = k  # so that the closing does not stick to the image's edge
        padded = cv2.copyMakeBorder(dark, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, kernel)
        dark = np.ascontiguousarray(closed[pad:-pad, pad:-pad])
    bag = np.zeros_like(dark)
    n_labels, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    if n_labels > 1:
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        component = (labels == largest).astype(np.uint8)
        contours, _ = cv2.findContours(component, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(bag, contours, -1, 1, thickness=cv2.FILLED)
    # distance (view pixels) from each cell centre to the nearest cell outside the bag or
    # beyond the image's edge
    padded_bag = cv2.copyMakeBorder(bag, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    distance = cv2.distanceTransform(padded_bag, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    margin_px = margin_mm / min(pixel_pitch_mm)
    # a cell's pixels lie up to step/2 nearer the edge than its centre
    clearance = np.asarray(distance, dtype=np.float32) * np.float32(step) - np.float32(
        margin_px + step / 2.0)
    np.maximum(clearance, 0.0, out=clearance)
    allowed_small = clearance > 0.0
    allowed = np.zeros((rows, cols), dtype=bool)
    if allowed_small.any():
        up = np.repeat(np.repeat(allowed_small, step, axis=0), step, axis=1)
        allowed[: up.shape[0], : up.shape[1]] = up
    # air: cells beyond the closing's reach from the bag
    reach = k + 2
    near_bag = cv2.dilate(bag, cv2.getStructuringElement(cv2.MORPH_RECT, (reach, reach)))
    allowed.setflags(write=False)
    return BagOutline(
        allowed=allowed,
        bag=bag.astype(bool),
        clearance_px=clearance,
        air_cells=near_bag == 0,
        step=step,
        air_transmission=air,
        margin_px=float(margin_px),
        allowed_px=int(np.count_nonzero(allowed_small)) * step * step,
    )


# --------------------------------------------------------------------------------------
# Warping the FTI onto the view's grid


@dataclass(frozen=True, eq=False)
class WarpedFti:
    """An FTI turned and rescaled onto a view's pixel grid, cropped to what it touches.

    ``high`` and ``low`` are transmissions (1.0 outside ``mask``); ``mask`` marks the pixels
    whose value the FTI changes (its mask after bilinear resampling: any pixel with a share
    of an FTI pixel). ``matrix`` maps FTI pixel coordinates ``(x = column, y = row, 1)`` to
    coordinates in this crop; ``centre`` is where the FTI's centre lands in the crop
    ``(row, column)``.
    """

    high: Float32Array
    low: Float32Array
    mask: BoolArray
    matrix: NDArray[np.float64]
    centre: tuple[float, float]

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.mask.shape[0]), int(self.mask.shape[1])


def _linear_part(pose: Pose, fti_pitch_mm: tuple[float, float],
                 view_pitch_mm: tuple[float, float]) -> NDArray[np.float64]:  # fmt: skip
    """2x2 map from FTI pixel offsets (x, y) to view pixel offsets (x, y): mirror, FTI pixels
    to mm, rotate counter-clockwise on screen, jitter, mm to view pixels."""
    theta = math.radians(pose.angle_deg)
    c, s = math.cos(theta), math.sin(theta)
    rotate = np.array([[c, s], [-s, c]])  # counter-clockwise with y pointing down
    flip = np.diag([-1.0 if pose.flipped else 1.0, 1.0])
    to_mm = np.diag([fti_pitch_mm[1], fti_pitch_mm[0]])
    to_view = np.diag([1.0 / view_pitch_mm[1], 1.0 / view_pitch_mm[0]])
    result: NDArray[np.float64] = to_view @ (pose.scale * rotate) @ to_mm @ flip
    return result


def warp_fti(stack: Float32Array, fti_pitch_mm: float, pose: Pose,
             view_pitch_mm: tuple[float, float]) -> WarpedFti:  # fmt: skip
    """Warp an FTI given as a ``(rows, cols, 3 or 4)`` float32 stack (high, low, mask as 0/1,
    and optionally a fourth plane that is ignored: OpenCV warps four planes faster than
    three).

    Strong reductions (scale below :data:`AREA_RESIZE_BELOW`) first shrink the stack by
    area averaging, which is what a detector with larger pixels measures; the warp then
    only turns it.
    """
    h, w = int(stack.shape[0]), int(stack.shape[1])
    pitch = (float(fti_pitch_mm), float(fti_pitch_mm))
    factor = fti_pitch_mm * pose.scale / min(view_pitch_mm)
    pre = np.eye(3)  # original FTI pixel coordinates -> those of the stack warped
    if factor < AREA_RESIZE_BELOW:
        new_w, new_h = max(1, round(w * factor)), max(1, round(h * factor))
        stack = np.asarray(cv2.resize(stack, (new_w, new_h), interpolation=cv2.INTER_AREA),
                           dtype=np.float32)  # fmt: skip
        sx, sy = new_w / w, new_h / h
        pre = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])
        pitch = (fti_pitch_mm / sy, fti_pitch_mm / sx)
        h, w = new_h, new_w
    linear = _linear_part(pose, pitch, view_pitch_mm)
    centre = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
    corners = np.array([[0.0, 0.0], [w - 1.0, 0.0], [0.0, h - 1.0], [w - 1.0, h - 1.0]])
    mapped = (corners - centre) @ linear.T
    low_xy = mapped.min(axis=0)
    span = mapped.max(axis=0) - low_xy
    # one pixel of room on each side: bilinear sampling reaches one pixel beyond a centre
    offset = 1.0 - low_xy
    size = (math.ceil(span[0]) + 3, math.ceil(span[1]) + 3)  # (width, height)
    matrix = np.empty((2, 3), dtype=np.float64)
    matrix[:, :2] = linear
    matrix[:, 2] = offset - linear @ centre
    warped = np.asarray(
        cv2.warpAffine(stack, matrix, size, flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=(1.0, 1.0, 0.0, 0.0)),
        dtype=np.float32,
    )  # fmt: skip
    support = warped[:, :, 2] > 0.0
    rows_any = np.flatnonzero(support.any(axis=1))
    cols_any = np.flatnonzero(support.any(axis=0))
    if rows_any.size == 0:
        empty = np.zeros((0, 0), dtype=np.float32)
        return WarpedFti(empty, empty, np.zeros((0, 0), dtype=bool), matrix @ pre, (0.0, 0.0))
    r0, r1 = int(rows_any[0]), int(rows_any[-1]) + 1
    c0, c1 = int(cols_any[0]), int(cols_any[-1]) + 1
    mask = np.ascontiguousarray(support[r0:r1, c0:c1])
    high = np.ascontiguousarray(warped[r0:r1, c0:c1, 0])
    low = np.ascontiguousarray(warped[r0:r1, c0:c1, 1])
    for t in (high, low):
        np.minimum(t, np.float32(1.0), out=t)
        t[~mask] = 1.0
    matrix[0, 2] -= c0
    matrix[1, 2] -= r0
    centre_xy = matrix[:, :2] @ centre + matrix[:, 2]
    return WarpedFti(high, low, mask, matrix @ pre, (float(centre_xy[1]), float(centre_xy[0])))


# --------------------------------------------------------------------------------------
# Positions


def propose_position(
    outline: BagOutline,
    warped: WarpedFti,
    rng: np.random.Generator,
    *,
    centre: tuple[float, float] | None = None,
    centre_column: float | None = None,
) -> tuple[int, int] | None:
    """Top-left ``(row, column)`` in view pixels for ``warped``, or None if the drawn or given
    position does not keep every pixel it touches inside ``outline.allowed``.

    ``centre`` puts the FTI's centre there (view pixels, row and column); ``centre_column``
    fixes only its column and draws the row; otherwise the centre is drawn uniformly among
    the outline's cells with enough clearance, jittered within its cell.
    """
    h, w = warped.shape
    rows, cols = outline.allowed.shape
    if h == 0 or h > rows or w > cols:
        return None
    cr, cc = warped.centre
    if centre is None:
        need = MIN_CLEARANCE_FRACTION * 0.5 * min(h, w)
        step = outline.step
        if centre_column is not None:
            j = int(centre_column // step)
            if not 0 <= j < outline.clearance_px.shape[1]:
                return None
            candidates = np.flatnonzero(outline.clearance_px[:, j] >= need)
            if candidates.size == 0:
                return None
            i = int(candidates[rng.integers(candidates.size)])
            centre = (i * step + float(rng.random()) * step, float(centre_column))
        else:
            flat = np.flatnonzero(outline.clearance_px.reshape(-1) >= need)
            if flat.size == 0:
                return None
            cell = int(flat[rng.integers(flat.size)])
            i, j = divmod(cell, outline.clearance_px.shape[1])
            jitter = rng.random(2)
            centre = (i * step + float(jitter[0]) * step, j * step + float(jitter[1]) * step)
    top = round(centre[0] - cr)
    left = round(centre[1] - cc)
    if top < 0 or left < 0 or top + h > rows or left + w > cols:
        return None
    if not bool(outline.allowed[top : top + h, left : left + w][warped.mask].all()):
        return None
    return top, left
