"""DICOS DX images as scans (docs/dicos.md): :func:`read_dicos` imports them,
:func:`screener.scan.dicos_export.write_dicos_dx` exports a scan as them.

DICOS (NEMA IIC 1 v03) keeps one 2-D image per DX file. A Screener scan of ``n`` views
becomes ``n`` files (single-energy) or ``2n`` files (dual-energy: one per energy per
view), all sharing one Scan Instance UID (DICOM's Study Instance UID) and Frame of
Reference; each has its own series, with the view in Series View (6100,0024/0026) and the
energy in Image Type value 2 (``HIGH ENERGY``/``LOW ENERGY``) and Series Energy
(6100,0030/0031).

**Grouping on import.** ``read_dicos(file)`` reads that file and every ``.dcs`` DX file
beside it in the same folder with the same Scan Instance UID; ``read_dicos(folder)`` reads
the one scan a folder holds; ``read_dicos([files])`` reads exactly those files, which must
belong to one scan. Files Screener wrote say how many files their scan has, so a scan
with a file missing is refused rather than read as less than it is.

Everything is checked before any pixel is decoded (SOP class, transfer syntax, image
layout, sizes against :class:`~screener.scan.ScanLimits`, the group), and every failure
is a typed :class:`~screener.errors.ScanFormatError` naming the file and the DICOS
attribute, ``(gggg,eeee) Name``.

pydicom reads and writes; pixels never go through a per-pixel Python loop
(``numpy.frombuffer`` on import, ``ndarray.tobytes`` on export).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pydicom.config
from numpy.typing import NDArray
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import UID
from pydicom.valuerep import DA, DT, TM

from screener.errors import (
    CorruptImageError,
    DicosGroupError,
    InvalidMetadataError,
    MissingFieldError,
    NotADicosFileError,
    ScanFileNotFoundError,
    ScanTooLargeError,
    ShapeMismatchError,
    TruncatedScanError,
    UnsupportedDicosImageError,
    UnsupportedDicosObjectError,
    UnsupportedTransferSyntaxError,
    ValueOutOfRangeError,
    WrongDtypeError,
)
from screener.scan import dicos_tags as tags
from screener.scan.dicos_tags import field as tag_field
from screener.scan.dicos_tags import private_field
from screener.scan.hdf5 import ScanLimits, validate_scan
from screener.scan.model import BeltDirection, Scan, ScanMetadata, SourceKind, View

#: File name endings taken as DICOS (lower case).
DICOS_SUFFIXES = (".dcs",)
#: The energy of one DX file: a dual-energy view has a "high" and a "low" file, a
#: single-energy view one "single" file.
HIGH, LOW, SINGLE = "high", "low", "single"
#: Image Type value 2 (DICOS "OOI Image Characteristics") per energy.
IMAGE_CHARACTERISTICS = {HIGH: "HIGH ENERGY", LOW: "LOW ENERGY", SINGLE: "INTENSITY"}
#: Series Energy (6100,0030) Screener writes per energy.
SERIES_ENERGY_NUMBER = {HIGH: 1, LOW: 2}
#: ``full_scale`` of a float32 channel once quantised for export: T = value / 65535.
QUANTISED_FULL_SCALE = 65535
#: Pixel pitch given to a DX without Imager Pixel Spacing or Pixel Spacing: nominal 1 mm.
NOMINAL_PIXEL_PITCH_MM = 1.0
#: Station, lane, scanner profile of a foreign DX that does not say.
UNKNOWN = "unknown"
#: OOI ID Assigning Authority written by Screener.
ASSIGNING_AUTHORITY = "screener"
#: The DICOM preamble is 128 bytes, then ``DICM``.
_MAGIC_OFFSET = 128
_MAGIC = b"DICM"
# a file larger than any image within the pixel cap could be (two bytes a pixel, plus
# room for attributes) is refused before it is read
_MAX_BYTES_PER_PIXEL = 2
_MAX_ATTRIBUTE_BYTES = 16 << 20
_UNDEFINED_LENGTH = 0xFFFFFFFF

_PIXEL_DATA = 0x7FE00010
_TRANSFER_SYNTAX = 0x00020010
_SOP_CLASS = 0x00080016
_STUDY_UID = 0x0020000D
_ROWS, _COLUMNS = 0x00280010, 0x00280011


# --------------------------------------------------------------------------- public


@dataclass(frozen=True)
class DxInstance:
    """One DX file as a Threat Detection Report refers to it (headers only)."""

    path: Path
    sop_class_uid: str
    sop_instance_uid: str
    scan_uid: str  #: Scan (Study) Instance UID
    frame_of_reference_uid: str | None
    ooi_id: str
    scan_date: str  #: Scan (Study) Date, DA
    scan_time: str  #: Scan (Study) Time, TM
    scan_id: str  #: Scan (Study) ID
    view: str  #: the view's name, as :func:`read_dicos` names it
    energy: str  #: ``high``, ``low`` or ``single``
    rows: int
    columns: int


def is_dicom_file(path: Path | str) -> bool:
    """Whether a file starts like DICOM Part 10: a 128-byte preamble, then ``DICM``."""
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(_MAGIC_OFFSET + len(_MAGIC))
    except OSError:
        return False
    return head[_MAGIC_OFFSET:] == _MAGIC


def dicos_group(source: Path | str | Sequence[Path | str],
                limits: ScanLimits | None = None) -> tuple[Path, ...]:
    """The files :func:`read_dicos` reads for ``source``, views in order, high energy
    first. Reads headers only."""
    with _quiet_pydicom():
        plan = _plan(source, limits or ScanLimits())
    return tuple(h.path for v in plan.views for h in v.files)


def dx_instances(source: Path | str | Sequence[Path | str],
                 limits: ScanLimits | None = None) -> tuple[DxInstance, ...]:
    """The DX files of one scan (grouped as :func:`read_dicos` groups them) as a Threat
    Detection Report refers to them. Reads headers only."""
    with _quiet_pydicom():
        plan = _plan(source, limits or ScanLimits())
        return tuple(_instance(h, view.name) for view in plan.views for h in view.files)


def read_dicos(source: Path | str | Sequence[Path | str],
               limits: ScanLimits | None = None) -> Scan:
    """Import DICOS DX images as one validated :class:`~screener.scan.Scan`.

    ``source``: one ``.dcs`` file (read with its siblings of the same scan in the same
    folder), a folder holding one scan, or the exact list of a scan's files. Raises a
    :class:`~screener.errors.ScanFormatError` subclass naming the file and attribute.
    """
    limits = limits or ScanLimits()
    with _quiet_pydicom():
        plan = _plan(source, limits)
        views = tuple(_read_view(view, limits) for view in plan.views)
        metadata = _metadata(plan)
    scan = Scan(metadata, views)
    validate_scan(scan, plan.origin)  # an importer bug must not produce an invalid scan
    return scan




# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, eq=False)
class _Header:
    """One DX file's attributes (pixels not read), checked as far as headers go."""

    path: Path
    ds: Dataset
    sop_class: str
    scan_uid: str
    view_number: int
    energy: str
    rows: int
    columns: int
    private: dict[int, Any]


