"""The model card's reading of the training record (training/model_card.py): whether more
steps are the first thing to try, how long training took over its phases, and whether a
weak class misses its objects or ranks them below false alarms.

model_card.py needs no PyTorch, so these run in CI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from training.data import DATA_VERSION
from training.model_card import (
    card,
    data_note,
    false_alarm_rows,
    fit_diagnosis,
    flip_pass_lines,
    loss_trend,
    phase_lines,
    ranking_diagnosis,
    reproduce_commands,
    size_rows,
    training_time,
    view_fusion_lines,
)

ROOT = Path(__file__).resolve().parents[1]


def _history(losses: list[float], start: int = 250) -> list[dict[str, Any]]:
    return [{"step": start + 250 * i, "cls": loss} for i, loss in enumerate(losses)]


def test_one_phase_still_falling_asks_for_more_steps() -> None:
    text = loss_trend(_history([5.4, 5.2, 5.1, 5.0, 4.9]), [{"steps": 1250}])
    assert "still falling" in text
    assert "5.200 to 4.900 over the last 750 steps" in text


def test_one_phase_levelled_off_asks_for_a_larger_model_or_better_data() -> None:
    text = loss_trend(_history([5.4, 4.9, 4.91, 4.9, 4.92]), [{"steps": 1250}])
    assert "levelled off" in text
    assert "larger model or better data" in text


def test_a_resumed_phase_is_judged_against_where_the_phase_before_ended() -> None:
    # phase 1 ends at step 1000 with 4.5; phase 2's last rows are flat (the cosine tail),
    # but far below 4.5: more steps still helped
    history = _history([5.0, 4.8, 4.6, 4.5]) + _history([4.7, 4.2, 3.6, 3.61, 3.6, 3.61],
                                                        start=1250)
    phases = [{"steps": 1000}, {"steps": 1500}]
    text = loss_trend(history, phases)
    assert "lowered the classification loss from 4.500" in text
    assert "to 3.610" in text and "1,500 steps" in text
    flat = _history([5.0, 4.8, 4.6, 4.5]) + _history([4.9, 4.6, 4.5, 4.49], start=1250)
    assert "left the classification loss where the phase before ended" \
        in loss_trend(flat, [{"steps": 1000}, {"steps": 1000}])


def test_losses_on_different_training_bags_are_not_compared() -> None:
    # phase 2 trains on more bags: its training loss is higher although the model is better
    history = _history([5.0, 4.8, 4.6, 4.5]) + _history([4.9, 4.8, 4.7, 4.7], start=1250)
    text = loss_trend(history, [{"steps": 1000, "training_bags": 1000},
                                {"steps": 1000, "training_bags": 1600}])
    assert "trained on 1600 bags where the phase before trained on 1000" in text
    assert "left the classification loss" not in text


def test_training_time_names_the_phases_and_the_last_machine() -> None:
    one = {"training": {"seconds": 3600.0, "phases": [{}]}, "hardware": "CPU X, 2 CPU cores"}
    assert training_time(one) == "60 min of wall clock on CPU X, 2 CPU cores"
    three = {"training": {"seconds": 13800.0, "phases": [{}, {}, {}]},
             "hardware": "CPU Y, 2 CPU cores"}
    assert training_time(three) == \
        "230 min of wall clock over 3 phases, the last on CPU Y, 2 CPU cores"


def test_each_phase_line_gives_its_throughput_from_its_own_steps_and_seconds() -> None:
    phase = {"steps": 1500, "training_bags": 1600, "lr": 0.001, "precision": "bf16",
             "data_version": "v2"}
    lines = phase_lines({"batch": 16, "phases": [
        {**phase, "seconds": 600.0},  # recorded before phases kept their batch: 16
        {**phase, "seconds": 1200.0, "resumed_from": "a/threats.onnx", "batch": 32},
        {**phase, "steps": 0, "seconds": 0.0, "batch": 16}]})  # stopped at once
    assert "1,500 steps in 10 min (40.0 crops/s) on 1600 training bags" in lines[0]
    assert "1,500 steps in 20 min (40.0 crops/s)" in lines[1]
    assert "0 steps in 0 min on 1600 training bags" in lines[2]
    assert not any("augmentation" in line for line in lines)  # the default is not named


def test_a_phase_with_light_augmentation_says_so() -> None:
    phase = {"steps": 10, "seconds": 60.0, "training_bags": 2000, "lr": 0.0005,
             "batch": 16, "augment": "light"}
    (line, _) = phase_lines({"batch": 16, "phases": [phase]})
    assert line.endswith("simulated data v1, light batch augmentation.")
    (line, _) = phase_lines({"batch": 16, "phases": [{**phase, "augment": "full"}]})
    assert "augmentation" not in line


def _weak(label: str, ap50: float, found: float | None) -> dict[str, Any]:
    return {"label": label, "ground_truth": 60, "ap50": ap50, "recall_max50": found}


def test_weak_classes_found_at_some_score_are_diagnosed_as_ranking() -> None:
    text = ranking_diagnosis([_weak("knife", 0.13, 0.7237), _weak("ied", 0.25, 0.9714),
                              _weak("ammunition", 0.4, 0.5)])
    assert "knife 72%, ied 97% of them at IoU 0.5" in text
    assert "ammunition" not in text  # half its objects are never found: not a ranking issue
    assert "score below many of its false alarms" in text


def test_weak_classes_that_miss_their_objects_get_no_ranking_diagnosis() -> None:
    assert ranking_diagnosis([_weak("knife", 0.13, 0.4), _weak("ied", 0.2, None)]) == ""


def test_reproduce_commands_expand_variables_and_join_continued_lines(tmp_path: Path) -> None:
    makefile = tmp_path / "Makefile"
    makefile.write_text(
        "BIN := .venv/bin\nBUILD ?= build\nOUT = $(BUILD)/a\n"
        "model: stamp\n"
        "\t$(BIN)/python -m pip install x\n"
        "\t@$(BIN)/python -m training.train --out $(OUT) \\\n\t\t--minutes 5\n"
        "\n# a comment\n"
        "\t-$(BIN)/python -m training.model_card --models ${BUILD}\n"
        "\nother:\n\t$(BIN)/python -m training.train --out elsewhere\n", encoding="utf-8")
    assert reproduce_commands(makefile) == [
        "python -m training.train --out build/a --minutes 5",
        "python -m training.model_card --models build"]
    with pytest.raises(ValueError, match="no 'absent' target"):
        reproduce_commands(makefile, "absent")
    makefile.write_text("model:\n\t$(BIN)/python -m training.train --out $(NOWHERE)\n",
                        encoding="utf-8")
    with pytest.raises(ValueError, match="cannot expand every variable"):
        reproduce_commands(makefile)


def _options(command: str) -> dict[str, str]:
    words = command.split()[3:]  # after "python -m training.train"
    return {word: words[i + 1] for i, word in enumerate(words) if word.startswith("--")
            and i + 1 < len(words) and not words[i + 1].startswith("--")}


def test_make_model_runs_the_phases_the_shipped_model_records() -> None:
    """Each phase of `make model` resumes from the one before and ends in models/, and its
    minutes, bags, learning rate and precision are those models/training-metrics.json
    records for that phase: the card prints these commands as the way to reproduce it.
    The Makefile spells out --minutes, --bags and --lr even where they are the defaults."""
    metrics = json.loads((ROOT / "models" / "training-metrics.json").read_text("utf-8"))
    phases = metrics["training"]["phases"]
    runs = [_options(c) for c in reproduce_commands() if c.startswith("python -m training.train")]
    assert len(runs) == len(phases)
    previous: str | None = None
    for number, (run, phase) in enumerate(zip(runs, phases, strict=True), 1):
        assert run.get("--resume") == (f"{previous}/threats.onnx" if previous else None), number
        assert float(run["--minutes"]) == round(phase["seconds"] / 60), number
        assert int(run["--bags"]) == phase["training_bags"], number
        assert float(run["--lr"]) == pytest.approx(phase["lr"]), number
        if run.get("--bf16") == "off":
            assert phase["precision"] == "fp32", number
        previous = run["--out"]
    assert previous == "models"


def test_size_rows_list_each_class_per_coco_size() -> None:
    def classes(gt: int, ap: float | None, found: float | None) -> list[dict[str, Any]]:
        return [{"label": "knife", "ground_truth": gt, "ap50": ap, "recall_max50": found}]

    report = {"evaluation": {"by_size": {"small": {"classes": classes(10, 0.05, 0.3)},
                                         "medium": {"classes": classes(40, 0.25, 0.85)},
                                         "large": {"classes": classes(0, None, None)}}}}
    rows = size_rows(report)
    assert "| knife | 10, 0.05, 30% | 40, 0.25, 85% | 0, n/a, n/a |" in rows
    assert size_rows({"evaluation": {}}) == [] and size_rows(None) == []


def test_false_alarm_rows_give_each_class_its_total_and_commonest_articles() -> None:
    report = {"evaluation": {"images": 600, "false_alarms_on": {
        "knife": {"cable": 1200, "umbrella": 300, "no matching object": 250, "keys": 1},
        "ied": {"laptop": 2}}}}
    rows = false_alarm_rows(report)
    assert rows[0].startswith("False alarms at the default thresholds on the 600 held-out")
    assert "| knife | 1,751 | cable 1,200, umbrella 300, no matching object 250 |" in rows
    assert "| ied | 2 | laptop 2 |" in rows
    assert false_alarm_rows({"evaluation": {"images": 600}}) == []  # a report from before


def test_losses_on_different_simulated_data_are_not_compared() -> None:
    history = _history([5.0, 4.8, 4.6, 4.5]) + _history([4.9, 4.2, 3.6, 3.6], start=1250)
    text = loss_trend(history, [{"steps": 1000, "training_bags": 1600, "data_version": "v1"},
                                {"steps": 1000, "training_bags": 1600, "data_version": "v2"}])
    assert ("trained on simulated data v2 where the phase before trained on simulated "
            "data v1") in text
    assert "lowered the classification loss" not in text
    # a phase recorded before phases carried the field trained on v1
    unrecorded = [{"steps": 1000, "training_bags": 1600},
                  {"steps": 1000, "training_bags": 1600, "data_version": "v2"}]
    assert "where the phase before trained on simulated data v1" in loss_trend(history,
                                                                              unrecorded)
    same = [{"steps": 1000, "training_bags": 1600}, {"steps": 1000, "training_bags": 1600,
                                                     "data_version": "v1"}]
    assert "lowered the classification loss from 4.500" in loss_trend(history, same)


def test_data_note_names_the_phases_make_model_cannot_repeat() -> None:
    assert data_note([{"data_version": DATA_VERSION}]) == ""
    note = data_note([{}, {"data_version": "v1"}, {"data_version": "v0"}, {},
                      {"data_version": DATA_VERSION}])
    assert note.startswith("Phases 1, 2, 4 trained on simulated data v1; Phase 3 trained on "
                           "simulated data v0, older than the current " + DATA_VERSION)
    assert data_note([{}, {}, {}, {"data_version": DATA_VERSION}]).startswith(
        "Phases 1 to 3 trained on simulated data v1, older")


def test_the_card_says_how_many_passes_a_view_runs() -> None:
    assert flip_pass_lines(None) == [] and flip_pass_lines({"test_time": {"flips": []}}) == []
    (_, line) = flip_pass_lines({"test_time": {"flips": ["horizontal"], "fusion_iou": 0.55}})
    assert line.startswith("Each view runs twice (as given, mirrored left to right) and")
    (_, line) = flip_pass_lines({"test_time": {"flips": ["horizontal", "vertical", "both"]}})
    assert line.startswith("Each view runs 4 times (as given, mirrored left to right, "
                           "mirrored top to bottom, turned half a turn) and")


def test_committed_model_card_is_current() -> None:
    """models/MODEL_CARD.md is what `python -m training.model_card` writes from the
    committed metrics, reports and Makefile: regenerate it after changing any of them."""
    expected = card(ROOT / "models")
    assert (ROOT / "models" / "MODEL_CARD.md").read_text(encoding="utf-8") == expected


def test_view_fusion_is_described_from_the_manifest() -> None:
    assert view_fusion_lines(None) == [] and view_fusion_lines({"view_fusion": None}) == []
    (_, line) = view_fusion_lines({"view_fusion": {"belt_overlap": 0.7, "partner_weight": 0.75,
                                                   "alone_factor": 0.5}})
    assert "IoU 0.7 or more" in line and "1 - (1 - s)(1 - 0.75 p)" in line
    assert "no partner 0.5 s" in line


def _fit_report(map50: float, classes: dict[str, float]) -> dict[str, Any]:
    return {"evaluation": {"images": 600, "map50": map50, "classes": [
        {"label": label, "ground_truth": 60, "ap50": ap50} for label, ap50 in classes.items()]}}


def test_a_network_that_cannot_fit_its_training_bags_asks_for_capacity() -> None:
    held_out = _fit_report(0.831, {"knife": 0.54})
    text = fit_diagnosis(held_out, _fit_report(0.8741, {"handgun": 1.0, "knife": 0.716,
                                                         "gun_part": 0.7664}))
    assert "reaches only mAP@0.5 0.874 (knife 0.72, gun_part 0.77)" in text
    assert "handgun" not in text  # at the target on its training bags
    assert "can at best bring new bags up to that, still short of the target" in text


def test_a_network_that_fits_but_does_not_carry_over_asks_for_more_bags() -> None:
    text = fit_diagnosis(_fit_report(0.831, {}), _fit_report(0.962, {"knife": 0.93}))
    assert "reaches mAP@0.5 0.962, against 0.831 on new bags" in text
    assert "more, and more varied, bags" in text
    assert fit_diagnosis(_fit_report(0.831, {}), None) == ""
