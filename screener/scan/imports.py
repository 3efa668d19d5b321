"""Scans from other sources: greyscale and pseudo-colour PNG/JPEG, dual-energy ``.npy``.

Each importer returns a validated :class:`~screener.scan.Scan` whose
``metadata.source_kind`` says what the source lacks (docs/scan-format.md, Imports):

- greyscale PNG/JPEG (GDXray): ``single-energy``; ``high`` holds the grey values
  bit-exactly as uint16 with ``full_scale`` 255 or 65535 (bright = transmits); no ``low``;
- colour PNG/JPEG (SIXray): ``pseudo-colour``; ``high`` an approximate transmission read
  from the colour's luminance through this workstation's standard colour ramp
  (:func:`transmission_from_colour`), as uint16 on ``full_scale`` 65535; ``material_class``
  the material read from its hue (:func:`material_from_hsv`); no ``low``;
- ``(rows, columns, 2)`` arrays (ZCON): ``dual-energy``, channel order and open beam as
  parameters with ZCON's defaults.

Sizes are checked against the :class:`~screener.scan.ScanLimits` cap from the file's
header (PNG ``IHDR``, JPEG ``SOFn``, ``.npy`` header) before any pixel is decoded. Every
failure is a typed :class:`~screener.errors.ScanFormatError` naming the file.
"""

from __future__ import annotations

import functools
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import h5py
import numpy as np
from numpy.typing import NDArray

from screener.errors import (
    CorruptImageError,
    NonFiniteValueError,
    ScanFileNotFoundError,
    ScanTooLargeError,
    TruncatedScanError,
    UnsupportedFileError,
    UnsupportedImageLayoutError,
    ValueOutOfRangeError,
    WrongDtypeError,
    WrongRankError,
)
from screener.scan.hdf5 import ScanLimits, read_scan, validate_scan
from screener.scan.model import (
    MATERIAL_BACKGROUND,
    MATERIAL_IMPENETRABLE,
    MATERIAL_INORGANIC,
    MATERIAL_METAL,
    MATERIAL_ORGANIC,
    Channel,
    Scan,
    ScanMetadata,
    SourceKind,
    View,
)

#: Pixel pitch (mm, both axes) given to imports whose pitch is unknown (GDXray, SIXray,
#: ZCON publish none): a *nominal* 1 mm, so lengths on such scans are in pixels, not mm.
NOMINAL_PIXEL_PITCH_MM = 1.0
#: Name of the one view an imported file becomes.
IMPORTED_VIEW_NAME = "image"
#: Station and lane recorded for imported files.
IMPORT_STATION = "import"
IMPORT_LANE = "import"

#: A colour image is greyscale when, in every pixel, its channels differ by at most this
#: fraction of full scale (8 levels of 255): a grey image saved as colour, or a grey
#: JPEG's chroma rounding, still counts as grey.
GREY_TOLERANCE = 8 / 255

# ------------------------------------------------------------------- pseudo-colour tuning
# How a pseudo-colour export's pixel becomes a material class. Hue in degrees (0 red,
# 60 yellow, 120 green, 180 cyan, 240 blue, 300 magenta); saturation and value in [0, 1].
# Order: very dark -> impenetrable; else pale and bright -> background; else by hue.
#
# Tuned on the 220 SIXray validation images (../shared/datasets/sixray-val), looking at
# class maps beside the originals and measuring. Sampled colours: organic orange at hue
# 30-50 deg; aluminium suitcase rails green at 125-132 deg; thin steel (knife blades,
# zips, frame wire) teal to blue at 140-215 deg; thick steel and gun parts dark blue or
# black; the white background at saturation below 0.12. Inorganic/metal is the one
# boundary that matters: at 150, 160, 170, 180, 190 deg the Gun/Knife box holds more
# metal than its whole image for 97.5, 96.2, 95.5, 93.6, 91.1 % of the 157 images, while
# below ~155 deg the green aluminium rails start to turn metal. 160 was chosen. The
# other thresholds barely move that figure (organic/inorganic 60-80 deg: none; value
# 35-70: +-1 %; saturation 30-70 and value 180-220 only move background vs organic).
# Pixel shares over all 220 images with these values: background 63.2 %, organic
# 17.1 %, inorganic 13.0 %, metal 6.1 %, impenetrable 0.6 %.
#: Organic (orange, red to yellow): hue in [345, 360) or [0, 70) degrees.
ORGANIC_HUE_DEG = (345.0, 70.0)
#: Inorganic or mixed (yellow-green to green): hue in [70, 160) degrees.
INORGANIC_HUE_DEG = (70.0, 160.0)
#: Metal (teal, cyan, blue, violet): hue in [160, 345) degrees.
METAL_HUE_DEG = (160.0, 345.0)
#: Impenetrable: value (brightness) below this, whatever the hue (black and near-black).
IMPENETRABLE_MAX_VALUE = 50 / 255
#: Background or air: saturation below this *and* value at least BACKGROUND_MIN_VALUE.
BACKGROUND_MAX_SATURATION = 50 / 255
BACKGROUND_MIN_VALUE = 200 / 255