@dataclass(frozen=True, eq=False)
class _PlannedView:
    number: int
    name: str
    files: tuple[_Header, ...]  #: (high, low), or (single,)


@dataclass(frozen=True, eq=False)
class _Plan:
    origin: Path  #: what the caller gave (file or folder); names group-level problems
    kind: SourceKind
    views: tuple[_PlannedView, ...]
    first: _Header = field(repr=False)


@contextmanager
def _quiet_pydicom() -> Iterator[None]:
    """Toolkit-made files carry UIDs with leading zeros, which pydicom warns about on
    every access; they are harmless here (docs/dicos.md), so value validation is off
    while Screener reads."""
    with pydicom.config.disable_value_validation():
        yield


def _plan(source: Path | str | Sequence[Path | str], limits: ScanLimits) -> _Plan:
    if isinstance(source, (str, os.PathLike)):
        origin = Path(source)
        if origin.is_dir():
            headers = _folder_headers(origin, limits)
        else:
            first = _header(origin, limits)
            headers = [first, *_siblings(first, limits)]
    else:
        paths = [Path(p) for p in source]
        if not paths:
            raise ValueError("read_dicos needs at least one file")
        origin = paths[0]
        headers = [_header(p, limits) for p in paths]
        for h in headers[1:]:
            if h.scan_uid != headers[0].scan_uid:
                raise DicosGroupError(h.path, tag_field(_STUDY_UID),
                                      f"belongs to scan {h.scan_uid}, {headers[0].path.name} "
                                      f"to scan {headers[0].scan_uid}")
    return _arrange(origin, headers, limits)


def _folder_headers(folder: Path, limits: ScanLimits) -> list[_Header]:
    headers = [h for h in (_try_header(p, limits) for p in _dicos_files(folder)) if h]
    if not headers:
        raise DicosGroupError(folder, "file", "holds no DICOS DX image (.dcs)")
    scans = sorted({h.scan_uid for h in headers})
    if len(scans) > 1:
        raise DicosGroupError(folder, tag_field(_STUDY_UID),
                              f"holds {len(scans)} scans; give one of a scan's files "
                              "instead of the folder")
    return headers


