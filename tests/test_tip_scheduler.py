"""The TIP scheduler: rates within bounds, category weights, no period, determinism per
seed and operator, typed errors for bad settings, and the ``tip.scheduled`` payload."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chisquare

from screener.audit.canonical import canonical_text
from screener.errors import ConfigError, ScreenerError
from screener.tip.fti import FtiCategory
from screener.tip.scheduler import (
    KIND_TIP_SCHEDULED,
    TipDecision,
    TipScheduler,
    TipSettings,
    TipSettingsError,
)

GUN, KNIFE, IED, OTHER = FtiCategory.GUN, FtiCategory.KNIFE, FtiCategory.IED, FtiCategory.OTHER
WEIGHTS = {GUN: 3.0, KNIFE: 2.0, IED: 1.0, OTHER: 0.0}
BAGS = 10_000


def settings(min_rate=0.02, max_rate=0.05, weights=None, version=1, **extra):
    return TipSettings(min_rate, max_rate, WEIGHTS if weights is None else weights, version,
                       **extra)


def run(scheduler: TipScheduler, operator: str, bags: int = BAGS) -> list[TipDecision]:
    return [scheduler.decide(operator) for _ in range(bags)]


def projected(decisions: list[TipDecision]) -> np.ndarray:
    return np.array([d.projected for d in decisions])


@pytest.mark.parametrize(("low", "high"), [(0.02, 0.05), (0.03, 0.03), (0.1, 0.3),
                                           (0.001, 0.01), (0.5, 0.5), (0.0, 0.0),
                                           (1.0, 1.0), (0.0, 1.0)])
def test_realised_rate_within_bounds(low, high):
    """Tolerance: given the block rates (each in [min, max]) the bags are independent
    Bernoulli draws, so the realised rate over n = 10,000 bags has an expectation in
    [min, max] and an sd of at most sqrt(p (1 - p) / n), p being the rate in [min, max]
    closest to 0.5 (the largest Bernoulli variance). Four such sd bound a false failure
    at about 6e-5 per operator, and the seed is fixed. (The guard band only ever pulls
    the count towards [min n, max n].) The band itself is checked exactly: after n bags
    the count lies in [min n - slack, max n + slack]."""
    scheduler = TipScheduler(settings(low, high), seed=2024)
    p = min(max(0.5, low), high)
    tolerance = 4 * math.sqrt(p * (1 - p) / BAGS)
    for operator in ("op-1", "op-2", "op-3"):
        decisions = run(scheduler, operator)
        shots = projected(decisions)
        rate = shots.mean()
        assert low - tolerance <= rate <= high + tolerance, (operator, rate)
        assert scheduler.realised_rate(operator) == pytest.approx(rate)
        n = np.arange(1, BAGS + 1)
        k = np.cumsum(shots)
        slack = scheduler.settings.slack
        assert np.all(k >= low * n - slack - 1e-9) and np.all(k <= high * n + slack + 1e-9)
        assert all(low <= d.rate <= high for d in decisions)
        assert [d.bag_index for d in decisions] == list(range(BAGS))


def test_rate_is_drawn_across_the_range():
    """The target rate is redrawn per block: over 10,000 bags it takes many values
    spread over [min, max], and the realised rate sits near the middle."""
    decisions = run(TipScheduler(settings(0.02, 0.06), seed=5), "op-1")
    rates = np.array([d.rate for d in decisions])
    assert len(np.unique(rates)) > 50
    assert rates.min() < 0.025 and rates.max() > 0.055
    assert projected(decisions).mean() == pytest.approx(0.04, abs=0.006)


def test_guard_band_rarely_binds_with_a_range():
    """With min < max the count drifts to the middle of the band, so after a warm-up the
    guard never acts and every bag is a plain Bernoulli draw."""
    scheduler = TipScheduler(settings(0.02, 0.05), seed=9)
    k = np.cumsum(projected(run(scheduler, "op-1")))
    n = np.arange(1, BAGS + 1)
    slack = scheduler.settings.slack
    assert np.all(k[2000:] > 0.02 * n[2000:] + slack + 1)
    assert np.all(k[2000:] < 0.05 * n[2000:] - slack - 1)


def test_category_proportions_follow_weights():
    scheduler = TipScheduler(settings(0.4, 0.6), seed=77)
    categories = [d.category for op in ("op-1", "op-2") for d in run(scheduler, op)
                  if d.projected]
    assert all(c is not None for c in categories)
    observed = np.array([categories.count(c) for c in (GUN, KNIFE, IED)])
    assert categories.count(OTHER) == 0  # weight 0: never
    expected = np.array([3, 2, 1]) / 6 * observed.sum()
    assert observed.sum() > 8000
    assert chisquare(observed, expected).pvalue > 0.001
    assert scheduler.settings.probabilities == pytest.approx(
        {GUN: 0.5, KNIFE: 1 / 3, IED: 1 / 6, OTHER: 0.0})


def test_not_projected_has_no_category():
    decisions = run(TipScheduler(settings(), seed=1), "op-1", 500)
    assert all((d.category is None) != d.projected for d in decisions)


@pytest.mark.parametrize(("low", "high"), [(0.02, 0.05), (0.1, 0.3)])
def test_no_fixed_period(low, high):
    """Gaps between projections vary: a geometric process (memoryless) has a gap
    coefficient of variation of sqrt(1 - p), close to 1 at TIP rates; a fixed period
    gives 0. Mixing rates across blocks raises it a little."""
    scheduler = TipScheduler(settings(low, high), seed=31)
    for operator in ("op-1", "op-2"):
        where = np.flatnonzero(projected(run(scheduler, operator)))
        gaps = np.diff(where)
        cv = gaps.std() / gaps.mean()
        assert 0.8 <= cv <= 1.3, (operator, cv)
        assert len(np.unique(gaps)) > 20
        # Not clustered at fixed offsets within any 100-bag cycle either.
        offsets = np.bincount(where % 100, minlength=100)
        assert offsets.max() < 3 * offsets.mean() + 5


def test_exact_rate_is_still_irregular():
    gaps = np.diff(np.flatnonzero(projected(run(TipScheduler(settings(0.03, 0.03), seed=4),
                                                "op-1"))))
    assert gaps.std() / gaps.mean() > 0.6
    assert len(np.unique(gaps)) > 20


def test_two_operators_get_different_sequences():
    scheduler = TipScheduler(settings(0.1, 0.3), seed=8)
    a, b = projected(run(scheduler, "op-1", 2000)), projected(run(scheduler, "op-2", 2000))
    assert not np.array_equal(a, b)
    # Independent streams: agreement is what two independent sequences give by chance.
    assert np.corrcoef(a, b)[0, 1] == pytest.approx(0.0, abs=0.1)


def test_same_seed_same_sequence_and_interleaving_does_not_matter():
    first = TipScheduler(settings(), seed=123)
    alone = [d.payload() for d in run(first, "op-1", 3000)]
    second = TipScheduler(settings(), seed=123)
    interleaved = []
    for _ in range(3000):
        interleaved.append(second.decide("op-1").payload())
        second.decide("op-2")
    assert interleaved == alone
    other_seed = [d.payload() for d in run(TipScheduler(settings(), seed=124), "op-1", 3000)]
    assert other_seed != alone


def test_payload_for_the_audit_log():
    scheduler = TipScheduler(settings(0.5, 0.5, version=7), seed=3)
    decisions = run(scheduler, "op-9", 50)
    shot = next(d for d in decisions if d.projected)
    payload = shot.payload()
    assert set(payload) == {"operator", "bag_index", "projected", "category", "rate",
                            "settings_version"}
    assert payload["operator"] == "op-9" and payload["settings_version"] == 7
    assert payload["category"] in {"gun", "knife", "ied"} and payload["rate"] == 0.5
    miss = next(d for d in decisions if not d.projected).payload()
    assert miss["category"] is None and miss["projected"] is False
    canonical_text(payload)  # storable as canonical JSON
    assert KIND_TIP_SCHEDULED == "tip.scheduled"


def test_update_settings_takes_effect_without_a_burst():
    scheduler = TipScheduler(settings(0.01, 0.01), seed=6)
    run(scheduler, "op-1", 5000)
    scheduler.update_settings(settings(0.2, 0.2, version=2))
    after = run(scheduler, "op-1", 2000)
    assert all(d.settings_version == 2 and d.rate == 0.2 for d in after)
    shots = projected(after)
    assert shots[:100].mean() < 0.5  # the new band starts now: no catching up
    assert shots.mean() == pytest.approx(0.2, abs=0.03)


def test_extreme_rates():
    assert not projected(run(TipScheduler(settings(0.0, 0.0), seed=1), "op", 2000)).any()
    assert projected(run(TipScheduler(settings(1.0, 1.0), seed=1), "op", 2000)).all()


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"min_rate": 0.2, "max_rate": 0.1}, "min_rate"),
    ({"max_rate": 1.5}, "max_rate"),
    ({"min_rate": -0.01}, "min_rate"),
    ({"min_rate": math.nan}, "min_rate"),
    ({"max_rate": True}, "max_rate"),
    ({"max_rate": "0.05"}, "max_rate"),
    ({"weights": {GUN: 1.0, KNIFE: -1.0}}, "weights.knife"),
    ({"weights": {GUN: math.inf}}, "weights.gun"),
    ({"weights": {GUN: 0.0, KNIFE: 0.0, IED: 0, OTHER: 0}}, "weights"),
    ({"weights": {}}, "weights"),
    ({"weights": {"sword": 1.0}}, "weights.sword"),
    ({"version": 0}, "version"),
    ({"version": 1.5}, "version"),
    ({"block_bags": 0}, "block_bags"),
    ({"slack": 0}, "slack"),
])
def test_invalid_settings_name_the_field(kwargs, field):
    with pytest.raises(TipSettingsError) as caught:
        settings(**kwargs)
    assert caught.value.field == field
    assert f"'{field}'" in str(caught.value)
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, ScreenerError)


def test_settings_from_data():
    data = {"min_rate": 0.02, "max_rate": 0.04, "weights": {"gun": 2, "knife": 1},
            "version": 3}
    loaded = TipSettings.from_mapping(data)
    assert loaded.weights == {GUN: 2.0, KNIFE: 1.0, IED: 0.0, OTHER: 0.0}
    assert loaded.as_dict()["weights"] == {"gun": 2.0, "knife": 1.0, "ied": 0.0,
                                           "other": 0.0}
    assert TipSettings.from_mapping(loaded.as_dict()).as_dict() == loaded.as_dict()
    for bad, field in (({**data, "rate": 0.1}, "rate"), ({"min_rate": 0.1}, "max_rate"),
                       ({**data, "weights": [1, 2]}, "weights")):
        with pytest.raises(TipSettingsError) as caught:
            TipSettings.from_mapping(bad)
        assert caught.value.field == field


def test_bad_seed_and_operator():
    with pytest.raises(TipSettingsError) as caught:
        TipScheduler(settings(), seed=-1)
    assert caught.value.field == "seed"
    with pytest.raises(TipSettingsError) as caught:
        TipScheduler(settings(), seed=1).decide("")
    assert caught.value.field == "operator"
