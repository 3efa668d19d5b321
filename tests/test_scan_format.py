"""The native HDF5 scan format: round trip, determinism, layout and every validation error."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import h5py
import numpy as np
import pytest

from screener.errors import (
    ChannelUnavailableError,
    InvalidMetadataError,
    MissingFieldError,
    NonFiniteValueError,
    NotAScanFileError,
    ScanFileNotFoundError,
    ScanFormatError,
    ScanTooLargeError,
    ShapeMismatchError,
    TruncatedScanError,
    UnsupportedFormatVersionError,
    ValueOutOfRangeError,
    WrongDtypeError,
    WrongRankError,
)
from screener.scan import (
    FORMAT_VERSION,
    Capability,
    GroundTruth,
    Scan,
    ScanLimits,
    ScanMetadata,
    SourceKind,
    View,
    missing_capabilities,
    read_ground_truth,
    read_scan,
    validate_scan,
    write_scan,
)
from screener.scan.hdf5 import has_ground_truth

MakeScan = Callable[..., tuple[Scan, GroundTruth | None]]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_same_scan(a: Scan, b: Scan) -> None:
    assert a.metadata == b.metadata
    assert len(a.views) == len(b.views)
    for va, vb in zip(a.views, b.views, strict=True):
        assert va.name == vb.name
        assert va.full_scale == vb.full_scale
        assert va.pixel_pitch_mm == vb.pixel_pitch_mm
        assert va.belt_direction == vb.belt_direction
        for channel in ("high", "low", "material_class"):
            xa, xb = getattr(va, channel), getattr(vb, channel)
            assert (xa is None) == (xb is None), channel
            if xa is None:
                continue
            assert xa.dtype == xb.dtype
            assert xa.shape == xb.shape
            assert xa.tobytes() == xb.tobytes()  # bit-exact, NaN-safe comparison


def expect(
    error: type[ScanFormatError],
    path: Path,
    field: str,
    read: Callable[[Path], object] = read_scan,
) -> ScanFormatError:
    """``read(path)`` raises exactly ``error`` naming the file and ``field`` in one line."""
    with pytest.raises(ScanFormatError) as info:
        read(path)
    err = info.value
    assert type(err) is error, f"{type(err).__name__}: {err}"
    assert err.path == path
    assert err.field == field, str(err)
    message = str(err)
    assert "\n" not in message
    assert message.startswith(f"{path}: {field}: ")
    return err


@pytest.fixture
def edited(scan_file: Callable[..., Path]) -> Callable[..., Path]:
    """Write a good scan, then change it with h5py in "r+" mode."""

    def make(edit: Callable[[h5py.File], None], **kwargs: object) -> Path:
        path = scan_file("edited.h5", **kwargs)
        with h5py.File(path, "r+") as f:
            edit(f)
        return path

    return make


def replace(group: h5py.Group, name: str, data: np.ndarray) -> None:
    del group[name]
    group.create_dataset(name, data=data)


# --------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("dtype", ["uint16", "float32"])
@pytest.mark.parametrize("views", [1, 2])
def test_round_trip_is_bit_exact(make_scan: MakeScan, tmp_path: Path, dtype: str,
                                 views: int) -> None:
    scan, truth = make_scan(dtype=dtype, views=views, truth=True)
    path = write_scan(tmp_path / "scan.h5", scan, truth)
    back = read_scan(path)
    assert_same_scan(scan, back)
    assert back.views[0].high.dtype == np.dtype(dtype)
    assert back.metadata.acquired_at == datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)

    back_truth = read_ground_truth(path)
    assert truth is not None and back_truth is not None
    assert back_truth.objects_by_view.keys() == truth.objects_by_view.keys()
    for name, objects in truth.objects_by_view.items():
        got = back_truth.objects_by_view[name]
        assert len(got) == len(objects)
        for a, b in zip(objects, got, strict=True):
            assert (a.object_id, a.label, a.threat) == (b.object_id, b.label, b.threat)
            assert a.box == b.box
            assert b.mask.dtype == np.bool_
            assert np.array_equal(a.mask, b.mask)
    assert back_truth.threat_labels == {"knife"}


def test_uint16_full_range_and_12_bit_scale_round_trip(make_scan: MakeScan, tmp_path: Path) -> None:
    for full_scale in (65535.0, 4095.0, 1.0):
        scan, _ = make_scan(full_scale=full_scale)
        back = read_scan(write_scan(tmp_path / f"fs{full_scale:g}.h5", scan))
        assert_same_scan(scan, back)
        t = back.views[0].transmission("high")
        assert t.dtype == np.float32
        assert np.allclose(t, scan.views[0].high / np.float32(full_scale))


def test_acquired_at_with_offset_is_stored_as_utc(make_scan: MakeScan, tmp_path: Path) -> None:
    scan, _ = make_scan()
    cet = datetime(2024, 5, 6, 9, 8, 9, tzinfo=timezone(timedelta(hours=2)))
    meta = ScanMetadata(**{**scan.metadata.__dict__, "acquired_at": cet})
    path = write_scan(tmp_path / "tz.h5", Scan(meta, scan.views))
    with h5py.File(path) as f:
        assert f.attrs["acquired_at"] == "2024-05-06T07:08:09.000000Z"
    back = read_scan(path).metadata.acquired_at
    assert back == cet and back.utcoffset() == timedelta(0)


def test_same_scan_written_twice_gives_identical_bytes(make_scan: MakeScan, tmp_path: Path) -> None:
    scan, truth = make_scan(views=2, truth=True)
    first = write_scan(tmp_path / "one.h5", scan, truth)
    time.sleep(1.01 - time.time() % 1)  # into the next second: no timestamp may be stored
    second = write_scan(tmp_path / "sub" / "two.h5", scan, truth)
    assert first.read_bytes() == second.read_bytes()
    assert sha256(first) == sha256(second)


def test_file_is_chunked_compressed_and_versioned(make_scan: MakeScan, tmp_path: Path) -> None:
    scan, _ = make_scan(shape=(300, 520))
    zeros = View("flat", np.zeros((300, 520), np.uint16), np.zeros((300, 520), np.uint16),
                 4095.0, (1.0, 1.0))
    path = write_scan(tmp_path / "scan.h5", Scan(scan.metadata, (*scan.views, zeros)))
    with h5py.File(path) as f:
        assert f.attrs["format"] == "screener-scan"
        assert f.attrs["format_version"] == FORMAT_VERSION == 1
        for index in ("0", "1"):
            for channel in ("high", "low"):
                ds = f["views"][index][channel]
                assert ds.chunks == (256, 256)
                assert ds.compression == "gzip"
                assert ds.shuffle
                assert ds.dtype == np.uint16
        # the flat view compresses to almost nothing
        flat = f["views/1/high"]
        assert flat.id.get_storage_size() < flat.size * 2 / 50
    small = write_scan(tmp_path / "small.h5", make_scan(shape=(40, 64))[0])
    with h5py.File(small) as f:
        assert f["views/0/high"].chunks == (40, 64)


def test_read_scan_never_returns_ground_truth(make_scan: MakeScan, tmp_path: Path) -> None:
    scan, truth = make_scan(truth=True)
    path = write_scan(tmp_path / "with.h5", scan, truth)
    back = read_scan(path)
    assert set(back.__dataclass_fields__) == {"metadata", "views"}
    assert has_ground_truth(path)
    assert read_ground_truth(path) is not None

    plain = write_scan(tmp_path / "without.h5", scan)
    assert not has_ground_truth(plain)
    assert read_ground_truth(plain) is None
    with h5py.File(plain) as f:
        assert "ground_truth" not in f


# --------------------------------------------------------------------------- not a scan


def test_missing_file(tmp_path: Path) -> None:
    expect(ScanFileNotFoundError, tmp_path / "nope.h5", "file")


def test_random_bytes_are_not_hdf5(tmp_path: Path) -> None:
    path = tmp_path / "random.h5"
    path.write_bytes(np.random.default_rng(3).bytes(4096))
    expect(NotAScanFileError, path, "file")


def test_png_is_not_hdf5(tmp_path: Path) -> None:
    path = tmp_path / "bag.h5"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100))
    expect(NotAScanFileError, path, "file")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.h5"
    path.touch()
    expect(TruncatedScanError, path, "file")


def test_hdf5_without_format_attribute_is_not_a_scan(tmp_path: Path) -> None:
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=np.zeros((4, 4)))
    expect(NotAScanFileError, path, "/@format")


def test_hdf5_of_another_format_is_not_a_scan(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: f.attrs.__setitem__("format", "someone-elses-scan"))
    expect(NotAScanFileError, path, "/@format")


# --------------------------------------------------------------------------- truncation


@pytest.mark.parametrize("dtype", ["uint16", "float32"])
def test_every_cut_is_a_typed_error(scan_file: Callable[..., Path], tmp_path: Path,
                                    dtype: str) -> None:
    good = scan_file(dtype=dtype, views=2, truth=True, shape=(120, 300)).read_bytes()
    size = len(good)
    cuts = sorted({4, 8, 16, 47, 96, 512, 2048, size // 4, size // 3, size // 2,
                   2 * size // 3, 3 * size // 4, size - 1000, size - 64, size - 1})
    cut_path = tmp_path / "cut.h5"
    for cut in cuts:
        cut_path.write_bytes(good[:cut])
        for read in (read_scan, read_ground_truth):
            with pytest.raises(ScanFormatError) as info:
                read(cut_path)
            err = info.value
            assert err.path == cut_path and err.field == "file"
            assert "\n" not in str(err)
            if cut >= 512:
                assert type(err) is TruncatedScanError, (cut, str(err))


def test_half_file_is_truncated(scan_file: Callable[..., Path]) -> None:
    path = scan_file()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    err = expect(TruncatedScanError, path, "file")
    assert "incomplete" in str(err)


def test_damaged_object_header_is_a_typed_error(scan_file: Callable[..., Path]) -> None:
    path = scan_file()
    with h5py.File(path) as f:
        address = h5py.h5o.get_info(f["views/0"].id).addr
    data = bytearray(path.read_bytes())
    assert data[address:address + 4] == b"OHDR"  # checksummed version-2 object header
    data[address + 12] ^= 0xFF
    path.write_bytes(bytes(data))
    expect(TruncatedScanError, path, "file")


# --------------------------------------------------------------------------- structure


def test_missing_dataset(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: f["views/0"].__delitem__("low"))
    expect(MissingFieldError, path, "/views/0/low")


def test_channel_that_is_a_group(edited: Callable[..., Path]) -> None:
    def edit(f: h5py.File) -> None:
        del f["views/0/high"]
        f["views/0"].create_group("high")

    expect(MissingFieldError, edited(edit), "/views/0/high")


def test_missing_views_group(edited: Callable[..., Path]) -> None:
    expect(MissingFieldError, edited(lambda f: f.__delitem__("views")), "/views")


def test_empty_views_group(edited: Callable[..., Path]) -> None:
    def edit(f: h5py.File) -> None:
        del f["views"]
        f.create_group("views")

    expect(MissingFieldError, edited(edit), "/views")


@pytest.mark.parametrize(
    ("where", "name", "field"),
    [
        ("/", "bag_id", "/@bag_id"),
        ("/", "acquired_at", "/@acquired_at"),
        ("/", "source_kind", "/@source_kind"),
        ("/", "format_version", "/@format_version"),
        ("/views/0", "full_scale", "/views/0/@full_scale"),
        ("/views/0", "pixel_pitch_mm", "/views/0/@pixel_pitch_mm"),
        ("/views/0", "belt_direction", "/views/0/@belt_direction"),
        ("/views/0", "name", "/views/0/@name"),
    ],
)
def test_missing_attribute(edited: Callable[..., Path], where: str, name: str,
                           field: str) -> None:
    path = edited(lambda f: f[where].attrs.__delitem__(name))
    expect(MissingFieldError, path, field)


def test_view_that_is_a_dataset(edited: Callable[..., Path]) -> None:
    def edit(f: h5py.File) -> None:
        del f["views/0"]
        f["views"].create_dataset("0", data=np.zeros((2, 2), np.uint16))

    expect(MissingFieldError, edited(edit), "/views/0")


@pytest.mark.parametrize("names", [["top"], ["1"], ["00"]])
def test_views_must_be_named_0_to_n(edited: Callable[..., Path], names: list[str]) -> None:
    path = edited(lambda f: f["views"].move("0", names[0]))
    expect(InvalidMetadataError, path, "/views")


def test_views_with_a_gap(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: f["views"].move("1", "2"), views=2)
    expect(InvalidMetadataError, path, "/views")


def test_duplicate_view_names(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: f["views/1"].attrs.__setitem__("name", "top"), views=2)
    err = expect(InvalidMetadataError, path, "/views")
    assert "repeat" in str(err)


def test_empty_view_name(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: f["views/0"].attrs.__setitem__("name", "  "))
    expect(InvalidMetadataError, path, "/views/0/@name")


def test_soft_link_view_is_refused(edited: Callable[..., Path]) -> None:
    def edit(f: h5py.File) -> None:
        f["views"]["1"] = h5py.SoftLink("/views/0")

    expect(InvalidMetadataError, edited(edit), "/views/1")


def test_pixels_stored_outside_the_file_are_refused(edited: Callable[..., Path],
                                                    tmp_path: Path) -> None:
    raw = tmp_path / "pixels.raw"
    raw.write_bytes(np.zeros((40, 64), np.uint16).tobytes())

    def edit(f: h5py.File) -> None:
        del f["views/0/low"]
        f["views/0"].create_dataset("low", shape=(40, 64), dtype=np.uint16,
                                    external=[(str(raw), 0, 40 * 64 * 2)])

    expect(InvalidMetadataError, edited(edit), "/views/0/low")


def test_external_link_channel_is_refused(edited: Callable[..., Path],
                                          scan_file: Callable[..., Path]) -> None:
    other = scan_file("other.h5")

    def edit(f: h5py.File) -> None:
        del f["views/0/low"]
        f["views/0"]["low"] = h5py.ExternalLink(str(other), "/views/0/low")

    expect(InvalidMetadataError, edited(edit), "/views/0/low")


# --------------------------------------------------------------------------- pixel data


@pytest.mark.parametrize("dtype", [np.int32, np.float64, np.uint8, np.int16])
def test_wrong_dtype(edited: Callable[..., Path], dtype: type) -> None:
    path = edited(lambda f: replace(f["views/0"], "high", np.zeros((40, 64), dtype)))
    expect(WrongDtypeError, path, "/views/0/high")


def test_channels_of_different_dtypes(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: replace(f["views/0"], "low", np.zeros((40, 64), np.float32)))
    expect(WrongDtypeError, path, "/views/0/low")


@pytest.mark.parametrize("shape", [(40, 64, 2), (2560,), ()])
def test_wrong_rank(edited: Callable[..., Path], shape: tuple[int, ...]) -> None:
    path = edited(lambda f: replace(f["views/0"], "low", np.zeros(shape, np.uint16)))
    expect(WrongRankError, path, "/views/0/low")


def test_channels_of_different_shapes(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: replace(f["views/0"], "low", np.zeros((40, 63), np.uint16)))
    err = expect(ShapeMismatchError, path, "/views/0/low")
    assert "(40, 63)" in str(err) and "(40, 64)" in str(err)


def test_empty_image(edited: Callable[..., Path]) -> None:
    def edit(f: h5py.File) -> None:
        replace(f["views/0"], "high", np.zeros((0, 64), np.uint16))
        replace(f["views/0"], "low", np.zeros((0, 64), np.uint16))

    expect(InvalidMetadataError, edited(edit), "/views/0/high")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_float(edited: Callable[..., Path], bad: float) -> None:
    def edit(f: h5py.File) -> None:
        data = f["views/0/low"][()]
        data[7, 11] = bad
        replace(f["views/0"], "low", data)

    err = expect(NonFiniteValueError, edited(edit, dtype="float32"), "/views/0/low")
    assert "row 7, column 11" in str(err)


@pytest.mark.parametrize("bad", [1.0001, 2.0, -0.0001, -1.0])
def test_float_out_of_range(edited: Callable[..., Path], bad: float) -> None:
    def edit(f: h5py.File) -> None:
        data = f["views/0/high"][()]
        data[0, 0] = bad
        replace(f["views/0"], "high", data)

    expect(ValueOutOfRangeError, edited(edit, dtype="float32"), "/views/0/high")


def test_float_bounds_are_allowed(make_scan: MakeScan, tmp_path: Path) -> None:
    scan, _ = make_scan(dtype="float32")
    scan.views[0].high[0, 0] = 0.0
    scan.views[0].high[0, 1] = 1.0
    assert_same_scan(scan, read_scan(write_scan(tmp_path / "bounds.h5", scan)))


def test_uint16_above_full_scale(edited: Callable[..., Path]) -> None:
    def edit(f: h5py.File) -> None:
        data = f["views/0/low"][()]
        data[3, 4] = 4096
        replace(f["views/0"], "low", data)

    err = expect(ValueOutOfRangeError, edited(edit), "/views/0/low")
    assert "4096" in str(err)


def test_uint16_at_full_scale_is_allowed(make_scan: MakeScan, tmp_path: Path) -> None:
    scan, _ = make_scan()
    scan.views[0].low[0, 0] = 4095
    assert read_scan(write_scan(tmp_path / "ok.h5", scan)).views[0].low.max() == 4095


# --------------------------------------------------------------------------- view attributes


@pytest.mark.parametrize("value", [0.0, 70000.0, 100.5, np.nan, np.inf, -4095.0])
def test_uint16_full_scale_invalid(edited: Callable[..., Path], value: float) -> None:
    path = edited(lambda f: f["views/0"].attrs.__setitem__("full_scale", value))
    expect(ValueOutOfRangeError, path, "/views/0/@full_scale")


@pytest.mark.parametrize("value", [255.0, 0.0, np.nan])
def test_float32_full_scale_must_be_one(edited: Callable[..., Path], value: float) -> None:
    path = edited(lambda f: f["views/0"].attrs.__setitem__("full_scale", value),
                  dtype="float32")
    expect(InvalidMetadataError, path, "/views/0/@full_scale")


@pytest.mark.parametrize("value", ["4095", np.array([4095.0, 1.0]), True])
def test_full_scale_not_a_number(edited: Callable[..., Path], value: object) -> None:
    path = edited(lambda f: f["views/0"].attrs.__setitem__("full_scale", value))
    expect(WrongDtypeError, path, "/views/0/@full_scale")


@pytest.mark.parametrize("pitch", [(0.0, 1.0), (1.0, -0.5), (np.nan, 1.0), (1.0, np.inf),
                                   (2000.0, 1.0)])
def test_pixel_pitch_out_of_range(edited: Callable[..., Path],
                                  pitch: tuple[float, float]) -> None:
    path = edited(lambda f: f["views/0"].attrs.__setitem__("pixel_pitch_mm", np.array(pitch)))
    expect(ValueOutOfRangeError, path, "/views/0/@pixel_pitch_mm")


@pytest.mark.parametrize("pitch", [np.array([1.0, 1.0, 1.0]), np.float64(1.0), "1 x 1",
                                   np.arange(40.0)])
def test_pixel_pitch_wrong_type(edited: Callable[..., Path], pitch: object) -> None:
    path = edited(lambda f: f["views/0"].attrs.__setitem__("pixel_pitch_mm", pitch))
    expect(WrongDtypeError, path, "/views/0/@pixel_pitch_mm")  # one line even for a long repr


def test_bad_belt_direction(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: f["views/0"].attrs.__setitem__("belt_direction", "upwards"))
    err = expect(InvalidMetadataError, path, "/views/0/@belt_direction")
    assert "left-to-right" in str(err)


# --------------------------------------------------------------------------- file attributes


def test_bad_source_kind(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: f.attrs.__setitem__("source_kind", "triple-energy"))
    expect(InvalidMetadataError, path, "/@source_kind")


@pytest.mark.parametrize("stamp", ["2024-05-06T07:08:09", "2024-05-06 07:08:09.5",
                                   "yesterday", "", "0001-01-01T00:00:00+01:00"])
def test_bad_acquisition_time(edited: Callable[..., Path], stamp: str) -> None:
    path = edited(lambda f: f.attrs.__setitem__("acquired_at", stamp))
    expect(InvalidMetadataError, path, "/@acquired_at")


@pytest.mark.parametrize("name", ["bag_id", "station", "lane", "source", "channel_low"])
def test_text_attribute_of_wrong_type(edited: Callable[..., Path], name: str) -> None:
    path = edited(lambda f: f.attrs.__setitem__(name, 42))
    expect(WrongDtypeError, path, f"/@{name}")


def test_newer_format_version(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: f.attrs.__setitem__("format_version", np.int64(FORMAT_VERSION + 1)))
    err = expect(UnsupportedFormatVersionError, path, "/@format_version")
    assert "Upgrade" in str(err)


def test_format_version_zero(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: f.attrs.__setitem__("format_version", np.int64(0)))
    expect(InvalidMetadataError, path, "/@format_version")


@pytest.mark.parametrize("value", ["1", 1.0, np.array([1, 1])])
def test_format_version_not_an_integer(edited: Callable[..., Path], value: object) -> None:
    path = edited(lambda f: f.attrs.__setitem__("format_version", value))
    expect(WrongDtypeError, path, "/@format_version")


# --------------------------------------------------------------------------- size caps


def test_view_over_pixel_cap(scan_file: Callable[..., Path],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = scan_file()  # 40 x 64 = 2560 pixels
    assert read_scan(path, ScanLimits(max_view_pixels=2560)).views[0].shape == (40, 64)

    def no_pixel_reads(*args: object, **kwargs: object) -> None:
        raise AssertionError("pixel data was read before the size cap was checked")

    monkeypatch.setattr(h5py.Dataset, "__getitem__", no_pixel_reads)
    err = expect(ScanTooLargeError, path, "/views/0/high",
                 lambda p: read_scan(p, ScanLimits(max_view_pixels=2559)))
    assert "max_view_pixels" in str(err)


def test_huge_declared_view_is_refused_before_reading(edited: Callable[..., Path]) -> None:
    def edit(f: h5py.File) -> None:
        for channel in ("high", "low"):
            del f["views/0"][channel]
            f["views/0"].create_dataset(channel, shape=(200_000, 200_000), dtype=np.uint16,
                                        chunks=(256, 256), compression="gzip")

    path = edited(edit)
    assert path.stat().st_size < 1_000_000  # 80 GB declared per channel, nothing written
    start = time.perf_counter()
    expect(ScanTooLargeError, path, "/views/0/high")  # default cap: 100 M pixels
    assert time.perf_counter() - start < 5.0  # 20-30 ms measured; reading it all: minutes


def test_too_many_views(scan_file: Callable[..., Path]) -> None:
    path = scan_file(views=3)
    assert len(read_scan(path, ScanLimits(max_views=3)).views) == 3
    expect(ScanTooLargeError, path, "/views", lambda p: read_scan(p, ScanLimits(max_views=2)))


def test_too_many_views_default_cap(edited: Callable[..., Path]) -> None:
    def edit(f: h5py.File) -> None:
        for i in range(1, 9):
            f.copy(f["views/0"], f["views"], name=str(i))
            f["views"][str(i)].attrs["name"] = f"v{i}"

    expect(ScanTooLargeError, edited(edit), "/views")


# --------------------------------------------------------------------------- ground truth


def test_ground_truth_box_outside_view(edited: Callable[..., Path]) -> None:
    def edit(f: h5py.File) -> None:
        f["ground_truth/views/0/0"].attrs["box"] = np.array([55, 4, 67, 14], np.int64)

    path = edited(edit, truth=True)
    read_scan(path)  # the scan itself is fine; only the labels are bad
    expect(ValueOutOfRangeError, path, "/ground_truth/views/0/0/@box", read_ground_truth)


@pytest.mark.parametrize("box", [[5, 4, 5, 14], [-1, 4, 11, 14], [3, 30, 15, 41]])
def test_ground_truth_degenerate_box(edited: Callable[..., Path], box: list[int]) -> None:
    path = edited(lambda f: f["ground_truth/views/0/0"].attrs.__setitem__(
        "box", np.array(box, np.int64)), truth=True)
    expect(ValueOutOfRangeError, path, "/ground_truth/views/0/0/@box", read_ground_truth)


def test_ground_truth_box_of_wrong_type(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: f["ground_truth/views/0/1"].attrs.__setitem__(
        "box", np.array([0.0, 0.0, 5.0, 3.0])), truth=True)
    expect(WrongDtypeError, path, "/ground_truth/views/0/1/@box", read_ground_truth)


def test_ground_truth_mask_shape_mismatch(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: replace(f["ground_truth/views/1/0"], "mask",
                                    np.ones((10, 11), np.uint8)), views=2, truth=True)
    expect(ShapeMismatchError, path, "/ground_truth/views/1/0/mask", read_ground_truth)


def test_ground_truth_mask_missing(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: f["ground_truth/views/0/0"].__delitem__("mask"), truth=True)
    expect(MissingFieldError, path, "/ground_truth/views/0/0/mask", read_ground_truth)


def test_ground_truth_view_missing(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: f["ground_truth/views"].__delitem__("1"), views=2, truth=True)
    expect(MissingFieldError, path, "/ground_truth/views/1", read_ground_truth)


@pytest.mark.parametrize(("name", "value", "error"), [
    ("object_id", "seven", WrongDtypeError),
    ("threat", np.int8(2), InvalidMetadataError),
    ("threat", np.array([1, 0], np.int8), InvalidMetadataError),
])
def test_ground_truth_bad_attributes(edited: Callable[..., Path], name: str, value: object,
                                     error: type[ScanFormatError]) -> None:
    path = edited(lambda f: f["ground_truth/views/0/0"].attrs.__setitem__(name, value),
                  truth=True)
    expect(error, path, f"/ground_truth/views/0/0/@{name}", read_ground_truth)


# --------------------------------------------------------------------------- the writer


def _writer_refuses(tmp_path: Path, scan: Scan, error: type[ScanFormatError],
                    field: str) -> None:
    target = tmp_path / "out" / "refused.h5"
    expect(error, target, field, lambda p: write_scan(p, scan))
    assert not target.exists()
    assert not target.parent.exists() or list(target.parent.iterdir()) == []


def _with_view(scan: Scan, **changes: object) -> Scan:
    view = scan.views[0]
    fields = {k: getattr(view, k) for k in ("name", "high", "low", "full_scale",
                                             "pixel_pitch_mm", "belt_direction",
                                             "material_class")}
    return Scan(scan.metadata, (View(**{**fields, **changes}), *scan.views[1:]))  # type: ignore[arg-type]


def test_writer_refuses_nan(make_scan: MakeScan, tmp_path: Path) -> None:
    scan, _ = make_scan(dtype="float32", views=2)
    scan.views[1].high[5, 5] = np.nan
    _writer_refuses(tmp_path, scan, NonFiniteValueError, "/views/1/high")


def test_writer_refuses_out_of_range(make_scan: MakeScan, tmp_path: Path) -> None:
    scan, _ = make_scan()
    _writer_refuses(tmp_path, _with_view(scan, full_scale=100.0), ValueOutOfRangeError,
                    "/views/0/high")
    floats, _ = make_scan(dtype="float32")
    floats.views[0].low[0, 0] = 1.5
    _writer_refuses(tmp_path, floats, ValueOutOfRangeError, "/views/0/low")


def test_writer_refuses_bad_arrays(make_scan: MakeScan, tmp_path: Path) -> None:
    scan, _ = make_scan()
    low = scan.views[0].low
    _writer_refuses(tmp_path, _with_view(scan, low=low[:, :-1]), ShapeMismatchError,
                    "/views/0/low")
    _writer_refuses(tmp_path, _with_view(scan, low=low.astype(np.int32)), WrongDtypeError,
                    "/views/0/low")
    _writer_refuses(tmp_path, _with_view(scan, low=low.astype(np.float32) / 4095),
                    WrongDtypeError, "/views/0/low")
    _writer_refuses(tmp_path, _with_view(scan, high=low[None]), WrongRankError,
                    "/views/0/high")
    _writer_refuses(tmp_path, _with_view(scan, high=low[:0], low=low[:0]),
                    InvalidMetadataError, "/views/0/high")


# --------------------------------------------------------------------------- source kinds


@pytest.mark.parametrize("kind", [k.value for k in SourceKind])
@pytest.mark.parametrize("dtype", ["uint16", "float32"])
def test_every_kind_round_trips_bit_exactly(make_scan: MakeScan, tmp_path: Path, kind: str,
                                            dtype: str) -> None:
    scan, _ = make_scan(kind=kind, dtype=dtype, views=2)
    path = write_scan(tmp_path / "kind.h5", scan)
    back = read_scan(path)
    assert back.metadata.source_kind == SourceKind(kind)
    assert_same_scan(scan, back)
    with h5py.File(path) as f:
        assert set(f["views/0"]) == {"high"} | (
            {"low"} if SourceKind(kind).is_dual_energy else set()) | (
            {"material_class"} if kind == "pseudo-colour" else set())
    first = path.read_bytes()
    assert write_scan(tmp_path / "again.h5", back).read_bytes() == first


def test_single_energy_view_has_no_low_channel(make_scan: MakeScan) -> None:
    scan, _ = make_scan(kind="single-energy")
    view = scan.views[0]
    assert view.low is None and view.material_class is None
    assert not view.has_dual_energy and not scan.has_dual_energy
    assert view.channels == ("high",)
    assert view.transmission("high").dtype == np.float32
    with pytest.raises(ChannelUnavailableError, match="has no low-energy channel"):
        view.transmission("low")
    missing = missing_capabilities(scan)
    assert missing[Capability.DUAL_ENERGY] == (
        "single-energy image: material colours need a low-energy channel")
    assert set(missing) == {"dual_energy", "material_class"}
    assert scan.missing_capabilities == missing


def test_capabilities_of_each_kind(make_scan: MakeScan) -> None:
    for kind in ("dual-energy", "simulated-dual-energy"):
        scan, _ = make_scan(kind=kind)
        assert scan.has_dual_energy and missing_capabilities(scan) == {}
    pseudo, _ = make_scan(kind="pseudo-colour", full_scale=255.0)
    assert set(missing_capabilities(pseudo)) == {"dual_energy", "measured_transmission"}
    assert all(reason.startswith("pseudo-colour export: ")
               for reason in missing_capabilities(pseudo).values())
    assert pseudo.views[0].material_class is not None


def _strip(f: h5py.File, name: str) -> None:
    for index in f["views"]:
        del f["views"][index][name]


@pytest.mark.parametrize("kind", ["dual-energy", "simulated-dual-energy"])
def test_dual_energy_needs_low(edited: Callable[..., Path], kind: str) -> None:
    path = edited(lambda f: _strip(f, "low"), kind=kind, views=2)
    err = expect(MissingFieldError, path, "/views/0/low")
    assert kind in str(err)


@pytest.mark.parametrize("kind", ["single-energy", "pseudo-colour"])
def test_low_must_be_absent_without_dual_energy(edited: Callable[..., Path], kind: str) -> None:
    def edit(f: h5py.File) -> None:
        f["views/0"].create_dataset("low", data=f["views/0/high"][()])

    err = expect(InvalidMetadataError, edited(edit, kind=kind), "/views/0/low")
    assert "must be absent" in str(err)


def test_source_kind_changed_to_single_energy_under_dual_data(
        edited: Callable[..., Path]) -> None:
    path = edited(lambda f: f.attrs.__setitem__("source_kind", "single-energy"))
    expect(InvalidMetadataError, path, "/views/0/low")


def test_pseudo_colour_needs_material_class(edited: Callable[..., Path]) -> None:
    path = edited(lambda f: _strip(f, "material_class"), kind="pseudo-colour")
    expect(MissingFieldError, path, "/views/0/material_class")


@pytest.mark.parametrize("kind", ["dual-energy", "simulated-dual-energy", "single-energy"])
def test_material_class_only_for_pseudo_colour(edited: Callable[..., Path], kind: str) -> None:
    def edit(f: h5py.File) -> None:
        f["views/0"].create_dataset("material_class", data=np.zeros((40, 64), np.uint8))

    err = expect(InvalidMetadataError, edited(edit, kind=kind), "/views/0/material_class")
    assert "pseudo-colour" in str(err)


@pytest.mark.parametrize(("data", "error"), [
    (np.zeros((40, 64), np.uint16), WrongDtypeError),
    (np.zeros((40, 64), np.int8), WrongDtypeError),
    (np.zeros((40, 63), np.uint8), ShapeMismatchError),
    (np.zeros((40, 64, 1), np.uint8), WrongRankError),
    (np.full((40, 64), 5, np.uint8), ValueOutOfRangeError),
])
def test_bad_material_class(edited: Callable[..., Path], data: np.ndarray,
                            error: type[ScanFormatError]) -> None:
    path = edited(lambda f: replace(f["views/0"], "material_class", data), kind="pseudo-colour")
    expect(error, path, "/views/0/material_class")


def test_material_class_soft_link_is_refused(edited: Callable[..., Path]) -> None:
    def edit(f: h5py.File) -> None:
        del f["views/1/material_class"]
        f["views/1"]["material_class"] = h5py.SoftLink("/views/0/material_class")

    expect(InvalidMetadataError, edited(edit, kind="pseudo-colour", views=2),
           "/views/1/material_class")


def test_material_class_read_after_size_cap(edited: Callable[..., Path],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = edited(lambda f: None, kind="pseudo-colour")

    def no_pixel_reads(*args: object, **kwargs: object) -> None:
        raise AssertionError("pixel data was read before the size cap was checked")

    monkeypatch.setattr(h5py.Dataset, "__getitem__", no_pixel_reads)
    expect(ScanTooLargeError, path, "/views/0/high",
           lambda p: read_scan(p, ScanLimits(max_view_pixels=100)))


def test_writer_refuses_channels_that_contradict_the_kind(make_scan: MakeScan,
                                                          tmp_path: Path) -> None:
    dual, _ = make_scan()
    _writer_refuses(tmp_path, _with_view(dual, low=None), MissingFieldError, "/views/0/low")
    _writer_refuses(tmp_path, _with_view(dual, material_class=np.zeros((40, 64), np.uint8)),
                    InvalidMetadataError, "/views/0/material_class")
    single, _ = make_scan(kind="single-energy")
    _writer_refuses(tmp_path, _with_view(single, low=single.views[0].high),
                    InvalidMetadataError, "/views/0/low")
    pseudo, _ = make_scan(kind="pseudo-colour")
    _writer_refuses(tmp_path, _with_view(pseudo, material_class=None), MissingFieldError,
                    "/views/0/material_class")
    _writer_refuses(tmp_path, _with_view(pseudo, material_class=np.full((40, 64), 7, np.uint8)),
                    ValueOutOfRangeError, "/views/0/material_class")
    _writer_refuses(tmp_path, _with_view(pseudo, material_class=np.zeros((40, 64), bool)),
                    WrongDtypeError, "/views/0/material_class")


def test_validate_scan_names_the_given_path(make_scan: MakeScan, tmp_path: Path) -> None:
    single, _ = make_scan(kind="single-energy")
    validate_scan(single, tmp_path / "x.png")
    bad = _with_view(single, low=single.views[0].high)
    with pytest.raises(InvalidMetadataError) as info:
        validate_scan(bad, tmp_path / "x.png")
    assert info.value.path == tmp_path / "x.png" and info.value.field == "/views/0/low"