def _siblings(first: _Header, limits: ScanLimits) -> list[_Header]:
    found: list[_Header] = []
    for path in _dicos_files(first.path.parent):
        if path.resolve() == first.path.resolve():
            continue
        header = _try_header(path, limits)
        if header is not None and header.scan_uid == first.scan_uid:
            found.append(header)
    return found


def _dicos_files(folder: Path) -> list[Path]:
    """The ``.dcs`` files of a folder (not hidden: partial copies), in name order."""
    try:
        entries = list(folder.iterdir())
    except OSError:  # an unlistable folder: no siblings to find
        return []
    return sorted(p for p in entries
                  if p.suffix.lower() in DICOS_SUFFIXES and not p.name.startswith(".")
                  and p.is_file())


def _try_header(path: Path, limits: ScanLimits) -> _Header | None:
    """A sibling's header, or None when it is no DX (a TDR beside the images, a damaged
    file of another scan): only the file asked for must be readable."""
    try:
        return _header(path, limits)
    except Exception:  # an unreadable sibling is not taken as part of the scan
        return None


def _open(path: Path, limits: ScanLimits, *, pixels: bool) -> Dataset:
    """Parse a DICOS file, turning every way it can fail into a typed error."""
    if not path.is_file():
        raise ScanFileNotFoundError(path, "file", "no such file")
    size = path.stat().st_size
    if size == 0:
        raise TruncatedScanError(path, "file", "the file is empty")
    cap = limits.max_view_pixels * _MAX_BYTES_PER_PIXEL + _MAX_ATTRIBUTE_BYTES
    if size > cap:
        raise ScanTooLargeError(path, "file", f"{size} bytes: larger than any DX image "
                                f"within the pixel cap {limits.max_view_pixels} "
                                "(max_view_pixels) could be")
    if not is_dicom_file(path):
        raise NotADicosFileError(path, "file", "not a DICOM file (no 'DICM' after the "
                                 "128-byte preamble)")
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=not pixels)
    except Exception as exc:  # pydicom raises many kinds for damaged files
        raise NotADicosFileError(path, "file", f"cannot be parsed as DICOM "
                                 f"({_first_line(exc)})") from None
    _check_complete(path, ds)
    return ds


def _check_complete(path: Path, ds: Dataset) -> None:
    """pydicom keeps what it could read of a truncated file; an element shorter than its
    declared length means the file ends early."""
    for tag in list(ds.keys()):
        raw: Any = ds.get_item(tag)  # typed DataElement; unconverted ones are raw
        if not isinstance(raw, RawDataElement) or raw.length == _UNDEFINED_LENGTH:
            continue
        if isinstance(raw.value, bytes) and len(raw.value) < raw.length:
            raise TruncatedScanError(path, tag_field(int(tag)),
                                     f"declares {raw.length} bytes but the file ends "
                                     f"after {len(raw.value)}")


def _header(path: Path, limits: ScanLimits) -> _Header:
    ds = _open(path, limits, pixels=False)
    sop = _sop_class(path, ds)
    scan_uid = _required_text(path, ds, _STUDY_UID)
    rows = _required_int(path, ds, _ROWS)
    columns = _required_int(path, ds, _COLUMNS)
    if rows < 1 or columns < 1:
        raise InvalidMetadataError(path, tag_field(_ROWS if rows < 1 else _COLUMNS),
                                   f"empty image ({rows} x {columns})")
    if rows * columns > limits.max_view_pixels:
        raise ScanTooLargeError(path, tag_field(_ROWS), f"{rows} x {columns} = "
                                f"{rows * columns} pixels, cap is {limits.max_view_pixels}")
    view = _value(ds, tags.SERIES_VIEW, "US")
    return _Header(path=path, ds=ds, sop_class=sop, scan_uid=scan_uid,
                   view_number=int(view) if isinstance(view, int) else 0,
                   energy=_energy(ds), rows=rows, columns=columns, private=_private(ds))


def _sop_class(path: Path, ds: Dataset) -> str:
    sop = _text(ds, _SOP_CLASS) or str(ds.file_meta.get("MediaStorageSOPClassUID", "") or "")
    if not sop:
        raise MissingFieldError(path, tag_field(_SOP_CLASS), "missing")
    if sop in tags.OTHER_DICOS_CLASSES:
        raise UnsupportedDicosObjectError(
            path, tag_field(_SOP_CLASS), f"this is a {tags.OTHER_DICOS_CLASSES[sop]} "
            f"({sop}), not a DICOS DX image; only DX images import as scans")
    if sop not in tags.DX_CLASSES:
        name = UID(sop).name if UID(sop).is_valid else sop
        raise UnsupportedDicosObjectError(
            path, tag_field(_SOP_CLASS), f"{name} ({sop}) is not a DICOS DX image "
            f"(SOP class {tags.DX_FOR_PROCESSING} or {tags.DX_FOR_PRESENTATION})")
    modality = _text(ds, 0x00080060)
    if modality and modality.upper() not in tags.DX_MODALITIES:
        raise UnsupportedDicosObjectError(path, tag_field(0x00080060),
                                          f"{modality!r} for a DX image; expected XRAY or DX")
    return sop


