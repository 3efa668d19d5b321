"""``screener detect``, run in-process on small synthetic scans and tiny models."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from onnx_builders import (
    COCO_LIKE,
    manifest_document,
    sha256_of,
    ultralytics_metadata,
    v8_tensor,
    write_manifest,
    write_model,
)

from screener.scan import Scan, ScanMetadata, SourceKind, View, write_scan

Run = Callable[..., tuple[int, str, str]]

# 40 x 64 views in a 64 x 64 input: scale 1, 12 rows of padding above. Model box
# (cx 32, cy 32, w 32, h 16) = corners (16, 24, 48, 40) = view (16, 12, 48, 28).
VIEW_BOX = [16.0, 12.0, 48.0, 28.0]


@pytest.fixture
def run(isolated_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``run("COMMAND", ...)`` through ``screener.cli.main`` -> (status, out, err)."""
    return isolated_cli


def write_test_scan(path: Path, *, kind: SourceKind = SourceKind.DUAL_ENERGY,
                    profile: str = "cabin-160kv-dual-layer", views: int = 2) -> Path:
    rng = np.random.default_rng(3)
    made = []
    for name in ("top", "side")[:views]:
        high = rng.uniform(0.2, 1.0, (40, 64)).astype(np.float32)
        made.append(View(
            name=name,
            high=high,
            low=(high * 0.8).astype(np.float32) if kind.is_dual_energy else None,
            full_scale=1.0,
            pixel_pitch_mm=(1.0, 1.0),
        ))
    metadata = ScanMetadata(
        bag_id="BAG-DETECT", station="s", lane="l",
        acquired_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), source="test",
        source_kind=kind, scanner_profile=profile, channel_low="low", channel_high="high",
    )
    return write_scan(path, Scan(metadata, tuple(made)))


def greyscale_model(tmp_path: Path) -> Path:
    out = v8_tensor([(32, 32, 32, 16), (60, 4, 4, 4)], [[0.1, 0.8, 0.0], [0.0, 0.0, 0.9]])
    path = write_model(tmp_path / "threats.onnx", out, channels=1)
    write_manifest(tmp_path / "threats.json", manifest_document(sha256=sha256_of(path)))
    return path


def test_detect_json(run: Run, tmp_path: Path) -> None:
    scan = write_test_scan(tmp_path / "bag.h5")
    model = greyscale_model(tmp_path)
    code, out, err = run("detect", scan, "--model", model, "--json", "--threads", "2")
    assert code == 0, err
    report = json.loads(out)
    assert report["scan_sha256"] == hashlib.sha256(scan.read_bytes()).hexdigest()
    assert report["bag_id"] == "BAG-DETECT"
    assert report["model"]["sha256"] == sha256_of(model)
    assert report["model"]["manifest"] == "sidecar"
    assert report["model"]["input_kind"] == "greyscale"
    assert report["threads"] == 2
    assert [v["name"] for v in report["views"]] == ["top", "side"]
    for view in report["views"]:
        assert (view["rows"], view["columns"]) == (40, 64)
        # (60, 4, 4, 4) lies in the padding above the view: dropped
        assert view["detections"] == [{
            "view": view["name"], "class": "knife", "category": "knife", "threat": True,
            "score": pytest.approx(0.8), "box": VIEW_BOX,
        }]
    assert (report["detections"], report["threats"]) == (2, 2)


def test_detect_text_and_one_view(run: Run, tmp_path: Path) -> None:
    scan = write_test_scan(tmp_path / "bag.h5")
    code, out, err = run("detect", scan, "--model", greyscale_model(tmp_path),
                         "--view", "side")
    assert code == 0 and err == ""
    assert "view side: 1 detection" in out and "view top" not in out
    assert "knife" in out and "THREAT" in out and "x 16.0-48.0  y 12.0-28.0" in out


def test_pseudo_colour_model_uses_the_display_rendering(run: Run, tmp_path: Path) -> None:
    scan = write_test_scan(tmp_path / "bag.h5")
    out_tensor = v8_tensor([(32, 32, 32, 16)], [[0.0, 0.9, 0.0]])
    model = write_model(tmp_path / "yolo11n.onnx", out_tensor,
                        metadata=ultralytics_metadata(COCO_LIKE))
    code, out, err = run("detect", scan, "--model", model, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["model"]["manifest"] == "ultralytics-metadata"
    assert report["input"] == "display rendering 'standard'"
    assert report["views"][0]["detections"][0]["class"] == "pistol"
    assert report["views"][0]["detections"][0]["box"] == VIEW_BOX


def one_line_error(code: int, out: str, err: str) -> str:
    assert code == 2
    assert out == ""
    assert err.startswith("screener: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_no_model_says_how_to_pass_one(run: Run, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from screener.cli import detect_command

    monkeypatch.setattr(detect_command, "shipped_model", lambda *_: None)
    scan = write_test_scan(tmp_path / "bag.h5")
    err = one_line_error(*run("detect", scan))
    assert "no detection model is installed" in err and "--model PATH" in err


def test_failures_are_one_line(run: Run, tmp_path: Path) -> None:
    scan = write_test_scan(tmp_path / "bag.h5")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08\x01garbage")
    err = one_line_error(*run("detect", scan, "--model", broken))
    assert str(broken) in err and "not an ONNX model" in err
    model = greyscale_model(tmp_path)
    err = one_line_error(*run("detect", scan, "--model", model, "--view", "front"))
    assert "no view named 'front'; this scan has: top, side" in err
    err = one_line_error(*run("detect", tmp_path / "missing.h5", "--model", model))
    assert "missing.h5" in err
    (tmp_path / "threats.json").write_text("{}", encoding="utf-8")
    err = one_line_error(*run("detect", scan, "--model", model))
    assert "manifest field 'manifest_version': is missing" in err


def test_dual_energy_model_on_a_single_energy_scan(run: Run, tmp_path: Path) -> None:
    scan = write_test_scan(tmp_path / "bag.h5", kind=SourceKind.SINGLE_ENERGY)
    out_tensor = v8_tensor([(32, 32, 32, 16)], [[0.0, 0.9, 0.0]])
    model = write_model(tmp_path / "de.onnx", out_tensor, channels=2)
    write_manifest(tmp_path / "de.json",
                   manifest_document(sha256=sha256_of(model), kind="dual-energy"))
    err = one_line_error(*run("detect", scan, "--model", model))
    assert "no low-energy channel" in err


def test_uncalibrated_profile_cannot_make_pseudo_colour(run: Run, tmp_path: Path) -> None:
    scan = write_test_scan(tmp_path / "bag.h5", profile="unknown-scanner")
    out_tensor = v8_tensor([(32, 32, 32, 16)], [[0.0, 0.9, 0.0]])
    model = write_model(tmp_path / "yolo.onnx", out_tensor,
                        metadata=ultralytics_metadata(COCO_LIKE))
    err = one_line_error(*run("detect", scan, "--model", model))
    assert "view 'top': the model takes the pseudo-colour display rendering" in err
    assert "unknown-scanner" in err


def test_bad_thread_counts_are_refused(run: Run, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    scan = write_test_scan(tmp_path / "bag.h5")
    with pytest.raises(SystemExit) as caught:
        run("detect", scan, "--model", greyscale_model(tmp_path), "--threads", "-1")
    assert caught.value.code == 2
    assert "--threads: must be 0 (one per core) or more" in capsys.readouterr().err
