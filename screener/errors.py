"""Typed errors whose messages tell a screener or an administrator what is wrong and what to do.

Every error Screener raises on purpose derives from :class:`ScreenerError`. The CLI turns
them into one line on stderr and exit status 2; nothing the user did wrong ends in a
traceback.
"""

from __future__ import annotations

from pathlib import Path


class ScreenerError(Exception):
    """Base of all errors Screener raises on purpose."""


class ConfigError(ScreenerError):
    """A setting is missing, malformed or out of range."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{source}: setting '{key}': {problem}")


class ScanFormatError(ScreenerError):
    """A scan file cannot be accepted. Names the file, the field and the problem."""

    hint = "Re-export the scan from the scanner, or check that the file was copied completely."

    def __init__(self, path: Path | str, field: str, problem: str) -> None:
        self.path = Path(path)
        self.field = field
        self.problem = " ".join(problem.split())  # one line, even with an array's repr inside
        super().__init__(f"{self.path}: {field}: {self.problem}. {self.hint}")


class NotAScanFileError(ScanFormatError):
    """The file is not HDF5 at all, or is HDF5 but not a Screener scan."""

    hint = "Screener reads scan files written in its HDF5 scan format (docs/scan-format.md)."


class ScanFileNotFoundError(ScanFormatError):
    """There is no file at the given path."""

    hint = "Check the path and that the file is readable."


class TruncatedScanError(ScanFormatError):
    """The file ends before the data it declares."""

    hint = "The copy is incomplete: copy the scan again from its source."


class MissingFieldError(ScanFormatError):
    """A required dataset, group or attribute is absent."""


class WrongDtypeError(ScanFormatError):
    """A dataset or attribute has a data type the format does not allow."""


class WrongRankError(ScanFormatError):
    """A dataset has the wrong number of dimensions."""


class ShapeMismatchError(ScanFormatError):
    """Two arrays that must have the same shape do not."""


class NonFiniteValueError(ScanFormatError):
    """A floating-point image holds NaN or infinity."""


class ValueOutOfRangeError(ScanFormatError):
    """A value lies outside the range the format allows."""


class ScanTooLargeError(ScanFormatError):
    """A scan declares more pixels or views than the configured cap."""

    hint = "If the scan is genuine, raise 'max_view_pixels' or 'max_views' in the settings."


class UnsupportedFormatVersionError(ScanFormatError):
    """The file was written by a newer Screener than this one."""

    hint = "Upgrade Screener to read this file."


class InvalidMetadataError(ScanFormatError):
    """A metadata attribute is present but its value is not valid."""


class ScanStoreError(ScreenerError):
    """The content-addressed scan store refused an operation or found damage."""


class StoredScanCorruptedError(ScanStoreError):
    """A stored file no longer hashes to its name: it was changed after it was stored."""

    def __init__(self, path: Path, expected: str, actual: str) -> None:
        self.path = path
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{path}: stored scan changed after it was stored (expected sha256 {expected}, "
            f"file now hashes to {actual}). Treat it as evidence of tampering and restore it "
            "from a backup."
        )


class ScanNotFoundError(ScanStoreError):
    """No scan with this sha256 is in the store."""

    def __init__(self, root: Path, sha256: str) -> None:
        self.root = root
        self.sha256 = sha256
        super().__init__(f"{root}: no stored scan with sha256 {sha256}")


class SimulationError(ScreenerError):
    """The simulator was asked for something it cannot make."""


class ChannelUnavailableError(ScreenerError):
    """A function asked for an energy channel the scan does not have (single-energy or
    pseudo-colour). Check ``View.has_dual_energy`` or ``missing_capabilities`` first."""


class ScanImportError(ScanFormatError):
    """A PNG, JPEG or ``.npy`` file cannot be imported as a scan."""

    hint = (
        "Screener imports 8- or 16-bit greyscale or pseudo-colour PNG/JPEG images and "
        "(rows, columns, 2) dual-energy .npy arrays (docs/scan-format.md, Imports)."
    )


class UnsupportedFileError(ScanImportError):
    """The file is none of the kinds Screener reads: scan (HDF5), PNG, JPEG or .npy."""


class CorruptImageError(ScanImportError):
    """An image or array file is damaged: its data cannot be decoded."""

    hint = "The file is damaged: copy or export it again from its source."


class UnsupportedImageLayoutError(ScanImportError):
    """An image or array that decodes but whose layout cannot be imported: bit depth,
    number of colour channels, or array shape."""


class DicosFormatError(ScanFormatError):
    """A DICOS file cannot be imported as a scan (docs/dicos.md). Problems every scan
    format shares (no file, truncated, too large, a missing or mistyped field) raise the
    shared errors above; this family covers what is particular to DICOS."""

    hint = (
        "Screener imports DICOS DX images (NEMA IIC 1 v03), uncompressed or RLE, one file "
        "per energy and view (docs/dicos.md)."
    )


class NotADicosFileError(DicosFormatError):
    """The file is not DICOM at all (no ``DICM`` preamble) or cannot be parsed as DICOM."""


class UnsupportedDicosObjectError(DicosFormatError):
    """A DICOM file of another kind: a Threat Detection Report, a CT volume, a medical
    image... Only DICOS DX images import as scans."""


class UnsupportedTransferSyntaxError(DicosFormatError):
    """The pixel data is compressed in a way Screener does not decode (lossy, or lossless
    without its decoder installed)."""

    hint = (
        "Export the image uncompressed (Explicit VR Little Endian) or as RLE Lossless; "
        "lossy compression is never accepted for transmission images (docs/dicos.md)."
    )


class UnsupportedDicosImageError(DicosFormatError):
    """A DX image whose layout cannot be a transmission channel: colour, several frames,
    signed or log-scaled pixels, a rescale other than the identity."""


class DicosGroupError(DicosFormatError):
    """The files of one DICOS scan do not fit together: a missing energy or view, two
    images of the same view and energy, images of different scans, or a folder holding
    several scans."""

    hint = (
        "Give all files of one scan (the DX images sharing a Scan Instance UID), each view "
        "with its high- and, for dual energy, its low-energy image (docs/dicos.md)."
    )


class DicosExportError(ScreenerError):
    """A scan, a detector result or a decision cannot be written as DICOS. Names the
    target, the field and the problem."""

    def __init__(self, target: Path | str, field: str, problem: str) -> None:
        self.target = Path(target)
        self.field = field
        self.problem = " ".join(problem.split())
        super().__init__(f"{self.target}: {field}: {self.problem}. See docs/dicos.md for "
                         "what a DICOS export can hold.")


class AuditError(ScreenerError):
    """The audit log cannot be opened, written or checked."""


class AuditUnavailableError(AuditError):
    """The audit database cannot be opened or written (missing, read-only, full, locked).

    Whatever asked for the append was *not* recorded: a decision must not be confirmed.
    """

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = " ".join(problem.split())
        super().__init__(
            f"{where}: audit log unavailable: {self.problem}. Nothing was recorded; fix "
            "the database (space, permissions, path) and repeat the action."
        )


class NotAnAuditDatabaseError(AuditError):
    """The database opens but holds no Screener audit log (or one newer than this code)."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        super().__init__(f"{where}: not a Screener audit database: {problem}")


class StationKeyError(AuditError):
    """A station signing key is missing, unreadable or not an Ed25519 key."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(f"{path}: station key: {problem}")


class AuditPayloadError(AuditError):
    """An event payload cannot be put in canonical JSON (NaN, bytes, non-string keys...)."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"audit event field '{field}': {problem}")
