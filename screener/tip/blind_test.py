"""Blind tests for trainers: a fixed set of images, built once, that every trainee sees
the same way, scored with d' and A' against a pass mark (docs/tip-blind-tests.md).

* **Spec** (:class:`BlindTestSpec`): number of trials, threat prevalence (the share of
  trials with an FTI; exactly ``round(trials x prevalence)`` of them, not a random
  number), category balance (weights, split by largest remainder), seed, time limit per
  image and the pass marks (d' and A', both must be met).
* **Build** (:func:`build_blind_test`): bags are drawn from a pool of stored scans
  without replacement while the pool lasts; each TIP trial gets an FTI of its category
  (every FTI of the category before one repeats, articles spread) and a projection seed;
  the projection is tried at build time, so a test never holds a trial that cannot be
  shown. The test is a JSON file naming scans by sha256 and FTIs by id and content hash;
  its id is the sha256 of its canonical JSON.
* **Run** (``screener.workflow.blind_tests``): no AI, no feedback, and a bag not decided
  within the time limit counts as cleared.
* **Score** (:func:`score_blind_test`): H and F with the log-linear correction, d', c
  and A' (:mod:`screener.tip.sdt`, as TIP scoring).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from screener.audit.canonical import canonical_json
from screener.errors import ScreenerError
from screener.scan.model import Scan
from screener.scan.store import ScanStore
from screener.tip.fti import FtiCategory, FtiImage
from screener.tip.library import FtiLibrary
from screener.tip.library_checks import FtiRecord
from screener.tip.projector import ProjectionError, ScanProjection, project_scan
from screener.tip.scoring import ScoringOptions, Split, TipTrial, score_trials

FORMAT_NAME = "screener-blind-test"
FORMAT_VERSION = 1
#: Placements tried (other FTIs of the category, other seeds) before a trial gives up.
BUILD_ATTEMPTS = 20
_SEED_STREAM = 0xB117D


class BlindTestError(ScreenerError):
    """A blind test cannot be built, read or run; names the field or file."""


@dataclass(frozen=True)
class BlindTestSpec:
    """What a trainer asks for. ``weights``: category balance of the TIP trials."""

    name: str
    trials: int
    prevalence: float
    weights: Mapping[FtiCategory, float]
    seed: int = 0
    time_limit_s: float = 15.0
    pass_d_prime: float = 2.0
    pass_a_prime: float = 0.85

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise BlindTestError("blind test field 'name': give the test a name")
        if not 1 <= self.trials <= 10_000:
            raise BlindTestError(f"blind test field 'trials': must be 1..10000, got "
                                 f"{self.trials}")
        if not 0.0 < self.prevalence < 1.0:
            raise BlindTestError(f"blind test field 'prevalence': must lie strictly "
                                 f"between 0 and 1 (d' needs both kinds of trial), got "
                                 f"{self.prevalence}")
        if self.tip_trials < 1 or self.tip_trials >= self.trials:
            raise BlindTestError(f"blind test field 'prevalence': {self.prevalence} of "
                                 f"{self.trials} trials leaves no trial of one kind; "
                                 "use more trials or another prevalence")
        if self.seed < 0:
            raise BlindTestError(f"blind test field 'seed': must be >= 0, got {self.seed}")
        if not (math.isfinite(self.time_limit_s) and self.time_limit_s > 0):
            raise BlindTestError(f"blind test field 'time_limit_s': must be a time > 0, "
                                 f"got {self.time_limit_s}")
        if not math.isfinite(self.pass_d_prime):
            raise BlindTestError("blind test field 'pass_d_prime': must be a number")
        if not 0.0 <= self.pass_a_prime <= 1.0:
            raise BlindTestError(f"blind test field 'pass_a_prime': must lie in [0, 1], "
                                 f"got {self.pass_a_prime}")
        weights = {FtiCategory(c): float(w) for c, w in self.weights.items()}
        if any(not math.isfinite(w) or w < 0 for w in weights.values()) or \
                not any(w > 0 for w in weights.values()):
            raise BlindTestError("blind test field 'weights': give each category a weight "
                                 ">= 0, at least one above 0")
        object.__setattr__(self, "weights", weights)

    @property
    def tip_trials(self) -> int:
        return round(self.trials * self.prevalence)

    def category_counts(self) -> dict[FtiCategory, int]:
        """TIP trials per category: proportional to the weights, by largest remainder."""
        total = sum(self.weights.values())
        shares = {c: self.tip_trials * w / total for c, w in self.weights.items() if w > 0}
        counts = {c: math.floor(s) for c, s in shares.items()}
        left = self.tip_trials - sum(counts.values())
        for c in sorted(shares, key=lambda c: (counts[c] - shares[c], c.value))[:left]:
            counts[c] += 1
        return {c: n for c, n in counts.items() if n > 0}

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "trials": self.trials, "prevalence": self.prevalence,
                "weights": {c.value: w for c, w in sorted(self.weights.items())},
                "seed": self.seed, "time_limit_s": self.time_limit_s,
                "pass_d_prime": self.pass_d_prime, "pass_a_prime": self.pass_a_prime}


@dataclass(frozen=True)
class BlindTrial:
    """One image of the test: a stored bag and, on a TIP trial, the FTI (by id and content
    hash) and the seed that places it."""

    index: int
    scan_sha256: str
    fti_id: str | None = None
    fti_sha256: str | None = None
    category: FtiCategory | None = None
    projection_seed: int | None = None

    @property
    def is_tip(self) -> bool:
        return self.fti_id is not None

    def as_dict(self) -> dict[str, Any]:
        return {"trial": self.index, "scan_sha256": self.scan_sha256, "fti_id": self.fti_id,
                "fti_sha256": self.fti_sha256,
                "category": None if self.category is None else self.category.value,
                "projection_seed": self.projection_seed}


@dataclass(frozen=True)
class BlindTest:
    spec: BlindTestSpec
    trials: tuple[BlindTrial, ...]
    created: str  # ISO time, UTC
    library: str  # the library's file name when built (information only)
    test_id: str = field(default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "test_id", hashlib.sha256(
            canonical_json(self._content(), "blind test")).hexdigest())

    def _content(self) -> dict[str, Any]:
        return {"format": FORMAT_NAME, "version": FORMAT_VERSION, "created": self.created,
                "library": self.library, "spec": self.spec.as_dict(),
                "trials": [t.as_dict() for t in self.trials]}

    def as_dict(self) -> dict[str, Any]:
        return {**self._content(), "test_id": self.test_id}


def fti_sha256(image: FtiImage) -> str:
    """Content hash of an FTI's pixels: a test runs only with the very images it was
    built with."""
    digest = hashlib.sha256()
    for array in (image.high, image.low, image.mask):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def build_blind_test(spec: BlindTestSpec, library: FtiLibrary, store: ScanStore,
                     pool: Sequence[str], *, now: datetime | None = None,
                     on_trial: Callable[[int], None] | None = None) -> BlindTest:
    """Build a test from ``library`` and the stored scans ``pool`` (sha256s);
    ``on_trial(index)`` reports each image made (a TIP image's placement is tried)."""
    if not pool:
        raise BlindTestError("blind test: the bag pool is empty; add scans to build from")
    missing = [sha for sha in pool if sha not in store]
    if missing:
        raise BlindTestError(f"blind test: scan {missing[0]} of the pool is not in the "
                             f"scan store {store.root}")
    by_category = library.by_category()
    counts = spec.category_counts()
    for category in counts:
        if not by_category.get(category):
            raise BlindTestError(f"blind test field 'weights': the FTI library "
                                 f"{library.path.name} has no {category.value} image")
    rng = np.random.default_rng(np.random.SeedSequence([spec.seed, _SEED_STREAM]))
    bags = _draw_bags(pool, spec.trials, rng)
    categories: list[FtiCategory | None] = []
    for tip_category, count in counts.items():
        categories += [tip_category] * count
    categories += [None] * (spec.trials - len(categories))
    order = rng.permutation(spec.trials)
    queues = {c: _spread_articles(records, rng) for c, records in by_category.items()}
    trials = []
    for index in range(spec.trials):
        drawn = categories[int(order[index])]
        if drawn is None:
            trials.append(BlindTrial(index, bags[index]))
        else:
            trials.append(_tip_trial(index, bags[index], drawn, queues[drawn], library,
                                     store, rng))
        if on_trial is not None:
            on_trial(index)
    created = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    return BlindTest(spec, tuple(trials), created, library.path.name)


def _draw_bags(pool: Sequence[str], count: int, rng: np.random.Generator) -> list[str]:
    """Without replacement while the pool lasts, then again in a new random order."""
    bags: list[str] = []
    while len(bags) < count:
        bags += [pool[int(i)] for i in rng.permutation(len(pool))]
    return bags[:count]


def _spread_articles(records: Sequence[FtiRecord], rng: np.random.Generator) -> list[FtiRecord]:
    """The category's images in an order that goes through every article before showing
    a second image of any (round robin over shuffled articles)."""
    by_article: dict[str, list[FtiRecord]] = {}
    for record in records:
        by_article.setdefault(record.article_id, []).append(record)
    articles = [by_article[a] for a in sorted(by_article)]
    for images in articles:
        rng.shuffle(images)
    rng.shuffle(articles)
    spread = []
    for round_ in range(max(len(images) for images in articles)):
        spread += [images[round_] for images in articles if round_ < len(images)]
    return spread


def _tip_trial(index: int, scan_sha256: str, category: FtiCategory, queue: list[FtiRecord],
               library: FtiLibrary, store: ScanStore, rng: np.random.Generator) -> BlindTrial:
    scan = store.open(scan_sha256)
    reason = "no FTI tried"
    for _ in range(BUILD_ATTEMPTS):
        record = queue.pop(0)
        queue.append(record)  # every image of the category before any repeats
        seed = int(rng.integers(2**63))
        image = library.load(record.fti_id)
        try:
            project_scan(scan, image, np.random.default_rng(seed))
        except ProjectionError as error:
            reason = str(error)
            continue
        return BlindTrial(index, scan_sha256, record.fti_id, fti_sha256(image), category,
                          seed)
    raise BlindTestError(f"blind test trial {index}: no {category.value} FTI could be placed "
                         f"in scan {scan_sha256[:12]} after {BUILD_ATTEMPTS} tries (last: "
                         f"{reason}); use other bags")


def project_trial(trial: BlindTrial, library: FtiLibrary, store: ScanStore,
                  scan: Scan | None = None) -> ScanProjection:
    """The trial's composite, exactly as at build time (same FTI, same seed); ``scan``:
    the trial's stored scan when it is open already."""
    if trial.fti_id is None or trial.projection_seed is None:
        raise BlindTestError(f"blind test trial {trial.index} has no FTI")
    if trial.fti_id not in library:
        raise BlindTestError(f"blind test trial {trial.index}: FTI {trial.fti_id} is not in "
                             f"the library {library.path}; run with the library it was "
                             "built from")
    image = library.load(trial.fti_id)
    if fti_sha256(image) != trial.fti_sha256:
        raise BlindTestError(f"blind test trial {trial.index}: FTI {trial.fti_id} in "
                             f"{library.path} differs from the image the test was built "
                             "with; run with the library it was built from")
    real = store.open(trial.scan_sha256) if scan is None else scan
    return project_scan(real, image, np.random.default_rng(trial.projection_seed))


# ---------------------------------------------------------------------------- files


def write_blind_test(path: Path | str, test: BlindTest) -> Path:
    path = Path(path)
    try:
        path.write_text(json.dumps(test.as_dict(), indent=1) + "\n", encoding="utf-8")
    except OSError as error:
        raise BlindTestError(f"{path}: cannot write the blind test ({error.strerror})") \
            from None
    return path


def read_blind_test(path: Path | str) -> BlindTest:
    """Read and check a test file; a changed file no longer matches its id."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BlindTestError(f"{path}: no such blind test file") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise BlindTestError(f"{path}: not a blind test file ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise BlindTestError(f"{path}: not a blind test file (format is not {FORMAT_NAME!r})")
    if data.get("version") != FORMAT_VERSION:
        raise BlindTestError(f"{path}: blind test format version {data.get('version')!r}; "
                             f"this Screener reads version {FORMAT_VERSION}")
    try:
        spec_data = data["spec"]
        spec = BlindTestSpec(
            name=str(spec_data["name"]), trials=int(spec_data["trials"]),
            prevalence=float(spec_data["prevalence"]),
            weights={FtiCategory(c): float(w) for c, w in spec_data["weights"].items()},
            seed=int(spec_data["seed"]), time_limit_s=float(spec_data["time_limit_s"]),
            pass_d_prime=float(spec_data["pass_d_prime"]),
            pass_a_prime=float(spec_data["pass_a_prime"]))
        trials = tuple(_trial_of(item) for item in data["trials"])
        test = BlindTest(spec, trials, str(data["created"]), str(data["library"]))
    except BlindTestError as error:
        raise BlindTestError(f"{path}: {error}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise BlindTestError(f"{path}: malformed blind test ({type(error).__name__}: "
                             f"{error})") from None
    if len(trials) != spec.trials:
        raise BlindTestError(f"{path}: {len(trials)} trials listed, the spec says "
                             f"{spec.trials}")
    if test.test_id != data.get("test_id"):
        raise BlindTestError(f"{path}: the file was changed after it was built (its content "
                             "no longer matches its test_id); rebuild the test")
    return test


def _trial_of(item: Mapping[str, Any]) -> BlindTrial:
    category = item["category"]
    return BlindTrial(index=int(item["trial"]), scan_sha256=str(item["scan_sha256"]),
                      fti_id=item["fti_id"], fti_sha256=item["fti_sha256"],
                      category=None if category is None else FtiCategory(category),
                      projection_seed=item["projection_seed"])


# ---------------------------------------------------------------------------- scores


@dataclass(frozen=True)
class BlindTestResult:
    """A trainee's score on a test. Rates are log-linear corrected, as in TIP scoring."""

    test_id: str
    test_name: str
    trainee: str
    trials: int
    hits: int
    misses: int
    false_alarms: int
    correct_rejections: int
    timeouts: int
    hit_rate: float
    false_alarm_rate: float
    d_prime: float
    a_prime: float
    c: float
    rt_median_ms: float | None
    pass_d_prime: float
    pass_a_prime: float
    by_category: Mapping[str, tuple[int, int]]  # category -> (hits, TIP trials)

    @property
    def passed(self) -> bool:
        return self.d_prime >= self.pass_d_prime and self.a_prime >= self.pass_a_prime

    def payload(self) -> dict[str, Any]:
        return {"test_id": self.test_id, "test_name": self.test_name,
                "trainee": self.trainee, "trials": self.trials, "hits": self.hits,
                "misses": self.misses, "false_alarms": self.false_alarms,
                "correct_rejections": self.correct_rejections, "timeouts": self.timeouts,
                "hit_rate": round(self.hit_rate, 6),
                "false_alarm_rate": round(self.false_alarm_rate, 6),
                "d_prime": round(self.d_prime, 6), "a_prime": round(self.a_prime, 6),
                "c": round(self.c, 6), "rt_median_ms": self.rt_median_ms,
                "pass_d_prime": self.pass_d_prime, "pass_a_prime": self.pass_a_prime,
                "passed": self.passed,
                "by_category": {k: list(v) for k, v in sorted(self.by_category.items())}}


def score_blind_test(test: BlindTest, trainee: str, trials: Sequence[TipTrial],
                     timeouts: int = 0) -> BlindTestResult:
    """Score a finished run (one trial per image of the test)."""
    if len(trials) != len(test.trials):
        raise BlindTestError(f"blind test {test.spec.name}: {len(trials)} answers for "
                             f"{len(test.trials)} images; a run is scored only when complete")
    report = score_trials(trials, ScoringOptions(splits=(Split.NONE,)))
    card = report.card(trainee)
    if card is None or card.d_prime is None or card.a_prime is None or card.c is None \
            or card.hit_rate is None or card.false_alarm_rate is None:
        raise BlindTestError(f"blind test {test.spec.name}: the answers are not all "
                             f"{trainee}'s, or lack TIP or non-TIP trials")
    by_category = {}
    for category in FtiCategory:
        cell = report.card(trainee, category=category.value)
        if cell is not None:
            by_category[category.value] = (cell.hits, cell.tip_trials)
    return BlindTestResult(
        test.test_id, test.spec.name, trainee, len(trials), card.hits, card.misses,
        card.false_alarms, card.correct_rejections, timeouts, card.hit_rate,
        card.false_alarm_rate, card.d_prime, card.a_prime, card.c, card.rt_median_ms,
        test.spec.pass_d_prime, test.spec.pass_a_prime, by_category)
