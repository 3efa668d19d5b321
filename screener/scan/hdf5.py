"""Screener's native scan format: versioned, chunked, compressed HDF5 (docs/scan-format.md).

The reader trusts nothing: every group, attribute and dataset is checked, sizes are
checked against a configurable cap *before* pixel data is read, and every failure is a
typed :class:`~screener.errors.ScanFormatError` naming the file and the field.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import h5py
import numpy as np
from numpy.typing import NDArray

from screener import __version__
from screener.atomic_files import written_atomically
from screener.errors import (
    InvalidMetadataError,
    MissingFieldError,
    NonFiniteValueError,
    NotAScanFileError,
    ScanFileNotFoundError,
    ScanFormatError,
    ScanTooLargeError,
    ShapeMismatchError,
    TruncatedScanError,
    UnsupportedFormatVersionError,
    ValueOutOfRangeError,
    WrongDtypeError,
    WrongRankError,
)
from screener.scan.model import (
    CHANNEL_DTYPES,
    MATERIAL_CLASS_MAX,
    BeltDirection,
    Channel,
    GroundTruth,
    LabelledObject,
    Scan,
    ScanMetadata,
    SourceKind,
    View,
)

_E = TypeVar("_E", SourceKind, BeltDirection)

FORMAT_NAME = "screener-scan"
FORMAT_VERSION = 1
CHUNK_EDGE = 256
_COMPRESSION = {"compression": "gzip", "compression_opts": 4, "shuffle": True}
_TEXT_ATTRIBUTES = (
    "bag_id",
    "station",
    "lane",
    "source",
    "scanner_profile",
    "channel_low",
    "channel_high",
)


@dataclass(frozen=True)
class ScanLimits:
    """Caps that protect the workstation from absurd files (settings: max_view_pixels...)."""

    max_view_pixels: int = 100_000_000
    max_views: int = 8


# --------------------------------------------------------------------------- writing


def write_scan(path: Path | str, scan: Scan, truth: GroundTruth | None = None) -> Path:
    """Write ``scan`` (and optionally its ground truth) atomically to ``path``.

    The file appears complete or not at all: it is written beside the target and then
    renamed. Invalid arrays are refused with the same errors the reader raises.
    """
    target = Path(path)
    validate_scan(scan, target)
    with written_atomically(target) as aside, h5py.File(aside, "w", track_order=True) as f:
        _write_metadata(f, scan.metadata)
        views = f.create_group("views", track_order=True)
        for index, view in enumerate(scan.views):
            _write_view(views.create_group(str(index), track_order=True), view)
        if truth is not None:
            _write_truth(f, scan, truth)
    return target


def validate_scan(scan: Scan, path: Path | str = "<scan in memory>") -> None:
    """Check a :class:`Scan` against the format, as ``write_scan`` does before writing.

    Raises the reader's typed errors, naming ``path`` and the field (``/views/0/low``...):
    every view's arrays, and that its channels match ``source_kind`` (``low`` present
    exactly for dual-energy kinds, ``material_class`` exactly for pseudo-colour).
    """
    target = Path(path)
    kind = scan.metadata.source_kind
    if not scan.views:
        raise MissingFieldError(target, "/views", "holds no view")
    for index, view in enumerate(scan.views):
        field = f"/views/{index}"
        _check_kind_fields(target, field, kind, has_low=view.low is not None,
                           has_material=view.material_class is not None)
        _check_view_arrays(target, field, view.high, view.low, view.full_scale)
        if view.material_class is not None:
            _check_material_class(target, f"{field}/material_class", view.material_class,
                                  view.shape)


def _write_metadata(f: h5py.File, meta: ScanMetadata) -> None:
    f.attrs["format"] = FORMAT_NAME
    f.attrs["format_version"] = np.int64(FORMAT_VERSION)
    f.attrs["software"] = f"screener {__version__}"
    for name in _TEXT_ATTRIBUTES:
        f.attrs[name] = getattr(meta, name)
    f.attrs["source_kind"] = meta.source_kind.value
    f.attrs["acquired_at"] = meta.acquired_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _write_view(group: h5py.Group, view: View) -> None:
    group.attrs["name"] = view.name
    group.attrs["pixel_pitch_mm"] = np.asarray(view.pixel_pitch_mm, dtype=np.float64)
    group.attrs["belt_direction"] = view.belt_direction.value
    group.attrs["full_scale"] = np.float64(view.full_scale)
    chunks = (min(CHUNK_EDGE, view.shape[0]), min(CHUNK_EDGE, view.shape[1]))
    arrays = {"high": view.high, "low": view.low, "material_class": view.material_class}
    for name, data in arrays.items():
        if data is not None:
            group.create_dataset(
                name, data=data, chunks=chunks, track_times=False, **_COMPRESSION
            )


def _write_truth(f: h5py.File, scan: Scan, truth: GroundTruth) -> None:
    root = f.create_group("ground_truth", track_order=True)
    views = root.create_group("views", track_order=True)
    for index, view in enumerate(scan.views):
        objects = views.create_group(str(index), track_order=True)
        for k, obj in enumerate(truth.objects_by_view.get(view.name, ())):
            g = objects.create_group(str(k), track_order=True)
            g.attrs["object_id"] = np.int64(obj.object_id)
            g.attrs["label"] = obj.label
            g.attrs["threat"] = np.int8(obj.threat)
            g.attrs["box"] = np.asarray(obj.box, dtype=np.int64)
            g.create_dataset(
                "mask", data=obj.mask.astype(np.uint8), track_times=False,
                compression="gzip", compression_opts=4,
            )


# --------------------------------------------------------------------------- reading


def read_scan(path: Path | str, limits: ScanLimits | None = None) -> Scan:
    """Read and validate a scan file. Ground truth, if any, is not read."""
    limits = limits or ScanLimits()
    source = Path(path)
    with _open(source) as f:
        metadata = _read_metadata(source, f)
        views = _read_views(source, f, limits, metadata.source_kind)
    return Scan(metadata, views)


def read_ground_truth(path: Path | str, limits: ScanLimits | None = None) -> GroundTruth | None:
    """The simulator's labels stored in a scan file, or None when it holds none."""
    scan = read_scan(path, limits)
    source = Path(path)
    with _open(source) as f:
        if "ground_truth" not in f:
            return None
        by_view: dict[str, tuple[LabelledObject, ...]] = {}
        for index, view in enumerate(scan.views):
            field = f"/ground_truth/views/{index}"
            group = _require_group(source, f, field)
            by_view[view.name] = tuple(
                _read_labelled_object(source, group[key], f"{field}/{key}", view.shape)
                for key in _ordered_children(source, group, field)
            )
    return GroundTruth(by_view)


