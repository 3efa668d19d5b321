"""The FTI library: format round trip, typed validation errors, the simulator build, the
ICAO check, import and export (docs/tip.md, "FTI library")."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import h5py
import numpy as np
import pytest

from screener.cli import main, tip_command
from screener.errors import (
    InvalidMetadataError,
    MissingFieldError,
    NonFiniteValueError,
    ScreenerError,
    ShapeMismatchError,
    UnsupportedFormatVersionError,
    ValueOutOfRangeError,
    WrongDtypeError,
)
from screener.physics.profiles import get_profile
from screener.sim.items.threats import THREAT_MAKERS
from screener.tip.build import (
    CATEGORY_OF,
    TRANSMISSION_STEP,
    BuildSettings,
    build_library,
    capture,
    make_article,
    uniform_orientation_deg,
)
from screener.tip.compliance import (
    MIN_ARTICLES,
    MIN_IMAGES,
    check_library,
    tilt_deg,
)
from screener.tip.fti import FtiCategory, FtiImage
from screener.tip.library import FtiLibrary, append_items, read_library, write_library
from screener.tip.library_checks import FtiRecord
from screener.tip.library_errors import (
    DuplicateFtiIdError,
    FtiConflictError,
    FtiFileNotFoundError,
    FtiInvalidMetadataError,
    FtiLibraryError,
    FtiMissingFieldError,
    FtiNonFiniteValueError,
    FtiShapeMismatchError,
    FtiValueOutOfRangeError,
    FtiWrongDtypeError,
    NotAnFtiLibraryError,
    UnknownFtiCategoryError,
    UnsupportedFtiLibraryVersionError,
)
from screener.tip.library_exchange import (
    export_folder,
    import_into,
    read_npz,
    same_content,
    write_npz,
)

ADDED = "2026-11-23"
AS_OF = date(2026, 11, 23)
TINY = BuildSettings(articles=6, orientations=3, seed=5, added=ADDED)


def synthetic(fti_id: str = "art-1-o00", article: str = "art-1", *, seed: int = 0,
              shape: tuple[int, int] = (7, 9), category: FtiCategory = FtiCategory.KNIFE,
              added: str = ADDED) -> FtiImage:
    """A small FTI of random transmissions inside a random mask, open beam outside."""
    rng = np.random.default_rng(seed)
    mask = rng.random(shape) < 0.6
    mask[shape[0] // 2, shape[1] // 2] = True
    high = np.ones(shape, np.float32)
    low = np.ones(shape, np.float32)
    high[mask] = rng.uniform(0.01, 1.0, int(mask.sum())).astype(np.float32)
    low[mask] = rng.uniform(0.001, 1.0, int(mask.sum())).astype(np.float32)
    return FtiImage(fti_id, article, category, "kitchen knife", (10.0, -20.5, 30.25),
                    f"test seed {seed}", added, "cabin-160kv-dual-layer", 0.5, high, low, mask)


def assert_same(a: FtiImage, b: FtiImage) -> None:
    for name in ("high", "low", "mask"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes(), name
    for name in ("fti_id", "article_id", "category", "subcategory", "orientation_deg",
                 "source", "added", "scanner_profile", "pixel_pitch_mm"):
        assert getattr(a, name) == getattr(b, name), name


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 articles x 3 orientations from the simulator, built in this process."""
    return build_library(tmp_path_factory.mktemp("tiny") / "tiny.h5", TINY, jobs=1)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """Three synthetic images of two articles."""
    return write_library(tmp_path / "small.h5", [
        synthetic("art-1-o00", seed=1), synthetic("art-1-o01", seed=2),
        synthetic("art-2-o00", "art-2", seed=3, category=FtiCategory.GUN),
    ])


# --------------------------------------------------------------------------- format


def test_round_trip_is_bit_exact(tmp_path: Path) -> None:
    images = [synthetic(f"a{i}-o0", f"a{i}", seed=i, shape=(5 + i, 11 - i)) for i in range(4)]
    path = write_library(tmp_path / "lib.h5", images)
    library = read_library(path)
    assert len(library) == 4
    assert [r.fti_id for r in library.items] == [i.fti_id for i in images]
    assert library.items[2].shape == (7, 9)
    for image in images:
        assert_same(library.load(image.fti_id), image)
    assert [i.fti_id for i in library.images()] == [i.fti_id for i in images]


