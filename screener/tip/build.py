"""An FTI library made by the simulator (``screener tip library build``; docs/tip.md).

Article ``i`` of a build is one draw of a :data:`~screener.sim.items.threats.THREAT_MAKERS`
maker with its own generator (``SeedSequence([seed, i])``), so articles differ in shape,
size and material, and article ``i`` is the same whatever the number of articles or worker
processes. Its class follows :data:`ARTICLE_CYCLE`: a third guns (handgun, gun part,
ammunition), a third knives, a third IEDs (devices and grenades).

Each article is captured alone in M orientations drawn uniformly over all 3D rotations
(seeded), like an article turned on a capture stand: projected along the beam at the cabin
scanner's pixel pitch, through the cabin profile's two channels and the detector's blur,
cropped to the mask with a small margin. The capture is **noise-free** on purpose: the
projector adds the detector noise of the composite (``screener.tip.projector``), which a
noisy FTI would double around the threat. Transmissions are rounded to multiples of 2^-16
(a 16-bit detector's steps, at least one step, so never 0): float32 values that compress
to about a third of their raw size.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from screener import __version__
from screener.errors import SimulationError
from screener.physics.detector import dual_energy_transmission
from screener.physics.profiles import ScannerProfile, get_profile
from screener.sim.generate import CABIN_PROFILE, CABIN_VIEWS
from screener.sim.geometry import Pose, SceneObject, rotation_matrix
from screener.sim.items.threats import THREAT_MAKERS
from screener.sim.labels import THREAT_CLASSES
from screener.sim.projection import ViewGeometry, project
from screener.tip.fti import FtiCategory, FtiImage
from screener.tip.library import write_library

_A = TypeVar("_A")
_R = TypeVar("_R")

#: Simulator threat class of article i: ARTICLE_CYCLE[i % 9]. Three guns, three knives and
#: three IEDs in every nine articles.
ARTICLE_CYCLE = ("handgun", "knife", "ied", "gun_part", "knife", "grenade", "ammunition",
                 "knife", "ied")
#: Simulator threat class -> TIP category (the simulator's own table, screener.sim.labels).
CATEGORY_OF: Mapping[str, FtiCategory] = {
    label: FtiCategory(category.value) for label, category in THREAT_CLASSES.items()
}
#: The cabin scanner's pixel pitch (mm), both axes.
CABIN_PITCH_MM = CABIN_VIEWS[0].pitch_mm[0]
#: Transmissions are multiples of this (a 16-bit detector's step).
TRANSMISSION_STEP = 2.0**-16
#: Open beam around the article's hull before the blur, so the blur never reaches the edge.
WINDOW_MARGIN_PX = 8
#: Open beam kept around the mask in the stored crop.
CROP_MARGIN_PX = 2


@dataclass(frozen=True)
class BuildSettings:
    """What to build. ``added`` is the ISO date written on every image (default today, UTC)."""

    articles: int
    orientations: int
    seed: int = 0
    added: str = field(default_factory=lambda: datetime.now(UTC).date().isoformat())
    profile: str = CABIN_PROFILE
    pitch_mm: float = CABIN_PITCH_MM

    def __post_init__(self) -> None:
        if self.articles < 1 or self.orientations < 1:
            raise SimulationError(
                f"a library needs at least one article and one orientation, not "
                f"{self.articles} articles x {self.orientations} orientations"
            )
        if self.seed < 0:
            raise SimulationError(f"seed must be 0 or more, not {self.seed}")
        if not 0.0 < self.pitch_mm <= 10.0:
            raise SimulationError(f"pixel pitch must lie in (0, 10] mm, not {self.pitch_mm}")
        try:
            date.fromisoformat(self.added)
        except ValueError:
            raise SimulationError(f"added must be an ISO date, not {self.added!r}") from None
        get_profile(self.profile)  # raises SimulationError for an unknown profile

    @property
    def images(self) -> int:
        return self.articles * self.orientations


@dataclass(frozen=True, eq=False)
class Capture:
    """One article in one orientation: transmissions (1.0 outside ``mask``) and where any
    material lies in the beam (``in_beam``, before the blur), all the same crop."""

    high: NDArray[np.float32]
    low: NDArray[np.float32]
    mask: NDArray[np.bool_]
    in_beam: NDArray[np.bool_]


def article_class(index: int) -> str:
    """The simulator threat class of article ``index``."""
    return ARTICLE_CYCLE[index % len(ARTICLE_CYCLE)]


def article_id(seed: int, index: int) -> str:
    return f"sim{seed}-a{index:04d}-{article_class(index)}"


def make_article(seed: int, index: int) -> SceneObject:
    """Article ``index`` of a build with ``seed``: one draw of its class's maker."""
    return THREAT_MAKERS[article_class(index)](np.random.default_rng(_streams(seed, index)[0]))