def has_ground_truth(path: Path | str) -> bool:
    """Whether a (readable) scan file carries simulator labels, without reading them."""
    with _open(Path(path)) as f:
        return "ground_truth" in f


@dataclass(frozen=True)
class Hdf5FileErrors:
    """The typed errors a reader raises for a file that cannot be opened: each takes
    (path, field, problem). Scans and FTI libraries share the checks, not the advice."""

    not_found: type[ScanFormatError]
    truncated: type[ScanFormatError]
    not_hdf5: type[ScanFormatError]
    read_only: type[ScanFormatError]


SCAN_FILE_ERRORS = Hdf5FileErrors(ScanFileNotFoundError, TruncatedScanError, NotAScanFileError,
                                  NotAScanFileError)


@contextmanager
def open_hdf5(path: Path, errors: Hdf5FileErrors, mode: str = "r") -> Iterator[h5py.File]:
    """Open an HDF5 file, turning every way it can fail (missing, empty, not HDF5,
    truncated, damaged metadata while reading, read-only for an append) into
    ``errors``'s typed errors naming the file."""
    if not path.is_file():
        raise errors.not_found(path, "file", "no such file")
    if path.stat().st_size == 0:
        raise errors.truncated(path, "file", "the file is empty")
    if not h5py.is_hdf5(path):
        raise errors.not_hdf5(path, "file", "not an HDF5 file (no HDF5 signature)")
    if mode != "r" and not os.access(path, os.W_OK):
        raise errors.read_only(path, "file", "is read-only, so nothing can be added to it")
    try:
        f = h5py.File(path, mode)
    except OSError as exc:
        if "truncated" in str(exc).lower():
            raise errors.truncated(path, "file",
                                   "shorter than its HDF5 header declares") from exc
        raise errors.not_hdf5(path, "file", f"cannot be opened as HDF5 ({exc})") from exc
    try:
        yield f
    except (OSError, KeyError, RuntimeError) as exc:
        # h5py reports damaged metadata (bad checksums, dangling addresses) as these
        raise errors.truncated(
            path, "file", f"damaged or incomplete, data cannot be read ({exc})"
        ) from exc
    finally:
        f.close()