def test_index_is_read_without_pixels(small: Path) -> None:
    with h5py.File(small, "r+") as f:
        f["items/art-2-o00/high"][0, 0] = np.nan
    library = read_library(small)  # the index alone is fine
    assert {c: len(r) for c, r in library.by_category().items()} == {
        FtiCategory.KNIFE: 2, FtiCategory.GUN: 1}
    assert library.record("art-2-o00").category is FtiCategory.GUN
    assert_same(library.load("art-1-o01"), synthetic("art-1-o01", seed=2))
    with pytest.raises(FtiNonFiniteValueError):
        library.load("art-2-o00")


def test_append_items_and_refusals(small: Path) -> None:
    assert append_items(small, [synthetic("art-3-o00", "art-3", seed=9)]) == 1
    assert len(read_library(small)) == 4
    before = small.read_bytes()
    with pytest.raises(DuplicateFtiIdError) as caught:
        append_items(small, [synthetic("art-4-o00", "art-4"), synthetic("art-1-o00")])
    assert caught.value.field == "item 1.fti_id" and str(small) in str(caught.value)
    library = read_library(small)
    assert len(library) == 4 and "art-4-o00" not in library
    assert small.stat().st_size >= len(before)


def test_write_refuses_bad_images_and_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "lib.h5"
    with pytest.raises(DuplicateFtiIdError):
        write_library(target, [synthetic(), synthetic()])
    bad = synthetic()
    bad.high[bad.mask.nonzero()[0][0], bad.mask.nonzero()[1][0]] = 0.0
    with pytest.raises(FtiValueOutOfRangeError) as caught:
        write_library(target, [bad])
    assert caught.value.field == "item 0.high"
    with pytest.raises(FtiInvalidMetadataError):
        write_library(target, [replace(synthetic(), fti_id="has space")])
    with pytest.raises(UnknownFtiCategoryError):
        write_library(target, [replace(synthetic(), category="weapon")])  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def _rewrite(group: h5py.Group, name: str, data: np.ndarray) -> None:
    del group[name]
    group.create_dataset(name, data=data)


def _set_text(f: h5py.File, column: str, row: int, value: str) -> None:
    f[f"index/{column}"][row] = value


