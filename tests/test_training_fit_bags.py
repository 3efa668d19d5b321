"""The training bags written as scan files (training/fit_bags.py), which the model card's
fit diagnosis is scored on: they must be the very bags training simulates, and
``eval-detector`` must read them. No PyTorch is needed, so these run in CI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from screener.detect.datasets import read_dataset
from screener.scan.hdf5 import read_ground_truth, read_scan
from training.data import DATA_VERSION, plan_jobs, simulate_job
from training.fit_bags import MANIFEST_NAME, is_written, main, write_fit_bags

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fit_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fit")
    write_fit_bags(out, seed=0, bags=2, workers=1)
    return out


def test_the_bags_are_training_bags_as_training_simulates_them(fit_folder: Path) -> None:
    manifest = json.loads((fit_folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["files"] == ["bag-0001.h5", "bag-0002.h5"] and manifest["refused"] == []
    for job, name in zip(plan_jobs(0, 2, 0), manifest["files"], strict=True):
        simulated = simulate_job(job)
        assert simulated is not None
        written = read_scan(fit_folder / name)
        for mine, theirs in zip(written.views, simulated.scan.views, strict=True):
            assert mine.name == theirs.name
            np.testing.assert_array_equal(mine.high, theirs.high)
        truth = read_ground_truth(fit_folder / name)
        assert truth is not None
        assert truth.threat_labels == set(job.threats)


def test_eval_detector_reads_the_folder(fit_folder: Path) -> None:
    dataset = read_dataset(fit_folder, "scan")
    assert len(dataset.samples) == 4  # two bags, two views each
    planned = [c for job in plan_jobs(0, 2, 0) for c in job.threats]
    threats_in_views = {o.name for s in dataset.samples for o in s.objects}
    assert threats_in_views == set(planned)


def test_a_folder_counts_as_written_only_for_the_same_seed_bags_and_simulator(
        fit_folder: Path, tmp_path: Path) -> None:
    assert is_written(fit_folder, 0, 2)
    assert not is_written(fit_folder, 0, 3)
    assert not is_written(fit_folder, 1, 2)
    assert not is_written(tmp_path, 0, 2)
    stale = json.loads((fit_folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    stale["data_version"] = DATA_VERSION + "-old"
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(stale), encoding="utf-8")
    assert not is_written(tmp_path, 0, 2)
    (tmp_path / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    assert not is_written(tmp_path, 0, 2)


def test_no_bags_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path / "fit"), "--bags", "0"])
    assert exit_info.value.code == 2
    assert "--bags must be at least 1, not 0" in capsys.readouterr().err
    assert not (tmp_path / "fit").exists()


def test_bags_written_before_are_replaced_not_scored_again(tmp_path: Path) -> None:
    (tmp_path / "bag-0007.h5").write_bytes(b"an older, larger set")
    (tmp_path / "notes.txt").write_text("kept", encoding="utf-8")
    assert write_fit_bags(tmp_path, seed=0, bags=1) == ["bag-0001.h5"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bag-0001.h5", MANIFEST_NAME, "notes.txt"]


def test_the_fit_is_scored_on_the_seed_the_models_were_trained_with(tmp_path: Path) -> None:
    from training.run_evaluations import training_seed

    assert training_seed(ROOT / "models") == json.loads(
        (ROOT / "models" / "training-metrics.json").read_text())["args"]["seed"]
    (tmp_path / "training-metrics.json").write_text('{"args": {"seed": 3}}', encoding="utf-8")
    assert training_seed(tmp_path) == 3
    (tmp_path / "training-metrics.json").write_text("{broken", encoding="utf-8")
    assert training_seed(tmp_path) == 0
    assert training_seed(tmp_path / "absent") == 0