def _open(path: Path) -> AbstractContextManager[h5py.File]:
    return open_hdf5(path, SCAN_FILE_ERRORS)


def _read_metadata(path: Path, f: h5py.File) -> ScanMetadata:
    fmt = f.attrs.get("format")
    if _text(fmt) != FORMAT_NAME:
        raise NotAScanFileError(path, "/@format", f"expected {FORMAT_NAME!r}, found {fmt!r}")
    version = _attr(path, f, "/", "format_version")
    if not isinstance(version, (int, np.integer)) or isinstance(version, bool):
        raise WrongDtypeError(path, "/@format_version", f"must be an integer, found {version!r}")
    if version > FORMAT_VERSION:
        raise UnsupportedFormatVersionError(
            path, "/@format_version",
            f"version {version} is newer than the {FORMAT_VERSION} this Screener reads",
        )
    if version < 1:
        raise InvalidMetadataError(path, "/@format_version", f"must be 1 or more, found {version}")
    texts = {name: _text_attr(path, f, "/", name) for name in _TEXT_ATTRIBUTES}
    kind = _enum_attr(path, f, "/", "source_kind", SourceKind)
    stamp = _text_attr(path, f, "/", "acquired_at")
    try:
        acquired = datetime.fromisoformat(stamp)
    except ValueError as exc:
        raise InvalidMetadataError(
            path, "/@acquired_at", f"not an ISO 8601 time: {stamp!r}"
        ) from exc
    if acquired.tzinfo is None:
        raise InvalidMetadataError(path, "/@acquired_at", f"has no UTC offset: {stamp!r}")
    try:
        acquired = acquired.astimezone(UTC)
    except OverflowError:
        raise InvalidMetadataError(path, "/@acquired_at", f"out of range: {stamp!r}") from None
    return ScanMetadata(acquired_at=acquired, source_kind=kind, **texts)


def _read_views(path: Path, f: h5py.File, limits: ScanLimits,
                kind: SourceKind) -> tuple[View, ...]:
    group = _require_group(path, f, "/views")
    keys = _ordered_children(path, group, "/views")
    if not keys:
        raise MissingFieldError(path, "/views", "holds no view")
    if len(keys) > limits.max_views:
        raise ScanTooLargeError(path, "/views", f"{len(keys)} views, cap is {limits.max_views}")
    views = tuple(
        _read_view(path, group[key], f"/views/{key}", limits, kind) for key in keys
    )
    names = [v.name for v in views]
    if len(set(names)) != len(names):
        raise InvalidMetadataError(path, "/views", f"view names repeat: {names}")
    return views


