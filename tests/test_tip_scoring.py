"""TIP scoring: the SDT formulas against scipy and hand-computed values, and the scoring
of hand-built trial lists (counts, splits, bins, flags, events, speed)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from scipy.stats import norm

from screener.audit.chain import EventRecord
from screener.audit.log import open_audit_log
from screener.audit.query import events_of_kinds
from screener.errors import ScreenerError
from screener.tip.fti import FtiCategory
from screener.tip.scoring import (
    ALL,
    KIND_TIP_OUTCOME,
    Binning,
    Period,
    ScoringOptions,
    Split,
    TipDataError,
    TipOutcome,
    TipTrial,
    score_trials,
    trials_from_events,
)
from screener.tip.sdt import (
    Z95,
    a_prime,
    criterion,
    d_prime,
    loglinear_rate,
    probit,
    wilson_interval,
)

GUN, KNIFE, IED, OTHER = FtiCategory.GUN, FtiCategory.KNIFE, FtiCategory.IED, FtiCategory.OTHER
T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)  # a Monday


# ---------------------------------------------------------------------------- sdt


def test_probit_matches_scipy():
    rng = np.random.default_rng(1)
    p = np.concatenate([[1e-12, 1e-6, 0.001, 0.025, 0.5, 0.975, 0.999, 1 - 1e-9],
                        rng.random(200)])
    np.testing.assert_allclose(probit(p), norm.ppf(p), rtol=1e-12, atol=1e-12)
    assert probit(0.0) == -np.inf and probit(1.0) == np.inf
    assert np.isnan(probit(np.nan)) and np.isnan(probit(1.5)) and np.isnan(probit(-0.1))
    assert abs(Z95 - norm.ppf(0.975)) < 1e-15


@pytest.mark.parametrize(("hits", "n_signal", "fas", "n_noise"), [
    (0, 50, 0, 200),      # H and F at 0
    (50, 50, 200, 200),   # H and F at 1
    (50, 50, 0, 200),     # perfect: H 1, F 0
    (0, 50, 200, 200),    # perverse: H 0, F 1
    (37, 50, 12, 200),
    (0, 0, 3, 10),        # no signal trials: H = 0.5
])
def test_dprime_and_c_match_scipy(hits, n_signal, fas, n_noise):
    h, f = loglinear_rate(hits, n_signal), loglinear_rate(fas, n_noise)
    expected_h = (hits + 0.5) / (n_signal + 1)
    expected_f = (fas + 0.5) / (n_noise + 1)
    assert float(h) == pytest.approx(expected_h) and float(f) == pytest.approx(expected_f)
    zh, zf = norm.ppf(expected_h), norm.ppf(expected_f)
    assert np.isfinite(float(d_prime(h, f)))
    assert float(d_prime(h, f)) == pytest.approx(zh - zf, abs=1e-12)
    assert float(criterion(h, f)) == pytest.approx(-(zh + zf) / 2, abs=1e-12)


def test_dprime_and_c_match_scipy_at_random_values():
    rng = np.random.default_rng(7)
    n_signal = rng.integers(0, 300, 500)
    n_noise = rng.integers(0, 3000, 500)
    hits = rng.integers(0, n_signal + 1)
    fas = rng.integers(0, n_noise + 1)
    h, f = loglinear_rate(hits, n_signal), loglinear_rate(fas, n_noise)
    zh, zf = norm.ppf((hits + 0.5) / (n_signal + 1)), norm.ppf((fas + 0.5) / (n_noise + 1))
    np.testing.assert_allclose(d_prime(h, f), zh - zf, atol=1e-10)
    np.testing.assert_allclose(criterion(h, f), -(zh + zf) / 2, atol=1e-10)
    # And a perfect screener's d' stays finite and grows with the number of trials.
    assert 4.0 < float(d_prime(loglinear_rate(100, 100), loglinear_rate(0, 100))) < 6.0


def test_a_prime_hand_computed():
    # Grier (1971), H >= F: 0.5 + (H - F)(1 + H - F) / (4 H (1 - F))
    # H 0.8, F 0.2: 0.5 + 0.6 * 1.6 / (4 * 0.8 * 0.8) = 0.5 + 0.96 / 2.56 = 0.875
    assert float(a_prime(0.8, 0.2)) == pytest.approx(0.875)
    # H 0.9, F 0.3: 0.5 + 0.6 * 1.6 / (4 * 0.9 * 0.7) = 0.5 + 0.96 / 2.52
    assert float(a_prime(0.9, 0.3)) == pytest.approx(0.5 + 0.96 / 2.52)
    # H < F mirror: 0.5 - (F - H)(1 + F - H) / (4 F (1 - H)); H 0.2, F 0.8: 0.125
    assert float(a_prime(0.2, 0.8)) == pytest.approx(0.125)
    # H 0.3, F 0.9: 0.5 - 0.6 * 1.6 / (4 * 0.9 * 0.7)
    assert float(a_prime(0.3, 0.9)) == pytest.approx(0.5 - 0.96 / 2.52)
    assert float(a_prime(1.0, 0.0)) == pytest.approx(1.0)
    assert float(a_prime(0.0, 1.0)) == pytest.approx(0.0)
    for p in (0.0, 0.3, 1.0):
        assert float(a_prime(p, p)) == 0.5


def test_a_prime_symmetry_and_range():
    rng = np.random.default_rng(3)
    h, f = rng.random(1000), rng.random(1000)
    a = a_prime(h, f)
    np.testing.assert_allclose(a + a_prime(f, h), 1.0, atol=1e-12)
    assert np.all((a >= 0) & (a <= 1))
    assert np.all((a > 0.5) == (h > f))


def test_wilson_hand_computed():
    # 8 of 10, z = 1.96: centre (8 + 1.9208) / 13.8416 = 0.716738,
    # half 1.96 / 13.8416 * sqrt(8 * 2 / 10 + 0.9604) = 0.141602 * 1.600125 = 0.226581
    low, high = wilson_interval(8, 10, z=1.96)
    assert float(low) == pytest.approx(0.490157, abs=1e-5)
    assert float(high) == pytest.approx(0.943319, abs=1e-5)
    # 0 of 10: centre = half = 1.9208 / 13.8416 = 0.138770
    low, high = wilson_interval(0, 10, z=1.96)
    assert float(low) == pytest.approx(0.0, abs=1e-12)
    assert float(high) == pytest.approx(2 * 1.9208 / 13.8416, abs=1e-6)
    low, high = wilson_interval(0, 0)
    assert (float(low), float(high)) == (0.0, 1.0)


def test_wilson_bounds_solve_the_score_equation():
    # The Wilson bounds are the p where |x/n - p| = z sqrt(p (1 - p) / n).
    rng = np.random.default_rng(5)
    n = rng.integers(1, 500, 200)
    x = rng.integers(0, n + 1)
    low, high = wilson_interval(x, n)
    for bound in (low, high):
        gap = np.abs(x / n - bound) - Z95 * np.sqrt(bound * (1 - bound) / n)
        np.testing.assert_allclose(gap, 0.0, atol=1e-7)
    corrected = loglinear_rate(x, n)
    assert np.all((low <= corrected) & (corrected <= high))


# ---------------------------------------------------------------------------- trials


def trial(operator="op-a", *, tip=True, category=GUN, suspect=False, overlap=False,
          rt=1000.0, ai=None, superposition=None, clutter=None, when=T0):
    return TipTrial(operator=operator, time=when, category=category if tip else None,
                    was_tip=tip, responded_suspect=suspect, region_overlapped=overlap,
                    response_ms=rt, ai_flagged_fti=ai, superposition=superposition,
                    clutter=clutter)


def hand_built():
    """Operator a: 6 TIP trials, 5 non-TIP. Operator b: 1 TIP, 1 non-TIP."""
    return [
        # TIP trials of op-a
        trial(category=GUN, suspect=True, overlap=True, rt=1000, ai=True,
              superposition=0.1, clutter=0.1),                       # hit
        trial(category=GUN, suspect=True, overlap=True, rt=2000, ai=False,
              superposition=0.5, clutter=0.9),                       # hit
        trial(category=GUN, suspect=True, overlap=False, rt=3000, ai=None,
              superposition=0.9, clutter=0.5),                       # miss, mislocated
        trial(category=KNIFE, suspect=False, rt=4000, ai=True,
              superposition=0.95, clutter=0.2),                      # miss
        trial(category=KNIFE, suspect=True, overlap=True, rt=5000, ai=True,
              superposition=0.2, clutter=1.0),                       # hit
        trial(category=IED, suspect=False, rt=None, ai=False,
              superposition=None, clutter=None),                     # miss, no rt/difficulty
        # non-TIP trials of op-a
        trial(tip=False, suspect=True, ai=True, clutter=0.1),        # false alarm (AI flagged)
        trial(tip=False, suspect=False, ai=True, clutter=0.8),       # correct rejection
        trial(tip=False, suspect=False, ai=False, clutter=0.5),      # correct rejection
        trial(tip=False, suspect=True, ai=None, clutter=0.9),        # false alarm
        trial(tip=False, suspect=False, ai=False, clutter=None),     # correct rejection
        # op-b
        trial("op-b", category=OTHER, suspect=True, overlap=True, ai=True),
        trial("op-b", tip=False, suspect=False, ai=False),
    ]


def counts(card):
    return (card.hits, card.misses, card.false_alarms, card.correct_rejections)


def test_outcomes_of_trials():
    outcomes = [t.outcome for t in hand_built()[:11]]
    assert outcomes == [TipOutcome.HIT, TipOutcome.HIT, TipOutcome.MISS, TipOutcome.MISS,
                        TipOutcome.HIT, TipOutcome.MISS, TipOutcome.FALSE_ALARM,
                        TipOutcome.CORRECT_REJECTION, TipOutcome.CORRECT_REJECTION,
                        TipOutcome.FALSE_ALARM, TipOutcome.CORRECT_REJECTION]


def test_counts_per_operator_and_category():
    report = score_trials(hand_built())
    a = report.card("op-a")
    assert counts(a) == (3, 3, 2, 3) and a.mislocated == 1
    assert a.tip_trials == 6 and a.non_tip_trials == 5
    assert counts(report.card("op-a", category="gun")) == (2, 1, 2, 3)
    assert report.card("op-a", category="gun").mislocated == 1
    assert counts(report.card("op-a", category="knife")) == (1, 1, 2, 3)
    assert counts(report.card("op-a", category="ied")) == (0, 1, 2, 3)
    assert report.card("op-a", category="other") is None  # no TIP trial of that category
    assert counts(report.card("op-b")) == (1, 0, 0, 1)
    assert counts(report.card("op-b", category="other")) == (1, 0, 0, 1)
    # Values follow the formulas, checked independently with scipy.
    h, f = 3.5 / 7, 2.5 / 6
    assert a.hit_rate == pytest.approx(h) and a.false_alarm_rate == pytest.approx(f)
    assert a.d_prime == pytest.approx(norm.ppf(h) - norm.ppf(f))
    assert a.c == pytest.approx(-(norm.ppf(h) + norm.ppf(f)) / 2)
    assert a.a_prime == pytest.approx(float(a_prime(h, f)))
    low, high = a.hit_rate_ci
    assert (low, high) == pytest.approx(tuple(float(v) for v in wilson_interval(3, 6)))
    # Response times of op-a's TIP trials: 1000..5000 (one missing).
    assert a.rt_median_ms == pytest.approx(3000.0)
    assert a.rt_p90_ms == pytest.approx(np.percentile([1000, 2000, 3000, 4000, 5000], 90))
    assert report.card("op-a", category="ied").rt_median_ms is None


def test_split_by_ai():
    report = score_trials(hand_built())
    alone = report.card("op-a", split=Split.AI, group="screener_alone")
    with_ai = report.card("op-a", split=Split.AI, group="screener_plus_ai")
    # TIP: AI flagged trials 1, 4, 5 (hit, miss, hit); not flagged or unavailable 2, 3, 6.
    # Non-TIP: AI flagged 7 (FA), 8 (CR); otherwise 9 (CR), 10 (FA), 11 (CR).
    assert counts(with_ai) == (2, 1, 1, 1)
    assert counts(alone) == (1, 2, 1, 2)
    assert counts(report.card("op-a", category="knife", split=Split.AI,
                              group="screener_plus_ai")) == (1, 1, 1, 1)
    assert report.card("op-a", category="knife", split=Split.AI,
                       group="screener_alone") is None
    assert counts(report.card("op-b", split=Split.AI, group="screener_plus_ai")) == (1, 0, 0, 0)
    assert counts(report.card("op-b", split=Split.AI, group="screener_alone")) == (0, 0, 0, 1)


def test_difficulty_bins_equal_width():
    report = score_trials(hand_built(), ScoringOptions(bins=3))
    assert report.bin_edges[Split.SUPERPOSITION] == pytest.approx((0, 1 / 3, 2 / 3, 1))
    by_sup = {c.group: c for c in report.select(split=Split.SUPERPOSITION, operator="op-a",
                                                category=ALL)}
    assert list(by_sup) == ["[0, 0.333)", "[0.333, 0.667)", "[0.667, 1]"]
    # superposition: 0.1 hit, 0.2 hit | 0.5 hit | 0.9 miss, 0.95 miss; F shared: 2 FA, 3 CR
    assert counts(by_sup["[0, 0.333)"]) == (2, 0, 2, 3)
    assert counts(by_sup["[0.333, 0.667)"]) == (1, 0, 2, 3)
    assert counts(by_sup["[0.667, 1]"]) == (0, 2, 2, 3)
    by_clutter = {c.group: c for c in report.select(split=Split.CLUTTER, operator="op-a",
                                                    category=ALL)}
    # clutter TIP: 0.1 hit, 0.2 miss | 0.5 miss | 0.9 hit, 1.0 hit (last bin closed)
    # clutter non-TIP: 0.1 FA | 0.5 CR | 0.8 CR, 0.9 FA; the one without clutter is left out
    assert counts(by_clutter["[0, 0.333)"]) == (1, 1, 1, 0)
    assert counts(by_clutter["[0.333, 0.667)"]) == (0, 1, 0, 1)
    assert counts(by_clutter["[0.667, 1]"]) == (2, 0, 1, 1)
    gun = {c.group: c for c in report.select(split=Split.CLUTTER, operator="op-a",
                                             category="gun")}
    assert counts(gun["[0, 0.333)"]) == (1, 0, 1, 0)
    assert counts(gun["[0.333, 0.667)"]) == (0, 1, 0, 1)
    assert counts(gun["[0.667, 1]"]) == (1, 0, 1, 1)


def test_difficulty_bins_by_quantile():
    trials = [trial(suspect=True, overlap=True, superposition=s, clutter=0.5)
              for s in (0.0, 0.1, 0.2, 0.3, 0.35, 0.4)]
    trials += [trial(suspect=False, superposition=s, clutter=0.5) for s in (0.5, 0.6)]
    report = score_trials(trials, ScoringOptions(bins=2, binning=Binning.QUANTILE,
                                                 splits=(Split.SUPERPOSITION,)))
    edges = report.bin_edges[Split.SUPERPOSITION]
    assert edges == pytest.approx((0.0, 0.325, 0.6))
    cards = report.select(operator="op-a", category=ALL)
    assert [counts(c)[:2] for c in cards] == [(4, 0), (2, 2)]
    assert [c.group for c in cards] == ["[0, 0.325)", "[0.325, 0.6]"]


def test_insufficient_data_under_100_tip_events():
    def trials(n_tip):
        made = [trial(suspect=i % 2 == 0, overlap=i % 2 == 0,
                      category=GUN if i < 60 else KNIFE) for i in range(n_tip)]
        return made + [trial(tip=False) for _ in range(300)]

    thin = score_trials(trials(99), ScoringOptions(splits=(Split.NONE,)))
    enough = score_trials(trials(100), ScoringOptions(splits=(Split.NONE,)))
    assert thin.card("op-a").insufficient_data
    assert not enough.card("op-a").insufficient_data
    assert enough.card("op-a", category="gun").insufficient_data  # 60 of them
    custom = score_trials(trials(50), ScoringOptions(min_tip_events=50))
    assert not custom.card("op-a").insufficient_data


def test_cards_missing_a_side_say_none():
    report = score_trials([trial(tip=False, suspect=True), trial(tip=False)])
    card = report.card("op-a")
    assert card.hit_rate is None and card.hit_rate_ci is None and card.d_prime is None
    assert card.false_alarm_rate == pytest.approx(1.5 / 3)
    only_tip = score_trials([trial(suspect=True, overlap=True)]).card("op-a")
    assert only_tip.false_alarm_rate is None and only_tip.a_prime is None
    assert score_trials([]).cards == ()


def test_periods():
    when = [T0, T0 + timedelta(hours=20), T0 + timedelta(days=7), T0 + timedelta(days=30)]
    trials = [trial(suspect=True, overlap=True, when=w) for w in when]
    periods = {Period.DAY: ["2025-03-03", "2025-03-04", "2025-03-10", "2025-04-02"],
               Period.WEEK: ["2025-W10", "2025-W11", "2025-W14"],
               Period.MONTH: ["2025-03", "2025-04"], Period.ALL: [ALL]}
    for period, labels in periods.items():
        report = score_trials(trials, ScoringOptions(period=period, splits=(Split.NONE,)))
        assert [c.period for c in report.select(category=ALL)] == labels
    week = score_trials(trials, ScoringOptions(period=Period.WEEK)).card("op-a",
                                                                        period="2025-W10")
    assert week.hits == 2
    # A naive time is UTC; an aware one is converted to UTC first.
    late = datetime(2025, 3, 4, 1, 0, tzinfo=UTC).astimezone(timezone(timedelta(hours=5)))
    report = score_trials([trial(when=late), trial(when=datetime(2025, 3, 4, 1, 0))],
                          ScoringOptions(period=Period.DAY, splits=(Split.NONE,)))
    assert [c.period for c in report.select(category=ALL)] == ["2025-03-04"]


def test_response_time_quantiles_per_cell_match_numpy():
    rng = np.random.default_rng(11)
    trials = [trial(f"op-{rng.integers(3)}", category=list(FtiCategory)[rng.integers(4)],
                    rt=float(rng.integers(300, 9000)) if rng.random() > 0.1 else None)
              for _ in range(400)]
    report = score_trials(trials, ScoringOptions(splits=(Split.NONE,)))
    for card in report.cards:
        times = [t.response_ms for t in trials if t.operator == card.operator
                 and (card.category == ALL or t.category == card.category)
                 and t.response_ms is not None]
        assert card.rt_median_ms == pytest.approx(np.median(times))
        assert card.rt_p90_ms == pytest.approx(np.percentile(times, 90))


def test_as_dict_is_plain_json():
    report = score_trials(hand_built())
    text = json.dumps(report.as_dict(), allow_nan=False)
    card = json.loads(text)["cards"][0]
    assert card["operator"] == "op-a" and card["category"] == "all" and card["split"] == "none"
    assert card["hit_rate_ci"] == list(report.cards[0].hit_rate_ci)
    assert {"hits", "misses", "mislocated", "false_alarms", "correct_rejections", "d_prime",
            "c", "a_prime", "rt_median_ms", "rt_p90_ms", "insufficient_data"} <= set(card)


def test_invalid_trials_raise_typed_errors():
    with pytest.raises(TipDataError) as caught:
        trial(category=None)
    assert caught.value.field == "category"
    with pytest.raises(TipDataError) as caught:
        trial(tip=False, suspect=True, overlap=True)
    assert caught.value.field == "region_overlapped"
    with pytest.raises(TipDataError) as caught:
        trial(clutter=1.5)
    assert caught.value.field == "clutter"
    with pytest.raises(TipDataError) as caught:
        trial(rt=-1.0)
    assert caught.value.field == "response_ms"
    assert issubclass(TipDataError, ScreenerError)


# ---------------------------------------------------------------------------- events


def event(payload, seq=1, kind=KIND_TIP_OUTCOME, when="2025-03-03T08:00:00.000000Z"):
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return EventRecord(station="st", seq=seq, time_utc=when, actor="op-a", role="screener",
                       kind=kind, payload=text, scan_sha256=None, model_sha256=None,
                       prev_hash="0" * 64, hash="1" * 64)


def test_trials_round_trip_through_the_audit_log(tmp_path):
    trials = hand_built()
    log = open_audit_log(tmp_path / "home", "st", checkpoint_every=1000)
    try:
        for t in trials:
            log.append(KIND_TIP_OUTCOME, t.payload(), actor=t.operator, role="screener")
        log.append("tip.scheduled", {"operator": "op-a"})
        back = trials_from_events(events_of_kinds(log.engine, [KIND_TIP_OUTCOME,
                                                               "tip.scheduled"]))
    finally:
        log.engine.dispose()
    assert len(back) == len(trials)
    for original, read in zip(trials, back, strict=True):
        assert read.outcome is original.outcome
        assert (read.operator, read.category, read.was_tip, read.responded_suspect,
                read.ai_flagged_fti, read.superposition, read.clutter, read.response_ms) == \
            (original.operator, original.category, original.was_tip,
             original.responded_suspect, original.ai_flagged_fti, original.superposition,
             original.clutter, original.response_ms)
        assert read.time.tzinfo is not None
    assert [c.as_dict() for c in score_trials(back).cards] == \
        [c.as_dict() for c in score_trials(trials).cards]


def test_event_payload_conventions():
    base = {"operator": "op-a", "category": "knife", "tip": True, "outcome": "miss",
            "response_ms": 1200, "ai_flagged": None, "superposition": 0.4, "clutter": 0.2}
    (read,) = trials_from_events([event(base), event(base, kind="screening.decision")])
    assert read.category is KNIFE and not read.responded_suspect  # miss, no flag: a clear
    assert read.time == datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    (mislocated,) = trials_from_events([event({**base, "responded_suspect": True})])
    assert mislocated.responded_suspect and mislocated.outcome is TipOutcome.MISS
    clean = {"operator": "op-a", "category": None, "tip": False, "outcome": "false_alarm",
             "response_ms": None, "ai_flagged": True, "superposition": None, "clutter": 0.3}
    (fa,) = trials_from_events([event(clean)])
    assert fa.outcome is TipOutcome.FALSE_ALARM and fa.responded_suspect


@pytest.mark.parametrize(("change", "field"), [
    ({"operator": None}, "operator"),
    ({"tip": "yes"}, "tip"),
    ({"outcome": "detected"}, "outcome"),
    ({"outcome": "false_alarm"}, "outcome"),          # does not fit tip = true
    ({"category": "sword"}, "category"),
    ({"category": None}, "category"),                 # a TIP trial without a category
    ({"response_ms": "fast"}, "response_ms"),
    ({"response_ms": True}, "response_ms"),
    ({"clutter": 2.0}, "clutter"),
    ({"ai_flagged": 1}, "ai_flagged"),
    ({"responded_suspect": False, "outcome": "hit"}, "responded_suspect"),
])
def test_malformed_events_name_the_field(change, field):
    payload = {"operator": "op-a", "category": "gun", "tip": True, "outcome": "hit",
               "response_ms": 900, "ai_flagged": False, "superposition": 0.5, "clutter": 0.5}
    payload.update(change)
    with pytest.raises(TipDataError) as caught:
        trials_from_events([event(payload, seq=42)])
    assert caught.value.field == field
    assert "st#42" in str(caught.value)


def test_missing_field_and_bad_json():
    with pytest.raises(TipDataError) as caught:
        trials_from_events([event({"category": "gun", "tip": True, "outcome": "hit"})])
    assert caught.value.field == "operator" and "missing" in str(caught.value)
    with pytest.raises(TipDataError) as caught:
        trials_from_events([event("{not json")])
    assert caught.value.field == "payload"


# ---------------------------------------------------------------------------- speed


def synthetic_trials(n=10_000, operators=50, seed=0):
    rng = np.random.default_rng(seed)
    cats = list(FtiCategory)
    out = []
    for i in range(n):
        tip = bool(rng.random() < 0.4)
        suspect = bool(rng.random() < (0.8 if tip else 0.1))
        out.append(TipTrial(
            operator=f"op-{rng.integers(operators):02d}",
            time=T0 + timedelta(minutes=i), category=cats[rng.integers(4)] if tip else None,
            was_tip=tip, responded_suspect=suspect,
            region_overlapped=tip and suspect and bool(rng.random() < 0.9),
            response_ms=float(rng.lognormal(8, 0.4)),
            ai_flagged_fti=[None, True, False][rng.integers(3)],
            superposition=float(rng.random()) if tip else None, clutter=float(rng.random())))
    return out


def test_scoring_10000_trials_over_50_operators_counts_every_trial():
    """Correctness at report scale; the time it takes is bench/tip_scoring.py's job."""
    trials = synthetic_trials()
    report = score_trials(trials, ScoringOptions(period=Period.DAY))
    assert len({c.operator for c in report.cards}) == 50
    total = sum(c.tip_trials for c in report.select(split=Split.NONE, category=ALL))
    assert total == sum(t.was_tip for t in trials)
    assert math.isfinite(report.cards[0].d_prime)
