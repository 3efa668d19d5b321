"""The checks every FTI passes before it is written and after it is read.

The HDF5 library (:mod:`screener.tip.library`) and the exported ``.npz`` folder
(:mod:`screener.tip.library_exchange`) share them, so a file one writes the other reads.
Metadata arrives as plain values (text from HDF5 columns or JSON, numbers) and leaves as an
:class:`FtiRecord`; pixels are checked as arrays. Each failure is a typed
:class:`~screener.tip.library_errors.FtiLibraryError` naming the file and the field: the
caller says how a key is named in its container (``field_of("added")`` is
``/index/added[12]`` in a library and ``metadata.added`` in a ``.npz``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from screener.tip.fti import FtiCategory, FtiImage
from screener.tip.library_errors import (
    FtiInvalidMetadataError,
    FtiMissingFieldError,
    FtiNonFiniteValueError,
    FtiShapeMismatchError,
    FtiTooLargeError,
    FtiValueOutOfRangeError,
    FtiWrongDtypeError,
    FtiWrongRankError,
    UnknownFtiCategoryError,
)

#: Ids are also group names in the library and file names in an export folder.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
#: An FTI is one article cropped to its extent: 4000 x 4000 pixels is 2 m at 0.5 mm.
MAX_FTI_PIXELS = 16_000_000
MAX_TEXT_CHARS = 2000
TEXT_KEYS = ("fti_id", "article_id", "category", "subcategory", "source", "added",
             "scanner_profile")
METADATA_KEYS = (*TEXT_KEYS, "orientation_deg", "pixel_pitch_mm")

FieldOf = Callable[[str], str]


@dataclass(frozen=True)
class FtiRecord:
    """An FTI's metadata and pixel shape, without its pixels (the fields of
    :class:`~screener.tip.fti.FtiImage` less ``high``, ``low`` and ``mask``)."""

    fti_id: str
    article_id: str
    category: FtiCategory
    subcategory: str
    orientation_deg: tuple[float, float, float]
    source: str
    added: str  # ISO date, YYYY-MM-DD
    scanner_profile: str
    pixel_pitch_mm: float
    shape: tuple[int, int]  # rows, columns

    @property
    def added_date(self) -> date:
        return date.fromisoformat(self.added)

    def metadata(self) -> dict[str, Any]:
        """The metadata as JSON-ready values (what an exported ``.npz`` carries)."""
        return {
            "fti_id": self.fti_id,
            "article_id": self.article_id,
            "category": self.category.value,
            "subcategory": self.subcategory,
            "orientation_deg": list(self.orientation_deg),
            "source": self.source,
            "added": self.added,
            "scanner_profile": self.scanner_profile,
            "pixel_pitch_mm": self.pixel_pitch_mm,
        }


def image_metadata(image: FtiImage) -> dict[str, Any]:
    """An image's metadata as the plain values :func:`parse_record` accepts."""
    return {
        "fti_id": image.fti_id,
        "article_id": image.article_id,
        "category": str(image.category),
        "subcategory": image.subcategory,
        "orientation_deg": list(image.orientation_deg),
        "source": image.source,
        "added": image.added,
        "scanner_profile": image.scanner_profile,
        "pixel_pitch_mm": image.pixel_pitch_mm,
    }


def parse_record(path: Path, field_of: FieldOf, values: Mapping[str, Any],
                 shape: tuple[int, int]) -> FtiRecord:
    """Check metadata values and make the record; ``shape`` is the pixel shape."""
    for key in METADATA_KEYS:
        if key not in values:
            raise FtiMissingFieldError(path, field_of(key), "missing")
    texts = {key: _text(path, field_of(key), values[key]) for key in TEXT_KEYS}
    for key in ("fti_id", "article_id"):
        if not ID_PATTERN.fullmatch(texts[key]):
            raise FtiInvalidMetadataError(
                path, field_of(key),
                f"{texts[key]!r} is not an id: 1-128 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit",
            )
    return FtiRecord(
        fti_id=texts["fti_id"],
        article_id=texts["article_id"],
        category=_category(path, field_of("category"), texts["category"]),
        subcategory=texts["subcategory"],
        orientation_deg=_orientation(path, field_of("orientation_deg"),
                                     values["orientation_deg"]),
        source=texts["source"],
        added=_added(path, field_of("added"), texts["added"]),
        scanner_profile=texts["scanner_profile"],
        pixel_pitch_mm=_pitch(path, field_of("pixel_pitch_mm"), values["pixel_pitch_mm"]),
        shape=shape,
    )


def check_image(image: FtiImage, path: Path, field: str) -> FtiRecord:
    """Everything the reader will check, on an image about to be written."""
    if not isinstance(image, FtiImage):
        raise FtiWrongDtypeError(path, field, f"must be an FtiImage, found {type(image).__name__}")
    check_pixels(path, lambda name: f"{field}.{name}", image.high, image.low, image.mask)
    return parse_record(path, lambda key: f"{field}.{key}", image_metadata(image), image.shape)


