"""Exporting a scan as DICOS DX files (docs/dicos.md): one file per energy per view,
sharing one Scan Instance UID; the reading side is :mod:`screener.scan.dicos`.

uint16 channels are written bit-exactly, float32 ones quantised on full scale 65535; the
pixels go out with ``ndarray.tobytes``, never through a per-pixel Python loop.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pydicom.config
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID, generate_uid

from screener import __version__
from screener.atomic_files import written_atomically
from screener.errors import DicosExportError
from screener.scan import dicos_tags as tags
from screener.scan.dicos import (
    ASSIGNING_AUTHORITY,
    IMAGE_CHARACTERISTICS,
    QUANTISED_FULL_SCALE,
    SERIES_ENERGY_NUMBER,
    SINGLE,
    UNKNOWN,
)
from screener.scan.hdf5 import validate_scan
from screener.scan.model import Scan, SourceKind, View

_KV = re.compile(r"(\d+(?:\.\d+)?)\s*(kV|MV)\b", re.IGNORECASE)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def write_dicos_dx(scan: Scan, folder: Path | str, *, stem: str | None = None) -> list[Path]:
    """Export ``scan`` as DICOS DX files in ``folder``: one per energy per view, named
    ``<stem>_<view index>-<view name>_<high|low|single>.dcs`` (``stem`` defaults to the
    bag id). Returns the paths, views in order, high energy first.

    uint16 channels are written bit-exactly; float32 channels are quantised to uint16
    counts on full scale 65535. The UIDs derive from the scan's content, so exporting the
    same scan twice gives the same files. Each file is written beside its target and
    renamed into place. A pseudo-colour scan is refused (:class:`DicosExportError`): DX
    holds transmission only and its material classes would be lost.
    """
    target = Path(folder)
    validate_scan(scan, target)
    meta = scan.metadata
    if meta.source_kind is SourceKind.PSEUDO_COLOUR:
        raise DicosExportError(target, "source_kind", "a pseudo-colour scan has no energy "
                               "channels and its material classes have no place in a DICOS "
                               "DX image; only dual- and single-energy scans export")
    digest = _content_digest(scan)
    plan = [(index, view, channel) for index, view in enumerate(scan.views)
            for channel in view.channels]
    shared = _SharedUids(scan=_uid(digest, "scan"), frame=_uid(digest, "frame"),
                         files=len(plan))
    base = _safe_name(stem if stem is not None else meta.bag_id) or "scan"
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for number, (index, view, channel) in enumerate(plan, start=1):
        energy = channel if meta.source_kind.is_dual_energy else SINGLE
        ds = _dx_dataset(scan, index, view, channel, energy, number, shared, digest)
        name = f"{base}_{index}-{_safe_name(view.name) or 'view'}_{energy}.dcs"
        written.append(save_dicos(ds, target / name))
    return written


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class _SharedUids:
    scan: str
    frame: str
    files: int


def _content_digest(scan: Scan) -> str:
    """sha256 of the scan's metadata and pixels: the seed of its UIDs."""
    digest = hashlib.sha256()
    meta = scan.metadata
    for value in (meta.bag_id, meta.station, meta.lane, meta.acquired_at.isoformat(),
                  meta.source, meta.source_kind.value, meta.scanner_profile,
                  meta.channel_low, meta.channel_high):
        digest.update(value.encode("utf-8") + b"\x00")
    for view in scan.views:
        digest.update(f"{view.name}|{view.pixel_pitch_mm}|{view.belt_direction.value}|"
                      f"{view.full_scale}|{view.high.dtype}|{view.shape}".encode())
        for data in (view.high, view.low):
            if data is not None:
                digest.update(np.ascontiguousarray(data).data)
    return digest.hexdigest()


def _uid(digest: str, *parts: str) -> str:
    return str(generate_uid(entropy_srcs=[digest, *parts]))


def _safe_name(text: str) -> str:
    return _UNSAFE_NAME.sub("_", text).strip("._")[:64]


