"""The simulated screener: a signal-detection observer whose hits fall with difficulty.

Each operator gets, from the seed, a **sensitivity** ``s`` (a d' on the easiest threats,
normal around 3.0, kept within 1.5..4.5), a **criterion** ``c`` (normal around 1.3,
within 0.7..2.0) and a **pace** (median time to clear an uncluttered bag, log-normal
around 4 s). In equal-variance signal-detection terms a clean bag's evidence is N(0, 1)
and a threat's N(s (1 - d), 1), where ``d`` in [0, 1] is the threat's difficulty
(:mod:`screener.workflow.difficulty`); the operator calls "suspect" above ``c``. So

* P(false alarm on a clean bag) = Phi(-c), an operator-specific rate (about 10 %);
* P(detect a threat of difficulty d) = Phi(s (1 - d) - c): at d = 1 no better than a
  false alarm. Each threat in a bag is detected independently; the bag is "suspect" when
  any is, and marked on each detected threat's box (in its easiest view) with edges
  jittered by about a tenth of the box. A threat bag whose threats are all missed is
  cleared (no separate false alarm is drawn for it).
* a false alarm marks a random region (a tenth to a quarter of a random view per side).
* response time is log-normal (sigma 0.35) around the operator's pace, times
  ``1 + 0.5 clutter`` and 1.6 more when the answer is "suspect".

The observer is a model of perception, so it reads the bag's percept (built from ground
truth); the screening session it drives never does. Every draw comes from the ``rng``
the caller passes, so a seed fixes every answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from screener.workflow.decisions import Box, Decision, Mark
from screener.workflow.difficulty import BagPercept, ThreatCue

SENSITIVITY = (3.0, 0.5, 1.5, 4.5)  # mean, sd, lowest, highest
CRITERION = (1.3, 0.25, 0.7, 2.0)
MEDIAN_CLEAR_MS = 4000.0
PACE_SIGMA = 0.2
RESPONSE_SIGMA = 0.35
SUSPECT_SLOWDOWN = 1.6
CLUTTER_SLOWDOWN = 0.5
MARK_JITTER = 0.1
FALSE_ALARM_SIZE = (0.1, 0.25)
MIN_RESPONSE_MS = 300
_PROFILE_STREAM = 0x0B5E


def phi(x: float) -> float:
    """The standard normal cumulative distribution."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


@dataclass(frozen=True)
class ObserverProfile:
    operator_id: str
    sensitivity: float
    criterion: float
    median_clear_ms: float

    @property
    def false_alarm_rate(self) -> float:
        return phi(-self.criterion)

    def hit_probability(self, difficulty: float) -> float:
        return phi(self.sensitivity * (1.0 - difficulty) - self.criterion)


@dataclass(frozen=True)
class ObserverResponse:
    decision: Decision
    marks: tuple[Mark, ...]
    response_ms: int


def draw_profiles(seed: int, operator_ids: Sequence[str]) -> list[ObserverProfile]:
    """One profile per operator, fixed by ``seed`` and the operator's position."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, _PROFILE_STREAM]))
    profiles = []
    for operator_id in operator_ids:
        sensitivity = _clipped_normal(rng, *SENSITIVITY)
        criterion = _clipped_normal(rng, *CRITERION)
        pace = MEDIAN_CLEAR_MS * math.exp(rng.normal(0.0, PACE_SIGMA))
        profiles.append(ObserverProfile(operator_id, sensitivity, criterion, pace))
    return profiles


def respond(profile: ObserverProfile, percept: BagPercept,
            rng: np.random.Generator) -> ObserverResponse:
    """The simulated screener's decision, marks and response time for one bag."""
    if percept.has_threat:
        seen = [cue for cue in percept.threats
                if rng.random() < profile.hit_probability(cue.difficulty)]
        marks = tuple(_mark_on(cue, percept.view_shapes[cue.view], rng) for cue in seen)
    elif rng.random() < profile.false_alarm_rate:
        marks = (_false_alarm_mark(percept.view_shapes, rng),)
    else:
        marks = ()
    decision = Decision.SUSPECT if marks else Decision.CLEAR
    return ObserverResponse(decision, marks, _response_ms(profile, percept, decision, rng))


def _response_ms(profile: ObserverProfile, percept: BagPercept, decision: Decision,
                 rng: np.random.Generator) -> int:
    median = profile.median_clear_ms * (1.0 + CLUTTER_SLOWDOWN * percept.clutter)
    if decision is Decision.SUSPECT:
        median *= SUSPECT_SLOWDOWN
    return max(MIN_RESPONSE_MS, round(median * math.exp(rng.normal(0.0, RESPONSE_SIGMA))))


def _mark_on(cue: ThreatCue, shape: tuple[int, int], rng: np.random.Generator) -> Mark:
    x0, y0, x1, y1 = cue.box
    jx, jy = MARK_JITTER * (x1 - x0), MARK_JITTER * (y1 - y0)
    moved = (x0 + rng.normal(0, jx), y0 + rng.normal(0, jy),
             x1 + rng.normal(0, jx), y1 + rng.normal(0, jy))
    return Mark(cue.view, _inside(moved, shape))


def _false_alarm_mark(shapes: dict[str, tuple[int, int]], rng: np.random.Generator) -> Mark:
    names = sorted(shapes)
    view = names[int(rng.integers(len(names)))]
    rows, columns = shapes[view]
    width = columns * rng.uniform(*FALSE_ALARM_SIZE)
    height = rows * rng.uniform(*FALSE_ALARM_SIZE)
    x0, y0 = rng.uniform(0, columns - width), rng.uniform(0, rows - height)
    return Mark(view, _inside((x0, y0, x0 + width, y0 + height), shape=(rows, columns)))


def _inside(box: tuple[float, float, float, float], shape: tuple[int, int]) -> Box:
    """Round to whole pixels, keep within the view and at least one pixel wide and high."""
    rows, columns = shape
    x0 = min(max(0, round(box[0])), columns - 1)
    y0 = min(max(0, round(box[1])), rows - 1)
    x1 = min(max(x0 + 1, round(box[2])), columns)
    y1 = min(max(y0 + 1, round(box[3])), rows)
    return (x0, y0, x1, y1)


def _clipped_normal(rng: np.random.Generator, mean: float, sd: float, lowest: float,
                    highest: float) -> float:
    return float(min(highest, max(lowest, rng.normal(mean, sd))))
