"""The TIP scheduler: for each bag an operator screens, project an FTI or not, and which
category.

Settings (:class:`TipSettings`) are data a supervisor sets: a minimum and maximum
projection rate in [0, 1], a weight per :class:`~screener.tip.fti.FtiCategory` and a
version number. Bad settings raise :class:`TipSettingsError` naming the field.

The scheme, per operator
------------------------
Each operator's bags are cut into **blocks** of random length, drawn uniformly from
``[block_bags / 2, 3 block_bags / 2]``. At the start of a block a **target rate** ``r``
is drawn uniformly in ``[min_rate, max_rate]``, and each bag of the block is a Bernoulli
draw with probability ``r``: memoryless, so there is no period, a long gap makes the
next projection no more likely, and the gaps between projections are close to geometric
(coefficient of variation near 1; the tests measure it). The rate itself changes at
random, unseen times.

A plain Bernoulli process only keeps the realised rate within the bounds on average;
its count wanders by a binomial sd, ``sqrt(n r (1 - r))``. So a **guard band** caps the
wandering: after ``n`` bags an operator's projection count ``k`` always satisfies

    min_rate * n - slack  <=  k  <=  max_rate * n + slack

(``slack`` projections, 3 by default). When not projecting this bag would break the
lower edge the bag is projected; when projecting would break the upper edge it is not.
Otherwise the draw is the plain Bernoulli one, so the guard is invisible: with
``min_rate < max_rate`` the count drifts towards the middle of the band and the guard
almost never acts (in the tests, never after the first 2,000 bags); with ``min_rate ==
max_rate`` (an exact rate) it acts more often and the gaps get somewhat more regular,
which is what an exact rate asks for. The band counts from the moment the current settings
took effect for that operator (the scheduler's start, or a settings change, which
would otherwise force a burst of projections to catch up with a raised minimum). The
realised rate over any run of ``n`` bags under one version of the settings is
therefore within ``slack / n`` of ``[min_rate, max_rate]``: within 0.0003 after 10,000
bags, guaranteed, not just likely.

The category of a projection is drawn with probability proportional to its weight
(weight 0: never). Every operator has their own stream, a numpy ``Generator`` seeded by
``SeedSequence([seed, sha256(operator id)])``: the same seed and the same sequence of
calls give the same decisions, and two operators get independent sequences.

Each call of :meth:`TipScheduler.decide` returns a :class:`TipDecision`; the workflow
logs ``decision.payload()`` as a ``tip.scheduled`` event (:data:`KIND_TIP_SCHEDULED`).
The scheduler never writes to the database, and its state lives in memory: a restart
starts every operator afresh (a new block, a new band). :meth:`TipScheduler.update_settings`
takes new settings; each operator starts a new block and a new band at their next bag.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from screener.errors import ConfigError
from screener.tip.fti import FtiCategory

__all__ = ["DEFAULT_BLOCK_BAGS", "DEFAULT_SLACK", "KIND_TIP_SCHEDULED", "TipDecision",
           "TipScheduler", "TipSettings", "TipSettingsError"]

KIND_TIP_SCHEDULED = "tip.scheduled"
DEFAULT_BLOCK_BAGS = 100
DEFAULT_SLACK = 3
_SOURCE = "TIP settings"


class TipSettingsError(ConfigError):
    """TIP settings a supervisor entered cannot be used; ``field`` names the setting."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(_SOURCE, field, f"{problem}; correct it and save the settings again")