Corrupt = Callable[[h5py.File], None]
ITEM = "/items/art-1-o01"
CORRUPTIONS: dict[str, tuple[Corrupt, type[Exception], type[Exception], str, bool]] = {
    # name: (corrupt, library error, generic error, field, fails at load (not at read))
    "bad dtype": (lambda f: _rewrite(f[ITEM], "high", f[ITEM]["high"][()].astype(np.float64)),
                  FtiWrongDtypeError, WrongDtypeError, f"{ITEM}/high", True),
    "low shape": (lambda f: _rewrite(f[ITEM], "low", np.ones((3, 3), np.float32)),
                  FtiShapeMismatchError, ShapeMismatchError, f"{ITEM}/low", True),
    "mask shape": (lambda f: _rewrite(f[ITEM], "mask", np.ones((7, 8), np.uint8)),
                   FtiShapeMismatchError, ShapeMismatchError, f"{ITEM}/mask", True),
    "zero transmission": (lambda f: f[ITEM]["low"].__setitem__((3, 4), 0.0),
                          FtiValueOutOfRangeError, ValueOutOfRangeError, f"{ITEM}/low", True),
    "above one": (lambda f: f[ITEM]["high"].__setitem__((3, 4), 1.5),
                  FtiValueOutOfRangeError, ValueOutOfRangeError, f"{ITEM}/high", True),
    "NaN": (lambda f: f[ITEM]["high"].__setitem__((3, 4), np.nan),
            FtiNonFiniteValueError, NonFiniteValueError, f"{ITEM}/high", True),
    "mask value": (lambda f: f[ITEM]["mask"].__setitem__((3, 4), 2),
                   FtiValueOutOfRangeError, ValueOutOfRangeError, f"{ITEM}/mask", True),
    "not open beam outside mask": (
        lambda f: (f[ITEM]["mask"].__setitem__((3, 4), 0),
                   f[ITEM]["high"].__setitem__((3, 4), 1.0),
                   f[ITEM]["low"].__setitem__((3, 4), 0.5)),
        FtiValueOutOfRangeError, ValueOutOfRangeError, f"{ITEM}/low", True),
    "missing dataset": (lambda f: f[ITEM].__delitem__("mask"),
                        FtiMissingFieldError, MissingFieldError, f"{ITEM}/mask", True),
    "missing attribute": (lambda f: f.attrs.__delitem__("format_version"),
                          FtiMissingFieldError, MissingFieldError, "/@format_version", False),
    "missing column": (lambda f: f["index"].__delitem__("added"),
                       FtiMissingFieldError, MissingFieldError, "/index/added", False),
    "missing item group": (lambda f: f["items"].__delitem__("art-2-o00"),
                           FtiMissingFieldError, MissingFieldError, "/items/art-2-o00", False),
    "unknown category": (lambda f: _set_text(f, "category", 1, "weapon"),
                         UnknownFtiCategoryError, InvalidMetadataError,
                         "/index/category[1]", False),
    "duplicate id": (lambda f: _set_text(f, "fti_id", 2, "art-1-o00"),
                     DuplicateFtiIdError, InvalidMetadataError, "/index/fti_id[2]", False),
    "bad date": (lambda f: _set_text(f, "added", 0, "2026-13-01"),
                 FtiInvalidMetadataError, InvalidMetadataError, "/index/added[0]", False),
    "NaN angle": (lambda f: f["index/orientation_deg"].__setitem__((1, 2), np.nan),
                  FtiNonFiniteValueError, NonFiniteValueError,
                  "/index/orientation_deg[1]", False),
    "text column of numbers": (lambda f: _rewrite(f["index"], "source", np.zeros(3)),
                               FtiWrongDtypeError, WrongDtypeError, "/index/source", False),
    "short column": (lambda f: f["index/pixel_pitch_mm"].resize((2,)),
                     FtiShapeMismatchError, ShapeMismatchError, "/index/pixel_pitch_mm", False),
    "index shape": (lambda f: f["index/shape"].__setitem__(1, [7, 10]),
                    FtiShapeMismatchError, ShapeMismatchError, f"{ITEM}/high", True),
    "newer version": (lambda f: f.attrs.__setitem__("format_version", np.int64(2)),
                      UnsupportedFtiLibraryVersionError, UnsupportedFormatVersionError,
                      "/@format_version", False),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corrupted_file_raises_typed_error_naming_file_and_field(small: Path, name: str) -> None:
    corrupt, error, generic, field, at_load = CORRUPTIONS[name]
    with h5py.File(small, "r+") as f:
        corrupt(f)
    with pytest.raises(error) as caught:
        read_library(small).load("art-1-o01") if at_load else read_library(small)
    exc = caught.value
    assert isinstance(exc, FtiLibraryError) and isinstance(exc, generic)
    assert exc.path == small and exc.field == field
    assert str(small) in str(exc) and field in str(exc)


def test_files_that_are_not_libraries(tmp_path: Path, small: Path) -> None:
    with pytest.raises(FtiFileNotFoundError):
        read_library(tmp_path / "absent.h5")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all" * 10)
    with pytest.raises(NotAnFtiLibraryError):
        read_library(junk)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.attrs["format"] = "screener-scan"
    with pytest.raises(NotAnFtiLibraryError) as caught:
        read_library(other)
    assert caught.value.field == "/@format"
    with pytest.raises(ScreenerError):
        read_library(small).load("no-such-id")


# --------------------------------------------------------------------------- build


def test_threat_classes_map_to_tip_categories() -> None:
    assert set(CATEGORY_OF) == set(THREAT_MAKERS)
    assert {CATEGORY_OF[c] for c in ("handgun", "gun_part", "ammunition")} == {FtiCategory.GUN}
    assert CATEGORY_OF["knife"] is FtiCategory.KNIFE
    assert {CATEGORY_OF["ied"], CATEGORY_OF["grenade"]} == {FtiCategory.IED}


def test_tiny_build_has_distinct_articles_in_every_category(tiny: Path) -> None:
    library = read_library(tiny)
    assert len(library) == 18
    articles = library.by_article()
    assert len(articles) == 6 and all(len(r) == 3 for r in articles.values())
    assert {c: len({r.article_id for r in rs}) for c, rs in library.by_category().items()} == {
        FtiCategory.GUN: 2, FtiCategory.KNIFE: 2, FtiCategory.IED: 2}
    assert [r.subcategory for r in library.items[::3]] == [
        "handgun", "knife", "ied", "gun_part", "knife", "grenade"]
    assert len({r.orientation_deg for r in library.items}) == 18
    assert all(r.pixel_pitch_mm == 0.5 and r.scanner_profile == "cabin-160kv-dual-layer"
               and r.added == ADDED for r in library.items)


def test_articles_of_one_class_differ_in_size_and_material() -> None:
    # articles 1 and 4 of a build are both knives: different draws of the knife maker
    knives = [make_article(TINY.seed, i) for i in (1, 4)]
    assert [k.label for k in knives] == ["knife", "knife"]
    lengths = [float(np.ptp(k.world_corners()[:, 0])) for k in knives]
    materials = [sorted({p.material for p in k.parts}) for k in knives]
    assert abs(lengths[0] - lengths[1]) > 10.0, lengths
    assert materials[0] != materials[1]
    # seen face-on through the same physics, they differ in extent and attenuation
    profile = get_profile(TINY.profile)
    shots = [capture(k, (0.0, 0.0, 0.0), profile, 0.5) for k in knives]
    assert shots[0].high.shape != shots[1].high.shape
    a_mean = [float(-np.log(s.high[s.mask]).mean()) for s in shots]
    assert abs(a_mean[0] - a_mean[1]) > 0.05 * max(a_mean), a_mean


def test_captures_mask_every_pixel_with_material_and_keep_transmission_in_range() -> None:
    profile = get_profile(TINY.profile)
    rng = np.random.default_rng(0)
    for index in range(6):
        shot = capture(make_article(TINY.seed, index), uniform_orientation_deg(rng), profile, 0.5)
        assert shot.in_beam.any() and not (shot.in_beam & ~shot.mask).any()
        for t in (shot.high, shot.low):
            assert t.dtype == np.float32 and float(t.min()) > 0.0 and float(t.max()) <= 1.0
            assert (t[~shot.mask] == 1.0).all() and (t[shot.mask] < 1.0).mean() > 0.9
            steps = t.astype(np.float64) / TRANSMISSION_STEP
            assert np.array_equal(steps, np.round(steps))  # on the 16-bit grid
        # cropped to the mask with a 2-pixel open-beam margin on every side
        rows, cols = np.flatnonzero(shot.mask.any(1)), np.flatnonzero(shot.mask.any(0))
        assert (rows[0], cols[0]) == (2, 2)
        assert (rows[-1], cols[-1]) == (shot.mask.shape[0] - 3, shot.mask.shape[1] - 3)


def test_built_images_are_valid_and_crops_vary(tiny: Path) -> None:
    images = list(read_library(tiny).images())
    assert len({i.shape for i in images}) == len(images)
    for image in images:
        assert image.mask.any() and not image.mask.all()
        assert float(image.low.min()) > 0.0 and float(image.high.max()) <= 1.0
    # low-energy transmission is lower: attenuation falls with energy
    assert all(float(i.low[i.mask].mean()) < float(i.high[i.mask].mean()) for i in images)


def test_same_seed_same_bytes_whatever_the_jobs(tiny: Path, tmp_path: Path) -> None:
    again = build_library(tmp_path / "again.h5", TINY, jobs=2)
    assert again.read_bytes() == tiny.read_bytes()
    other = build_library(tmp_path / "other.h5", replace(TINY, seed=6, articles=1), jobs=1)
    first = read_library(tiny).load(read_library(tiny).items[0].fti_id)
    second = read_library(other).load(read_library(other).items[0].fti_id)
    assert first.shape != second.shape or not np.array_equal(first.high, second.high)


def test_orientations_are_uniform_over_3d_rotations() -> None:
    rng = np.random.default_rng(1)
    tilts = np.array([tilt_deg(uniform_orientation_deg(rng)) for _ in range(4000)])
    # |cos(tilt)| is uniform on [0, 1] for uniformly random rotations
    shares = [np.mean(tilts < 30), np.mean((tilts >= 30) & (tilts < 60)), np.mean(tilts >= 60)]
    expected = [1 - math.cos(math.radians(30)), math.cos(math.radians(30)) - 0.5, 0.5]
    assert np.allclose(shares, expected, atol=0.03), shares


def test_build_settings_are_checked() -> None:
    with pytest.raises(ScreenerError):
        BuildSettings(articles=0, orientations=3)
    with pytest.raises(ScreenerError):
        BuildSettings(articles=1, orientations=1, added="yesterday")
    with pytest.raises(ScreenerError):
        BuildSettings(articles=1, orientations=1, seed=-1)


# --------------------------------------------------------------------------- check


def test_check_counts_the_tiny_build_and_names_the_failing_figures(tiny: Path) -> None:
    report = check_library(read_library(tiny), AS_OF)
    assert (report.images, report.articles) == (18, 6)
    assert {k: (v.images, v.articles) for k, v in report.categories.items()} == {
        "gun": (6, 2), "knife": (6, 2), "ied": (6, 2), "other": (0, 0)}
    assert report.orientation.per_article_min == report.orientation.per_article_max == 3
    assert report.added_last_365_days == 18 and report.due_for_replacement == 0
    assert [(f.name, f.actual, f.required) for f in report.failing] == [
        ("images", 18, MIN_IMAGES), ("articles", 6, MIN_ARTICLES), ("replaced_per_year", 18, 100)]
    assert not report.compliant


def test_check_cli_exit_codes_and_output(tiny: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tip", "library", "check", str(tiny), "--as-of", "2026-11-23"]) == 1
    out = capsys.readouterr().out
    assert "NOT COMPLIANT: images 18 < 6000; articles 6 < 250; replaced_per_year 18 < 100" in out
    assert "gun         6 images of 2 articles" in out
    assert main(["tip", "library", "check", str(tiny), "--json", "--as-of", "2027-12-01"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["failing"] == ["images", "articles", "replaced_per_year"]
    assert data["added_last_365_days"] == 0 and data["compliant"] is False
    broken = tmp_path / "broken.h5"
    shutil.copy(tiny, broken)
    with h5py.File(broken, "r+") as f:
        f["index/category"][0] = "weapon"
    assert main(["tip", "library", "check", str(broken)]) == 2
    assert "/index/category[0]" in capsys.readouterr().err
    assert main(["tip", "library", "check", str(tmp_path / "absent.h5")]) == 2


def _records(count: int, articles: int, added: Callable[[int], str]) -> tuple[FtiRecord, ...]:
    categories = (FtiCategory.GUN, FtiCategory.KNIFE, FtiCategory.IED)
    return tuple(
        FtiRecord(f"a{i % articles}-o{i // articles}", f"a{i % articles}",
                  categories[i % articles % 3], "sub", (float(i % 360 - 180), 0.0, 0.0),
                  "test", added(i), "cabin-160kv-dual-layer", 0.5, (4, 4))
        for i in range(count)
    )


def test_check_replacement_figures_on_a_full_size_index(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str],
                                                        ) -> None:
    def added(i: int) -> str:  # 150 this year, 2,000 more than five years old
        return "2026-06-01" if i < 150 else "2020-01-01" if i < 2150 else "2023-03-03"

    library = FtiLibrary(tmp_path / "index-only.h5", _records(MIN_IMAGES, MIN_ARTICLES, added))
    report = check_library(library, AS_OF)
    assert report.compliant and report.added_last_365_days == 150
    assert report.due_for_replacement == 2000
    assert report.oldest_added == "2020-01-01"
    assert check_library(library, AS_OF, replace_after_years=2).due_for_replacement == 6000 - 150
    late = check_library(library, date(2027, 6, 2))
    assert [f.name for f in late.failing] == ["replaced_per_year"]
    monkeypatch.setattr(tip_command, "read_library", lambda _: library)
    assert main(["tip", "library", "check", "x.h5", "--index-only", "--as-of", "2026-11-23"]) == 0
    assert "compliant: meets every ICAO figure" in capsys.readouterr().out
    short = FtiLibrary(library.path, library.items[:5999])
    monkeypatch.setattr(tip_command, "read_library", lambda _: short)
    assert main(["tip", "library", "check", "x.h5", "--index-only", "--as-of", "2026-11-23"]) == 1
    assert "NOT COMPLIANT: images 5999 < 6000" in capsys.readouterr().out


# --------------------------------------------------------------------------- import, export


def test_import_merges_skips_identical_and_refuses_conflicts(small: Path, tmp_path: Path) -> None:
    other = write_library(tmp_path / "other.h5", [
        synthetic("art-1-o00", seed=1),  # identical
        synthetic("art-9-o00", "art-9", seed=7),  # new
    ])
    summary = import_into(other, small)
    assert (summary.added, summary.identical) == (1, 1)
    assert len(read_library(small)) == 4
    conflicting = write_library(tmp_path / "conflict.h5", [
        synthetic("art-8-o00", "art-8", seed=8),
        synthetic("art-1-o01", seed=99),  # same id as in small, other pixels
    ])
    before = small.read_bytes()
    with pytest.raises(FtiConflictError) as caught:
        import_into(conflicting, small)
    assert caught.value.path == conflicting and "art-1-o01" in str(caught.value)
    assert small.read_bytes() == before  # nothing imported
    created = import_into(other, tmp_path / "new.h5")
    assert created.added == 2 and len(read_library(tmp_path / "new.h5")) == 2


def test_export_and_import_folder_round_trip(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    assert export_folder(read_library(tiny), out) == 18
    files = sorted(out.glob("*.npz"))
    assert len(files) == 18
    with np.load(files[0], allow_pickle=False) as data:  # readable by any numpy tool
        assert set(data.files) == {"high", "low", "mask", "metadata"}
        assert json.loads(str(data["metadata"]))["category"] == "gun"
    target = tmp_path / "back.h5"
    assert import_into(out, target).added == 18
    original, back = read_library(tiny), read_library(target)
    assert [r.fti_id for r in back.items] == sorted(r.fti_id for r in original.items)
    for record in original.items:
        assert same_content(original.load(record.fti_id), back.load(record.fti_id))
    assert import_into(out, target).identical == 18


def test_bad_exported_items_raise_typed_errors(tmp_path: Path) -> None:
    image = synthetic()
    good = tmp_path / "good.npz"
    write_npz(good, image)
    assert_same(read_npz(good), image)
    missing = tmp_path / "missing.npz"
    np.savez(missing, high=image.high, low=image.low, metadata=np.array("{}"))
    with pytest.raises(FtiMissingFieldError) as caught:
        read_npz(missing)
    assert caught.value.path == missing and caught.value.field == "mask"
    meta = json.loads(str(np.load(good)["metadata"]))
    meta["category"] = "weapon"
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, high=image.high, low=image.low, mask=image.mask,
             metadata=np.array(json.dumps(meta)))
    with pytest.raises(UnknownFtiCategoryError) as caught:
        read_npz(wrong)
    assert caught.value.field == "metadata.category"
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, high=image.high, low=image.low, mask=image.mask,
             metadata=np.array([{"a": 1}], dtype=object))
    with pytest.raises(FtiWrongDtypeError):
        read_npz(pickled)
    folder = tmp_path / "dupes"
    folder.mkdir()
    write_npz(folder / "one.npz", image)
    write_npz(folder / "two.npz", image)
    with pytest.raises(DuplicateFtiIdError):
        import_into(folder, tmp_path / "lib.h5")
    assert not (tmp_path / "lib.h5").exists()


def test_cli_build_export_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lib = tmp_path / "cli.h5"
    assert main(["tip", "library", "build", "--out", str(lib), "--articles", "2",
                 "--orientations", "2", "--seed", "3", "--jobs", "1",
                 "--added", ADDED]) == 0
    assert "wrote 4 images of 2 articles" in capsys.readouterr().out
    assert main(["tip", "library", "export", str(lib), "--out", str(tmp_path / "x")]) == 0
    assert main(["tip", "library", "import", str(tmp_path / "x"),
                 "--into", str(tmp_path / "y.h5")]) == 0
    assert "imported 4 images" in capsys.readouterr().out
    assert main(["tip", "library", "import", str(lib), "--into", str(tmp_path / "y.h5")]) == 0
    assert "4 already there" in capsys.readouterr().out
    assert main(["tip", "library", "build", "--out", str(lib), "--articles", "0"]) == 2