def _energy(ds: Dataset) -> str:
    """From Image Type value 2, else Series Energy Description; else single energy."""
    image_type = [v.strip().upper().replace("_", " ") for v in _texts(ds, 0x00080008)]
    if len(image_type) > 1 and image_type[1] in ("HIGH ENERGY", "LOW ENERGY"):
        return HIGH if image_type[1] == "HIGH ENERGY" else LOW
    described = (_text(ds, tags.SERIES_ENERGY_DESCRIPTION) or "").upper()
    if "HIGH" in described:
        return HIGH
    if "LOW" in described:
        return LOW
    return SINGLE


def _arrange(origin: Path, headers: list[_Header], limits: ScanLimits) -> _Plan:
    """Sort a scan's files into views and energies, refusing what does not fit."""
    declared = {h.private.get(tags.PRIVATE_FILES_IN_SCAN) for h in headers} - {None}
    for count in declared:
        if count != len(headers):
            names = ", ".join(h.path.name for h in headers)
            raise DicosGroupError(origin, private_field(tags.PRIVATE_FILES_IN_SCAN),
                                  f"the scan has {count} files but {len(headers)} were found "
                                  f"({names}); wait for the rest or copy them all")
    by_view: dict[int, dict[str, _Header]] = {}
    for h in headers:
        slot = by_view.setdefault(h.view_number, {})
        if h.energy in slot:
            other = slot[h.energy]
            raise DicosGroupError(h.path, tag_field(tags.SERIES_VIEW),
                                  f"a second {h.energy}-energy image of view {h.view_number} "
                                  f"(the first is {other.path.name})")
        slot[h.energy] = h
    if len(by_view) > limits.max_views:
        raise ScanTooLargeError(origin, tag_field(tags.SERIES_VIEW),
                                f"{len(by_view)} views, cap is {limits.max_views}")
    views: list[_PlannedView] = []
    dual: bool | None = None
    for number in sorted(by_view):
        slot = by_view[number]
        files = _view_files(number, slot)
        is_dual = len(files) == 2
        if dual is not None and dual != is_dual:
            raise DicosGroupError(files[0].path, tag_field(0x00080008),
                                  f"view {number} has {'two energies' if is_dual else 'one'}, "
                                  f"an earlier view {'two' if dual else 'one'}: a scan's views "
                                  "are all dual-energy or all single-energy")
        dual = is_dual
        _check_pair(files)
        views.append(_PlannedView(number, "", files))
    named = _name_views(views)
    kind = _kind(named[0].files[0], bool(dual))
    return _Plan(origin=origin, kind=kind, views=named, first=named[0].files[0])


def _view_files(number: int, slot: dict[str, _Header]) -> tuple[_Header, ...]:
    energies = set(slot)
    if energies == {HIGH, LOW}:
        return slot[HIGH], slot[LOW]
    if energies in ({HIGH}, {SINGLE}):
        return (next(iter(slot.values())),)
    if energies == {LOW}:
        raise DicosGroupError(slot[LOW].path, tag_field(0x00080008),
                              f"a low-energy image of view {number} without its high-energy "
                              "image")
    single = slot[SINGLE]
    image_type = "/".join(_texts(single.ds, 0x00080008)) or "missing"
    raise DicosGroupError(single.path, tag_field(0x00080008),
                          f"an image of view {number} without an energy (Image Type "
                          f"{image_type}) beside energy-labelled images of the same view")


def _check_pair(files: tuple[_Header, ...]) -> None:
    if len(files) != 2:
        return
    high, low = files
    if (high.rows, high.columns) != (low.rows, low.columns):
        raise ShapeMismatchError(low.path, tag_field(_ROWS),
                                 f"{low.rows} x {low.columns} differs from the high-energy "
                                 f"image {high.path.name} ({high.rows} x {high.columns})")