@dataclass(frozen=True, eq=False)
class TipSettings:
    """Projection rates in [0, 1] with ``min_rate <= max_rate``; a non-negative weight per
    category (a category left out weighs 0), at least one positive; ``version`` (>= 1)
    identifies these settings in every ``tip.scheduled`` event; ``block_bags`` is the
    mean block length and ``slack`` the guard band's half-width in projections (the
    scheme above). ``probability_vector`` is each category's share of projections, in
    :class:`FtiCategory` order."""

    min_rate: float
    max_rate: float
    weights: Mapping[FtiCategory, float]
    version: int
    block_bags: int = DEFAULT_BLOCK_BAGS
    slack: int = DEFAULT_SLACK
    probability_vector: tuple[float, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check_rate("min_rate", self.min_rate)
        _check_rate("max_rate", self.max_rate)
        if self.min_rate > self.max_rate:
            raise TipSettingsError("min_rate", f"{self.min_rate} is above max_rate "
                                   f"{self.max_rate}; the minimum must not exceed the maximum")
        weights = _checked_weights(self.weights)
        if not _is_int(self.version) or self.version < 1:
            raise TipSettingsError("version", f"must be a whole number >= 1, got "
                                   f"{self.version!r}")
        if not _is_int(self.block_bags) or self.block_bags < 1:
            raise TipSettingsError("block_bags", f"must be a whole number >= 1, got "
                                   f"{self.block_bags!r}")
        if not _is_int(self.slack) or self.slack < 1:
            raise TipSettingsError("slack", f"must be a whole number of projections >= 1, "
                                   f"got {self.slack!r}")
        total = sum(weights.values())
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "probability_vector",
                           tuple(weights[c] / total for c in FtiCategory))

    @property
    def probabilities(self) -> dict[FtiCategory, float]:
        """Each category's share of projections (its weight over the sum)."""
        return dict(zip(FtiCategory, self.probability_vector, strict=True))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TipSettings:
        """Settings from data (a TOML table, a JSON object): keys ``min_rate``,
        ``max_rate``, ``weights`` (category name to weight), ``version`` and optionally
        ``block_bags`` and ``slack``. Unknown keys are refused."""
        known = {"min_rate", "max_rate", "weights", "version", "block_bags", "slack"}
        for key in data:
            if key not in known:
                raise TipSettingsError(str(key), f"is not a TIP setting (known: "
                                       f"{', '.join(sorted(known))})")
        for key in ("min_rate", "max_rate", "weights", "version"):
            if key not in data:
                raise TipSettingsError(key, "is missing")
        weights = data["weights"]
        if not isinstance(weights, Mapping):
            raise TipSettingsError("weights", "must map category names to weights")
        return cls(min_rate=data["min_rate"], max_rate=data["max_rate"], weights=weights,
                   version=data["version"],
                   block_bags=data.get("block_bags", DEFAULT_BLOCK_BAGS),
                   slack=data.get("slack", DEFAULT_SLACK))

    def as_dict(self) -> dict[str, Any]:
        return {"min_rate": self.min_rate, "max_rate": self.max_rate,
                "weights": {c.value: self.weights[c] for c in FtiCategory},
                "version": self.version, "block_bags": self.block_bags, "slack": self.slack}


@dataclass(frozen=True)
class TipDecision:
    """One bag's scheduling decision. ``bag_index`` counts the operator's bags from 0
    in this scheduler; ``rate`` is the operator's target rate for the current block."""

    operator: str
    bag_index: int
    projected: bool
    category: FtiCategory | None  # None when nothing is projected
    rate: float
    settings_version: int

    def payload(self) -> dict[str, Any]:
        """The ``tip.scheduled`` event payload."""
        return {"operator": self.operator, "bag_index": self.bag_index,
                "projected": self.projected,
                "category": None if self.category is None else self.category.value,
                "rate": round(self.rate, 6), "settings_version": self.settings_version}


@dataclass
class _OperatorState:
    rng: np.random.Generator
    bags: int = 0  # all bags this operator screened under this scheduler
    projected: int = 0
    band_bags: int = 0  # bags and projections since the current settings took effect
    band_projected: int = 0
    block_left: int = 0
    rate: float = 0.0
    version: int = 0  # settings version of the current block and band


