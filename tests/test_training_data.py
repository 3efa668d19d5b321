"""Training clutter (training/data.py): which benign articles are composed, how often."""

from __future__ import annotations

import pytest

from screener.sim.items.benign import BENIGN_MAKERS
from training.data import (
    CLUTTER_LABELS,
    CLUTTER_WEIGHTS,
    LOOK_ALIKE_WEIGHT,
    LOOK_ALIKES,
)


def test_every_benign_article_can_be_clutter_and_the_look_alikes_are_real_articles() -> None:
    assert set(CLUTTER_LABELS) == set(BENIGN_MAKERS)
    assert set(LOOK_ALIKES) <= set(BENIGN_MAKERS), "a look-alike was renamed in the simulator"


def test_look_alikes_are_drawn_three_times_as_often_as_any_other_article() -> None:
    weight = dict(zip(CLUTTER_LABELS, CLUTTER_WEIGHTS.tolist(), strict=True))
    others = {weight[label] for label in CLUTTER_LABELS if label not in LOOK_ALIKES}
    assert len(others) == 1, "every other benign article is drawn equally often"
    (other,) = others
    for label in LOOK_ALIKES:
        assert weight[label] == pytest.approx(LOOK_ALIKE_WEIGHT * other)
    assert sum(weight.values()) == pytest.approx(1.0)