def _name_views(views: list[_PlannedView]) -> tuple[_PlannedView, ...]:
    """Screener's view name, else Series View Description, else ``image`` (one view) or
    ``view <n>``; repeated names get the view number."""
    named: list[_PlannedView] = []
    seen: set[str] = set()
    for view in views:
        first = view.files[0]
        name = (_private_text(first, tags.PRIVATE_VIEW_NAME)
                or (_text(first.ds, tags.SERIES_VIEW_DESCRIPTION) or "").strip()
                or ("image" if len(views) == 1 else f"view {view.number}"))
        if name in seen:
            name = f"{name} ({view.number})"
        seen.add(name)
        named.append(_PlannedView(view.number, name, view.files))
    return tuple(named)


def _kind(first: _Header, dual: bool) -> SourceKind:
    recorded = _private_text(first, tags.PRIVATE_SOURCE_KIND)
    try:
        kind = SourceKind(recorded) if recorded else None
    except ValueError:
        kind = None
    if kind is not None and kind.is_dual_energy == dual and not kind.has_material_class:
        return kind
    return SourceKind.DUAL_ENERGY if dual else SourceKind.SINGLE_ENERGY


def _read_view(view: _PlannedView, limits: ScanLimits) -> View:
    high, high_scale = _read_channel(view.files[0], limits)
    low: NDArray[np.uint16] | None = None
    if len(view.files) == 2:
        low, low_scale = _read_channel(view.files[1], limits)
        if low_scale != high_scale:
            raise DicosGroupError(view.files[1].path, private_field(tags.PRIVATE_FULL_SCALE),
                                  f"full scale {low_scale:g} differs from the high-energy "
                                  f"image's {high_scale:g}; the energies of a view share one")
    first = view.files[0]
    belt = _private_text(first, tags.PRIVATE_BELT_DIRECTION) or BeltDirection.LEFT_TO_RIGHT
    try:
        direction = BeltDirection(belt)
    except ValueError:
        raise InvalidMetadataError(first.path, private_field(tags.PRIVATE_BELT_DIRECTION),
                                   f"{belt!r} is not left-to-right or right-to-left") from None
    return View(view.name, high, low, high_scale, _pitch(first), direction)


def _read_channel(header: _Header, limits: ScanLimits) -> tuple[NDArray[np.uint16], float]:
    """The pixels of one file as uint16 and its full scale (open-beam value)."""
    path = header.path
    ds = _open(path, limits, pixels=True)
    if _text(ds, _STUDY_UID) != header.scan_uid:
        raise DicosGroupError(path, tag_field(_STUDY_UID), "changed while it was being read")
    layout = _layout(path, ds, header)
    data = _decode(path, ds, layout)
    if layout.bits_stored < layout.bits_allocated:
        data &= np.uint16((1 << layout.bits_stored) - 1)  # bits above Bits Stored: no pixel
    natural = float((1 << layout.bits_stored) - 1)
    recorded = header.private.get(tags.PRIVATE_FULL_SCALE)
    full_scale = natural
    if recorded is not None:
        if not (isinstance(recorded, (int, float)) and 1 <= recorded <= 65535
                and float(recorded).is_integer()):
            raise ValueOutOfRangeError(path, private_field(tags.PRIVATE_FULL_SCALE),
                                       f"must be a whole number in 1..65535, found {recorded!r}")
        full_scale = float(recorded)
    if layout.inverted:
        data = np.uint16(int(natural)) - data  # Sign -1: lower values, more intensity
    peak = int(data.max())
    if peak > full_scale:
        raise ValueOutOfRangeError(path, tag_field(_PIXEL_DATA),
                                   f"value {peak} exceeds the full scale {full_scale:g}")
    return data, full_scale


@dataclass(frozen=True)
class _Layout:
    syntax: str
    rows: int
    columns: int
    bits_allocated: int
    bits_stored: int
    inverted: bool


