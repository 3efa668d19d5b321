"""BagIt 1.0 (RFC 8493) bags serialized as zip files: writing, reading and validating.

Nothing here knows about Screener's evidence: a bag is a payload under ``data/``,
``bagit.txt``, an optional ``bag-info.txt``, payload manifests ``manifest-<alg>.txt`` and
tag manifests ``tagmanifest-<alg>.txt``. A serialized bag is a zip holding one top-level
folder, the bag's base directory (RFC 8493, section 4.4, and the usual practice).

Validation returns every problem it finds, each naming the file (bag-relative path) it
is about; a source that is not a zip, or a zip without a bag, raises
:class:`~screener.audit.evidence.errors.BundleUnreadableError` instead.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

from screener.audit.evidence.errors import BundleUnreadableError

BAGIT_VERSION = "1.0"
BAGIT_TXT = "bagit.txt"
BAG_INFO_TXT = "bag-info.txt"
PAYLOAD_DIR = "data/"
ALGORITHM = "sha256"
_BLOCK = 1 << 20
_MANIFEST = re.compile(r"manifest-([a-z0-9]+)\.txt")
_TAGMANIFEST = re.compile(r"tagmanifest-([a-z0-9]+)\.txt")
_LABEL = re.compile(r"([^:\s][^:]*?)\s*:\s*(.*)")

BagInfo = list[tuple[str, str]]


# ---------------------------------------------------------------------- file names
def encode_path(path: str) -> str:
    """A path as a manifest line writes it (RFC 8493, 2.1.3): ``%``, CR and LF escaped."""
    return path.replace("%", "%25").replace("\n", "%0A").replace("\r", "%0D")


def decode_path(text: str) -> str:
    return re.sub(r"%(25|0A|0D|0a|0d)", lambda m: {"25": "%", "0A": "\n", "0D": "\r"}[
        m.group(1).upper()], text)


def _safe(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not path.startswith("/") and "\\" not in path and all(
        part not in ("", ".", "..") for part in parts)


# ---------------------------------------------------------------------- tag files
def format_bag_info(fields: Iterable[tuple[str, str]]) -> bytes:
    """``Label: value`` lines; values are kept on one line (newlines become spaces)."""
    lines = []
    for label, value in fields:
        if not label or ":" in label or label != label.strip():
            raise ValueError(f"bad bag-info label {label!r}")
        lines.append(f"{label}: {' '.join(str(value).split())}\n")
    return "".join(lines).encode("utf-8")


def parse_tag_lines(text: str) -> tuple[BagInfo, list[str]]:
    """Fields of ``bagit.txt`` or ``bag-info.txt`` (folded lines joined) and the lines
    that are not ``Label: value``."""
    fields: BagInfo = []
    bad: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[0] in " \t" and fields:
            label, value = fields[-1]
            fields[-1] = (label, f"{value} {line.strip()}")
            continue
        match = _LABEL.fullmatch(line)
        if match is None:
            bad.append(line)
        else:
            fields.append((match.group(1), match.group(2).strip()))
    return fields, bad


def info_value(info: BagInfo, label: str) -> str | None:
    """The first value of ``label`` (labels compare case-insensitively)."""
    for name, value in info:
        if name.lower() == label.lower():
            return value
    return None


def info_values(info: BagInfo, label: str) -> list[str]:
    return [value for name, value in info if name.lower() == label.lower()]


def _manifest_text(entries: dict[str, str]) -> bytes:
    return "".join(f"{digest}  {encode_path(path)}\n"
                   for path, digest in sorted(entries.items())).encode("utf-8")


# ---------------------------------------------------------------------- writing
class ZipBagWriter:
    """Writes a bag into a new zip as ``<bag_name>/...``, hashing as it goes.

    Add the payload, then :meth:`finish` writes ``bagit.txt``, ``bag-info.txt`` (with
    ``Bagging-Date`` and ``Payload-Oxum`` added), the payload manifest, the tag files
    added with :meth:`add_tag_file`, and the tag manifest, whose bytes it returns (to be
    signed). Files added after that with :meth:`add_unlisted_tag_file` are in no manifest.
    """

    def __init__(self, path: Path, bag_name: str) -> None:
        if not _safe(bag_name) or "/" in bag_name:
            raise ValueError(f"bad bag name {bag_name!r}")
        self.bag_name = bag_name
        self._zip = zipfile.ZipFile(path, "w", allowZip64=True)
        self._time = datetime.now(UTC).timetuple()[:6]
        self._payload: dict[str, str] = {}
        self._sizes: dict[str, int] = {}
        self._tags: dict[str, str] = {}
        self.tagmanifest: bytes | None = None

    def __enter__(self) -> ZipBagWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def _info(self, rel: str, compress: bool) -> zipfile.ZipInfo:
        if not _safe(rel):
            raise ValueError(f"bad file name in a bag: {rel!r}")
        if rel in self._payload or rel in self._tags:
            raise ValueError(f"{rel} is already in the bag")
        info = zipfile.ZipInfo(f"{self.bag_name}/{rel}", date_time=self._time)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return info

    def _write(self, rel: str, data: bytes, compress: bool) -> str:
        self._zip.writestr(self._info(rel, compress), data)
        return hashlib.sha256(data).hexdigest()

    def add_payload(self, rel: str, data: bytes, *, compress: bool = True) -> str:
        """Add ``data/<rel>``; returns its sha256."""
        name = PAYLOAD_DIR + rel
        digest = self._write(name, data, compress)
        self._payload[name], self._sizes[name] = digest, len(data)
        return digest

    def add_payload_file(self, rel: str, source: Path, *, compress: bool = False) -> str:
        """Copy a file into ``data/<rel>`` in blocks; returns the sha256 of the bytes
        copied (compare it with what the file should hash to)."""
        name = PAYLOAD_DIR + rel
        digest = hashlib.sha256()
        size = 0
        with source.open("rb") as src, self._zip.open(self._info(name, compress), "w",
                                                      force_zip64=True) as dst:
            while block := src.read(_BLOCK):
                digest.update(block)
                dst.write(block)
                size += len(block)
        self._payload[name], self._sizes[name] = digest.hexdigest(), size
        return digest.hexdigest()

    def add_tag_file(self, rel: str, data: bytes) -> str:
        """A tag file listed in the tag manifest (write before :meth:`finish`)."""
        if self.tagmanifest is not None:
            raise RuntimeError("the tag manifest is already written")
        self._tags[rel] = self._write(rel, data, True)
        return self._tags[rel]

    @property
    def payload_oxum(self) -> str:
        return f"{sum(self._sizes.values())}.{len(self._sizes)}"

    def finish(self, bag_info: Sequence[tuple[str, str]]) -> bytes:
        labels = {label.lower() for label, _ in bag_info}
        fields = list(bag_info)
        if "bagging-date" not in labels:
            fields.append(("Bagging-Date", datetime.now(UTC).strftime("%Y-%m-%d")))
        fields.append(("Payload-Oxum", self.payload_oxum))
        self.add_tag_file(BAGIT_TXT, f"BagIt-Version: {BAGIT_VERSION}\n"
                          "Tag-File-Character-Encoding: UTF-8\n".encode())
        self.add_tag_file(BAG_INFO_TXT, format_bag_info(fields))
        self.add_tag_file(f"manifest-{ALGORITHM}.txt", _manifest_text(self._payload))
        text = _manifest_text(self._tags)
        self._write(f"tagmanifest-{ALGORITHM}.txt", text, True)
        self.tagmanifest = text
        return text

    def add_unlisted_tag_file(self, rel: str, data: bytes) -> None:
        """A tag file in no manifest, such as a signature over the tag manifest."""
        if self.tagmanifest is None:
            raise RuntimeError("write the tag manifest first")
        self._write(rel, data, True)


# ---------------------------------------------------------------------- reading
class MemberDamagedError(Exception):
    """A file in the bag cannot be read back (zip CRC error, broken compression)."""


class BagSource(Protocol):
    """A bag to read: a zip or a folder. Paths are bag-relative with ``/``."""

    location: Path

    def files(self) -> list[str]: ...

    def size(self, name: str) -> int: ...

    def open(self, name: str) -> IO[bytes]: ...

    def structural_problems(self) -> list[str]: ...


def read_bytes(source: BagSource, name: str) -> bytes:
    """The whole file; raises MemberDamagedError when it cannot be read back."""
    try:
        with source.open(name) as handle:
            return handle.read()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise MemberDamagedError(f"cannot be read back ({exc})") from None


class ZipBagSource:
    """A bag serialized as a zip holding one top-level folder."""

    def __init__(self, path: Path) -> None:
        self.location = path
        if not path.is_file():
            raise BundleUnreadableError(path, "no such file")
        try:
            self._zip = zipfile.ZipFile(path)
            entries = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise BundleUnreadableError(path, f"not a readable zip file ({exc})") from None
        names = [e.filename for e in entries if not e.is_dir()]
        roots = sorted({n.split("/", 1)[0] for n in names if n.count("/") == 1
                        and n.endswith("/" + BAGIT_TXT)})
        if len(roots) > 1:
            raise BundleUnreadableError(path, f"{len(roots)} bags in one zip "
                                        f"({', '.join(roots)}); expected one")
        if roots:
            self.prefix = roots[0] + "/"
        elif BAGIT_TXT in names:
            self.prefix = ""
        else:
            raise BundleUnreadableError(path, "the zip holds no bagit.txt in a top-level "
                                        "folder: it is not a BagIt bag")
        self.bag_name = self.prefix.rstrip("/")
        self._problems: list[str] = []
        self._members: dict[str, zipfile.ZipInfo] = {}
        seen: set[str] = set()
        for entry in entries:
            if entry.is_dir():
                continue
            if entry.filename in seen:
                self._problems.append(f"{entry.filename}: appears more than once in the zip")
                continue
            seen.add(entry.filename)
            if not entry.filename.startswith(self.prefix):
                self._problems.append(f"{entry.filename}: in the zip but outside the bag "
                                      f"folder {self.bag_name}/")
                continue
            rel = entry.filename[len(self.prefix):]
            if not _safe(rel):
                self._problems.append(f"{entry.filename}: not a safe file name")
                continue
            self._members[rel] = entry

    def close(self) -> None:
        self._zip.close()

    def files(self) -> list[str]:
        return sorted(self._members)

    def size(self, name: str) -> int:
        return int(self._members[name].file_size)

    def open(self, name: str) -> IO[bytes]:
        return self._zip.open(self._members[name])

    def structural_problems(self) -> list[str]:
        return list(self._problems)


class DirBagSource:
    """A bag as an unpacked folder (what ``unzip`` makes of a bundle)."""

    def __init__(self, path: Path) -> None:
        self.location = path
        if not (path / BAGIT_TXT).is_file():
            inner = [p for p in path.iterdir() if (p / BAGIT_TXT).is_file()]
            if len(inner) != 1:
                raise BundleUnreadableError(path, "the folder holds no bagit.txt: it is "
                                            "not a BagIt bag")
            path = inner[0]
        self.root = path
        self.bag_name = path.name
        self._files = {p.relative_to(path).as_posix(): p for p in path.rglob("*")
                       if p.is_file() or p.is_symlink()}

    def close(self) -> None:
        pass

    def files(self) -> list[str]:
        return sorted(self._files)

    def size(self, name: str) -> int:
        return self._files[name].stat().st_size

    def open(self, name: str) -> IO[bytes]:
        return self._files[name].open("rb")

    def structural_problems(self) -> list[str]:
        return [f"{name}: a symbolic link; bags hold plain files" for name, p in
                self._files.items() if p.is_symlink()]


def open_bag(path: Path) -> ZipBagSource | DirBagSource:
    if path.is_dir():
        return DirBagSource(path)
    return ZipBagSource(path)


@contextmanager
def opened_bag(path: Path) -> Iterator[ZipBagSource | DirBagSource]:
    source = open_bag(path)
    try:
        yield source
    finally:
        source.close()


# ---------------------------------------------------------------------- validating
@dataclass
class BagCheck:
    """What validation found. ``digests`` maps each file read to its digests by
    algorithm; ``contents`` keeps the bytes of the tag files."""

    problems: list[str] = field(default_factory=list)
    info: BagInfo = field(default_factory=list)
    digests: dict[str, dict[str, str]] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)
    damaged: set[str] = field(default_factory=set)
    payload_files: list[str] = field(default_factory=list)
    payload_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _digest_file(source: BagSource, name: str, algorithms: Iterable[str],
                 keep: bool) -> tuple[dict[str, str], bytes | None]:  # fmt: skip
    hashers = {alg: hashlib.new(alg) for alg in algorithms}
    kept = bytearray() if keep else None
    try:
        with source.open(name) as handle:
            while block := handle.read(_BLOCK):
                for hasher in hashers.values():
                    hasher.update(block)
                if kept is not None:
                    kept.extend(block)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise MemberDamagedError(f"cannot be read back ({exc})") from None
    return {alg: h.hexdigest() for alg, h in hashers.items()}, (
        bytes(kept) if kept is not None else None)


def _parse_manifest(name: str, text: str, check: BagCheck) -> dict[str, str]:
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or not re.fullmatch(r"[0-9a-fA-F]+", parts[0]):
            check.problems.append(f"{name}: line {number} is not '<checksum> <file>'")
            continue
        path = decode_path(parts[1].lstrip(" \t").lstrip("*"))
        if not _safe(path):
            check.problems.append(f"{name}: line {number}: {path!r} is not a safe path "
                                  "inside the bag")
            continue
        if path in entries:
            check.problems.append(f"{name}: {path} listed more than once")
            continue
        entries[path] = parts[0].lower()
    return entries


def validate_bag(source: BagSource, *, unlisted_tag_files: Sequence[str] = (),
                 strict_tags: bool = True) -> BagCheck:
    """Check ``source`` against RFC 8493: ``bagit.txt``, every manifest and tag-manifest
    entry, no payload file missing from a manifest, ``Payload-Oxum``. With
    ``strict_tags`` every tag file must be in the tag manifests, except those named in
    ``unlisted_tag_files``."""
    check = BagCheck(problems=source.structural_problems())
    files = source.files()
    present = set(files)
    manifests = {m.group(1): name for name in files if (m := _MANIFEST.fullmatch(name))}
    tagmanifests = {m.group(1): name for name in files
                    if (m := _TAGMANIFEST.fullmatch(name))}
    unknown = [alg for alg in {**manifests, **tagmanifests} if alg not in
               hashlib.algorithms_available]
    for alg in unknown:
        check.problems.append(f"{manifests.get(alg) or tagmanifests[alg]}: unknown "
                              f"checksum algorithm {alg!r}")
    payload_algs = [alg for alg in manifests if alg not in unknown]
    tag_algs = [alg for alg in tagmanifests if alg not in unknown]
    if not manifests:
        check.problems.append(f"manifest-{ALGORITHM}.txt: missing; a bag needs a payload "
                              "manifest")
    check.payload_files = [name for name in files if name.startswith(PAYLOAD_DIR)]
    for name in files:
        payload = name.startswith(PAYLOAD_DIR)
        is_tagmanifest = _TAGMANIFEST.fullmatch(name) is not None
        algorithms = set(payload_algs if payload else ([] if is_tagmanifest else tag_algs))
        algorithms.add(ALGORITHM)
        if payload:
            check.payload_bytes += source.size(name)
        try:
            digests, kept = _digest_file(source, name, sorted(algorithms), keep=not payload)
        except MemberDamagedError as exc:
            check.problems.append(f"{name}: {exc}")
            check.damaged.add(name)
            continue
        check.digests[name] = digests
        if kept is not None:
            check.contents[name] = kept

    _check_bagit_txt(check)
    _check_bag_info(check)
    for alg, manifest in sorted(manifests.items()):
        _check_manifest(check, manifest, alg, present, payload=True,
                        usable=alg in payload_algs)
    listed_tags: set[str] = set()
    for alg, manifest in sorted(tagmanifests.items()):
        listed_tags |= _check_manifest(check, manifest, alg, present, payload=False,
                                       usable=alg in tag_algs)
    if strict_tags:
        for name in files:
            if (name.startswith(PAYLOAD_DIR) or _TAGMANIFEST.fullmatch(name)
                    or name in unlisted_tag_files or name in listed_tags):
                continue
            where = ", ".join(sorted(tagmanifests.values())) or "a tag manifest"
            check.problems.append(f"{name}: tag file not listed in {where}")
    _check_oxum(check)
    return check


def _check_bagit_txt(check: BagCheck) -> None:
    data = check.contents.get(BAGIT_TXT)
    if data is None:
        if BAGIT_TXT not in check.damaged:
            check.problems.append(f"{BAGIT_TXT}: missing")
        return
    try:
        fields, bad = parse_tag_lines(data.decode("utf-8"))
    except UnicodeDecodeError:
        check.problems.append(f"{BAGIT_TXT}: not UTF-8 text")
        return
    version = info_value(fields, "BagIt-Version")
    encoding = info_value(fields, "Tag-File-Character-Encoding")
    if bad or version is None or encoding is None:
        check.problems.append(f"{BAGIT_TXT}: must hold exactly 'BagIt-Version' and "
                              "'Tag-File-Character-Encoding'")
    elif version not in (BAGIT_VERSION, "0.97"):
        check.problems.append(f"{BAGIT_TXT}: BagIt-Version {version}; this reads 1.0")
    elif encoding.upper() not in ("UTF-8", "UTF8"):
        check.problems.append(f"{BAGIT_TXT}: tag files in {encoding}; this reads UTF-8")


def _check_bag_info(check: BagCheck) -> None:
    data = check.contents.get(BAG_INFO_TXT)
    if data is None:
        return
    try:
        fields, bad = parse_tag_lines(data.decode("utf-8"))
    except UnicodeDecodeError:
        check.problems.append(f"{BAG_INFO_TXT}: not UTF-8 text")
        return
    for line in bad:
        check.problems.append(f"{BAG_INFO_TXT}: line {line[:40]!r} is not 'Label: value'")
    check.info = fields


def _check_manifest(check: BagCheck, manifest: str, alg: str, present: set[str], *,
                    payload: bool, usable: bool) -> set[str]:  # fmt: skip
    data = check.contents.get(manifest)
    if data is None:
        return set()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        check.problems.append(f"{manifest}: not UTF-8 text")
        return set()
    entries = _parse_manifest(manifest, text, check)
    for path, digest in sorted(entries.items()):
        if path.startswith(PAYLOAD_DIR) != payload:
            kind = "a tag file" if payload else "a payload file"
            check.problems.append(f"{manifest}: lists {path}, {kind}")
            continue
        if path not in present:
            check.problems.append(f"{path}: listed in {manifest} but missing from the bag")
            continue
        if not usable or path in check.damaged:
            continue
        if check.digests[path][alg] != digest:
            check.problems.append(f"{path}: {alg} differs from {manifest}")
    if payload:
        for path in check.payload_files:
            if path not in entries:
                check.problems.append(f"{path}: in the payload but not listed in {manifest}")
    return set(entries)


def _check_oxum(check: BagCheck) -> None:
    oxum = info_value(check.info, "Payload-Oxum")
    if oxum is None:
        return
    actual = f"{check.payload_bytes}.{len(check.payload_files)}"
    if not re.fullmatch(r"\d+\.\d+", oxum):
        check.problems.append(f"{BAG_INFO_TXT}: Payload-Oxum {oxum!r} is not "
                              "'<octets>.<files>'")
    elif oxum != actual:
        check.problems.append(f"{BAG_INFO_TXT}: Payload-Oxum is {oxum} but the payload "
                              f"holds {actual} (bytes.files)")
