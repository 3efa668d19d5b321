"""ModelAi: the ONNX detector runtime as the workflow's AI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_synthetic_scan
from onnx_builders import manifest_document, sha256_of, v8_tensor, write_manifest, write_model

from screener.audit.log import open_audit_log
from screener.audit.query import events_in_range
from screener.detect.errors import DetectorUnavailableError
from screener.detect.runtime import Detector as ModelRuntime
from screener.detect.shipped import GREYSCALE_MODEL, STANDARD_MODEL
from screener.scan import SourceKind
from screener.workflow.ai import AiStatus
from screener.workflow.model_ai import NO_MODEL, ModelAi
from screener.workflow.roles import Role
from screener.workflow.session import IncomingBag, Operator, ScreeningSession

SHA = "12" * 32
#: cx, cy, w, h in the tiny model's 64 x 64 input
BOX_IN_MODEL = (32.0, 32.0, 32.0, 16.0)


@pytest.fixture
def tiny_model(tmp_path):
    """A greyscale model that always finds one handgun (0.8) and one laptop (0.4)."""
    out = v8_tensor([BOX_IN_MODEL, (10, 10, 8, 8)], [[0.8, 0.0, 0.0], [0.0, 0.0, 0.4]])
    path = write_model(tmp_path / "tiny.onnx", out, channels=1)
    write_manifest(tmp_path / "tiny.json", manifest_document(sha256=sha256_of(path)))
    return path


def test_model_ai_is_the_sessions_detector_and_the_log_names_its_model(tiny_model, tmp_path):
    ai = ModelAi(tiny_model)
    log = open_audit_log(tmp_path / "home", "st-1")
    session = ScreeningSession(log, Operator("op", Role.SCREENER), detector=ai)
    session.start()
    scan, _ = make_synthetic_scan(views=2, kind="single-energy")
    session.receive(IncomingBag(SHA, scan, "file"))
    result = session.run_ai()
    assert result.status is AiStatus.OK
    assert result.model_sha256 == sha256_of(tiny_model) == ai.model_sha256
    assert ai.name == "tiny-threats 0.0.1"
    # one handgun and one laptop in each view, boxes in view pixels
    assert [(d.view, d.label, d.category) for d in result.detections] == [
        ("top", "handgun", "gun"), ("top", "laptop", "benign"),
        ("side", "handgun", "gun"), ("side", "laptop", "benign")]
    rows, cols = scan.views[0].shape
    for d in result.detections:
        x0, y0, x1, y1 = d.box
        assert 0 <= x0 < x1 <= cols and 0 <= y0 < y1 <= rows
    (event,) = [e for e in events_in_range(log.engine, "st-1", 1, 100) if e.kind == "ai.result"]
    assert event.model_sha256 == sha256_of(tiny_model)
    assert json.loads(event.payload)["detector"] == "tiny-threats 0.0.1"


def test_analyse_uses_the_images_it_is_given_instead_of_rendering(tiny_model):
    ai = ModelAi(tiny_model)
    scan, _ = make_synthetic_scan(kind="single-energy", shape=(40, 64))
    rendered = ai.analyse(scan, SHA)
    given = ai.analyse(scan, SHA, {"top": np.full((400, 640), 200, np.uint8)})
    # the same model box lands ten times larger in an image ten times the size
    assert given.detections[0].box == pytest.approx(
        tuple(10 * v for v in rendered.detections[0].box), rel=1e-3)


def test_the_ai_fuses_a_scans_views_when_the_manifest_asks(tiny_model, tmp_path):
    """The synthetic scan's side view runs the belt the other way, so the centred handgun
    lies at one belt position in both views and the off-centre laptop does not: the
    handgun is backed by its partner, the laptop, alone, halves to under the threshold."""
    document = manifest_document(sha256=sha256_of(tiny_model), score=0.3)
    document["view_fusion"] = {"belt_overlap": 0.7, "partner_weight": 0.75,
                               "alone_factor": 0.5}
    write_manifest(tmp_path / "tiny.json", document)
    scan, _ = make_synthetic_scan(views=2, kind="single-energy")
    result = ModelAi(tiny_model).analyse(scan, SHA)
    assert [(d.view, d.label, round(d.score, 4)) for d in result.detections] == [
        ("top", "handgun", 0.92), ("side", "handgun", 0.92)]


def test_the_shipped_model_is_chosen_by_scan_kind():
    ai = ModelAi()
    assert ai.choice(SourceKind.SINGLE_ENERGY).path.name == GREYSCALE_MODEL
    assert ai.choice(SourceKind.SIMULATED_DUAL_ENERGY).path.name == STANDARD_MODEL
    assert ai.choice(SourceKind.PSEUDO_COLOUR).path.name == STANDARD_MODEL


def test_the_shipped_model_flags_a_simulated_bag_with_categories():
    from screener.sim.generate import simulate_bag

    sim = simulate_bag(90_000_001, "suitcase", ["handgun"])
    ai = ModelAi()
    assert ai.warm_up() is None
    result = ai.analyse(sim.scan, SHA)
    assert result.status is AiStatus.OK, result.reason
    manifest = json.loads((ai.choice(SourceKind.SIMULATED_DUAL_ENERGY).path
                           .with_suffix(".json")).read_text())
    assert result.model_sha256 == manifest["model_sha256"]
    assert result.detector == f"{manifest['name']} {manifest['version']}"
    assert {d.category for d in result.detections} <= {"gun", "knife", "ied", "other"}
    assert "gun" in {d.category for d in result.detections}
    # the same result through the protocol, as the session's run_ai gets it
    assert ai.detect(sim.scan, SHA) == list(result.detections)
    assert ai.model_sha256 == result.model_sha256


def test_no_model_installed_means_ai_unavailable_with_the_reason(tmp_path):
    ai = ModelAi(locate=lambda kind: None)
    scan, _ = make_synthetic_scan()
    result = ai.analyse(scan, SHA)
    assert result.status is AiStatus.UNAVAILABLE
    assert result.reason == NO_MODEL
    assert ai.warm_up() == NO_MODEL
    with pytest.raises(DetectorUnavailableError, match="no detection model is installed"):
        ai.detect(scan, SHA)
    log = open_audit_log(tmp_path / "home", "st-1")
    session = ScreeningSession(log, Operator("op", Role.SCREENER), detector=ai)
    session.start()
    session.receive(IncomingBag(SHA, scan, "file"))
    assert session.run_ai().status is AiStatus.UNAVAILABLE  # screening goes on


def test_a_model_that_fails_to_load_is_unavailable_and_retried_on_the_next_scan(tiny_model):
    attempts = []

    def flaky(path):
        attempts.append(path)
        if len(attempts) == 1:
            raise DetectorUnavailableError(path, "model file cannot be read: I/O error")
        return ModelRuntime.load(path)

    ai = ModelAi(tiny_model, loader=flaky)
    scan, _ = make_synthetic_scan(kind="single-energy")
    first = ai.analyse(scan, SHA)
    assert first.status is AiStatus.UNAVAILABLE and "I/O error" in first.reason
    assert ai.analyse(scan, SHA).status is AiStatus.OK
    assert ai.analyse(scan, SHA).status is AiStatus.OK
    assert len(attempts) == 2  # loaded once it worked


def test_a_view_the_model_cannot_take_is_unavailable_naming_the_view(tmp_path):
    out = v8_tensor([BOX_IN_MODEL], [[0.8, 0.0, 0.0]])
    path = write_model(tmp_path / "colour.onnx", out, channels=3)
    write_manifest(tmp_path / "colour.json",
                   manifest_document(sha256=sha256_of(path), kind="pseudo-colour"))
    scan, _ = make_synthetic_scan(kind="single-energy")
    result = ModelAi(path).analyse(scan, SHA)
    assert result.status is AiStatus.UNAVAILABLE
    assert "view 'top'" in result.reason and "standard" in result.reason
    assert result.model_sha256 == sha256_of(path)
