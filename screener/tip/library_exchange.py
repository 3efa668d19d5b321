"""Moving FTIs between libraries and to other tools.

* :func:`export_folder` writes each image as ``<fti_id>.npz`` (numpy's zip of arrays):
  ``high`` and ``low`` float32 transmission, ``mask`` bool, and ``metadata``, a JSON text
  (a 0-d unicode array, so ``np.load(..., allow_pickle=False)`` reads it) with the
  :class:`~screener.tip.fti.FtiImage` fields.
* :func:`import_into` merges a library file or such a folder into a library (created when
  absent). An ``fti_id`` the target already holds is skipped when the content is the same
  and refused (:class:`FtiConflictError`, nothing imported) when it differs.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from screener.atomic_files import written_atomically
from screener.tip.fti import FtiImage
from screener.tip.library import (
    FtiLibrary,
    append_items,
    read_library,
    write_library,
)
from screener.tip.library_checks import check_pixels, image_metadata, parse_record
from screener.tip.library_errors import (
    DuplicateFtiIdError,
    FtiConflictError,
    FtiFileNotFoundError,
    FtiInvalidMetadataError,
    FtiMissingFieldError,
    FtiWrongDtypeError,
    NotAnFtiLibraryError,
)

NPZ_ARRAYS = ("high", "low", "mask")
METADATA_KEY = "metadata"


@dataclass(frozen=True)
class ImportSummary:
    """What :func:`import_into` did."""

    added: int
    identical: int  # already in the target with the same content: skipped


# --------------------------------------------------------------------------- .npz items


def write_npz(path: Path, image: FtiImage) -> None:
    """One image as a compressed ``.npz`` (written beside ``path``, then renamed)."""
    metadata = json.dumps(image_metadata(image), sort_keys=True)
    with written_atomically(path) as aside, aside.open("wb") as handle:
        np.savez_compressed(handle, high=image.high, low=image.low, mask=image.mask,
                            metadata=np.array(metadata))


def read_npz(path: Path) -> FtiImage:
    """Read and check one exported image."""
    with _open_npz(path) as members:
        for name in (*NPZ_ARRAYS, METADATA_KEY):
            if name not in members:
                raise FtiMissingFieldError(path, name, "array missing")
        metadata = _metadata(path, members[METADATA_KEY])
        high, low, mask = (members[name] for name in NPZ_ARRAYS)
    check_pixels(path, lambda name: name, high, low, mask)
    record = parse_record(path, lambda key: f"{METADATA_KEY}.{key}", metadata,
                          (int(high.shape[0]), int(high.shape[1])))
    return FtiImage(
        fti_id=record.fti_id, article_id=record.article_id, category=record.category,
        subcategory=record.subcategory, orientation_deg=record.orientation_deg,
        source=record.source, added=record.added, scanner_profile=record.scanner_profile,
        pixel_pitch_mm=record.pixel_pitch_mm, high=high, low=low, mask=mask,
    )


def read_npz_fti_id(path: Path) -> str:
    """The ``fti_id`` of an exported image, reading only its metadata."""
    with _open_npz(path) as members:
        if METADATA_KEY not in members:
            raise FtiMissingFieldError(path, METADATA_KEY, "array missing")
        value = _metadata(path, members[METADATA_KEY]).get("fti_id")
    if not isinstance(value, str):
        raise FtiMissingFieldError(path, f"{METADATA_KEY}.fti_id", "missing or not text")
    return value


class _NpzMembers:
    """The arrays of an open ``.npz``; reading one that is not an array of plain numbers or
    text (a pickled object) is refused."""

    def __init__(self, path: Path, data: Any) -> None:
        self._path = path
        self._data = data

    def __contains__(self, name: str) -> bool:
        return name in self._data.files

    def __getitem__(self, name: str) -> NDArray[Any]:
        try:
            array: NDArray[Any] = self._data[name]
        except ValueError as exc:  # object arrays need pickle, which is never allowed
            raise FtiWrongDtypeError(self._path, name, f"cannot be read without pickle "
                                     f"({exc})") from exc
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise NotAnFtiLibraryError(self._path, name, f"damaged ({exc})") from exc
        return array


@contextmanager
def _open_npz(path: Path) -> Iterator[_NpzMembers]:
    if not path.is_file():
        raise FtiFileNotFoundError(path, "file", "no such file")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise NotAnFtiLibraryError(path, "file", f"not a .npz archive ({exc})") from exc
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise NotAnFtiLibraryError(path, "file", "a single .npy array, not a .npz archive")
    try:
        yield _NpzMembers(path, data)
    finally:
        data.close()


def _metadata(path: Path, value: NDArray[Any]) -> dict[str, Any]:
    if value.dtype.kind != "U" or value.ndim != 0:
        raise FtiWrongDtypeError(path, METADATA_KEY, f"must be one JSON text, found "
                                 f"{value.dtype} of shape {value.shape}")
    try:
        parsed = json.loads(str(value))
    except json.JSONDecodeError as exc:
        raise FtiInvalidMetadataError(path, METADATA_KEY, f"not JSON ({exc})") from exc
    if not isinstance(parsed, dict):
        raise FtiInvalidMetadataError(path, METADATA_KEY, "must be a JSON object")
    return parsed


# --------------------------------------------------------------------------- folders


def export_folder(library: FtiLibrary, out_dir: Path,
                  on_item: Callable[[FtiImage], object] | None = None) -> int:
    """Write every image of ``library`` to ``out_dir/<fti_id>.npz``; return the count."""
    out_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    for image in library.images():
        write_npz(out_dir / f"{image.fti_id}.npz", image)
        count += 1
        if on_item:
            on_item(image)
    return count


class _Source:
    """Images to import, by ``fti_id``: a library file or an export folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._library: FtiLibrary | None = None
        self._files: dict[str, Path] = {}
        if path.is_dir():
            self._index_folder(path)
        else:
            self._library = read_library(path)

    def _index_folder(self, folder: Path) -> None:
        files = sorted(folder.glob("*.npz"))
        if not files:
            raise NotAnFtiLibraryError(folder, "folder", "holds no exported FTI (*.npz)")
        for file in files:
            fti_id = read_npz_fti_id(file)
            if fti_id in self._files:
                raise DuplicateFtiIdError(
                    file, f"{METADATA_KEY}.fti_id",
                    f"{fti_id!r} is also the id of {self._files[fti_id].name}",
                )
            self._files[fti_id] = file

    def ids(self) -> list[str]:
        if self._library is not None:
            return [r.fti_id for r in self._library.items]
        return list(self._files)

    def where(self, fti_id: str) -> Path:
        return self._files.get(fti_id, self.path)

    def load(self, fti_id: str) -> FtiImage:
        if self._library is not None:
            return self._library.load(fti_id)
        return read_npz(self._files[fti_id])