# ------------------------------------------------------- pseudo-colour transmission
# A scanner's colour export draws density as lightness along a colour ramp: thin material
# pale (towards white), thicker the saturated hue, dense material dark (towards black).
# So the brightest channel (HSV value) says little: a saturated dense orange has V ~ 0.94.
# The import inverts this workstation's own standard display instead: it finds the
# lightness L at which the standard colour of the pixel's class (the ramp of
# screener.imaging.colour, L = T ** (1 / 2)) has the pixel's relative luminance, and
# takes T = L ** 2. Re-rendering the import with "standard" then gives back the export's
# lightness (CIE L*, a function of luminance alone) up to rounding; V and saturation
# enter through the luminance (at equal V, more saturated means darker). On the 220
# SIXray images, over the pixels not classed background, the mean |delta L*| between
# that rendering and the export fell from 16.2 (T = V; rendering too light) and 8.9
# (T = (V (1 - 0.4 S)) ** 2; too dark) to 0.26; the mean delta E (CIE76) from 33.3 and
# 27.8 to 24.2, the rest being the difference between SIXray's hues and this palette.
# These are the shipped palette's values, kept here (tests/test_imports.py checks they
# agree) so that a site's own display palette cannot change what an import stores.
#: Pivot of the inverted ramp: the lightness at which it shows the pure class hue.
RAMP_PIVOT = 0.6
#: Pure hue (RGB) of each class on the inverted ramp: organic, inorganic, metal.
RAMP_HUES: dict[int, tuple[int, int, int]] = {
    MATERIAL_ORGANIC: (235, 135, 30),
    MATERIAL_INORGANIC: (45, 160, 50),
    MATERIAL_METAL: (35, 85, 215),
}
#: The standard display's density: ``L = T ** (1 / STANDARD_DENSITY_SCALE)``.
STANDARD_DENSITY_SCALE = 2.0
#: ``full_scale`` of a pseudo-colour import's ``high``: ``high = rint(65535 T)``, for 8- and
#: 16-bit sources alike (T steps of 1.5e-5, finer than any 8-bit colour can resolve).
PSEUDO_COLOUR_FULL_SCALE = 65535
# lightness samples per ramp segment for the luminance -> lightness tables
_RAMP_SAMPLES = 2048
# relative luminance of linear sRGB (Rec. 709 primaries, D65), in R, G, B order
_LUMINANCE_RGB = (0.2126, 0.7152, 0.0722)

#: A .npy import refuses, rather than clips, when more than this fraction of pixels lie
#: outside [0, open_beam]: the scale is then wrong (counts read as transmission, or log
#: attenuation), not noise.
MAX_CLIPPED_FRACTION = 0.01

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"
_NPY_MAGIC = b"\x93NUMPY"
_HDF5_SUFFIXES = (".h5", ".hdf5")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_DICOS_SUFFIXES = (".dcs",)  # screener.scan.dicos.DICOS_SUFFIXES, without importing pydicom
_DICM_OFFSET = 128
_DICM = b"DICM"
# JPEG start-of-frame markers (baseline, extended, progressive, lossless; not DHT/JPG/DAC)
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                       0xCE, 0xCF})
# bytes of pixel data a file can hold per pixel at most (16-bit RGBA, uncompressed), plus
# room for metadata: a larger file is not an image within the pixel cap
_MAX_BYTES_PER_PIXEL = 8
_MAX_METADATA_BYTES = 1 << 20


# --------------------------------------------------------------------------- dispatch