def _streams(seed: int, index: int) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    """The article's own stream and its orientations' stream."""
    article_seq, orientation_seq = np.random.SeedSequence([seed, index]).spawn(2)
    return article_seq, orientation_seq


def uniform_orientation_deg(rng: np.random.Generator) -> tuple[float, float, float]:
    """Angles about x, y, z (degrees) of a rotation drawn uniformly from all 3D rotations.

    For ``rotation_matrix(rx, ry, rz) = Rz Ry Rx`` the uniform (Haar) measure is
    ``cos(ry) drx dry drz``: ``rx`` and ``rz`` uniform, ``sin(ry)`` uniform in [-1, 1].
    """
    rx = float(rng.uniform(-180.0, 180.0))
    ry = math.degrees(math.asin(float(rng.uniform(-1.0, 1.0))))
    rz = float(rng.uniform(-180.0, 180.0))
    return rx, ry, rz


def capture(article: SceneObject, orientation_deg: tuple[float, float, float],
            profile: ScannerProfile, pitch_mm: float) -> Capture:
    """Project ``article`` turned by ``orientation_deg`` along the beam (looking down),
    through ``profile``'s channels and detector blur, noise-free, cropped to the mask."""
    rx, ry, rz = (math.radians(a) for a in orientation_deg)
    turned = article.placed(Pose(rotation_matrix(rx, ry, rz), np.zeros(3)))
    geometry = _window(turned, pitch_mm)
    projected = project([turned], geometry)
    t_low, t_high = dual_energy_transmission(projected.areal_density, profile)
    high = _quantised(_blurred(t_high, profile.blur_sigma_px))
    low = _quantised(_blurred(t_low, profile.blur_sigma_px))
    in_beam = np.zeros(geometry.shape, dtype=np.bool_)
    for layer in projected.areal_density.values():
        in_beam |= layer > 0.0
    mask = (high < 1.0) | (low < 1.0) | in_beam
    rows, cols = _crop(mask)
    return Capture(high[rows, cols], low[rows, cols], mask[rows, cols], in_beam[rows, cols])


def build_article(settings: BuildSettings, index: int) -> list[FtiImage]:
    """Article ``index`` of a build, in every orientation."""
    label = article_class(index)
    article = make_article(settings.seed, index)
    orientation_rng = np.random.default_rng(_streams(settings.seed, index)[1])
    profile = get_profile(settings.profile)
    name = article_id(settings.seed, index)
    digits = max(2, len(str(settings.orientations - 1)))
    images: list[FtiImage] = []
    for k in range(settings.orientations):
        angles = uniform_orientation_deg(orientation_rng)
        shot = capture(article, angles, profile, settings.pitch_mm)
        images.append(FtiImage(
            fti_id=f"{name}-o{k:0{digits}d}",
            article_id=name,
            category=CATEGORY_OF[label],
            subcategory=label,
            orientation_deg=angles,
            source=f"Screener simulator {__version__}, build seed {settings.seed}, article "
                   f"{index}, orientation {k} (noise-free, detector blur)",
            added=settings.added,
            scanner_profile=profile.name,
            pixel_pitch_mm=settings.pitch_mm,
            high=shot.high,
            low=shot.low,
            mask=shot.mask,
        ))
    return images


