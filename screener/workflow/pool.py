"""The pool of distinct simulated bags a simulation screens, kept in the scan store.

Pool bag ``i`` of seed ``s`` is ``simulate_bag(s * 100003 + i)`` with the kind and
threats ``screener demo`` would choose for bag ``i``, at this station and lane, acquired
at ``SIMULATION_EPOCH`` plus ten seconds a bag. Fixed acquisition times make the file
bytes, hence the sha256, a function of the seed alone. The file goes into the store with
its ground truth (the store keeps the bytes; reading a scan never reads the truth).

Simulating a bag takes about half a second, so with an ``index`` folder each bag's
recipe (seed, kind, threats, station, lane, time, Screener version) is remembered with
its sha256 (best effort: an unwritable index only costs time). A later run whose recipe
matches and whose scan is still in the store reads it back, hash re-checked, instead of
simulating it again.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from screener import __version__
from screener.atomic_files import written_atomically
from screener.audit.canonical import canonical_json
from screener.demo import BELT_INTERVAL_S, plan_kinds, plan_threats
from screener.scan import GroundTruth, Scan, ScanStore, read_ground_truth, write_scan
from screener.sim.generate import simulate_bag
from screener.workflow.difficulty import BagPercept, percept_of

SIMULATION_EPOCH = datetime(2025, 1, 1, 6, 0, tzinfo=UTC)
#: Under the home folder: which stored scan each simulated pool bag's recipe gave.
POOL_INDEX = "simulation-pool"
SEED_STRIDE = 100_003


@dataclass(frozen=True, eq=False)
class PoolBag:
    """A stored simulated bag with what only the simulation may know about it."""

    scan_sha256: str
    bag_id: str
    truth: GroundTruth
    percept: BagPercept


@dataclass(frozen=True)
class BagRecipe:
    seed: int
    kind: str
    threats: tuple[str, ...]
    station: str
    lane: str
    acquired_at: datetime

    def key(self) -> str:
        recipe = {"screener": __version__, "seed": self.seed, "kind": self.kind,
                  "threats": list(self.threats), "station": self.station, "lane": self.lane,
                  "acquired_at": self.acquired_at.isoformat()}
        return hashlib.sha256(canonical_json(recipe, "recipe")).hexdigest()


def pool_recipes(seed: int, size: int, threat_fraction: float, *, station: str,
                 lane: str) -> list[BagRecipe]:
    kinds = plan_kinds(seed, size)
    threats = plan_threats(seed, size, threat_fraction)
    return [BagRecipe(seed * SEED_STRIDE + i, kinds[i], threats[i], station, lane,
                      SIMULATION_EPOCH + timedelta(seconds=BELT_INTERVAL_S * i))
            for i in range(size)]


def build_pool(store: ScanStore, recipes: list[BagRecipe], *, index: Path | None = None,
               on_bag: Callable[[PoolBag], None] | None = None) -> list[PoolBag]:
    """Each recipe's bag, from the store when the index knows it, else simulated."""
    pool = []
    for recipe in recipes:
        bag = _known_bag(store, recipe, index) or _new_bag(store, recipe, index)
        pool.append(bag)
        if on_bag is not None:
            on_bag(bag)
    return pool


def _new_bag(store: ScanStore, recipe: BagRecipe, index: Path | None) -> PoolBag:
    sim = simulate_bag(recipe.seed, recipe.kind, recipe.threats, station=recipe.station,
                       lane=recipe.lane, acquired_at=recipe.acquired_at)
    sha = _store_with_truth(store, sim.scan, sim.truth)
    if index is not None:
        _remember(index, recipe, sha)
    return pool_bag(store, sha, sim.scan)


def _known_bag(store: ScanStore, recipe: BagRecipe, index: Path | None) -> PoolBag | None:
    if index is None:
        return None
    entry = index / f"{recipe.key()}.sha256"
    try:
        sha = entry.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if sha not in store:
        return None
    return pool_bag(store, sha, store.open(sha))


def pool_bag(store: ScanStore, sha: str, scan: Scan | None = None) -> PoolBag:
    """A stored simulated bag with its ground truth read back from the stored file, so
    the store is the one source (``scan``: the scan if already open)."""
    scan = store.open(sha) if scan is None else scan
    truth = read_ground_truth(store.path_for(sha), store.limits) or GroundTruth()
    return PoolBag(sha, scan.metadata.bag_id, truth, percept_of(scan, truth))


def _store_with_truth(store: ScanStore, scan: Scan, truth: GroundTruth) -> str:
    store.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".simulating-", dir=store.root) as folder:
        return store.add(write_scan(Path(folder) / "scan.h5", scan, truth))


def _remember(index: Path, recipe: BagRecipe, sha: str) -> None:
    """Best effort: an index that cannot be written only means simulating again."""
    try:
        with written_atomically(index / f"{recipe.key()}.sha256") as aside:
            aside.write_text(sha + "\n", encoding="ascii")
    except OSError:
        return