def check_pixel_layout(path: Path, field: str, shape: tuple[int, ...], dtype: np.dtype[Any],
                       allowed: tuple[type[np.generic], ...]) -> None:
    """Rank, size and dtype of one image, before its pixels are read."""
    if len(shape) != 2:
        raise FtiWrongRankError(path, field, f"must be 2-D (rows, columns), found "
                                f"{len(shape)}-D {shape}")
    if shape[0] < 1 or shape[1] < 1:
        raise FtiInvalidMetadataError(path, field, f"empty image {shape}")
    if shape[0] * shape[1] > MAX_FTI_PIXELS:
        raise FtiTooLargeError(path, field, f"{shape[0]} x {shape[1]} pixels, cap is "
                               f"{MAX_FTI_PIXELS}")
    if dtype not in [np.dtype(a) for a in allowed]:
        names = " or ".join(np.dtype(a).name for a in allowed)
        raise FtiWrongDtypeError(path, field, f"dtype {dtype}, must be {names}")


def check_pixels(path: Path, field_of: FieldOf, high: NDArray[Any], low: NDArray[Any],
                 mask: NDArray[Any]) -> None:
    """Transmissions float32 in (0, 1], finite; a boolean mask of the same shape that is
    not empty; open beam (exactly 1.0 in both channels) outside the mask."""
    for name, data in (("high", high), ("low", low)):
        if not isinstance(data, np.ndarray):
            raise FtiWrongDtypeError(path, field_of(name), "must be a numpy array")
        check_pixel_layout(path, field_of(name), data.shape, data.dtype, (np.float32,))
    if not isinstance(mask, np.ndarray):
        raise FtiWrongDtypeError(path, field_of("mask"), "must be a numpy array")
    check_pixel_layout(path, field_of("mask"), mask.shape, mask.dtype, (np.bool_,))
    for name, data in (("low", low), ("mask", mask)):
        if data.shape != high.shape:
            raise FtiShapeMismatchError(
                path, field_of(name), f"shape {data.shape} differs from high {high.shape}"
            )
    for name, data in (("high", high), ("low", low)):
        _check_transmission(path, field_of(name), data)
    if not mask.any():
        raise FtiInvalidMetadataError(path, field_of("mask"), "marks no pixel: no article")
    for name, data in (("high", high), ("low", low)):
        outside = int(np.count_nonzero(data[~mask] != np.float32(1.0)))
        if outside:
            raise FtiValueOutOfRangeError(
                path, field_of(name),
                f"{outside} pixel(s) outside the mask are not open beam (1.0); everything "
                "but the article must transmit fully",
            )


def mask_from_stored(path: Path, field: str, stored: NDArray[Any]) -> NDArray[np.bool_]:
    """The boolean mask from its stored uint8 form (0 or 1 only)."""
    peak = int(stored.max())
    if peak > 1:
        raise FtiValueOutOfRangeError(path, field, f"value {peak} found; a mask holds 0 or 1")
    return stored.astype(np.bool_)


def _check_transmission(path: Path, field: str, data: NDArray[Any]) -> None:
    finite = np.isfinite(data)
    if not finite.all():
        bad = np.argwhere(~finite)
        row, col = (int(v) for v in bad[0])
        raise FtiNonFiniteValueError(
            path, field, f"{len(bad)} NaN or infinite pixel(s), first at row {row}, "
            f"column {col}",
        )
    lowest, highest = float(data.min()), float(data.max())
    if lowest <= 0.0 or highest > 1.0:
        raise FtiValueOutOfRangeError(
            path, field,
            f"transmission must lie in (0, 1], found [{lowest:g}, {highest:g}]",
        )


def _text(path: Path, field: str, value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        raise FtiWrongDtypeError(path, field, f"must be text, found {type(value).__name__}")
    if not value.strip():
        raise FtiInvalidMetadataError(path, field, "is empty")
    if len(value) > MAX_TEXT_CHARS or any(ord(c) < 32 for c in value):
        raise FtiInvalidMetadataError(
            path, field, f"must be one line of at most {MAX_TEXT_CHARS} characters"
        )
    return value


def _category(path: Path, field: str, value: str) -> FtiCategory:
    try:
        return FtiCategory(value)
    except ValueError:
        allowed = ", ".join(c.value for c in FtiCategory)
        raise UnknownFtiCategoryError(
            path, field, f"{value!r} is not one of: {allowed}"
        ) from None


def _added(path: Path, field: str, value: str) -> str:
    if DATE_PATTERN.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    raise FtiInvalidMetadataError(path, field, f"{value!r} is not an ISO date (YYYY-MM-DD)")


def _number(path: Path, field: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise FtiWrongDtypeError(path, field, f"must be a number, found {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise FtiNonFiniteValueError(path, field, f"must be finite, found {number}")
    return number


def _orientation(path: Path, field: str, value: Any) -> tuple[float, float, float]:
    items = list(value) if isinstance(value, (list, tuple, np.ndarray)) else None
    if items is None or len(items) != 3:
        raise FtiWrongDtypeError(
            path, field, f"must be three angles (about x, y, z, degrees), found {value!r}"
        )
    angles = [_number(path, field, v) for v in items]
    if any(abs(a) > 360.0 for a in angles):
        raise FtiValueOutOfRangeError(path, field, f"angles must lie in [-360, 360], found "
                                      f"{angles}")
    return angles[0], angles[1], angles[2]


def _pitch(path: Path, field: str, value: Any) -> float:
    pitch = _number(path, field, value)
    if not 0.0 < pitch <= 100.0:
        raise FtiValueOutOfRangeError(path, field, f"must lie in (0, 100] mm, found {pitch:g}")
    return pitch
