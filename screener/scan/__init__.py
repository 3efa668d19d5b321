"""Scans: the model, the native HDF5 format, imports of other sources and the store."""

from screener.scan.hdf5 import (
    FORMAT_VERSION,
    ScanLimits,
    read_ground_truth,
    read_scan,
    validate_scan,
    write_scan,
)
from screener.scan.imports import file_kind, import_dual_energy_npy, import_image, load_any
from screener.scan.model import (
    MATERIAL_BACKGROUND,
    MATERIAL_IMPENETRABLE,
    MATERIAL_INORGANIC,
    MATERIAL_METAL,
    MATERIAL_ORGANIC,
    BeltDirection,
    Capability,
    GroundTruth,
    LabelledObject,
    Scan,
    ScanMetadata,
    SourceKind,
    View,
    missing_capabilities,
)
from screener.scan.store import ScanStore, file_sha256

__all__ = [
    "FORMAT_VERSION",
    "MATERIAL_BACKGROUND",
    "MATERIAL_IMPENETRABLE",
    "MATERIAL_INORGANIC",
    "MATERIAL_METAL",
    "MATERIAL_ORGANIC",
    "BeltDirection",
    "Capability",
    "GroundTruth",
    "LabelledObject",
    "Scan",
    "ScanLimits",
    "ScanMetadata",
    "ScanStore",
    "SourceKind",
    "View",
    "file_kind",
    "file_sha256",
    "import_dual_energy_npy",
    "import_image",
    "load_any",
    "missing_capabilities",
    "read_ground_truth",
    "read_scan",
    "validate_scan",
    "write_scan",
]
