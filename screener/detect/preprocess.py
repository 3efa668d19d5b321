"""Preprocessing: check the input image, letterbox it to the model's size, normalise, NCHW.

Letterboxing follows ultralytics (``LetterBox``): one scale for both axes, the resized
image centred, the rest padded (grey 114 for 8-bit images). :class:`Letterbox` records the
exact geometry, so that boxes the model gives in its input pixels map back to the view's
pixels (:meth:`Letterbox.to_source`). Pure numpy and OpenCV.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from screener.detect.errors import DetectionInputError
from screener.detect.manifest import InputKind, ModelManifest, Normalisation

#: Largest image edge the detector accepts (a cargo view is a few thousand pixels).
MAX_IMAGE_EDGE = 65_536


@dataclass(frozen=True)
class Letterbox:
    """How a ``source_size`` image was placed in a ``target_size`` model input.

    The image was resized to ``resized_size`` and put at ``(pad_left, pad_top)``. Sizes
    are ``(height, width)``. Coordinates are continuous pixel corners: a point ``x`` in
    the model input is ``(x - pad_left) * source_width / resized_width`` in the source.
    """

    source_size: tuple[int, int]
    target_size: tuple[int, int]
    resized_size: tuple[int, int]
    pad_top: int
    pad_left: int

    @property
    def scale_x(self) -> float:
        """Resized width over source width."""
        return self.resized_size[1] / self.source_size[1]

    @property
    def scale_y(self) -> float:
        return self.resized_size[0] / self.source_size[0]

    def to_source(self, boxes: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """Boxes ``(K, 4)`` x0, y0, x1, y1 in model-input pixels -> source pixels, clipped
        to the source image."""
        out = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
        out[:, 0::2] = (out[:, 0::2] - self.pad_left) / self.scale_x
        out[:, 1::2] = (out[:, 1::2] - self.pad_top) / self.scale_y
        height, width = self.source_size
        np.clip(out[:, 0::2], 0.0, float(width), out=out[:, 0::2])
        np.clip(out[:, 1::2], 0.0, float(height), out=out[:, 1::2])
        return out

    def to_model(self, boxes: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """The inverse of :meth:`to_source` (without clipping): source -> model input."""
        out = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
        out[:, 0::2] = out[:, 0::2] * self.scale_x + self.pad_left
        out[:, 1::2] = out[:, 1::2] * self.scale_y + self.pad_top
        return out


def plan_letterbox(source_size: tuple[int, int], target_size: tuple[int, int]) -> Letterbox:
    """The geometry ultralytics' ``LetterBox(auto=False, scaleup=True)`` uses."""
    height, width = source_size
    target_h, target_w = target_size
    ratio = min(target_h / height, target_w / width)
    new_w = min(target_w, max(1, round(width * ratio)))
    new_h = min(target_h, max(1, round(height * ratio)))
    dw = (target_w - new_w) / 2
    dh = (target_h - new_h) / 2
    return Letterbox(
        source_size=(height, width),
        target_size=(target_h, target_w),
        resized_size=(new_h, new_w),
        pad_top=round(dh - 0.1),
        pad_left=round(dw - 0.1),
    )


def letterbox(image: NDArray[Any], target_size: tuple[int, int],
              pad_value: float) -> tuple[NDArray[Any], Letterbox]:
    """Resize ``image`` (rows, columns, channels) into ``target_size`` keeping its aspect,
    pad with ``pad_value``; returns the padded image (same dtype, channels kept) and the
    geometry."""
    height, width, channels = image.shape
    plan = plan_letterbox((height, width), target_size)
    new_h, new_w = plan.resized_size
    if (new_h, new_w) != (height, width):
        resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    else:
        resized = image
    resized = np.asarray(resized).reshape(new_h, new_w, channels)
    if image.dtype == np.uint8:
        pad_value = float(np.clip(round(pad_value), 0, 255))
    out = np.full((*target_size, channels), pad_value, dtype=image.dtype)
    out[plan.pad_top:plan.pad_top + new_h, plan.pad_left:plan.pad_left + new_w] = resized
    return out, plan


def check_image(image: Any, kind: InputKind, what: str = "image") -> NDArray[Any]:
    """The image as (rows, columns, channels) if it fits ``kind``, else
    :class:`DetectionInputError` naming ``what``.

    pseudo-colour: uint8 (rows, columns, 3) RGB; greyscale: uint8 (rows, columns) or
    (rows, columns, 1); dual-energy: float (rows, columns, 2) transmission, high then low.
    """
    array = np.asarray(image)
    if kind is InputKind.GREYSCALE and array.ndim == 2:
        array = array[:, :, None]
    expected = {
        InputKind.PSEUDO_COLOUR: "uint8 (rows, columns, 3) RGB",
        InputKind.GREYSCALE: "uint8 (rows, columns)",
        InputKind.DUAL_ENERGY: "float32 (rows, columns, 2) transmission, high then low",
    }[kind]
    if array.ndim != 3 or array.shape[2] != kind.channels:
        raise DetectionInputError(what, f"the model takes {kind.value} input, {expected}; "
                                  f"got an array of shape {array.shape}")
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise DetectionInputError(what, f"the image is empty (shape {array.shape})")
    if max(array.shape[:2]) > MAX_IMAGE_EDGE:
        raise DetectionInputError(what, f"the image is {array.shape[0]} x {array.shape[1]} "
                                  f"pixels; the detector accepts at most {MAX_IMAGE_EDGE} a side")
    if kind is InputKind.DUAL_ENERGY:
        if array.dtype.kind != "f":
            raise DetectionInputError(what, f"the model takes {expected}; got dtype {array.dtype}")
        array = array.astype(np.float32, copy=False)
        if not np.all(np.isfinite(array)):
            raise DetectionInputError(what, "the dual-energy image holds NaN or infinity")
    elif array.dtype != np.uint8:
        raise DetectionInputError(what, f"the model takes {expected}; got dtype {array.dtype}")
    return array


def normalise(image: NDArray[Any], normalisation: Normalisation) -> NDArray[np.float32]:
    """(rows, columns, channels) -> float32 ``(pixel * scale - mean) / std`` per channel, with
    the channels put in the model's ``channel_order`` (images arrive RGB, or high then low)."""
    if normalisation.channel_order in ("BGR", "low-high"):
        image = image[:, :, ::-1]
    out = image.astype(np.float32) * np.float32(normalisation.scale)
    mean = np.asarray(normalisation.mean, dtype=np.float32)
    std = np.asarray(normalisation.std, dtype=np.float32)
    if np.any(mean != 0) or np.any(std != 1):
        out = (out - mean) / std
    return out.astype(np.float32, copy=False)


def prepare(image: Any, manifest: ModelManifest,
            what: str = "image") -> tuple[NDArray[np.float32], Letterbox]:
    """Check, letterbox and normalise ``image`` for the model: a ``(1, C, H, W)`` float32
    tensor and the geometry to map boxes back."""
    checked = check_image(image, manifest.input_kind, what)
    boxed, plan = letterbox(checked, manifest.input_size, manifest.pad_value)
    values = normalise(boxed, manifest.normalisation)
    tensor = np.ascontiguousarray(values.transpose(2, 0, 1)[None])
    return tensor, plan