def _layout(path: Path, ds: Dataset, header: _Header) -> _Layout:
    """The image pixel attributes, checked before the pixels are touched."""
    syntax = str(ds.file_meta.get("TransferSyntaxUID", "") or "")
    if not syntax:
        raise MissingFieldError(path, tag_field(_TRANSFER_SYNTAX), "missing from the file meta")
    samples = _optional_int(path, ds, 0x00280002, 1)
    if samples != 1:
        raise UnsupportedDicosImageError(path, tag_field(0x00280002),
                                         f"{samples} samples per pixel; a transmission image "
                                         "has one")
    photometric = (_text(ds, 0x00280004) or "MONOCHROME2").upper()
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise UnsupportedDicosImageError(path, tag_field(0x00280004),
                                         f"{photometric}; only MONOCHROME1/2 images import")
    frames = _optional_int(path, ds, 0x00280008, 1)
    if frames != 1:
        raise UnsupportedDicosImageError(path, tag_field(0x00280008),
                                         f"{frames} frames; a DX image has one")
    allocated = _required_int(path, ds, 0x00280100)
    if allocated not in (8, 16):
        raise WrongDtypeError(path, tag_field(0x00280100),
                              f"{allocated} bits; only 8- and 16-bit DX images import")
    stored = _optional_int(path, ds, 0x00280101, allocated)
    if not 1 <= stored <= allocated:
        raise WrongDtypeError(path, tag_field(0x00280101),
                              f"{stored} bits stored in {allocated} allocated")
    high_bit = _optional_int(path, ds, 0x00280102, stored - 1)
    if high_bit != stored - 1:
        raise UnsupportedDicosImageError(path, tag_field(0x00280102),
                                         f"{high_bit}; only images whose stored bits start "
                                         f"at bit 0 (High Bit {stored - 1}) import")
    if _optional_int(path, ds, 0x00280103, 0) != 0:
        raise WrongDtypeError(path, tag_field(0x00280103),
                              "signed pixels; a DX transmission image is unsigned")
    relationship = (_text(ds, 0x00281040) or "LIN").upper()
    if relationship != "LIN":
        raise UnsupportedDicosImageError(path, tag_field(0x00281040),
                                         f"{relationship}: only linear intensity (LIN) is a "
                                         "transmission; log-scaled images do not import")
    sign = _optional_int(path, ds, 0x00281041, 1)
    if sign not in (1, -1):
        raise InvalidMetadataError(path, tag_field(0x00281041), f"{sign}; must be 1 or -1")
    for tag, identity in ((0x00281053, 1.0), (0x00281052, 0.0)):
        value = _number(path, ds, tag)
        if value is not None and value != identity:
            raise UnsupportedDicosImageError(path, tag_field(tag),
                                             f"{value:g}; a DX image stores its values as "
                                             f"they are (slope 1, intercept 0)")
    if _PIXEL_DATA not in ds:
        raise MissingFieldError(path, tag_field(_PIXEL_DATA), "missing: the file holds no "
                                "image (or ends before it)")
    return _Layout(syntax, header.rows, header.columns, allocated, stored, sign == -1)


def _decode(path: Path, ds: Dataset, layout: _Layout) -> NDArray[np.uint16]:
    rows, columns = layout.rows, layout.columns
    if layout.syntax in tags.NATIVE_SYNTAXES:
        raw = ds.PixelData
        if not isinstance(raw, bytes):
            raise NotADicosFileError(path, tag_field(_PIXEL_DATA), "is not pixel bytes")
        size = layout.bits_allocated // 8
        need = rows * columns * size
        if len(raw) < need:
            raise TruncatedScanError(path, tag_field(_PIXEL_DATA),
                                     f"holds {len(raw)} bytes; {rows} x {columns} pixels of "
                                     f"{layout.bits_allocated} bits need {need}")
        order = ">" if layout.syntax == tags.EXPLICIT_VR_BIG_ENDIAN else "<"
        dtype = np.dtype(f"{order}u{size}")
        flat = np.frombuffer(raw, dtype=dtype, count=rows * columns)
        return flat.reshape(rows, columns).astype(np.uint16)  # a writable, native copy
    name = tags.LOSSLESS_COMPRESSED_SYNTAXES.get(layout.syntax)
    if name is None:
        described = UID(layout.syntax).name or layout.syntax
        lossy = "lossy compression" if UID(layout.syntax).is_compressed else \
            "not a transfer syntax Screener reads"
        raise UnsupportedTransferSyntaxError(path, tag_field(_TRANSFER_SYNTAX),
                                             f"{described} ({layout.syntax}): {lossy}")
    from pydicom.pixels.decoders.base import get_decoder

    decoder = get_decoder(layout.syntax)
    if not decoder.is_available:
        missing = "; ".join(decoder.missing_dependencies)
        raise UnsupportedTransferSyntaxError(path, tag_field(_TRANSFER_SYNTAX),
                                             f"{name} ({layout.syntax}) needs a decoder that "
                                             f"is not installed ({missing})")
    try:
        pixels = np.asarray(ds.pixel_array)
    except Exception as exc:  # pydicom's decoders raise many kinds on damaged data
        raise CorruptImageError(path, tag_field(_PIXEL_DATA), f"the {name} data cannot be "
                                f"decoded ({_first_line(exc)})") from None
    if pixels.shape != (rows, columns) or pixels.dtype.kind != "u":
        raise CorruptImageError(path, tag_field(_PIXEL_DATA),
                                f"decodes to {pixels.dtype} {pixels.shape}, not "
                                f"{rows} x {columns}")
    return pixels.astype(np.uint16)


