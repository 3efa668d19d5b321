"""Imports of other sources: greyscale and pseudo-colour PNG/JPEG, dual-energy ``.npy``.

Synthetic files first (fast, always run), then the real datasets in
``../shared/datasets`` (beside the repository), skipped with a reason when absent.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from screener.errors import (
    CorruptImageError,
    NonFiniteValueError,
    NotAScanFileError,
    ScanFileNotFoundError,
    ScanFormatError,
    ScanTooLargeError,
    TruncatedScanError,
    UnsupportedFileError,
    UnsupportedImageLayoutError,
    ValueOutOfRangeError,
    WrongDtypeError,
    WrongRankError,
)
from screener.imaging.presets import shipped_presets
from screener.imaging.render import prepare, render
from screener.scan import (
    MATERIAL_BACKGROUND,
    MATERIAL_IMPENETRABLE,
    MATERIAL_INORGANIC,
    MATERIAL_METAL,
    MATERIAL_ORGANIC,
    ScanLimits,
    SourceKind,
    file_kind,
    import_dual_energy_npy,
    import_image,
    load_any,
    missing_capabilities,
    read_scan,
    write_scan,
)
from screener.scan import imports as imports_module
from screener.scan.model import View

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def needs_dataset(name: str) -> Path:
    folder = DATASETS / name
    if not folder.is_dir():
        pytest.skip(f"real dataset {folder} is absent (the shared datasets live in "
                    "../shared/datasets beside the repository, never inside it)")
    return folder


def expect(error: type[ScanFormatError], path: Path, field: str,
           read: Callable[[Path], object] = load_any) -> ScanFormatError:
    """``read(path)`` raises exactly ``error`` naming the file and ``field`` in one line."""
    with pytest.raises(ScanFormatError) as info:
        read(path)
    err = info.value
    assert type(err) is error, f"{type(err).__name__}: {err}"
    assert err.path == path
    assert err.field == field, str(err)
    assert "\n" not in str(err)
    assert str(err).startswith(f"{path}: {field}: ")
    return err


def write_image(path: Path, image: np.ndarray, *params: int) -> Path:
    ok, data = cv2.imencode(path.suffix, image, list(params))
    assert ok
    path.write_bytes(data.tobytes())
    return path


def patches(shape: tuple[int, int], colours: list[tuple[int, int, int]]) -> np.ndarray:
    """Side-by-side blocks of the given BGR colours, each ``shape`` big."""
    return np.concatenate([np.full((*shape, 3), c, np.uint8) for c in colours], axis=1)


# --------------------------------------------------------------------------- greyscale


def test_grey_png_8_bit_is_single_energy_and_bit_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    grey = rng.integers(0, 256, size=(30, 50), dtype=np.uint8)
    path = write_image(tmp_path / "B0001_0001.png", grey)
    scan = import_image(path)
    meta = scan.metadata
    assert meta.source_kind is SourceKind.SINGLE_ENERGY
    assert meta.bag_id == "B0001_0001"
    assert (meta.station, meta.lane, meta.scanner_profile) == ("import", "import", "unknown")
    assert meta.source == "imported PNG file B0001_0001.png"
    assert meta.acquired_at == datetime.fromtimestamp(path.stat().st_mtime, UTC)
    assert "unknown energy" in meta.channel_high
    (view,) = scan.views
    assert view.low is None and view.material_class is None and not view.has_dual_energy
    assert view.high.dtype == np.uint16 and view.full_scale == 255.0
    assert np.array_equal(view.high, grey)
    assert view.pixel_pitch_mm == (1.0, 1.0)
    assert np.allclose(view.transmission("high"), grey / 255.0)
    assert "dual_energy" in missing_capabilities(scan)
    back = read_scan(write_scan(tmp_path / "back.h5", scan))
    assert np.array_equal(back.views[0].high, grey) and back.views[0].low is None


def test_grey_png_16_bit(tmp_path: Path) -> None:
    grey = np.random.default_rng(2).integers(0, 65536, size=(20, 33), dtype=np.uint16)
    grey[0, 0], grey[0, 1] = 0, 65535
    scan = import_image(write_image(tmp_path / "deep.png", grey), pixel_pitch_mm=(0.5, 0.7))
    view = scan.views[0]
    assert view.full_scale == 65535.0 and view.high.dtype == np.uint16
    assert np.array_equal(view.high, grey)
    assert view.pixel_pitch_mm == (0.5, 0.7)


@pytest.mark.parametrize("suffix", [".jpg", ".jpeg", ".JPG"])
def test_grey_jpeg_keeps_the_decoded_values(tmp_path: Path, suffix: str) -> None:
    y, x = np.mgrid[0:64, 0:96]
    grey = ((x * 2 + y) % 256).astype(np.uint8)
    path = write_image(tmp_path / f"bag{suffix}", grey, cv2.IMWRITE_JPEG_QUALITY, 90)
    scan = load_any(path)
    assert scan.metadata.source_kind is SourceKind.SINGLE_ENERGY
    assert scan.metadata.source == f"imported JPEG file bag{suffix}"
    decoded = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(scan.views[0].high, decoded)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_grey_saved_as_colour_is_single_energy(tmp_path: Path, suffix: str) -> None:
    grey = np.random.default_rng(3).integers(0, 256, size=(24, 40), dtype=np.uint8)
    path = write_image(tmp_path / f"grey3{suffix}", cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
    scan = import_image(path)
    assert scan.metadata.source_kind is SourceKind.SINGLE_ENERGY
    if suffix == ".png":
        assert np.array_equal(scan.views[0].high, grey)


def test_grey_with_alpha_is_single_energy(tmp_path: Path) -> None:
    grey = np.random.default_rng(4).integers(0, 256, size=(10, 12), dtype=np.uint8)
    bgra = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGRA)
    bgra[..., 3] = 128
    scan = import_image(write_image(tmp_path / "alpha.png", bgra))
    assert scan.metadata.source_kind is SourceKind.SINGLE_ENERGY
    assert np.array_equal(scan.views[0].high, grey)


# --------------------------------------------------------------------------- pseudo-colour

# BGR colours as a pseudo-colour export shows them, with the class each must give
KNOWN_PATCHES = [
    ((40, 140, 240), MATERIAL_ORGANIC),      # orange
    ((60, 170, 230), MATERIAL_ORGANIC),      # yellow-orange
    ((100, 200, 110), MATERIAL_INORGANIC),   # green
    ((120, 205, 125), MATERIAL_INORGANIC),   # pale green (aluminium in SIXray)
    ((210, 130, 30), MATERIAL_METAL),        # blue
    ((120, 60, 20), MATERIAL_METAL),         # dark blue (thick steel)
    ((160, 140, 40), MATERIAL_METAL),        # teal-blue (thin steel)
    ((10, 10, 10), MATERIAL_IMPENETRABLE),   # black
    ((20, 35, 25), MATERIAL_IMPENETRABLE),   # very dark green
    ((255, 255, 255), MATERIAL_BACKGROUND),  # white
    ((225, 240, 232), MATERIAL_BACKGROUND),  # SIXray's pale background
]


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_pseudo_colour_patches_give_their_classes(tmp_path: Path, suffix: str) -> None:
    colours = [c for c, _ in KNOWN_PATCHES]
    image = patches((32, 32), colours)
    path = write_image(tmp_path / f"sixray{suffix}", image, cv2.IMWRITE_JPEG_QUALITY, 95)
    scan = load_any(path)
    assert scan.metadata.source_kind is SourceKind.PSEUDO_COLOUR
    assert scan.metadata.source == f"imported {'PNG' if suffix == '.png' else 'JPEG'} " \
        f"file sixray{suffix}"
    (view,) = scan.views
    assert view.low is None and view.material_class is not None
    assert view.material_class.dtype == np.uint8 and view.material_class.shape == view.shape
    assert view.full_scale == 65535.0 and view.high.dtype == np.uint16
    decoded = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    high, classes = imports_module.decode_pseudo_colour(decoded)
    assert np.array_equal(view.high, high) and np.array_equal(view.material_class, classes)
    for i, (colour, expected) in enumerate(KNOWN_PATCHES):
        inner = view.material_class[8:24, 32 * i + 8:32 * i + 24]  # away from JPEG edges
        assert np.all(inner == expected), (colour, np.bincount(inner.ravel()))
    white = view.transmission("high")[8:24, 32 * 9 + 8:32 * 9 + 24]
    assert np.all(white > 0.98)  # white background: T ~ 1
    assert set(missing_capabilities(scan)) == {"dual_energy", "measured_transmission"}
    back = read_scan(write_scan(tmp_path / "back.h5", scan))
    assert np.array_equal(back.views[0].material_class, view.material_class)
    assert np.array_equal(back.views[0].high, view.high)


def test_pseudo_colour_16_bit_png(tmp_path: Path) -> None:
    image8 = patches((8, 8), [(40, 140, 240), (210, 130, 30)])
    image = image8.astype(np.uint16) * 257
    scan = import_image(write_image(tmp_path / "deep.png", image))
    view = scan.views[0]
    assert scan.metadata.source_kind is SourceKind.PSEUDO_COLOUR
    assert view.full_scale == 65535.0
    # the same colour at 16 bits gives the same transmission as at 8 bits
    eight = import_image(write_image(tmp_path / "deep8.png", image8)).views[0]
    assert eight.full_scale == 65535.0 and np.array_equal(view.high, eight.high)
    assert view.material_class is not None
    assert set(np.unique(view.material_class[:, :8])) == {MATERIAL_ORGANIC}
    assert set(np.unique(view.material_class[:, 8:])) == {MATERIAL_METAL}


# BGR export colours along one hue, from pale (thin) to deep (dense), as a scanner's ramp
# draws density: paler and less saturated transmits more, deeper and darker less
ORANGE_PALE_TO_DEEP = [(235, 245, 252), (190, 220, 250), (130, 190, 250), (70, 160, 245),
                       (40, 140, 240), (20, 110, 200), (10, 70, 140), (5, 40, 80)]
BLUE_PALE_TO_DEEP = [(250, 235, 225), (245, 200, 170), (235, 150, 100), (215, 85, 35),
                     (150, 60, 25), (90, 35, 15)]
GREEN_PALE_TO_DEEP = [(225, 245, 225), (170, 225, 170), (100, 200, 100), (50, 160, 45),
                      (30, 100, 28), (15, 55, 15)]


@pytest.mark.parametrize("colours", [ORANGE_PALE_TO_DEEP, BLUE_PALE_TO_DEEP,
                                     GREEN_PALE_TO_DEEP], ids=["orange", "blue", "green"])
def test_deeper_colours_transmit_less(tmp_path: Path, colours: list[tuple[int, int, int]]
                                      ) -> None:
    view = import_image(write_image(tmp_path / "ramp.png", patches((4, 4), colours))).views[0]
    t = view.transmission("high")[0, 2::4]
    assert np.all(np.diff(t) < 0), t  # strictly falling from pale to deep
    assert t[0] > 0.75 and t[-1] < 0.1


def test_saturated_orange_is_dense_whatever_its_brightness(tmp_path: Path) -> None:
    """A saturated deep orange has HSV value 0.94, like a near-white; it is not transparent."""
    colours = [(255, 255, 255), (225, 232, 240), (40, 140, 240), (0, 0, 0)]
    view = import_image(write_image(tmp_path / "o.png", patches((2, 2), colours))).views[0]
    white, pale, deep, black = view.transmission("high")[0, ::2]
    assert white == 1.0 and black == 0.0
    assert pale > 0.75
    assert 0.3 < deep < 0.42  # about the pure hue of the ramp: T = 0.6 ** 2 = 0.36


def test_inverts_the_standard_display(tmp_path: Path) -> None:
    """A view rendered with "standard", exported and imported, gives back its transmission
    (where its colours keep their class) and renders as the export to within 1 L* unit."""
    light = np.linspace(0.2, 1.0, 81, dtype=np.float32)
    classes = np.repeat(np.array([MATERIAL_ORGANIC, MATERIAL_INORGANIC, MATERIAL_METAL,
                                  MATERIAL_BACKGROUND], np.uint8)[:, None], light.size, axis=1)
    t = np.broadcast_to(light ** 2, classes.shape)
    source = View("image", np.rint(t * 65535).astype(np.uint16), None, 65535.0, (1.0, 1.0),
                  material_class=classes)
    export = render(prepare(source), "standard")[..., :3]
    path = write_image(tmp_path / "export.png", cv2.cvtColor(export, cv2.COLOR_RGB2BGR))
    view = import_image(path).views[0]
    assert view.material_class is not None
    same = view.material_class == classes
    # the palest colours read as background, and mid greys take a hue's class
    assert same[:3].mean() > 0.8
    assert np.abs(view.transmission("high") - t)[same].max() < 0.01
    again = render(prepare(view), "standard")[..., :3]
    assert np.abs(_lightness(again) - _lightness(export)).max() < 1.0


def test_ramp_constants_are_the_shipped_standard_display() -> None:
    palette = shipped_presets().palette
    assert palette.pivot == imports_module.RAMP_PIVOT
    assert {MATERIAL_ORGANIC: palette.organic,
                                        MATERIAL_INORGANIC: palette.inorganic,
                                        MATERIAL_METAL: palette.metal} == imports_module.RAMP_HUES
    standard = shipped_presets().get("standard").function
    assert standard.density_scale == imports_module.STANDARD_DENSITY_SCALE


def test_transmission_from_colour_checks_its_input() -> None:
    bgr = np.zeros((2, 3, 3), np.uint8)
    with pytest.raises(ValueError, match="shape"):
        imports_module.transmission_from_colour(bgr, np.zeros((3, 2), np.uint8))
    with pytest.raises(ValueError, match="codes"):
        imports_module.transmission_from_colour(bgr, np.full((2, 3), 4, np.uint8))


def _lightness(rgb: np.ndarray) -> np.ndarray:
    """CIE L* of 8-bit RGB."""
    lab = cv2.cvtColor(rgb.astype(np.float32) / np.float32(255.0), cv2.COLOR_RGB2Lab)
    return np.asarray(lab[..., 0])


def test_kind_can_be_forced(tmp_path: Path) -> None:
    colour = write_image(tmp_path / "colour.png", patches((4, 4), [(40, 140, 240)]))
    single = import_image(colour, kind="single-energy")
    assert single.metadata.source_kind is SourceKind.SINGLE_ENERGY
    assert np.all(single.views[0].high == round((40 + 140 + 240) / 3))
    grey = write_image(tmp_path / "grey.png", np.full((4, 4), 20, np.uint8))
    pseudo = import_image(grey, kind=SourceKind.PSEUDO_COLOUR)
    assert pseudo.views[0].material_class is not None
    assert np.all(pseudo.views[0].material_class == MATERIAL_IMPENETRABLE)
    with pytest.raises(ValueError, match="single-energy or pseudo-colour"):
        import_image(grey, kind="dual-energy")


# --------------------------------------------------------------------------- .npy arrays


def two_channel(rows: int = 20, cols: int = 30, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    high = rng.integers(1000, 60000, size=(rows, cols), dtype=np.uint16)
    low = (high * 0.8).astype(np.uint16)  # the low energy transmits less
    return np.stack([high, low], axis=-1)


def test_npy_uint16_channel_order_and_scale(tmp_path: Path) -> None:
    array = two_channel()
    path = tmp_path / "zcon_1.npy"
    np.save(path, array)
    scan = load_any(path)
    meta = scan.metadata
    assert meta.source_kind is SourceKind.DUAL_ENERGY
    assert meta.bag_id == "zcon_1" and meta.source == "imported NPY file zcon_1.npy"
    assert "6 MeV" in meta.channel_high and "4 MeV" in meta.channel_low
    (view,) = scan.views
    assert view.full_scale == 65535.0 and view.high.dtype == np.uint16
    assert np.array_equal(view.high, array[..., 0]) and view.low is not None
    assert np.array_equal(view.low, array[..., 1])
    assert view.high.flags["C_CONTIGUOUS"] and view.low.flags["C_CONTIGUOUS"]
    assert missing_capabilities(scan) == {}
    swapped = import_dual_energy_npy(path, high_channel=1)
    assert swapped.views[0].low is not None
    assert np.array_equal(swapped.views[0].high, array[..., 1])
    assert np.array_equal(swapped.views[0].low, array[..., 0])
    back = read_scan(write_scan(tmp_path / "back.h5", scan))
    assert back.views[0].high.tobytes() == view.high.tobytes()


def test_npy_big_endian_and_fortran_order(tmp_path: Path) -> None:
    array = two_channel()
    path = tmp_path / "odd.npy"
    np.save(path, np.asfortranarray(array.astype(">u2")))
    view = import_dual_energy_npy(path).views[0]
    assert view.high.dtype == np.uint16 and np.array_equal(view.high, array[..., 0])


def test_npy_open_beam_clips_and_says_so(tmp_path: Path) -> None:
    array = two_channel()
    array[0, 0] = (50000, 40000)
    array[1, 1, 0] = 65000
    path = tmp_path / "beam.npy"
    np.save(path, np.minimum(array, 62000))
    array = np.load(path)
    array[2, 2] = (64000, 63000)
    np.save(path, array)
    scan = import_dual_energy_npy(path, open_beam=62000)
    view = scan.views[0]
    assert view.full_scale == 62000.0 and int(view.high.max()) == 62000
    assert "1 pixel(s) outside [0, open beam] clipped" in scan.metadata.channel_high
    assert "1 pixel(s) outside [0, open beam] clipped" in scan.metadata.channel_low


def test_npy_float_transmission(tmp_path: Path) -> None:
    t = np.random.default_rng(6).random((12, 14, 2))
    path = tmp_path / "float.npy"
    np.save(path, t)
    view = import_dual_energy_npy(path).views[0]
    assert view.high.dtype == np.float32 and view.full_scale == 1.0
    assert np.allclose(view.high, t[..., 0]) and view.low is not None
    counts = tmp_path / "counts.npy"
    np.save(counts, (t * 4000).astype(np.float32))
    scaled = import_dual_energy_npy(counts, open_beam=4000.0).views[0]
    assert np.allclose(scaled.high, t[..., 0], atol=1e-6)


# --------------------------------------------------------------------------- bad inputs


def test_missing_and_empty_files(tmp_path: Path) -> None:
    for name in ("nope.png", "nope.npy", "nope.h5", "nope.xyz"):
        expect(ScanFileNotFoundError, tmp_path / name, "file")
    for name in ("empty.png", "empty.jpg", "empty.npy", "empty.h5"):
        (tmp_path / name).touch()
        expect(TruncatedScanError, tmp_path / name, "file")


@pytest.mark.parametrize("name", ["text.png", "text.jpg", "text.jpeg"])
def test_not_an_image(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("this is not an image\n")
    err = expect(UnsupportedFileError, path, "file")
    assert "PNG or JPEG" in str(err)
    expect(UnsupportedFileError, path, "file", import_image)


def test_unknown_file_type(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    err = expect(UnsupportedFileError, path, "file")
    assert ".txt" in str(err)


def test_known_content_with_unknown_extension(tmp_path: Path) -> None:
    png = write_image(tmp_path / "x.png", np.zeros((4, 4), np.uint8))
    renamed = png.rename(tmp_path / "scan.dat")
    assert file_kind(renamed) == "png"
    assert load_any(renamed).metadata.source_kind is SourceKind.SINGLE_ENERGY


def test_png_bytes_named_h5_are_not_a_scan(tmp_path: Path) -> None:
    path = tmp_path / "png.h5"
    write_image(tmp_path / "x.png", np.zeros((4, 4), np.uint8)).rename(path)
    expect(NotAScanFileError, path, "file")


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_truncated_image(tmp_path: Path, suffix: str) -> None:
    image = np.random.default_rng(7).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    data = write_image(tmp_path / f"whole{suffix}", image).read_bytes()
    path = tmp_path / f"cut{suffix}"
    for cut in (len(data) // 2, len(data) - 20, 12, 40):
        path.write_bytes(data[:cut])
        with pytest.raises(ScanFormatError) as info:
            load_any(path)
        err = info.value
        assert type(err) in (TruncatedScanError, CorruptImageError), (cut, str(err))
        assert err.path == path and "\n" not in str(err)


def test_corrupt_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "garbage.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + bytes(range(256)) * 4)
    with pytest.raises((CorruptImageError, TruncatedScanError)) as info:
        load_any(path)
    assert info.value.path == path
    no_frame = tmp_path / "noframe.jpg"
    no_frame.write_bytes(b"\xff\xd8\xff\xda\x00\x08" + bytes(6) + b"\x12\x34\xff\xd9")
    err = expect(CorruptImageError, no_frame, "image")
    assert "frame header" in str(err)


def test_corrupt_png_data(tmp_path: Path) -> None:
    data = bytearray(write_image(tmp_path / "ok.png",
                                 np.random.default_rng(8).integers(0, 256, (32, 32), np.uint8))
                     .read_bytes())
    idat = data.find(b"IDAT")
    data[idat + 8:idat + 40] = bytes(32)
    path = tmp_path / "bad.png"
    path.write_bytes(bytes(data))
    expect(CorruptImageError, path, "image")


def _png_header_only(width: int, height: int, depth: int = 8, colour: int = 0) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00" * 4
            + b"\x00\x00\x00\x00IEND\xaeB`\x82")


def test_huge_png_is_refused_from_its_header(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decode(*args: object, **kwargs: object) -> None:
        raise AssertionError("pixels were decoded before the size cap was checked")

    monkeypatch.setattr(imports_module.cv2, "imdecode", no_decode)
    path = tmp_path / "huge.png"
    path.write_bytes(_png_header_only(200_000, 200_000))
    err = expect(ScanTooLargeError, path, "image")
    assert "max_view_pixels" in str(err)


def test_image_over_a_small_cap(tmp_path: Path) -> None:
    for suffix in (".png", ".jpg"):
        path = write_image(tmp_path / f"small{suffix}", np.zeros((10, 11), np.uint8))
        assert load_any(path, ScanLimits(max_view_pixels=110)).views[0].shape == (10, 11)
        expect(ScanTooLargeError, path, "image",
               lambda p: load_any(p, ScanLimits(max_view_pixels=109)))


def test_file_larger_than_any_image_within_the_cap(tmp_path: Path) -> None:
    path = write_image(tmp_path / "padded.png", np.zeros((2, 2), np.uint8))
    path.write_bytes(path.read_bytes() + bytes(2_000_000))
    expect(ScanTooLargeError, path, "file", lambda p: load_any(p, ScanLimits(max_view_pixels=4)))


def test_unsupported_png_bit_depth(tmp_path: Path) -> None:
    path = tmp_path / "onebit.png"
    path.write_bytes(_png_header_only(8, 8, depth=1))
    err = expect(UnsupportedImageLayoutError, path, "image")
    assert "bit depth 1" in str(err)


@pytest.mark.parametrize(("array", "error"), [
    (np.zeros((10, 12), np.uint16), WrongRankError),
    (np.zeros((10, 12, 2, 1), np.uint16), WrongRankError),
    (np.zeros((10, 12, 3), np.uint16), UnsupportedImageLayoutError),
    (np.zeros((2, 10, 12), np.uint16), UnsupportedImageLayoutError),
    (np.zeros((0, 12, 2), np.uint16), UnsupportedImageLayoutError),
    (np.zeros((10, 12, 2), np.int32), WrongDtypeError),
    (np.zeros((10, 12, 2), np.uint8), WrongDtypeError),
    (np.zeros((10, 12, 2), np.complex64), WrongDtypeError),
    (np.array([None, 1], dtype=object), WrongDtypeError),
])
def test_bad_npy_arrays(tmp_path: Path, array: np.ndarray, error: type[ScanFormatError]) -> None:
    path = tmp_path / "bad.npy"
    np.save(path, array, allow_pickle=True)
    expect(error, path, "array")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_npy_non_finite(tmp_path: Path, bad: float) -> None:
    array = np.random.default_rng(9).random((6, 7, 2)).astype(np.float32)
    array[3, 4, 1] = bad
    path = tmp_path / "nan.npy"
    np.save(path, array)
    err = expect(NonFiniteValueError, path, "array")
    assert "row 3, column 4" in str(err)


def test_npy_on_the_wrong_scale_is_refused(tmp_path: Path) -> None:
    counts = tmp_path / "counts.npy"
    np.save(counts, np.random.default_rng(10).random((6, 7, 2)) * 5000)  # counts, not T
    err = expect(ValueOutOfRangeError, counts, "array")
    assert "open_beam" in str(err)
    low_beam = tmp_path / "lowbeam.npy"
    np.save(low_beam, two_channel())
    expect(ValueOutOfRangeError, low_beam, "array",
           lambda p: import_dual_energy_npy(p, open_beam=1000))


def test_truncated_and_corrupt_npy(tmp_path: Path) -> None:
    whole = tmp_path / "whole.npy"
    np.save(whole, two_channel())
    cut = tmp_path / "cut.npy"
    cut.write_bytes(whole.read_bytes()[:-100])
    err = expect(TruncatedScanError, cut, "file")
    assert "header declares" in str(err)
    header = tmp_path / "header.npy"
    header.write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': <<<}  \n")
    expect(CorruptImageError, header, "array")
    not_npy = tmp_path / "text.npy"
    not_npy.write_text("1, 2, 3")
    expect(UnsupportedFileError, not_npy, "file")


def test_npy_over_the_cap_is_refused_before_reading(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.npy"
    np.save(path, two_channel(20, 30))

    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("pixels were read before the size cap was checked")

    monkeypatch.setattr(imports_module.np, "fromfile", no_read)
    err = expect(ScanTooLargeError, path, "array",
                 lambda p: load_any(p, ScanLimits(max_view_pixels=599)))
    assert "max_view_pixels" in str(err)


# --------------------------------------------------------------------------- command line


def test_cli_info_and_store_import(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        from screener.cli import main
    except ImportError as exc:  # pragma: no cover - only while the simulator is being edited
        if not (exc.name or "").startswith(("screener.sim", "screener.physics", "screener.demo")):
            raise
        pytest.skip(f"screener.cli cannot be imported now ({exc}); the simulator is being "
                    "edited")

    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("SCREENER_CONFIG", "SCREENER_HOME", "SCREENER_MAX_VIEW_PIXELS",
                 "SCREENER_MAX_VIEWS"):
        monkeypatch.delenv(name, raising=False)
    png = write_image(tmp_path / "bag.png", patches((8, 8), [(40, 140, 240), (210, 130, 30)]))
    npy = tmp_path / "zcon.npy"
    np.save(npy, two_channel())
    home = ["--home", str(tmp_path / "data")]

    assert main([*home, "scan", "info", str(png)]) == 0
    out = capsys.readouterr().out
    assert "pseudo-colour" in out and "PNG image, imported" in out
    assert "missing          dual_energy: pseudo-colour export" in out
    assert "low none, material classes from colour" in out

    assert main([*home, "scan", "store", str(png), str(npy)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for line, kind in zip(lines, ("pseudo-colour", "dual-energy"), strict=True):
        sha, _, _, stored = line.split()[:4]
        assert "stored as a native .h5" in line and kind in line
        assert Path(stored).name == f"{sha}.h5"
        assert read_scan(stored).metadata.source_kind.value == kind
    assert not list((tmp_path / "data" / "scans").glob(".importing-*"))

    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff" + bytes(10))
    assert main([*home, "scan", "info", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith(f"screener: error: {bad}: ")


# --------------------------------------------------------------------------- real datasets


@pytest.mark.slow
def test_every_gdxray_image_imports_as_single_energy() -> None:
    folder = needs_dataset("gdxray-dev")
    images = sorted((folder / "images").glob("*.png"))
    assert len(images) == 80
    for path in images:
        scan = load_any(path)
        assert scan.metadata.source_kind is SourceKind.SINGLE_ENERGY, path
        view = scan.views[0]
        assert view.low is None and view.full_scale == 255.0
        assert np.array_equal(view.high, cv2.imread(str(path), cv2.IMREAD_UNCHANGED))


def _voc_box(path: Path) -> tuple[str, tuple[int, int, int, int]]:
    obj = ET.parse(path).getroot().find("object")
    assert obj is not None
    box = obj.find("bndbox")
    assert box is not None
    x0, y0, x1, y1 = (float(box.findtext(k) or "nan") for k in ("xmin", "ymin", "xmax", "ymax"))
    return obj.findtext("name") or "", (int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1)))


@pytest.mark.slow
def test_sixray_threats_come_out_metal() -> None:
    """Every SIXray image imports as pseudo-colour; the Gun/Knife box holds a larger share of
    metal-class pixels than the whole image in 151 of 157 images (96.2 %) with the tuned
    hue ranges; assert 90 %."""
    folder = needs_dataset("sixray-val")
    images = sorted((folder / "images").glob("*.jpg"))
    assert len(images) == 220
    wins = total = 0
    shares = np.zeros(5)
    for path in images:
        scan = load_any(path)
        assert scan.metadata.source_kind is SourceKind.PSEUDO_COLOUR, path
        classes = scan.views[0].material_class
        assert classes is not None
        shares += np.bincount(classes.ravel(), minlength=5)
        label, (x0, y0, x1, y1) = _voc_box(folder / "annotations" / f"{path.stem}.xml")
        if label not in ("Gun", "Knife"):
            continue
        inside = classes[y0:y1, x0:x1] == MATERIAL_METAL
        total += 1
        wins += bool(inside.mean() > (classes == MATERIAL_METAL).mean())
    assert total == 157
    assert wins / total >= 0.90, f"{wins} of {total}"
    shares /= shares.sum()
    # measured: background 63.2 %, organic 17.1 %, inorganic 13.0 %, metal 6.1 %, black 0.6 %
    assert 0.55 < shares[MATERIAL_BACKGROUND] < 0.70
    assert 0.12 < shares[MATERIAL_ORGANIC] < 0.22
    assert 0.09 < shares[MATERIAL_INORGANIC] < 0.17
    assert 0.04 < shares[MATERIAL_METAL] < 0.09
    assert 0.002 < shares[MATERIAL_IMPENETRABLE] < 0.02


@pytest.mark.slow
def test_sixray_renders_back_close_to_the_export() -> None:
    """Every SIXray image, imported and rendered with "standard", keeps the export's
    lightness: over the pixels not classed background, mean |delta L*| measured 0.26 (it
    was 16.2 when T was the HSV value) and mean delta E 24.2 (33.3), the rest being the
    difference between SIXray's hues and the palette's."""
    folder = needs_dataset("sixray-val")
    images = sorted((folder / "images").glob("*.jpg"))
    assert len(images) == 220
    d_light = d_e = 0.0
    count = 0
    for path in images:
        view = load_any(path).views[0]
        assert view.material_class is not None and view.full_scale == 65535.0
        export = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        shown = render(prepare(view), "standard")[..., :3]
        bag = view.material_class != MATERIAL_BACKGROUND
        lab_export, lab_shown = (cv2.cvtColor(im.astype(np.float32) / np.float32(255.0),
                                              cv2.COLOR_RGB2Lab)[bag]
                                 for im in (export, shown))
        d_light += float(np.abs(lab_export[:, 0] - lab_shown[:, 0]).sum())
        d_e += float(np.sqrt(((lab_export - lab_shown) ** 2).sum(axis=1)).sum())
        count += int(bag.sum())
    assert d_light / count < 1.0, d_light / count
    assert d_e / count < 26.0, d_e / count


def test_zcon_arrays_import_as_dual_energy_with_zcon_order() -> None:
    folder = needs_dataset("zcon-dual-energy")
    arrays = sorted(folder.glob("*.npy"))
    assert [p.name for p in arrays] == ["zcon_5.npy", "zcon_6.npy"]
    for path in arrays:
        scan = load_any(path)
        assert scan.metadata.source_kind is SourceKind.DUAL_ENERGY
        view = scan.views[0]
        assert view.full_scale == 65535.0 and view.low is not None
        raw = np.load(path)
        assert np.array_equal(view.high, raw[..., 0]) and np.array_equal(view.low, raw[..., 1])
        t_high, t_low = view.transmission("high"), view.transmission("low")
        cargo = (t_high > 0.01) & (t_low > 0.01) & (t_high < 0.5)
        assert cargo.mean() > 0.1
        # through the cargo the 6 MeV channel transmits more than the 4 MeV one ...
        assert t_high[cargo].mean() > t_low[cargo].mean()
        assert (t_high[cargo] > t_low[cargo]).mean() > 0.75
        # ... and A_low / A_high sits near ZCON's mu_eff ratio 0.4039 / 0.3709 = 1.089
        ratio = np.median(np.log(t_low[cargo]) / np.log(t_high[cargo]))
        assert 1.04 < ratio < 1.13, ratio
