"""The model card's reading of the training record (training/model_card.py): whether more
steps are the first thing to try, how long training took over its phases, and whether a
weak class misses its objects or ranks them below false alarms.

model_card.py needs no PyTorch, so these run in CI.
"""

from __future__ import annotations

from typing import Any

from training.model_card import loss_trend, ranking_diagnosis, training_time


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
