"""The content-addressed, write-once scan store."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import screener.scan.store as store_module
from screener.errors import (
    NotAScanFileError,
    ScanFileNotFoundError,
    ScanNotFoundError,
    ScanStoreError,
    ScanTooLargeError,
    StoredScanCorruptedError,
    TruncatedScanError,
)
from screener.scan import ScanLimits, ScanStore, file_sha256, read_scan


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def store(tmp_path: Path) -> ScanStore:
    return ScanStore(tmp_path / "scans")


def test_add_places_file_under_its_sha256(store: ScanStore,
                                          scan_file: Callable[..., Path]) -> None:
    source = scan_file(views=2, truth=True)
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    assert file_sha256(source) == expected

    sha = store.add(source)

    assert sha == expected
    stored = store.root / sha[:2] / sha[2:4] / f"{sha}.h5"
    assert store.path_for(sha) == stored
    assert all_files(store.root) == [stored]
    assert stored.read_bytes() == source.read_bytes()
    assert sha in store
    assert "0" * 64 not in store and "nonsense" not in store and 42 not in store


def test_stored_file_is_read_only(store: ScanStore, scan_file: Callable[..., Path]) -> None:
    stored = store.path_for(store.add(scan_file()))
    assert stat.S_IMODE(stored.stat().st_mode) == 0o444


def test_adding_the_same_bytes_twice_leaves_the_file_untouched(
        store: ScanStore, scan_file: Callable[..., Path], tmp_path: Path) -> None:
    source = scan_file()
    sha = store.add(source)
    stored = store.path_for(sha)
    before = stored.stat()
    content = stored.read_bytes()

    copy = tmp_path / "elsewhere" / "same-bytes-other-name.h5"
    copy.parent.mkdir()
    copy.write_bytes(source.read_bytes())
    assert store.add(copy) == sha
    assert store.add(source) == sha

    after = stored.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (
        before.st_ino, before.st_mtime_ns, before.st_size)
    assert stored.read_bytes() == content
    assert all_files(store.root) == [stored]


def test_different_scans_get_different_files(store: ScanStore,
                                             scan_file: Callable[..., Path]) -> None:
    a = store.add(scan_file("a.h5", seed=1))
    b = store.add(scan_file("b.h5", seed=2))
    assert a != b
    assert len(all_files(store.root)) == 2


@pytest.mark.parametrize("content", [b"", b"not a scan at all", b"\x89HDF\r\n\x1a\n" + bytes(40)])
def test_bad_file_never_enters_the_store(store: ScanStore, tmp_path: Path,
                                         content: bytes) -> None:
    bad = tmp_path / "bad.h5"
    bad.write_bytes(content)
    with pytest.raises((NotAScanFileError, TruncatedScanError)) as info:
        store.add(bad)
    assert info.value.path == bad
    assert all_files(store.root) == []  # no stored file, no stray temporary file


def test_truncated_file_is_refused(store: ScanStore, scan_file: Callable[..., Path]) -> None:
    source = scan_file()
    data = source.read_bytes()
    source.write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedScanError):
        store.add(source)
    assert all_files(store.root) == []


def test_missing_file_is_refused(store: ScanStore, tmp_path: Path) -> None:
    with pytest.raises(ScanFileNotFoundError):
        store.add(tmp_path / "nope.h5")
    assert all_files(store.root) == []


def test_store_applies_its_limits(tmp_path: Path, scan_file: Callable[..., Path]) -> None:
    store = ScanStore(tmp_path / "scans", ScanLimits(max_view_pixels=100))
    with pytest.raises(ScanTooLargeError):
        store.add(scan_file())
    assert all_files(store.root) == []


def test_open_reads_and_verifies(store: ScanStore, scan_file: Callable[..., Path]) -> None:
    source = scan_file(dtype="float32")
    sha = store.add(source)
    scan = store.open(sha)
    original = read_scan(source)
    assert scan.metadata == original.metadata
    assert np.array_equal(scan.views[0].high, original.views[0].high)
    store.verify(sha)


def _tamper(path: Path, edit: Callable[[bytearray], None]) -> None:
    path.chmod(0o644)  # an attacker (or a careless admin) with write access
    data = bytearray(path.read_bytes())
    edit(data)
    path.write_bytes(bytes(data))
    path.chmod(0o444)


def test_changed_stored_file_is_detected(store: ScanStore,
                                         scan_file: Callable[..., Path]) -> None:
    sha = store.add(scan_file())
    stored = store.path_for(sha)

    def flip_last_byte(data: bytearray) -> None:
        data[-1] ^= 0x01

    _tamper(stored, flip_last_byte)
    actual = file_sha256(stored)
    for action in (store.open, store.verify):
        with pytest.raises(StoredScanCorruptedError) as info:
            action(sha)
        err = info.value
        assert (err.path, err.expected, err.actual) == (stored, sha, actual)
        assert sha in str(err) and actual in str(err) and "\n" not in str(err)
    with pytest.raises(StoredScanCorruptedError):
        store.export(sha, stored.parent.parent.parent.parent / "out.h5")


def test_adding_again_after_tampering_reports_it(store: ScanStore,
                                                 scan_file: Callable[..., Path]) -> None:
    source = scan_file()
    sha = store.add(source)

    def append(data: bytearray) -> None:
        data.extend(b"extra")

    _tamper(store.path_for(sha), append)
    with pytest.raises(StoredScanCorruptedError):
        store.add(source)


def test_unknown_hash(store: ScanStore) -> None:
    unknown = "ab" * 32
    for action in (store.open, store.verify):
        with pytest.raises(ScanNotFoundError) as info:
            action(unknown)
        assert info.value.sha256 == unknown
    with pytest.raises(ScanNotFoundError):
        store.export(unknown, store.root / "out.h5")


@pytest.mark.parametrize("bad", ["", "abc", "AB" * 32, "g" * 64, "a" * 63, "a" * 65,
                                 "../" + "a" * 61, "a" * 64 + "\n"])
def test_invalid_hash_is_refused(store: ScanStore, bad: str) -> None:
    for action in (store.path_for, store.open, store.verify):
        with pytest.raises(ScanStoreError, match="not a sha256"):
            action(bad)
    assert bad not in store


def test_export_copies_byte_for_byte(store: ScanStore, scan_file: Callable[..., Path],
                                     tmp_path: Path) -> None:
    source = scan_file(truth=True)
    sha = store.add(source)
    out = store.export(sha, tmp_path / "evidence.h5")
    assert out == tmp_path / "evidence.h5"
    assert out.read_bytes() == source.read_bytes()
    assert file_sha256(out) == sha


def test_bytes_stored_are_the_bytes_validated(store: ScanStore, scan_file: Callable[..., Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A source that changes after it was checked (a scanner still writing) is refused."""
    source = scan_file()
    data = source.read_bytes()
    real_read_scan = store_module.read_scan
    calls: list[Path] = []

    def read_then_cut(path: Path, limits: ScanLimits | None = None) -> object:
        calls.append(Path(path))
        result = real_read_scan(path, limits)
        if len(calls) == 1:
            source.write_bytes(data[: len(data) // 2])
        return result

    monkeypatch.setattr(store_module, "read_scan", read_then_cut)
    with pytest.raises(TruncatedScanError) as info:
        store.add(source)
    assert info.value.path == source  # named by the file the user gave, not the temporary copy
    assert all_files(store.root) == []