def file_kind(path: Path | str) -> str:
    """What a file is: ``"scan"`` (native HDF5), ``"png"``, ``"jpeg"``, ``"npy"`` or
    ``"dicos"`` (a DICOS DX image, docs/dicos.md).

    By extension first (``.h5``/``.hdf5``, ``.png``/``.jpg``/``.jpeg``, ``.npy``,
    ``.dcs``), images confirmed by their signature; any other extension by content.
    """
    source = Path(path)
    suffix = source.suffix.lower()
    if suffix in _HDF5_SUFFIXES:
        return "scan"
    if suffix in _DICOS_SUFFIXES:
        return "dicos"  # read_dicos checks the DICM signature and says what is wrong
    head = _head(source)
    if suffix in _IMAGE_SUFFIXES:
        if head.startswith(_PNG_SIGNATURE):
            return "png"
        if head.startswith(_JPEG_SIGNATURE):
            return "jpeg"
        raise UnsupportedFileError(source, "file", "not a PNG or JPEG image (no PNG or JPEG "
                                   "signature)")
    if suffix == ".npy":
        return "npy"
    for kind, signature in (("png", _PNG_SIGNATURE), ("jpeg", _JPEG_SIGNATURE),
                            ("npy", _NPY_MAGIC)):
        if head.startswith(signature):
            return kind
    if h5py.is_hdf5(source):
        return "scan"
    with source.open("rb") as handle:
        if handle.read(_DICM_OFFSET + len(_DICM))[_DICM_OFFSET:] == _DICM:
            return "dicos"
    raise UnsupportedFileError(
        source, "file",
        f"unknown file type {suffix or '(no extension)'}: not a Screener scan (HDF5), "
        "PNG, JPEG, .npy or DICOS file",
    )


def load_any(path: Path | str, limits: ScanLimits | None = None) -> Scan:
    """Read a native scan or import a PNG, JPEG, ``.npy`` or DICOS file, whichever ``path`` is.

    ``.h5``/``.hdf5`` -> :func:`~screener.scan.read_scan`; PNG/JPEG -> :func:`import_image`
    (greyscale if its channels are equal, else pseudo-colour); ``.npy`` ->
    :func:`import_dual_energy_npy` with ZCON's defaults; ``.dcs`` ->
    :func:`screener.scan.dicos.read_dicos` (the file with the other images of its scan
    beside it).
    """
    kind = file_kind(path)
    if kind == "scan":
        return read_scan(path, limits)
    if kind == "dicos":
        from screener.scan.dicos import read_dicos  # pydicom takes ~0.2 s to import

        return read_dicos(path, limits)
    if kind == "npy":
        return import_dual_energy_npy(path, limits=limits)
    return import_image(path, limits=limits)


# --------------------------------------------------------------------------- images


def import_image(
    path: Path | str,
    *,
    kind: SourceKind | str | None = None,
    limits: ScanLimits | None = None,
    pixel_pitch_mm: float | tuple[float, float] = NOMINAL_PIXEL_PITCH_MM,
) -> Scan:
    """Import an 8- or 16-bit PNG or JPEG as a single-energy or pseudo-colour scan.

    ``kind`` None decides from the pixels: greyscale (one channel, or colour channels
    equal within :data:`GREY_TOLERANCE`) -> ``single-energy``, otherwise
    ``pseudo-colour``. Pass ``"single-energy"`` or ``"pseudo-colour"`` to force one.
    """
    source = Path(path)
    limits = limits or ScanLimits()
    forced = None if kind is None else SourceKind(kind)
    if forced is not None and forced.is_dual_energy:
        raise ValueError(f"an image imports as single-energy or pseudo-colour, not {forced}")
    pitch = _pitch(pixel_pitch_mm)
    data = _read_bytes(source, limits)
    image_type = _check_image_header(source, data, limits)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise CorruptImageError(source, "image", f"the {image_type} data cannot be decoded")
    image: NDArray[Any] = np.asarray(decoded)
    if image.dtype not in (np.uint8, np.uint16):
        raise UnsupportedImageLayoutError(
            source, "image", f"decodes to {image.dtype}; only 8- and 16-bit images import"
        )
    if image.ndim == 3 and image.shape[2] in (2, 4):
        image = image[..., : image.shape[2] - 1]  # drop the alpha channel
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3):
        raise UnsupportedImageLayoutError(source, "image", f"decodes to shape {image.shape}")
    full_scale = float(np.iinfo(image.dtype).max)
    grey = image.ndim == 2 or _is_grey(image, full_scale)
    source_kind = forced or (SourceKind.SINGLE_ENERGY if grey else SourceKind.PSEUDO_COLOUR)
    material: NDArray[np.uint8] | None = None
    if source_kind is SourceKind.SINGLE_ENERGY:
        high = _grey_values(image)
        channel_high = "single channel, unknown energy; transmission = value / " \
            f"{full_scale:g} (bright transmits)"
        channel_low = "none: single-energy image"
    else:
        bgr = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
        high, material = decode_pseudo_colour(bgr)
        full_scale = float(PSEUDO_COLOUR_FULL_SCALE)
        channel_high = "none: approximate transmission of a pseudo-colour export, T = L**2 " \
            "with L the standard-display lightness whose class colour has the pixel's " \
            f"luminance; transmission = value / {PSEUDO_COLOUR_FULL_SCALE}; energies unknown"
        channel_low = "none: pseudo-colour export, no raw energy channels"
    view = View(IMPORTED_VIEW_NAME, high, None, full_scale, pitch, material_class=material)
    return _finish(source, image_type.upper(), source_kind, channel_low, channel_high, view)