def _lo(text: str, limit: int = 64) -> str:
    """A value for a LO/SH attribute: no backslash (the value separator), no control
    characters, at most ``limit`` characters (the full text is in the private block)."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text.replace("\\", "/"))
    return cleaned.strip()[:limit]


def _kvp(description: str) -> float:
    """The tube voltage a channel description names ("160 kV", "6 MV"), in kV; 0 when it
    names none."""
    match = _KV.search(description)
    if match is None:
        return 0.0
    value = float(match.group(1))
    return value * 1000.0 if match.group(2).upper() == "MV" else value


def _pixels(view: View, channel: str) -> tuple[NDArray[np.uint16], int]:
    data = view.high if channel == "high" else view.low
    assert data is not None
    if data.dtype == np.float32:
        quantised = np.rint(data * np.float32(QUANTISED_FULL_SCALE)).astype(np.uint16)
        return quantised, QUANTISED_FULL_SCALE
    return np.asarray(data, dtype=np.uint16), int(view.full_scale)


def _dx_dataset(scan: Scan, index: int, view: View, channel: str, energy: str, number: int,
                shared: _SharedUids, digest: str) -> Dataset:
    meta = scan.metadata
    when = meta.acquired_at
    day, clock = when.strftime("%Y%m%d"), when.strftime("%H%M%S.%f")
    sop_uid = _uid(digest, "instance", str(index), channel)
    description = meta.channel_high if channel == "high" else meta.channel_low
    kvp = _kvp(description)
    pixels, full_scale = _pixels(view, channel)

    file_meta = FileMetaDataset()
    file_meta.MediaStorageSOPClassUID = UID(tags.DX_FOR_PROCESSING)
    file_meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    file_meta.TransferSyntaxUID = UID(tags.EXPLICIT_VR_LITTLE_ENDIAN)
    file_meta.ImplementationClassUID = UID(_uid("screener", __version__))
    file_meta.ImplementationVersionName = _lo(f"SCREENER_{__version__}", 16)
    file_meta.add_new(tags.META_DICOS_VERSION, "CS", tags.DICOS_VERSION)

    ds = Dataset()
    ds.file_meta = file_meta
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8
    # SOP common
    ds.SOPClassUID = UID(tags.DX_FOR_PROCESSING)
    ds.SOPInstanceUID = UID(sop_uid)
    ds.InstanceCreationDate, ds.InstanceCreationTime = day, clock
    ds.TimezoneOffsetFromUTC = "+0000"
    # Object of Inspection (DICOM's Patient)
    ds.PatientID = _lo(meta.bag_id)  # OOI ID
    ds.IssuerOfPatientID = ASSIGNING_AUTHORITY  # OOI ID Assigning Authority
    ds.TypeOfPatientID = "TEXT"  # OOI ID Type
    ds.PatientSex = "U"
    ds.add_new(0x40101042, "CS", "BAGGAGE")  # OOI Type
    # Scan (DICOM's Study)
    ds.StudyInstanceUID = UID(shared.scan)
    ds.StudyDate, ds.StudyTime = day, clock
    ds.StudyID = "1"
    ds.add_new(0x40101048, "CS", "OPERATIONAL")  # Scan Type
    # Series: one per energy per view
    ds.Modality = "XRAY"
    ds.SeriesInstanceUID = UID(_uid(digest, "series", str(index), channel))
    ds.SeriesNumber = number
    ds.SeriesDate, ds.SeriesTime = day, clock
    ds.add_new(0x40101044, "CS", "SUCCESSFUL")  # Acquisition Status
    ds.add_new(tags.SERIES_VIEW, "US", index + 1)
    ds.add_new(tags.SERIES_VIEW_DESCRIPTION, "LO", _lo(view.name))
    if energy in SERIES_ENERGY_NUMBER:
        ds.add_new(tags.SERIES_ENERGY, "US", SERIES_ENERGY_NUMBER[energy])
        ds.add_new(tags.SERIES_ENERGY_DESCRIPTION, "LO", IMAGE_CHARACTERISTICS[energy])
    ds.PresentationIntentType = "FOR PROCESSING"
    # Frame of reference, shared by the scan's images
    ds.FrameOfReferenceUID = UID(shared.frame)
    ds.PositionReferenceIndicator = ""
    # General equipment (DICOS names: Machine Location, Machine ID...)
    ds.Manufacturer = _lo(meta.source) or UNKNOWN
    ds.InstitutionName = _lo(meta.station) or UNKNOWN  # Machine Location
    ds.InstitutionAddress = UNKNOWN  # Machine Address
    ds.StationName = _lo(meta.station, 16) or UNKNOWN  # Machine ID
    ds.ManufacturerModelName = _lo(meta.scanner_profile) or UNKNOWN
    ds.DeviceSerialNumber = UNKNOWN
    ds.SoftwareVersions = f"screener {__version__}"
    ds.DateOfLastCalibration, ds.TimeOfLastCalibration = day, clock
    # Image
    ds.ImageType = ["ORIGINAL", IMAGE_CHARACTERISTICS[energy]]
    ds.ContentDate, ds.ContentTime = day, clock
    ds.AcquisitionDateTime = when.strftime("%Y%m%d%H%M%S.%f") + "+0000"
    ds.InstanceNumber = number
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.PresentationLUTShape = "IDENTITY"
    ds.add_new(tags.COORDINATE_SYSTEM, "CS", "LHS")
    ds.add_new(tags.IMAGE_ORIGIN, "CS", "MACHINE")
    ds.add_new(0x4010103A, "CS", tags.DICOS_VERSION)
    ds.AcquisitionContextSequence = DicomSequence()
    # X-ray generation and detector
    ds.KVP = f"{kvp:g}"
    ds.XRayTubeCurrentInuA = "0"
    ds.add_new(tags.EFFECTIVE_ENERGY, "FL", float(kvp))
    ds.DetectorType = "DIRECT"
    ds.ImagePositionPatient = [0, 0, 0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagerPixelSpacing = [f"{view.pixel_pitch_mm[0]:.10g}", f"{view.pixel_pitch_mm[1]:.10g}"]
    # Pixels: linear transmission counts, value / full scale
    ds.PixelIntensityRelationship = "LIN"
    ds.PixelIntensityRelationshipSign = 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "0", "1", "US"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = view.shape
    bits = max(1, int(full_scale).bit_length())
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, bits, bits - 1
    ds.PixelRepresentation = 0
    # what DICOS has no attribute for, so that Screener reads its own export exactly
    block = ds.private_block(tags.PRIVATE_GROUP, tags.PRIVATE_CREATOR, create=True)
    private_values: dict[int, Any] = {
        tags.PRIVATE_BAG_ID: meta.bag_id,
        tags.PRIVATE_STATION: meta.station,
        tags.PRIVATE_LANE: meta.lane,
        tags.PRIVATE_SOURCE: meta.source,
        tags.PRIVATE_SOURCE_KIND: meta.source_kind.value,
        tags.PRIVATE_SCANNER_PROFILE: meta.scanner_profile,
        tags.PRIVATE_CHANNEL_HIGH: meta.channel_high,
        tags.PRIVATE_CHANNEL_LOW: meta.channel_low,
        tags.PRIVATE_VIEW_NAME: view.name,
        tags.PRIVATE_BELT_DIRECTION: view.belt_direction.value,
        tags.PRIVATE_FULL_SCALE: float(full_scale),
        tags.PRIVATE_FILES_IN_SCAN: shared.files,
        tags.PRIVATE_STORED_DTYPE: str(view.high.dtype),
    }
    for offset, value in private_values.items():
        block.add_new(offset, tags.PRIVATE_ELEMENTS[offset][0], value)
    ds.PixelData = np.ascontiguousarray(pixels, dtype="<u2").tobytes()
    ds["PixelData"].VR = "OW"
    return ds


def save_dicos(ds: Dataset, target: Path) -> Path:
    """Write a DICOS object beside ``target`` (a hidden name a watch folder skips), fsync
    it, rename it into place; the folder is made if needed."""
    with written_atomically(target) as aside, aside.open("wb") as handle:
        pydicom.dcmwrite(handle, ds, enforce_file_format=True)
    return target
