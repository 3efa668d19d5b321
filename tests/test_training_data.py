"""Training clutter (training/data.py): which benign articles are composed, how often."""

from __future__ import annotations

import numpy as np
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
    rng = np.random.default_rng(11)
    draws = rng.choice(CLUTTER_LABELS, size=200_000, p=CLUTTER_WEIGHTS)
    labels, counts = np.unique(draws, return_counts=True)
    share = dict(zip(labels.tolist(), (counts / counts.sum()).tolist(), strict=True))
    others = [share[label] for label in CLUTTER_LABELS if label not in LOOK_ALIKES]
    look_alikes = [share[label] for label in LOOK_ALIKES]
    assert min(look_alikes) / max(others) == pytest.approx(LOOK_ALIKE_WEIGHT, rel=0.1)
    assert sum(look_alikes) == pytest.approx(
        len(LOOK_ALIKES) * LOOK_ALIKE_WEIGHT
        / (len(LOOK_ALIKES) * LOOK_ALIKE_WEIGHT + len(others)), abs=0.01)
