"""Files that appear complete or not at all.

Every file Screener hands on (a scan, a TIP library, a DICOS object for a watch folder,
an audit anchor, a signing key, an evidence bundle, a calibration) is written under a
fresh hidden name beside its target, flushed to disk, then renamed or hard-linked into
place, and the folder is flushed so that the new name survives a power cut. A reader
never sees half a file; a failed write leaves the old file, or none, where it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def written_atomically(target: Path, *, overwrite: bool = True,
                       mode: int = 0o666) -> Iterator[Path]:
    """Yield an empty file beside ``target`` to write the new content to.

    When the block ends without an error the file is fsynced and becomes ``target``:
    renamed over it, or, with ``overwrite=False``, hard-linked so that a file already at
    ``target`` (even one that appeared meanwhile) raises :class:`FileExistsError` and is
    left alone. On any error the aside file is removed and ``target`` is untouched.

    The aside name is hidden (watch folders and folder listings skip it) and unique to
    the writer, so two processes writing one target never touch each other's file.
    ``mode`` is applied (less the umask) when the file is made, so a key written with
    ``0o600`` is never readable by others, not even while it is being written.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    aside = target.with_name(f".writing-{os.getpid()}-{secrets.token_hex(4)}-{target.name}")
    os.close(os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
    try:
        yield aside
        _flush_file(aside)
        if overwrite:
            aside.replace(target)
        else:
            os.link(aside, target)
        _flush_folder(target.parent)
    finally:
        aside.unlink(missing_ok=True)


def _flush_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _flush_folder(folder: Path) -> None:
    """Make a rename durable. Best effort: some platforms and file systems cannot open or
    fsync a folder, and the file itself is already safely on disk by then."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