def _read_view(path: Path, group: Any, field: str, limits: ScanLimits,
               kind: SourceKind) -> View:
    if not isinstance(group, h5py.Group):
        raise MissingFieldError(path, field, "must be a group holding the channel datasets")
    name = _text_attr(path, group, field, "name")
    if not name.strip():
        raise InvalidMetadataError(path, f"{field}/@name", "is empty")
    pitch = _pitch(path, group, field)
    belt = _enum_attr(path, group, field, "belt_direction", BeltDirection)
    high_ds = _channel_dataset(path, group, f"{field}/high", "high")
    _check_kind_fields(path, field, kind, has_low=_has_link(group, "low"),
                       has_material=_has_link(group, "material_class"))
    low_ds = _channel_dataset(path, group, f"{field}/low", "low") if kind.is_dual_energy else None
    if low_ds is not None and high_ds.shape != low_ds.shape:
        raise ShapeMismatchError(
            path, f"{field}/low", f"shape {low_ds.shape} differs from high {high_ds.shape}"
        )
    if low_ds is not None and high_ds.dtype != low_ds.dtype:
        raise WrongDtypeError(
            path, f"{field}/low", f"dtype {low_ds.dtype} differs from high {high_ds.dtype}"
        )
    material_ds = None
    if kind.has_material_class:
        material_ds = _material_dataset(path, group, f"{field}/material_class")
        if material_ds.shape != high_ds.shape:
            raise ShapeMismatchError(
                path, f"{field}/material_class",
                f"shape {material_ds.shape} differs from high {high_ds.shape}",
            )
    rows, cols = high_ds.shape
    if rows < 1 or cols < 1:
        raise InvalidMetadataError(path, f"{field}/high", f"empty image {high_ds.shape}")
    if rows * cols > limits.max_view_pixels:
        raise ScanTooLargeError(
            path, f"{field}/high",
            f"{rows} x {cols} = {rows * cols} pixels, cap is {limits.max_view_pixels}",
        )
    full_scale = _full_scale(path, group, field, high_ds.dtype)
    high: Channel = high_ds[()]
    low: Channel | None = None if low_ds is None else low_ds[()]
    _check_view_arrays(path, field, high, low, full_scale)
    material: NDArray[np.uint8] | None = None
    if material_ds is not None:
        material = material_ds[()]
        _check_material_class(path, f"{field}/material_class", material, high.shape)
    return View(name, high, low, full_scale, pitch, belt, material)


def _has_link(group: h5py.Group, name: str) -> bool:
    """Whether ``name`` exists in ``group`` as any kind of link, even a dangling one."""
    return group.get(name, getlink=True) is not None


def _check_kind_fields(path: Path, field: str, kind: SourceKind, *, has_low: bool,
                       has_material: bool) -> None:
    """``low`` exactly for dual-energy kinds, ``material_class`` exactly for pseudo-colour."""
    if kind.is_dual_energy and not has_low:
        raise MissingFieldError(
            path, f"{field}/low", f"dataset missing; required when source_kind is {kind.value}"
        )
    if not kind.is_dual_energy and has_low:
        raise InvalidMetadataError(
            path, f"{field}/low",
            f"must be absent when source_kind is {kind.value} (a {kind.value} scan has no "
            "low-energy channel)",
        )
    if kind.has_material_class and not has_material:
        raise MissingFieldError(
            path, f"{field}/material_class",
            f"dataset missing; required when source_kind is {kind.value}",
        )
    if not kind.has_material_class and has_material:
        raise InvalidMetadataError(
            path, f"{field}/material_class",
            f"allowed only when source_kind is {SourceKind.PSEUDO_COLOUR.value}, "
            f"not {kind.value}",
        )


def _material_dataset(path: Path, group: h5py.Group, field: str) -> h5py.Dataset:
    _require_hard_link(path, group, "material_class", field)
    ds = group.get("material_class")
    if not isinstance(ds, h5py.Dataset):
        raise MissingFieldError(path, field, "dataset missing")
    if ds.external or ds.is_virtual:
        raise InvalidMetadataError(path, field, "data must be stored inside the file")
    if ds.ndim != 2:
        raise WrongRankError(path, field, f"must be 2-D (rows, columns), found {ds.ndim}-D")
    if ds.dtype != np.uint8:
        raise WrongDtypeError(path, field, f"dtype {ds.dtype}, must be uint8")
    return ds


def _check_material_class(path: Path, field: str, data: NDArray[Any],
                          shape: tuple[int, ...]) -> None:
    """The material-class checks shared by the writer and the reader."""
    if data.ndim != 2:
        raise WrongRankError(path, field, f"must be 2-D (rows, columns), found {data.ndim}-D")
    if data.dtype != np.uint8:
        raise WrongDtypeError(path, field, f"dtype {data.dtype}, must be uint8")
    if data.shape != shape:
        raise ShapeMismatchError(path, field, f"shape {data.shape} != high {shape}")
    peak = int(data.max()) if data.size else 0
    if peak > MATERIAL_CLASS_MAX:
        raise ValueOutOfRangeError(
            path, field, f"class {peak} found; codes are 0..{MATERIAL_CLASS_MAX}"
        )


