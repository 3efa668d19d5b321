"""A content-addressed, write-once store of scan files: ``<root>/ab/cd/<sha256>.h5``.

A scan's identity is the sha256 of its file bytes (DESIGN.md rule 4), so the store never
rewrites a file: adding bytes already present is a no-op, stored files are made
read-only, and reading verifies the hash so that a changed file is noticed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from screener.errors import (
    ScanFormatError,
    ScanNotFoundError,
    ScanStoreError,
    StoredScanCorruptedError,
)
from screener.scan.hdf5 import ScanLimits, read_scan, write_scan
from screener.scan.model import Scan

_SHA256 = re.compile(r"[0-9a-f]{64}")
_BLOCK = 1 << 20


def file_sha256(path: Path | str) -> str:
    """Hex sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


class ScanStore:
    """Write-once scan files addressed by the sha256 of their bytes."""

    def __init__(self, root: Path | str, limits: ScanLimits | None = None) -> None:
        self.root = Path(root)
        self.limits = limits or ScanLimits()

    def path_for(self, sha256: str) -> Path:
        """Where the scan with this hash lives (whether or not it is stored yet)."""
        if not _SHA256.fullmatch(sha256):
            raise ScanStoreError(f"'{sha256}' is not a sha256 (64 lower-case hex digits)")
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.h5"

    def __contains__(self, sha256: object) -> bool:
        return isinstance(sha256, str) and bool(_SHA256.fullmatch(sha256)) and (
            self.path_for(sha256).is_file()
        )

    def add(self, source: Path | str) -> str:
        """Validate a scan file and store a copy of its bytes; returns its sha256.

        The source is validated first, so a bad file never enters the store. Adding the
        same bytes twice returns the same hash and leaves the stored file untouched.
        """
        source = Path(source)
        read_scan(source, self.limits)
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            with source.open("rb") as src, os.fdopen(fd, "wb") as dst:
                while block := src.read(_BLOCK):
                    digest.update(block)
                    dst.write(block)
                dst.flush()
                os.fsync(dst.fileno())
            sha = digest.hexdigest()
            # the bytes stored are the bytes validated, even if the source changed meanwhile
            try:
                read_scan(tmp, self.limits)
            except ScanFormatError as exc:
                raise type(exc)(source, exc.field, exc.problem) from None
            target = self.path_for(sha)
            if target.exists():
                self._verify(target, sha)
                return sha
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            # link() fails if another process stored the same bytes meanwhile: never overwrite
            try:
                os.link(tmp, target)
            except FileExistsError:
                self._verify(target, sha)
            return sha
        finally:
            tmp.unlink(missing_ok=True)

    def add_scan(self, scan: Scan) -> str:
        """Write ``scan`` as a native file (``write_scan``) and store it; returns its sha256.

        This is how an imported PNG, JPEG or .npy enters the store: as the bytes of the
        native .h5 file written from it, never as the source file's bytes.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".importing-", dir=self.root) as folder:
            return self.add(write_scan(Path(folder) / "scan.h5", scan))

    def open(self, sha256: str) -> Scan:
        """Read a stored scan after checking its bytes still hash to its name."""
        path = self.path_for(sha256)
        if not path.is_file():
            raise ScanNotFoundError(self.root, sha256)
        self._verify(path, sha256)
        return read_scan(path, self.limits)

    def verify(self, sha256: str) -> None:
        """Raise StoredScanCorruptedError if the stored file no longer matches its hash."""
        path = self.path_for(sha256)
        if not path.is_file():
            raise ScanNotFoundError(self.root, sha256)
        self._verify(path, sha256)

    def export(self, sha256: str, destination: Path | str) -> Path:
        """Copy a stored scan out, byte for byte, after verifying it."""
        self.verify(sha256)
        return Path(shutil.copyfile(self.path_for(sha256), destination))

    def stored(self) -> Iterator[tuple[str, Path]]:
        """Every stored scan as (sha256, path), in hash order."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/??/*.h5")):
            if _SHA256.fullmatch(path.stem):
                yield path.stem, path

    def remove(self, sha256: str) -> bool:
        """Delete a stored scan (retention); False if it was not there."""
        path = self.path_for(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise ScanStoreError(f"{path}: cannot delete stored scan: {exc.strerror}") from None
        return True

    @staticmethod
    def _verify(path: Path, sha256: str) -> None:
        actual = file_sha256(path)
        if actual != sha256:
            raise StoredScanCorruptedError(path, sha256, actual)