def decode_pseudo_colour(
    bgr: NDArray[np.uint8] | NDArray[np.uint16],
) -> tuple[NDArray[np.uint16], NDArray[np.uint8]]:
    """A pseudo-colour export (OpenCV BGR order) -> (transmission counts, material class).

    The class is :func:`material_from_hsv`. The transmission is
    :func:`transmission_from_colour`, returned as ``rint(65535 T)`` in uint16: divided by
    :data:`PSEUDO_COLOUR_FULL_SCALE` it is the *approximate* transmission (white gives
    65535, black 0), for 8- and 16-bit sources alike.
    """
    if bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"need (rows, columns, 3) uint8 or uint16, not {bgr.shape} {bgr.dtype}")
    scale = np.float32(np.iinfo(bgr.dtype).max)
    hsv = cv2.cvtColor(bgr.astype(np.float32) / scale, cv2.COLOR_BGR2HSV)
    classes = material_from_hsv(hsv[..., 0], hsv[..., 1], hsv[..., 2])
    ramps = _hue_classes(hsv[..., 0])
    ramps[classes == MATERIAL_BACKGROUND] = MATERIAL_BACKGROUND
    t = transmission_from_colour(bgr, ramps)
    t *= np.float32(PSEUDO_COLOUR_FULL_SCALE)
    high: NDArray[np.uint16] = np.rint(t).astype(np.uint16)
    return high, classes


