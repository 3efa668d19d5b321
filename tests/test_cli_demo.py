"""`screener demo` and `screener simulate`: files that validate, a manifest, clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from screener.cli import main
from screener.demo import plan_kinds, plan_threats, write_demo
from screener.errors import SimulationError
from screener.scan import read_ground_truth, read_scan
from screener.scan.store import file_sha256


def test_demo_writes_validating_scans_and_a_manifest(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["--home", str(tmp_path), "demo", "--out", str(out), "--bags", "2",
                 "--seed", "4", "--threat-fraction", "1", "--jobs", "1"])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert [item["file"] for item in manifest["items"]] == ["bag-0001.h5", "bag-0002.h5"]
    for item in manifest["items"]:
        path = out / item["file"]
        assert file_sha256(path) == item["sha256"]
        assert read_scan(path).metadata.bag_id == item["bag_id"]
        truth = read_ground_truth(path)
        assert truth is not None and truth.threat_labels, "threat fraction 1: every bag armed"
        assert "threat" not in json.dumps(item), "the manifest must not leak ground truth"
    assert "wrote 2 scans" in capsys.readouterr().out


def test_demo_bags_depend_only_on_seed_and_index(tmp_path):
    when = datetime(2026, 11, 23, tzinfo=UTC)
    one = write_demo(tmp_path / "a", 2, seed=9, jobs=1, start=when)
    two = write_demo(tmp_path / "b", 3, seed=9, jobs=2, start=when)
    assert [i.sha256 for i in one] == [i.sha256 for i in two[:2]]


def test_threat_plan_follows_the_fraction():
    plans = plan_threats(seed=1, count=400, threat_fraction=0.25)
    armed = sum(1 for p in plans if p)
    assert 70 <= armed <= 130
    assert plan_threats(1, 50, 0.0) == [()] * 50
    kinds = plan_kinds(1, 400)
    assert kinds.count("suitcase") > kinds.count("backpack") > kinds.count("tray") > 0


def test_demo_refuses_nonsense_with_a_clear_error(tmp_path, capsys):
    with pytest.raises(SimulationError):
        plan_threats(1, 5, 1.5)
    code = main(["demo", "--out", str(tmp_path), "--bags", "0"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "at least one" in err


def test_simulate_bag_command_writes_the_requested_threat(tmp_path, capsys):
    out = tmp_path / "bag.h5"
    code = main(["--home", str(tmp_path), "simulate", "bag", "--kind", "tray", "--seed", "2",
                 "--threat", "knife", "--out", str(out)])
    assert code == 0
    truth = read_ground_truth(out)
    assert truth is not None and truth.threat_labels == {"knife"}
    assert read_scan(out).metadata.bag_id.startswith("SIM-TRAY-")
    assert str(out) in capsys.readouterr().out