def _pitch(header: _Header) -> tuple[float, float]:
    for tag in (0x00181164, 0x00280030):  # Imager Pixel Spacing, Pixel Spacing
        values = _texts(header.ds, tag)
        if not values:
            continue
        try:
            pitch = tuple(float(v) for v in values)
        except ValueError:
            raise WrongDtypeError(header.path, tag_field(tag),
                                  f"must be two numbers, found {values}") from None
        if len(pitch) != 2:
            raise WrongDtypeError(header.path, tag_field(tag),
                                  f"must be two numbers (rows, columns), found {values}")
        if not all(np.isfinite(v) and 0 < v <= 1000 for v in pitch):
            raise ValueOutOfRangeError(header.path, tag_field(tag),
                                       f"must lie in (0, 1000] mm, found {list(pitch)}")
        return pitch[0], pitch[1]
    return NOMINAL_PIXEL_PITCH_MM, NOMINAL_PIXEL_PITCH_MM


def _metadata(plan: _Plan) -> ScanMetadata:
    first = plan.first
    ds, path = first.ds, first.path
    bag_id = _private_text(first, tags.PRIVATE_BAG_ID) or _text(ds, 0x00100020)
    if not bag_id or not bag_id.strip():
        raise MissingFieldError(path, tag_field(0x00100020), "missing or empty: a scan needs "
                                "its bag id")
    views = plan.views
    channel_high = (_private_text(first, tags.PRIVATE_CHANNEL_HIGH)
                    or _channel(views[0].files[0]))
    channel_low = _private_text(first, tags.PRIVATE_CHANNEL_LOW) or (
        _channel(views[0].files[1]) if plan.kind.is_dual_energy
        else "none: single-energy DICOS DX image")
    return ScanMetadata(
        bag_id=bag_id,
        station=_private_text(first, tags.PRIVATE_STATION) or _text(ds, 0x00081010) or UNKNOWN,
        lane=_private_text(first, tags.PRIVATE_LANE) or UNKNOWN,
        acquired_at=_acquired_at(path, ds),
        source=_private_text(first, tags.PRIVATE_SOURCE) or _foreign_source(ds),
        source_kind=plan.kind,
        scanner_profile=_private_text(first, tags.PRIVATE_SCANNER_PROFILE) or UNKNOWN,
        channel_low=channel_low,
        channel_high=channel_high,
    )


def _foreign_source(ds: Dataset) -> str:
    parts = [p for p in (_text(ds, 0x00080070), _text(ds, 0x00081090))
             if p and p.strip() and p.strip().lower() != UNKNOWN]
    return f"DICOS DX from {' '.join(parts)}" if parts else "DICOS DX from an unnamed scanner"


def _channel(header: _Header) -> str:
    """A foreign image's channel, described from what its attributes say."""
    ds = header.ds
    stored = _optional_int(header.path, ds, 0x00280101, _optional_int(header.path, ds,
                                                                        0x00280100, 16))
    kvp = _number(header.path, ds, 0x00180060)
    energy = {HIGH: "high-energy", LOW: "low-energy", SINGLE: "single-channel"}[header.energy]
    tube = f", {kvp:g} kV" if kvp else ""
    return (f"{energy} DICOS DX image{tube}; transmission = value / {(1 << stored) - 1} "
            "(open beam assumed at the top of Bits Stored)")


def _acquired_at(path: Path, ds: Dataset) -> datetime:
    """Acquisition DateTime, else Content, Acquisition or Scan date and time; a time
    without an offset is taken in Timezone Offset From UTC (0008,0201), else in UTC."""
    offset = _tz_offset(path, ds)
    stamp = _text(ds, 0x0008002A)
    try:
        if stamp:
            when: datetime = DT(stamp)
        else:
            when = _date_and_time(path, ds)
    except ValueError:
        raise InvalidMetadataError(path, tag_field(0x0008002A),
                                   f"not a DICOM date and time: {stamp!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=offset or UTC)
    return datetime(when.year, when.month, when.day, when.hour, when.minute, when.second,
                    when.microsecond, tzinfo=when.tzinfo).astimezone(UTC)


def _date_and_time(path: Path, ds: Dataset) -> datetime:
    for date_tag, time_tag in ((0x00080023, 0x00080033), (0x00080022, 0x00080032),
                               (0x00080020, 0x00080030)):
        day = _text(ds, date_tag)
        if not day:
            continue
        try:
            parsed_day: date = DA(day)
            clock = _text(ds, time_tag)
            parsed_time: time = TM(clock) if clock else time()
        except ValueError:
            raise InvalidMetadataError(path, tag_field(date_tag),
                                       f"not a DICOM date and time: {day!r}") from None
        return datetime.combine(parsed_day, parsed_time)
    raise MissingFieldError(path, tag_field(0x00080020), "missing, and no Acquisition "
                            "DateTime or Content Date either: the scan has no time")


def _tz_offset(path: Path, ds: Dataset) -> timezone | None:
    text = _text(ds, 0x00080201)
    if not text:
        return None
    match = re.fullmatch(r"([+-])(\d{2})(\d{2})", text.strip())
    if match is None:
        raise InvalidMetadataError(path, tag_field(0x00080201),
                                   f"{text!r} is not an offset like +0100")
    sign = -1 if match.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))