def build_images(settings: BuildSettings, jobs: int | None = None,
                 on_article: Callable[[list[FtiImage]], None] | None = None,
                 ) -> Iterator[FtiImage]:
    """Every image of the build in article order, made by ``jobs`` processes (all cores)."""
    work = partial(build_article, settings)
    workers = jobs or os.cpu_count() or 1
    for images in _in_order(work, range(settings.articles), workers):
        if on_article:
            on_article(images)
        yield from images


def build_library(path: Path, settings: BuildSettings, jobs: int | None = None,
                  on_article: Callable[[list[FtiImage]], None] | None = None) -> Path:
    """Build and write a library; the same settings give the same file bytes."""
    return write_library(path, build_images(settings, jobs, on_article))


def _in_order(work: Callable[[_A], _R], args: Iterable[_A], jobs: int) -> Iterator[_R]:
    """``work(a)`` for each ``a``, in order, computed by up to ``jobs`` processes with at
    most ``2 * jobs`` results waiting (memory stays bounded when the consumer is slower)."""
    if jobs <= 1:
        yield from map(work, args)
        return
    pending: deque[Future[_R]] = deque()
    remaining = iter(args)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        try:
            for arg in remaining:
                pending.append(pool.submit(work, arg))
                if len(pending) >= 2 * jobs:
                    break
            while pending:
                result = pending.popleft().result()
                for arg in remaining:
                    pending.append(pool.submit(work, arg))
                    break
                yield result
        finally:
            for future in pending:
                future.cancel()


def _window(article: SceneObject, pitch_mm: float) -> ViewGeometry:
    """A top view just larger than the article's hull, its rays along -z."""
    lo, hi = article.world_bounds()
    margin = WINDOW_MARGIN_PX * pitch_mm
    rows = math.ceil((hi[1] - lo[1] + 2 * margin) / pitch_mm)
    cols = math.ceil((hi[0] - lo[0] + 2 * margin) / pitch_mm)
    top = ViewGeometry.top((rows, cols), (pitch_mm, pitch_mm))
    origin = np.array([lo[0] - margin, lo[1] - margin, 0.0])
    return ViewGeometry(top.name, top.shape, top.pitch_mm, origin, top.row_axis,
                        top.col_axis, top.direction)


def _blurred(t: NDArray[np.float32], sigma: float) -> NDArray[np.float32]:
    """The detector's blur, as :func:`screener.physics.detector.detect` applies it."""
    if sigma <= 0.0:
        return t
    out = cv2.GaussianBlur(t, (0, 0), sigmaX=sigma, sigmaY=sigma,
                           borderType=cv2.BORDER_REPLICATE)
    return np.asarray(out, dtype=np.float32)


def _quantised(t: NDArray[np.float32]) -> NDArray[np.float32]:
    steps = np.rint(t.astype(np.float64) / TRANSMISSION_STEP)
    np.clip(steps, 1.0, 1.0 / TRANSMISSION_STEP, out=steps)
    return (steps * TRANSMISSION_STEP).astype(np.float32)


def _crop(keep: NDArray[np.bool_]) -> tuple[slice, slice]:
    if not keep.any():
        raise SimulationError("the article left no trace in its capture window")
    rows = np.flatnonzero(keep.any(axis=1))
    cols = np.flatnonzero(keep.any(axis=0))
    m = CROP_MARGIN_PX
    return (slice(max(int(rows[0]) - m, 0), min(int(rows[-1]) + 1 + m, keep.shape[0])),
            slice(max(int(cols[0]) - m, 0), min(int(cols[-1]) + 1 + m, keep.shape[1])))
