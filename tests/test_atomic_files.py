"""written_atomically: a file appears complete or not at all, and a failure keeps the old."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from screener.atomic_files import written_atomically


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_new_content_replaces_the_target_and_nothing_is_left_beside_it(tmp_path):
    target = tmp_path / "deep" / "folder" / "scan.h5"
    with written_atomically(target) as aside:
        assert aside.parent == target.parent and aside.name.startswith(".writing-")
        assert aside.name.endswith("scan.h5") and aside.exists() and not target.exists()
        aside.write_bytes(b"first")
    assert target.read_bytes() == b"first"
    with written_atomically(target) as aside:
        aside.write_bytes(b"second")
        assert target.read_bytes() == b"first"  # readers see the old file until the end
    assert target.read_bytes() == b"second"
    assert _hidden(target.parent) == []


def test_an_error_while_writing_keeps_the_old_file_and_removes_the_half_written_one(tmp_path):
    target = tmp_path / "anchor.json"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="disk pulled"), written_atomically(target) as aside:
        aside.write_text("half of the new")
        raise RuntimeError("disk pulled")
    assert target.read_text() == "old"
    assert _hidden(tmp_path) == []


def test_without_overwrite_an_existing_file_is_refused_and_left_alone(tmp_path):
    target = tmp_path / "case.zip"
    target.write_bytes(b"keep me")
    with pytest.raises(FileExistsError), \
            written_atomically(target, overwrite=False) as aside:
        aside.write_bytes(b"new evidence")
    assert target.read_bytes() == b"keep me"
    assert _hidden(tmp_path) == []
    fresh = tmp_path / "other.zip"
    with written_atomically(fresh, overwrite=False) as aside:
        aside.write_bytes(b"new evidence")
    assert fresh.read_bytes() == b"new evidence" and _hidden(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_mode_holds_from_the_first_byte_so_a_key_is_never_readable_by_others(tmp_path):
    target = tmp_path / "station.pem"
    with written_atomically(target, overwrite=False, mode=0o600) as aside:
        assert stat.S_IMODE(aside.stat().st_mode) == 0o600
        aside.write_bytes(b"secret")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    umask = os.umask(0)
    os.umask(umask)
    plain = tmp_path / "scan.h5"
    with written_atomically(plain) as aside:
        aside.write_bytes(b"pixels")
    assert stat.S_IMODE(plain.stat().st_mode) == 0o666 & ~umask


def test_two_writers_of_one_target_get_their_own_aside_files(tmp_path):
    target = tmp_path / "site-checkpoint.latest.json"
    with written_atomically(target) as first, written_atomically(target) as second:
        assert first != second
        first.write_text("one")
        second.write_text("two")
    assert target.read_text() == "one"  # the outer block ends last and wins
    assert _hidden(tmp_path) == []