def _instance(header: _Header, view: str) -> DxInstance:
    ds = header.ds
    return DxInstance(
        path=header.path,
        sop_class_uid=header.sop_class,
        sop_instance_uid=_required_text(header.path, ds, 0x00080018),
        scan_uid=header.scan_uid,
        frame_of_reference_uid=_text(ds, 0x00200052),
        ooi_id=_text(ds, 0x00100020) or "",
        scan_date=_text(ds, 0x00080020) or "",
        scan_time=_text(ds, 0x00080030) or "",
        scan_id=_text(ds, 0x00200010) or "",
        view=view,
        energy=header.energy,
        rows=header.rows,
        columns=header.columns,
    )


# --------------------------------------------------------------------------- values


def _value(ds: Dataset, tag: int, vr: str) -> Any:
    """An element's value; elements of an Implicit VR file that pydicom's dictionary
    does not know come as raw bytes (VR UN) and are converted with the DICOS ``vr``."""
    if tag not in ds:
        return None
    element = ds[tag]
    value = element.value
    if element.VR != "UN" or not isinstance(value, bytes):
        return value
    if vr in ("US", "FL", "FD"):
        code = {"US": "<u2", "FL": "<f4", "FD": "<f8"}[vr]
        numbers = np.frombuffer(value[: len(value) // np.dtype(code).itemsize
                                      * np.dtype(code).itemsize], dtype=code)
        return numbers[0].item() if numbers.size == 1 else [n.item() for n in numbers]
    return value.decode("utf-8", errors="replace").rstrip("\x00 ")


def _texts(ds: Dataset, tag: int) -> list[str]:
    value = _value(ds, tag, "LO")
    if value is None or value == "":
        return []
    if isinstance(value, (MultiValue, list, tuple)):
        return [str(v) for v in value]
    text = str(value)
    return text.split("\\") if "\\" in text else [text]


def _text(ds: Dataset, tag: int) -> str | None:
    values = _texts(ds, tag)
    return "\\".join(values).strip() if values else None


def _required_text(path: Path, ds: Dataset, tag: int) -> str:
    value = _text(ds, tag)
    if not value:
        raise MissingFieldError(path, tag_field(tag), "missing")
    return value


def _required_int(path: Path, ds: Dataset, tag: int) -> int:
    if tag not in ds or _value(ds, tag, "US") in (None, ""):
        raise MissingFieldError(path, tag_field(tag), "missing")
    return _optional_int(path, ds, tag, 0)


def _optional_int(path: Path, ds: Dataset, tag: int, default: int) -> int:
    value = _value(ds, tag, "US")
    if value is None or value == "":
        return default
    if isinstance(value, (MultiValue, list)):
        value = value[0] if len(value) == 1 else value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise WrongDtypeError(path, tag_field(tag), f"must be a whole number, found "
                              f"{value!r}") from None
    if not number.is_integer():
        raise WrongDtypeError(path, tag_field(tag), f"must be a whole number, found {value!r}")
    return int(number)


def _number(path: Path, ds: Dataset, tag: int) -> float | None:
    value = _value(ds, tag, "FD")
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise WrongDtypeError(path, tag_field(tag), f"must be a number, found "
                              f"{value!r}") from None


def _private(ds: Dataset) -> dict[int, Any]:
    try:
        block = ds.private_block(tags.PRIVATE_GROUP, tags.PRIVATE_CREATOR)
    except (KeyError, ValueError):
        return {}
    found: dict[int, Any] = {}
    for offset, (vr, _meaning) in tags.PRIVATE_ELEMENTS.items():
        value = _value(ds, block.get_tag(offset), vr)
        if value is not None and value != "":
            found[offset] = value
    return found


def _private_text(header: _Header, offset: int) -> str | None:
    value = header.private.get(offset)
    if value is None:
        return None
    if not isinstance(value, str):
        raise WrongDtypeError(header.path, private_field(offset), f"must be text, found "
                              f"{value!r}")
    return value


def _first_line(exc: BaseException, limit: int = 200) -> str:
    lines = str(exc).strip().splitlines()
    line = lines[0] if lines else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."