class TipScheduler:
    """Decides, per operator and bag, whether to project an FTI. Not thread-safe: the
    workflow owns one."""

    def __init__(self, settings: TipSettings, seed: int) -> None:
        if not _is_int(seed) or seed < 0:
            raise TipSettingsError("seed", f"must be a whole number >= 0, got {seed!r}")
        self._settings = settings
        self._seed = int(seed)
        self._categories = tuple(FtiCategory)
        self._operators: dict[str, _OperatorState] = {}

    @property
    def settings(self) -> TipSettings:
        return self._settings

    def update_settings(self, settings: TipSettings) -> None:
        """Use ``settings`` from now on; every operator starts a new block and a new
        guard band at their next bag (a supervisor's change takes effect at once)."""
        self._settings = settings
        for state in self._operators.values():
            state.version = 0

    def decide(self, operator: str) -> TipDecision:
        """Whether the operator's next bag gets an FTI, and of which category."""
        if not operator:
            raise TipSettingsError("operator", "an operator id is needed to schedule TIP")
        state = self._state(operator)
        settings = self._settings
        if state.version != settings.version:
            state.version = settings.version
            state.band_bags = state.band_projected = 0
            state.block_left = 0
        if state.block_left <= 0:
            self._start_block(state, settings)
        state.block_left -= 1
        # Draw first, so the stream does not depend on whether the guard acts.
        draw = bool(state.rng.random() < state.rate)
        after = state.band_bags + 1
        if state.band_projected < settings.min_rate * after - settings.slack:
            projected = True  # not projecting would leave the band at the bottom
        elif state.band_projected + 1 > settings.max_rate * after + settings.slack:
            projected = False  # projecting would leave it at the top
        else:
            projected = draw
        category = None
        if projected:
            index = int(state.rng.choice(len(self._categories), p=settings.probability_vector))
            category = self._categories[index]
        decision = TipDecision(operator, state.bags, projected, category, state.rate,
                               settings.version)
        state.bags += 1
        state.band_bags += 1
        state.projected += projected
        state.band_projected += projected
        return decision

    def realised_rate(self, operator: str) -> float | None:
        """Projections over bags for this operator so far; None before the first bag."""
        state = self._operators.get(operator)
        if state is None or state.bags == 0:
            return None
        return state.projected / state.bags

    def _state(self, operator: str) -> _OperatorState:
        state = self._operators.get(operator)
        if state is None:
            digest = hashlib.sha256(operator.encode("utf-8")).digest()
            entropy = [self._seed, int.from_bytes(digest[:16], "big")]
            state = _OperatorState(np.random.Generator(np.random.PCG64(
                np.random.SeedSequence(entropy))))
            self._operators[operator] = state
        return state

    @staticmethod
    def _start_block(state: _OperatorState, settings: TipSettings) -> None:
        shortest = max(1, math.ceil(settings.block_bags / 2))
        longest = max(shortest, (3 * settings.block_bags) // 2)
        state.block_left = int(state.rng.integers(shortest, longest + 1))
        state.rate = float(state.rng.uniform(settings.min_rate, settings.max_rate))


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _check_rate(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TipSettingsError(name, f"must be a number in [0, 1], got {value!r}")
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise TipSettingsError(name, f"must be a rate in [0, 1] (0.03 is 3 %), got {value!r}")


def _checked_weights(weights: object) -> dict[FtiCategory, float]:
    if not isinstance(weights, Mapping):
        raise TipSettingsError("weights", "must map categories to weights")
    checked = dict.fromkeys(FtiCategory, 0.0)
    names = {c.value: c for c in FtiCategory}
    for key, value in weights.items():
        category = names.get(str(key.value if isinstance(key, FtiCategory) else key))
        if category is None:
            raise TipSettingsError(f"weights.{key}", f"is not a category (categories: "
                                   f"{', '.join(names)})")
        where = f"weights.{category.value}"
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise TipSettingsError(where, f"must be a number >= 0, got {value!r}")
        number = float(value)
        if not math.isfinite(number) or number < 0.0:
            raise TipSettingsError(where, f"must be a finite number >= 0, got {value!r}")
        checked[category] = number
    if not any(w > 0.0 for w in checked.values()):
        raise TipSettingsError("weights", "all category weights are 0; give at least one "
                               "category a positive weight")
    return checked