def transmission_from_colour(bgr: NDArray[np.uint8] | NDArray[np.uint16],
                             ramps: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Approximate transmission in [0, 1] of export colours (BGR), by inverting the ramp.

    ``ramps`` says, per pixel, which ramp drew it: ``MATERIAL_ORGANIC``,
    ``MATERIAL_INORGANIC`` or ``MATERIAL_METAL`` (white - :data:`RAMP_HUES` at
    :data:`RAMP_PIVOT` - black, as :func:`screener.imaging.colour.ramp`), or
    ``MATERIAL_BACKGROUND`` (grey: white - black). The lightness ``L`` is where that ramp
    has the pixel's relative luminance ``Y`` (linear sRGB, Rec. 709 weights); then
    ``T = L ** STANDARD_DENSITY_SCALE``, inverting the standard density ``L = T ** (1/2)``.
    Matching ``Y`` matches CIE L*, so re-rendering with "standard" keeps the export's
    lightness; pale colours give T near 1, the pure hue ``T = 0.6 ** 2 = 0.36``, darker or
    black ones less, down to 0. Monotone: within a ramp, a darker colour never transmits more.
    """
    if bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"need (rows, columns, 3) uint8 or uint16, not {bgr.shape} {bgr.dtype}")
    if ramps.shape != bgr.shape[:2]:
        raise ValueError(f"ramps has shape {ramps.shape}, the image {bgr.shape[:2]}")
    unknown = ~np.isin(ramps, (MATERIAL_BACKGROUND, *RAMP_HUES))
    if unknown.any():
        raise ValueError(f"ramps holds codes {np.unique(ramps[unknown]).tolist()}; need "
                         "background, organic, inorganic or metal")
    linear = _linear_table(int(np.iinfo(bgr.dtype).max))
    y = np.zeros(bgr.shape[:2], dtype=np.float32)
    for channel, weight in zip((2, 1, 0), _LUMINANCE_RGB, strict=True):  # R, G, B of BGR
        y += np.float32(weight) * np.take(linear, bgr[..., channel])
    light = np.zeros(y.shape, dtype=np.float32)
    for code in (MATERIAL_BACKGROUND, *RAMP_HUES):
        where = ramps == code
        if where.any():
            lightness, luminance = _ramp_luminance(code)
            light[where] = np.interp(y[where], luminance, lightness)
    out: NDArray[np.float32] = np.power(light, np.float32(STANDARD_DENSITY_SCALE),
                                        dtype=np.float32)
    return out


def _srgb_to_linear(encoded: NDArray[np.float64]) -> NDArray[np.float64]:
    low = encoded / 12.92
    high = ((encoded + 0.055) / 1.055) ** 2.4
    out: NDArray[np.float64] = np.where(encoded <= 0.04045, low, high)
    return out


@functools.cache
def _linear_table(maximum: int) -> NDArray[np.float32]:
    """Linear light of every code 0..maximum of an sRGB-encoded channel."""
    table = _srgb_to_linear(np.arange(maximum + 1, dtype=np.float64) / maximum)
    out = table.astype(np.float32)
    out.setflags(write=False)
    return out


@functools.cache
def _ramp_luminance(code: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(lightness, relative luminance) samples along one ramp, luminance strictly rising.

    Lightness runs 0 .. pivot .. 1 with the pivot (the ramp's corner) a sample; the ramp is
    the class hue's (:data:`RAMP_HUES`) or, for background, grey.
    """
    pivot = RAMP_PIVOT
    lightness = np.concatenate([np.linspace(0.0, pivot, _RAMP_SAMPLES + 1),
                                np.linspace(pivot, 1.0, _RAMP_SAMPLES + 1)[1:]])
    if code == MATERIAL_BACKGROUND:
        colour = np.repeat(lightness[:, None], 3, axis=1)
    else:
        hue = np.asarray(RAMP_HUES[code], dtype=np.float64) / 255.0
        light = lightness[:, None]
        colour = np.where(light >= pivot, hue + (1.0 - hue) * (light - pivot) / (1.0 - pivot),
                          hue * light / pivot)
    luminance = _srgb_to_linear(colour) @ np.asarray(_LUMINANCE_RGB)
    for array in (lightness, luminance):
        array.setflags(write=False)
    return lightness, luminance


def material_from_hsv(hue_deg: NDArray[Any], saturation: NDArray[Any],
                      value: NDArray[Any]) -> NDArray[np.uint8]:
    """Material class codes (0..4) from hue in degrees and saturation, value in [0, 1].

    Very dark (value below :data:`IMPENETRABLE_MAX_VALUE`) -> impenetrable; pale and bright
    -> background; otherwise the hue range: :data:`ORGANIC_HUE_DEG`,
    :data:`INORGANIC_HUE_DEG`, :data:`METAL_HUE_DEG`. Greyish pixels of middle brightness
    (0.5 % of SIXray pixels) are classed by their hue, which is unreliable for them.
    """
    sat = np.asarray(saturation, dtype=np.float32)
    val = np.asarray(value, dtype=np.float32)
    classes = _hue_classes(hue_deg)
    classes[(sat < BACKGROUND_MAX_SATURATION) & (val >= BACKGROUND_MIN_VALUE)] = (
        MATERIAL_BACKGROUND
    )
    classes[val < IMPENETRABLE_MAX_VALUE] = MATERIAL_IMPENETRABLE
    return classes


def _hue_classes(hue_deg: NDArray[Any]) -> NDArray[np.uint8]:
    """Organic, inorganic or metal by hue alone (the hue ranges of :func:`material_from_hsv`)."""
    hue = np.mod(np.asarray(hue_deg, dtype=np.float32), np.float32(360.0))
    classes = np.full(hue.shape, MATERIAL_METAL, dtype=np.uint8)
    lo, hi = ORGANIC_HUE_DEG
    classes[(hue >= lo) | (hue < hi)] = MATERIAL_ORGANIC
    lo, hi = INORGANIC_HUE_DEG
    classes[(hue >= lo) & (hue < hi)] = MATERIAL_INORGANIC
    return classes


def _channel_max(image: NDArray[Any]) -> NDArray[Any]:
    """Per-pixel maximum over the last axis (channel by channel: numpy's reduction over a
    short last axis is several times slower)."""
    out = image[..., 0].copy()
    for c in range(1, image.shape[2]):
        np.maximum(out, image[..., c], out=out)
    return out


def _channel_min(image: NDArray[Any]) -> NDArray[Any]:
    out = image[..., 0].copy()
    for c in range(1, image.shape[2]):
        np.minimum(out, image[..., c], out=out)
    return out


def _is_grey(image: NDArray[Any], full_scale: float) -> bool:
    spread = _channel_max(image).astype(np.int32) - _channel_min(image)
    return bool(spread.max() <= GREY_TOLERANCE * full_scale)


def _grey_values(image: NDArray[Any]) -> NDArray[np.uint16]:
    """One grey value per pixel: the image itself, or the rounded mean of its channels
    (exactly the source value when the channels are equal)."""
    if image.ndim == 2:
        return image.astype(np.uint16)
    channels = int(image.shape[2])
    total: NDArray[np.uint32] = image[..., 0].astype(np.uint32)
    for c in range(1, channels):
        total += image[..., c]
    mean: NDArray[np.uint16] = ((total + channels // 2) // channels).astype(np.uint16)
    return mean


def _check_image_header(path: Path, data: bytes, limits: ScanLimits) -> str:
    """Parse the PNG IHDR or JPEG SOF: type, size against the cap, before decoding."""
    if data.startswith(_PNG_SIGNATURE):
        rows, cols = _png_header(path, data)
        kind = "png"
    elif data.startswith(_JPEG_SIGNATURE):
        rows, cols = _jpeg_header(path, data)
        kind = "jpeg"
    else:
        raise UnsupportedFileError(path, "file", "not a PNG or JPEG image (no PNG or JPEG "
                                   "signature)")
    if rows * cols > limits.max_view_pixels:
        raise ScanTooLargeError(
            path, "image",
            f"{rows} x {cols} = {rows * cols} pixels, cap is {limits.max_view_pixels} "
            "(max_view_pixels)",
        )
    return kind


def _png_header(path: Path, data: bytes) -> tuple[int, int]:
    if len(data) < 33:
        raise TruncatedScanError(path, "file", "ends inside the PNG header")
    length, chunk = struct.unpack(">I4s", data[8:16])
    if chunk != b"IHDR" or length != 13:
        raise CorruptImageError(path, "image", "PNG does not start with an IHDR chunk")
    cols, rows, depth, colour = struct.unpack(">IIBB", data[16:26])
    if rows == 0 or cols == 0:
        raise CorruptImageError(path, "image", f"PNG declares an empty image {rows} x {cols}")
    if colour not in (0, 2, 3, 4, 6):
        raise CorruptImageError(path, "image", f"PNG colour type {colour} does not exist")
    if depth not in (8, 16):
        raise UnsupportedImageLayoutError(
            path, "image", f"PNG bit depth {depth}; only 8- and 16-bit images import"
        )
    if data.rfind(b"IEND") < 33:
        raise TruncatedScanError(path, "file", "ends before the PNG end chunk (IEND)")
    return rows, cols


def _jpeg_header(path: Path, data: bytes) -> tuple[int, int]:
    """Walk the JPEG markers up to the first scan; the frame header gives the size."""
    pos, size = 2, len(data)
    frame: tuple[int, int, int, int] | None = None
    while True:
        while pos < size and data[pos] == 0xFF and pos + 1 < size and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 4 > size:
            raise TruncatedScanError(path, "file", "ends inside the JPEG headers")
        if data[pos] != 0xFF:
            raise CorruptImageError(path, "image", f"JPEG marker expected at byte {pos}")
        marker = data[pos + 1]
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # no length
            pos += 2
            continue
        if marker == 0xD9:
            raise CorruptImageError(path, "image", "JPEG ends before any image data")
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if length < 2 or pos + 2 + length > size:
            raise TruncatedScanError(path, "file", "ends inside a JPEG header segment")
        if marker in _JPEG_SOF:
            if length < 8:
                raise CorruptImageError(path, "image", "JPEG frame header too short")
            precision, rows, cols, components = struct.unpack(">BHHB", data[pos + 4:pos + 10])
            frame = (precision, rows, cols, components)
        if marker == 0xDA:  # start of scan: the entropy-coded data follows
            break
        pos += 2 + length
    if frame is None:
        raise CorruptImageError(path, "image", "JPEG has no frame header (SOF) before its data")
    precision, rows, cols, components = frame
    if precision != 8:
        raise UnsupportedImageLayoutError(
            path, "image", f"{precision}-bit JPEG; only 8-bit JPEG imports"
        )
    if components not in (1, 3):
        raise UnsupportedImageLayoutError(
            path, "image", f"JPEG with {components} colour components (CMYK?); need 1 or 3"
        )
    if rows == 0 or cols == 0:
        raise UnsupportedImageLayoutError(
            path, "image", f"JPEG declares {rows} x {cols} (height set later, DNL)"
        )
    # byte stuffing keeps FF D9 out of entropy-coded data: without it the file was cut
    if data.find(b"\xff\xd9", pos) < 0:
        raise TruncatedScanError(path, "file", "ends before the JPEG end-of-image marker")
    return rows, cols


# --------------------------------------------------------------------------- .npy arrays


def import_dual_energy_npy(
    path: Path | str,
    *,
    limits: ScanLimits | None = None,
    high_channel: int = 0,
    open_beam: float | None = None,
    pixel_pitch_mm: float | tuple[float, float] = NOMINAL_PIXEL_PITCH_MM,
) -> Scan:
    """Import a ``(rows, columns, 2)`` dual-energy transmission array as a dual-energy scan.

    The array holds transmission-like values (bright = transmits; not log attenuation).
    ``high_channel`` is the index of the high-energy channel in the last axis, the other
    being low: 0 for ZCON (channel 0 = 6 MeV, channel 1 = 4 MeV, as ZCON's own loader and
    the data show). ``open_beam`` is the value that means T = 1: for uint16 input default
    65535, the dtype maximum, as ZCON's loader uses, so every value is kept bit-exactly
    and ``full_scale`` = 65535; for float input default 1.0 (values already
    transmission), stored as float32. Values above ``open_beam`` (and negative floats)
    are clipped to T = 1 (T = 0) and counted in the channel description; more than
    :data:`MAX_CLIPPED_FRACTION` of them means a wrong scale and is refused.
    """
    source = Path(path)
    limits = limits or ScanLimits()
    if high_channel not in (0, 1):
        raise ValueError(f"high_channel must be 0 or 1, not {high_channel!r}")
    pitch = _pitch(pixel_pitch_mm)
    array = _read_npy(source, limits)
    if array.dtype.kind == "u":
        beam = 65535.0 if open_beam is None else float(open_beam)
        if not (1.0 <= beam <= 65535.0 and beam.is_integer()):
            raise ValueError(f"open_beam for uint16 must be a whole number in 1..65535, "
                             f"not {open_beam!r}")
        how = "dtype maximum, as ZCON's loader" if open_beam is None else "given"
    else:
        beam = 1.0 if open_beam is None else float(open_beam)
        if not (np.isfinite(beam) and beam > 0):
            raise ValueError(f"open_beam must be a positive number, not {open_beam!r}")
        how = "values taken as transmission" if open_beam is None else "given"
    channels: list[Channel] = []
    notes: list[str] = []
    for index in (high_channel, 1 - high_channel):
        data, clipped = _to_transmission(source, array[..., index], beam)
        channels.append(data)
        notes.append(f"; {clipped} pixel(s) outside [0, open beam] clipped" if clipped else "")
    high, low = channels
    full_scale = beam if high.dtype == np.uint16 else 1.0
    base = f"open beam {beam:g} ({how})"
    channel_high = (f"array channel {high_channel} taken as high energy (ZCON / Rapiscan "
                    f"Eagle R60: 6 MeV); {base}{notes[0]}")
    channel_low = (f"array channel {1 - high_channel} taken as low energy (ZCON / Rapiscan "
                   f"Eagle R60: 4 MeV); {base}{notes[1]}")
    view = View(IMPORTED_VIEW_NAME, high, low, full_scale, pitch)
    return _finish(source, "NPY", SourceKind.DUAL_ENERGY, channel_low, channel_high, view)


def _read_npy(path: Path, limits: ScanLimits) -> NDArray[Any]:
    """Read the header, check shape, dtype and size, then the pixels; never a pickle."""
    _require_file(path)
    size = path.stat().st_size
    with path.open("rb") as handle:
        if handle.read(6) != _NPY_MAGIC:
            raise UnsupportedFileError(path, "file", "not a .npy array (no NUMPY magic)")
        handle.seek(0)
        try:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            else:
                raise UnsupportedImageLayoutError(
                    path, "array", f".npy format version {version} is not supported"
                )
        except (ValueError, OSError, SyntaxError) as exc:
            raise CorruptImageError(path, "array", f"unreadable .npy header ({exc})") from exc
        offset = handle.tell()
        if dtype.hasobject or dtype.fields is not None or dtype.kind not in "uf" or (
                dtype.kind == "u" and dtype.itemsize != 2):
            raise WrongDtypeError(path, "array", f"dtype {dtype}, must be uint16 or float")
        if len(shape) != 3:
            raise WrongRankError(
                path, "array", f"shape {shape}: must be (rows, columns, 2), found "
                f"{len(shape)}-D"
            )
        rows, cols, count = shape
        if count != 2:
            raise UnsupportedImageLayoutError(
                path, "array", f"shape {shape}: the last axis must hold 2 energy channels"
            )
        if rows < 1 or cols < 1:
            raise UnsupportedImageLayoutError(path, "array", f"empty image, shape {shape}")
        if rows * cols > limits.max_view_pixels:
            raise ScanTooLargeError(
                path, "array",
                f"{rows} x {cols} = {rows * cols} pixels, cap is {limits.max_view_pixels} "
                "(max_view_pixels)",
            )
        expected = offset + rows * cols * 2 * dtype.itemsize
        if size < expected:
            raise TruncatedScanError(
                path, "file", f"{size} bytes, its header declares {expected}"
            )
        data = np.fromfile(handle, dtype=dtype, count=rows * cols * 2)
    array: NDArray[Any] = data.reshape(shape, order="F" if fortran else "C")
    return array.astype(dtype.newbyteorder("="), copy=False)


def _to_transmission(path: Path, data: NDArray[Any], beam: float) -> tuple[Channel, int]:
    """One channel as uint16 (open beam = full_scale) or float32 transmission in [0, 1]."""
    if data.dtype.kind == "u":
        over = data > beam
        clipped = int(over.sum())
        _refuse_wrong_scale(path, clipped, data.size, f"above the open beam {beam:g}")
        out16 = np.ascontiguousarray(data, dtype=np.uint16)
        if clipped:
            out16 = np.minimum(out16, np.uint16(beam))
        return out16, clipped
    finite = np.isfinite(data)
    if not finite.all():
        bad = np.argwhere(~finite)
        row, col = (int(v) for v in bad[0][:2])
        raise NonFiniteValueError(
            path, "array", f"{len(bad)} NaN or infinite value(s), first at row {row}, "
            f"column {col}"
        )
    t = data.astype(np.float64) / beam
    outside = (t < 0.0) | (t > 1.0)
    clipped = int(outside.sum())
    _refuse_wrong_scale(path, clipped, data.size,
                        f"outside [0, open beam {beam:g}] (largest {float(data.max()):g})")
    return np.ascontiguousarray(np.clip(t, 0.0, 1.0), dtype=np.float32), clipped


def _refuse_wrong_scale(path: Path, clipped: int, total: int, what: str) -> None:
    if clipped > MAX_CLIPPED_FRACTION * total:
        raise ValueOutOfRangeError(
            path, "array",
            f"{clipped} of {total} values ({100 * clipped / total:.1f} %) {what}: not "
            "transmission on that scale (counts? log attenuation?); pass the right "
            "open_beam",
        )


# --------------------------------------------------------------------------- shared


def _finish(path: Path, type_name: str, kind: SourceKind, channel_low: str,
            channel_high: str, view: View) -> Scan:
    metadata = ScanMetadata(
        bag_id=path.stem,
        station=IMPORT_STATION,
        lane=IMPORT_LANE,
        acquired_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
        source=f"imported {type_name} file {path.name}",
        source_kind=kind,
        scanner_profile="unknown",
        channel_low=channel_low,
        channel_high=channel_high,
    )
    scan = Scan(metadata, (view,))
    validate_scan(scan, path)  # an importer bug must not produce an invalid scan
    return scan


def _pitch(value: float | tuple[float, float]) -> tuple[float, float]:
    pair = (value, value) if isinstance(value, (int, float)) else value
    rows, cols = (float(v) for v in pair)
    if not all(np.isfinite(v) and 0 < v <= 1000 for v in (rows, cols)):
        raise ValueError(f"pixel_pitch_mm must lie in (0, 1000] mm, not {value!r}")
    return rows, cols


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise ScanFileNotFoundError(path, "file", "no such file")
    if path.stat().st_size == 0:
        raise TruncatedScanError(path, "file", "the file is empty")


def _head(path: Path) -> bytes:
    _require_file(path)
    with path.open("rb") as handle:
        return handle.read(8)


def _read_bytes(path: Path, limits: ScanLimits) -> bytes:
    _require_file(path)
    size = path.stat().st_size
    cap = limits.max_view_pixels * _MAX_BYTES_PER_PIXEL + _MAX_METADATA_BYTES
    if size > cap:
        raise ScanTooLargeError(
            path, "file",
            f"{size} bytes: larger than any image within the pixel cap "
            f"{limits.max_view_pixels} (max_view_pixels) could be",
        )
    return path.read_bytes()
