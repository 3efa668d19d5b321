"""``screener render FILE --filter NAME [--view V] --out PNG``, run in-process."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

import screener.cli
from screener.cli import render_command


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No real home, config file or SCREENER_* variable reaches these tests; the render
    command is registered even where screener/cli/__init__.py does not list it yet."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("SCREENER_CONFIG", "SCREENER_HOME", "SCREENER_STATION", "SCREENER_LANE",
                 "SCREENER_MAX_VIEW_PIXELS", "SCREENER_MAX_VIEWS"):
        monkeypatch.delenv(name, raising=False)
    build = screener.cli.build_parser

    def with_render() -> argparse.ArgumentParser:
        parser = build()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction) and "render" not in action.choices:
                render_command.register(action)
        return parser

    monkeypatch.setattr(screener.cli, "build_parser", with_render)


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    def call(*args: str | Path) -> tuple[int, str, str]:
        code = screener.cli.main(["--home", str(tmp_path / "data"), "render", *map(str, args)])
        out, err = capsys.readouterr()
        return code, out, err

    return call


def one_line_error(code: int, out: str, err: str) -> str:
    assert code == 2
    assert out == ""
    assert err.startswith("screener: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_render_writes_the_view_as_png(run: Callable[..., tuple[int, str, str]],
                                       scan_file: Callable[..., Path], tmp_path: Path) -> None:
    path = scan_file(views=2, shape=(30, 50))
    out = tmp_path / "side.png"
    code, stdout, err = run(path, "--filter", "greyscale", "--view", "side", "--out", out)
    assert code == 0, err
    assert "side" in stdout and str(out) in stdout
    image = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert image.shape == (30, 50, 3) and image.dtype == np.uint8
    assert (image[..., 0] == image[..., 1]).all()  # greyscale


def test_adjustment_flags_override_the_preset(run: Callable[..., tuple[int, str, str]],
                                              scan_file: Callable[..., Path],
                                              tmp_path: Path) -> None:
    path = scan_file(shape=(30, 50))
    plain, inverted = tmp_path / "plain.png", tmp_path / "inverted.png"
    assert run(path, "--filter", "inverse", "--no-invert", "--out", plain)[0] == 0
    assert run(path, "--filter", "greyscale", "--invert", "--out", inverted)[0] == 0
    a = cv2.imread(str(plain)).astype(int)
    b = cv2.imread(str(inverted)).astype(int)
    assert np.array_equal(a, 255 - b)


@pytest.mark.parametrize(("args", "words"), [
    (("--filter", "x-ray-vision"), "unknown enhancement function 'x-ray-vision'"),
    (("--filter", "standard", "--view", "front"), "no view named 'front'"),
    (("--filter", "standard", "--gamma", "0"), "gamma"),
    (("--filter", "variable-density", "--window", "3", "1"), "window"),
])  # fmt: skip
def test_bad_requests_end_in_one_line(run: Callable[..., tuple[int, str, str]],
                                      scan_file: Callable[..., Path], tmp_path: Path,
                                      args: tuple[str, ...], words: str) -> None:
    path = scan_file(shape=(30, 50))
    err = one_line_error(*run(path, *args, "--out", tmp_path / "x.png"))
    assert words in err
    assert not (tmp_path / "x.png").exists()


def test_unavailable_filter_says_why(run: Callable[..., tuple[int, str, str]],
                                     tmp_path: Path) -> None:
    grey = tmp_path / "grey.png"
    cv2.imwrite(str(grey), np.tile(np.arange(0, 250, 5, dtype=np.uint8), (20, 1)))
    err = one_line_error(*run(grey, "--filter", "organic-only", "--out", tmp_path / "x.png"))
    assert "Organic only is unavailable" in err and "single-energy" in err
    code, _, err = run(grey, "--filter", "super-enhancement", "--out", tmp_path / "ok.png")
    assert code == 0, err


def test_uncalibrated_scanner_profile_says_why(run: Callable[..., tuple[int, str, str]],
                                               scan_file: Callable[..., Path],
                                               tmp_path: Path) -> None:
    path = scan_file(shape=(30, 50))  # profile "cabin-160kV" has no shipped calibration
    err = one_line_error(*run(path, "--filter", "standard", "--out", tmp_path / "x.png"))
    assert "no dual-energy calibration" in err


def test_missing_file_is_one_line(run: Callable[..., tuple[int, str, str]],
                                  tmp_path: Path) -> None:
    err = one_line_error(*run(tmp_path / "absent.h5", "--filter", "standard",
                              "--out", tmp_path / "x.png"))
    assert "absent.h5" in err