def _channel_dataset(path: Path, group: h5py.Group, field: str, channel: str) -> h5py.Dataset:
    _require_hard_link(path, group, channel, field)
    ds = group.get(channel)
    if not isinstance(ds, h5py.Dataset):
        raise MissingFieldError(path, field, "dataset missing")
    if ds.external or ds.is_virtual:
        # pixels kept in another file would escape the sha256 that identifies the scan
        raise InvalidMetadataError(path, field, "pixel data must be stored inside the file")
    if ds.ndim != 2:
        raise WrongRankError(path, field, f"must be 2-D (rows, columns), found {ds.ndim}-D")
    if ds.dtype not in CHANNEL_DTYPES:
        allowed = " or ".join(str(d) for d in CHANNEL_DTYPES)
        raise WrongDtypeError(path, field, f"dtype {ds.dtype}, must be {allowed}")
    return ds


def _check_view_arrays(path: Path, field: str, high: Channel, low: Channel | None,
                       full_scale: float) -> None:
    """The pixel checks shared by the writer and the reader."""
    for channel, data in (("high", high), ("low", low)):
        if data is None:
            continue
        where = f"{field}/{channel}"
        if data.ndim != 2:
            raise WrongRankError(path, where, f"must be 2-D (rows, columns), found {data.ndim}-D")
        if data.dtype not in CHANNEL_DTYPES:
            raise WrongDtypeError(path, where, f"dtype {data.dtype} is not allowed")
        if data.size == 0:
            raise InvalidMetadataError(path, where, f"empty image {data.shape}")
        if data.dtype == np.float32:
            _check_float_channel(path, where, data)
        else:
            peak = int(data.max())
            if peak > full_scale:
                raise ValueOutOfRangeError(
                    path, where, f"value {peak} exceeds full_scale {full_scale:g}"
                )
    if low is None:
        return
    if high.shape != low.shape:
        raise ShapeMismatchError(path, f"{field}/low", f"shape {low.shape} != high {high.shape}")
    if high.dtype != low.dtype:
        raise WrongDtypeError(path, f"{field}/low", f"dtype {low.dtype} != high {high.dtype}")


def _check_float_channel(path: Path, where: str, data: NDArray[Any]) -> None:
    finite = np.isfinite(data)
    if not finite.all():
        bad = np.argwhere(~finite)
        row, col = (int(v) for v in bad[0])
        raise NonFiniteValueError(
            path, where,
            f"{len(bad)} NaN or infinite pixel(s), first at row {row}, column {col}",
        )
    low, high = float(data.min()), float(data.max())
    if low < 0.0 or high > 1.0:
        raise ValueOutOfRangeError(
            path, where, f"transmission must lie in [0, 1], found [{low:g}, {high:g}]"
        )


def _full_scale(path: Path, group: h5py.Group, field: str, dtype: np.dtype[Any]) -> float:
    value = _attr(path, group, field, "full_scale")
    if not isinstance(value, (float, int, np.floating, np.integer)) or isinstance(value, bool):
        raise WrongDtypeError(path, f"{field}/@full_scale", f"must be a number, found {value!r}")
    scale = float(value)
    if dtype == np.float32 and scale != 1.0:
        raise InvalidMetadataError(
            path, f"{field}/@full_scale", f"must be 1.0 for float32 images, found {scale:g}"
        )
    if dtype == np.uint16 and not (1.0 <= scale <= 65535.0 and scale.is_integer()):
        raise ValueOutOfRangeError(
            path, f"{field}/@full_scale",
            f"must be a whole number in 1..65535 for uint16 images, found {scale:g}",
        )
    return scale


def _pitch(path: Path, group: h5py.Group, field: str) -> tuple[float, float]:
    value = np.asarray(_attr(path, group, field, "pixel_pitch_mm"))
    where = f"{field}/@pixel_pitch_mm"
    if value.shape != (2,) or value.dtype.kind not in "fiu":
        raise WrongDtypeError(path, where, f"must be two numbers (rows, columns), found {value!r}")
    if not (np.all(np.isfinite(value)) and np.all(value > 0) and np.all(value <= 1000)):
        raise ValueOutOfRangeError(path, where, f"must lie in (0, 1000] mm, found {value.tolist()}")
    return float(value[0]), float(value[1])