def same_content(a: FtiImage, b: FtiImage) -> bool:
    """Whether two images hold the same metadata and bit-identical pixels."""
    return image_metadata(a) == image_metadata(b) and all(
        x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y)
        for x, y in ((a.high, b.high), (a.low, b.low), (a.mask, b.mask))
    )


def import_into(source: Path, target: Path,
                on_item: Callable[[str], object] | None = None) -> ImportSummary:
    """Merge a library file or an export folder into ``target`` (created when absent).

    Every id is checked before anything is written: one conflicting image refuses the
    whole import.
    """
    if not source.exists():
        raise FtiFileNotFoundError(source, "file", "no such file or folder")
    src = _Source(source)
    existing = read_library(target) if target.exists() else None
    new_ids: list[str] = []
    identical = 0
    for fti_id in src.ids():
        if existing is None or fti_id not in existing:
            new_ids.append(fti_id)
            continue
        if not same_content(src.load(fti_id), existing.load(fti_id)):
            raise FtiConflictError(
                src.where(fti_id), f"fti_id {fti_id}",
                f"{target} already holds an image with this id and different content",
            )
        identical += 1

    def images() -> Iterator[FtiImage]:
        for fti_id in new_ids:
            image = src.load(fti_id)
            if on_item:
                on_item(fti_id)
            yield image

    if existing is None:
        write_library(target, images())
    else:
        append_items(target, images())
    return ImportSummary(added=len(new_ids), identical=identical)
