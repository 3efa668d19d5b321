"""Scans: the model, the native HDF5 format and the content-addressed store."""

from screener.scan.hdf5 import FORMAT_VERSION, ScanLimits, read_ground_truth, read_scan, write_scan
from screener.scan.model import (
    BeltDirection,
    GroundTruth,
    LabelledObject,
    Scan,
    ScanMetadata,
    SourceKind,
    View,
)
from screener.scan.store import ScanStore, file_sha256

__all__ = [
    "FORMAT_VERSION",
    "BeltDirection",
    "GroundTruth",
    "LabelledObject",
    "Scan",
    "ScanLimits",
    "ScanMetadata",
    "ScanStore",
    "SourceKind",
    "View",
    "file_sha256",
    "read_ground_truth",
    "read_scan",
    "write_scan",
]
