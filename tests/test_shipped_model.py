"""The models shipped in models/: present, within the size budget, pinned by their
manifests, and finding threats in simulated bags they never saw (seeds outside the
training and held-out ranges of training/data.py)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from screener.detect import Detector
from screener.detect.shipped import GREYSCALE_MODEL, STANDARD_MODEL, model_folders
from screener.scan import SourceKind, write_scan
from screener.sim.generate import simulate_bag

MODELS = model_folders()[0]
MAX_BYTES = 20 * 1024 * 1024
UNSEEN_SEEDS = (90_000_001, 90_000_002, 90_000_003, 90_000_004)


@pytest.mark.parametrize("name", [STANDARD_MODEL, GREYSCALE_MODEL])
def test_shipped_model_loads_with_its_manifest(name):
    path = MODELS / name
    assert path.is_file(), f"{path} is missing: `make model` makes it"
    assert path.stat().st_size <= MAX_BYTES
    detector = Detector.load(path)
    described = detector.describe()
    assert described["manifest"] == "sidecar"
    assert [c for c in json.loads(path.with_suffix(".json").read_text())["classes"]]
    assert described["classes"] == 6
    assert described["test_time_flips"] == ["horizontal"]  # thresholds are of fused scores
    # ... fused over a scan's views too, with the plan training evaluated with
    assert described["view_fusion"] == {"belt_overlap": 0.7, "partner_weight": 0.75,
                                        "alone_factor": 0.5}


def _iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


def _single_energy(scan):
    views = tuple(dataclasses.replace(v, low=None) for v in scan.views)
    meta = dataclasses.replace(scan.metadata, source_kind=SourceKind.SINGLE_ENERGY)
    return dataclasses.replace(scan, metadata=meta, views=views)


@pytest.mark.parametrize("single_energy", [False, True])
def test_detect_finds_handguns_in_unseen_bags(isolated_cli, tmp_path, single_energy):
    """`screener detect` with no --model picks the model for the scan's kind and finds
    most handguns of bags it never saw, at the shipped thresholds."""
    found = 0
    for seed in UNSEEN_SEEDS:
        sim = simulate_bag(seed, "suitcase", ["handgun"])
        scan = _single_energy(sim.scan) if single_energy else sim.scan
        path = write_scan(tmp_path / f"bag-{seed}.h5", scan)
        code, out, err = isolated_cli("detect", path, "--json")
        assert code == 0, err
        report = json.loads(out)
        expected = "screener-threats-grey" if single_energy else "screener-threats"
        assert report["model"]["name"] == expected
        for view in report["views"]:
            truth = [o.box for o in sim.truth.objects_by_view[view["name"]]
                     if o.label == "handgun"]
            boxes = [d["box"] for d in view["detections"] if d["class"] == "handgun"]
            found += any(_iou(t, b) >= 0.3 for t in truth for b in boxes)
    assert found >= int(np.ceil(0.75 * 2 * len(UNSEEN_SEEDS)))