def _read_labelled_object(path: Path, group: Any, field: str,
                          shape: tuple[int, int]) -> LabelledObject:
    if not isinstance(group, h5py.Group):
        raise MissingFieldError(path, field, "must be a group")
    box = np.asarray(_attr(path, group, field, "box"))
    if box.shape != (4,) or box.dtype.kind not in "iu":
        raise WrongDtypeError(path, f"{field}/@box", f"must be 4 integers, found {box!r}")
    x0, y0, x1, y1 = (int(v) for v in box)
    if not (0 <= x0 < x1 <= shape[1] and 0 <= y0 < y1 <= shape[0]):
        raise ValueOutOfRangeError(path, f"{field}/@box", f"{box.tolist()} outside view {shape}")
    mask_ds = group.get("mask")
    if not isinstance(mask_ds, h5py.Dataset):
        raise MissingFieldError(path, f"{field}/mask", "dataset missing")
    if mask_ds.shape != (y1 - y0, x1 - x0):
        raise ShapeMismatchError(
            path, f"{field}/mask", f"shape {mask_ds.shape} does not match box {box.tolist()}"
        )
    object_id = _attr(path, group, field, "object_id")
    if not isinstance(object_id, (int, np.integer)) or isinstance(object_id, bool):
        raise WrongDtypeError(
            path, f"{field}/@object_id", f"must be an integer, found {object_id!r}"
        )
    threat = _attr(path, group, field, "threat")
    if not isinstance(threat, (int, np.integer)) or threat not in (0, 1):
        raise InvalidMetadataError(path, f"{field}/@threat", f"must be 0 or 1, found {threat!r}")
    return LabelledObject(
        object_id=int(object_id),
        label=_text_attr(path, group, field, "label"),
        threat=bool(threat),
        box=(x0, y0, x1, y1),
        mask=mask_ds[()].astype(bool),
    )


# --------------------------------------------------------------------------- small readers


def _ordered_children(path: Path, group: h5py.Group, field: str) -> list[str]:
    """Children named 0, 1, 2, ... in order; anything else is a format error."""
    keys = list(group.keys())
    expected = [str(i) for i in range(len(keys))]
    if sorted(keys, key=lambda k: (len(k), k)) != expected:
        raise InvalidMetadataError(path, field, f"children must be named 0..n-1, found {keys}")
    for key in expected:
        _require_hard_link(path, group, key, f"{field}/{key}")
    return expected


def _require_hard_link(path: Path, group: h5py.Group, name: str, field: str) -> None:
    """Soft and external links could point outside the file, or at another view."""
    link = group.get(name, getlink=True)
    if link is not None and not isinstance(link, h5py.HardLink):
        raise InvalidMetadataError(
            path, field, f"must be stored in the file itself, not a {type(link).__name__}"
        )


def _require_group(path: Path, parent: h5py.Group, field: str) -> h5py.Group:
    group = parent.get(field)
    if not isinstance(group, h5py.Group):
        raise MissingFieldError(path, field, "group missing")
    return group


def _attr(path: Path, obj: h5py.Group | h5py.Dataset, field: str, name: str) -> Any:
    if name not in obj.attrs:
        raise MissingFieldError(path, f"{field.rstrip('/')}/@{name}", "attribute missing")
    return obj.attrs[name]


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else None


def _text_attr(path: Path, obj: h5py.Group, field: str, name: str) -> str:
    value = _text(_attr(path, obj, field, name))
    if value is None:
        raise WrongDtypeError(path, f"{field.rstrip('/')}/@{name}", "must be a text string")
    return value


def _enum_attr(path: Path, obj: h5py.Group, field: str, name: str, enum: type[_E]) -> _E:
    value = _text_attr(path, obj, field, name)
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise InvalidMetadataError(
            path, f"{field.rstrip('/')}/@{name}", f"{value!r} is not one of: {allowed}"
        ) from None
