"""Training and held-out data: simulated cabin bags rendered as the screener shows them.

Every sample is made in a worker process (no PyTorch here) from one integer bag seed:

1. ``simulate_bag(seed, threats=...)``: a packed cabin bag, top and side views, with the
   planned threats (70 % of training bags are armed, 1 or 2 threats, classes drawn
   uniformly so that all six are balanced).
2. For training views only, **TIP-style composition in transmission space**: a threat
   article projected alone (as a fictional threat image is captured) is multiplied into
   the bag's transmission in each energy channel, ``T_out = T_bag * T_fti`` (DESIGN.md),
   and **clutter**: one to three benign articles composed the same way, unlabelled. The
   article is blurred with the detector's point spread, and noise is added so that the
   composed pixel has the variance the detector model gives at ``T_out`` (see
   :func:`compose`). Then the view is re-quantised and rendered.
3. Rendering with the display pipeline, exactly as ``screener detect`` feeds a
   pseudo-colour model: ``render(view, "standard")`` (RGB of the RGBA), or, for about 30 %
   of training views, ``render(view, "greyscale")`` (three equal channels) so that the
   model also works on single-energy images.
4. Letterbox to the model input with ``screener.detect.preprocess.letterbox`` (the same
   geometry and interpolation as the runtime) and map the ground-truth threat boxes.

Held-out bags come from a disjoint seed range and are plain simulator bags (no
composition); they keep both renderings and the boxes in view pixels.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from screener.detect.preprocess import Letterbox, letterbox
from screener.errors import ScreenerError
from screener.imaging.render import classifier_for, prepare, render
from screener.physics.detector import dual_energy_transmission
from screener.physics.profiles import ScannerProfile, get_profile
from screener.scan.model import View
from screener.sim.generate import CABIN_PROFILE, FULL_SCALE, SimulatedScan, simulate_bag
from screener.sim.geometry import Pose, random_rotation, rotation_matrix
from screener.sim.items.benign import BENIGN_MAKERS
from screener.sim.items.threats import THREAT_MAKERS
from screener.sim.labels import THREAT_CLASSES
from screener.sim.projection import ViewGeometry, project
from screener.tip.projector import ChannelNoise, compose_channel

#: The simulated samples' version: bump it when the simulator or the rendering changes, so
#: that an old training cache or held-out set is not reused. v2: ceramic knives are
#: zirconia (they were alumina in v1). v3: more training clutter, weighted towards the
#: benign articles the detector confuses with threats (:data:`CLUTTER_WEIGHTS`); the
#: held-out bags carry no clutter and are the same as in v2.
DATA_VERSION = "v3"
#: What a phase recorded before phases carried their data version trained on: DATA_VERSION
#: was "v1" from its introduction until then.
UNRECORDED_DATA_VERSION = "v1"

#: Output classes, in model output order (the simulator's threat classes).
CLASSES: tuple[str, ...] = tuple(THREAT_CLASSES)
CLASS_INDEX = {name: i for i, name in enumerate(CLASSES)}
#: Model input (height, width) and letterbox padding (as ultralytics).
INPUT_SIZE = (512, 512)
PAD_VALUE = 114
#: Ground-truth boxes whose longer side is shorter than this in model-input pixels are
#: dropped from the training targets (too small to see at the model's resolution).
MIN_BOX_PX = 6.0
#: Seed ranges: training bag i has seed ``seed * SEED_STRIDE + i``; held-out bag j has
#: ``seed * SEED_STRIDE + HELD_OUT_OFFSET + j``. Disjoint while bags < HELD_OUT_OFFSET.
SEED_STRIDE = 10_000_000
HELD_OUT_OFFSET = 5_000_000

ARMED_FRACTION = 0.7
TWO_THREATS = 0.3
TIP_PER_VIEW = 0.35
CLUTTER_PER_VIEW = 0.5
GREY_PER_VIEW = 0.3
HELD_OUT_ARMED = 0.6
#: How often each benign article is drawn as clutter, relative to the others: cables,
#: chargers and umbrellas carried most of phase 10's knife and gun-part false alarms (the
#: model card's false-alarm table, from ``screener eval-detector``), so the model sees
#: them unlabelled three times as often.
LOOK_ALIKE_WEIGHT = 3.0
LOOK_ALIKES = ("cable", "charger", "umbrella")


def _clutter_weights() -> tuple[tuple[str, ...], NDArray[np.float64]]:
    labels = tuple(sorted(BENIGN_MAKERS))
    weights = np.array([LOOK_ALIKE_WEIGHT if label in LOOK_ALIKES else 1.0
                        for label in labels])
    return labels, weights / weights.sum()


#: The benign articles clutter is drawn from, and the probability of each.
CLUTTER_LABELS, CLUTTER_WEIGHTS = _clutter_weights()

UInt8Image = NDArray[np.uint8]
FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class Job:
    """One bag to simulate: which seed, which threats, training or held-out."""

    index: int
    seed: int
    threats: tuple[str, ...]
    held_out: bool


@dataclass(frozen=True)
class TrainView:
    """One training image: letterboxed RGB, threat boxes (x0, y0, x1, y1) in model-input
    pixels, class indices, and the letterbox content rectangle (top, left, height, width)."""

    image: UInt8Image
    boxes: FloatArray
    labels: NDArray[np.int64]
    content: tuple[int, int, int, int]
    grey: bool


@dataclass(frozen=True)
class HeldOutView:
    """One held-out view: both renderings letterboxed, the letterbox plan, and the
    ground-truth threat boxes in view pixels (as ``LabelledObject.box``)."""

    bag: int
    view: str
    standard: UInt8Image
    grey: UInt8Image
    plan: Letterbox
    boxes: FloatArray
    labels: NDArray[np.int64]
    object_ids: NDArray[np.int64]


def plan_jobs(seed: int, bags: int, held_out: int) -> list[Job]:
    """Training and held-out bags, interleaved so that a partial run has some of both.

    Bag ``i`` of either split depends only on ``(seed, split, i)``, so a larger run keeps
    the bags of a smaller one (and their cached samples)."""
    train_rng = np.random.default_rng(np.random.SeedSequence([seed, 0x7A1]))
    test_rng = np.random.default_rng(np.random.SeedSequence([seed, 0x7E5]))
    train = [Job(i, seed * SEED_STRIDE + i, _threats(train_rng, ARMED_FRACTION), False)
             for i in range(bags)]
    test = [Job(j, seed * SEED_STRIDE + HELD_OUT_OFFSET + j, _threats(test_rng, HELD_OUT_ARMED),
                True)
            for j in range(held_out)]
    jobs: list[Job] = []
    step = max(1, len(train) // max(1, len(test)))
    for k, job in enumerate(train):
        jobs.append(job)
        if test and k % step == step - 1:
            jobs.append(test.pop(0))
    return jobs + test


def _threats(rng: np.random.Generator, armed: float) -> tuple[str, ...]:
    if rng.random() >= armed:
        return ()
    n = 2 if rng.random() < TWO_THREATS else 1
    return tuple(str(c) for c in rng.choice(CLASSES, size=n, replace=False))


def simulate_job(job: Job) -> SimulatedScan | None:
    """The bag of ``job`` as the simulator makes it, before any training-time composition
    or rendering; a suitcase when the planned kind of bag cannot take the threats, and
    ``None`` when no bag can (a threat that fits in no way)."""
    try:
        return simulate_bag(job.seed, None, job.threats)
    except ScreenerError:
        try:
            return simulate_bag(job.seed, "suitcase", job.threats)
        except ScreenerError:
            return None


def run_job(job: Job) -> tuple[Job, list[TrainView] | list[HeldOutView] | None]:
    """Simulate, compose (training only), render and letterbox one bag. ``None`` when the
    simulator refuses the bag (a threat that fits in no way)."""
    cv2.setNumThreads(1)
    sim = simulate_job(job)
    if sim is None:
        return job, None
    rng = np.random.default_rng(np.random.SeedSequence([job.seed, 0xA06]))
    profile = get_profile(CABIN_PROFILE)
    classifier = classifier_for(CABIN_PROFILE)
    if isinstance(classifier, str):
        raise RuntimeError(f"no calibration for {CABIN_PROFILE}: {classifier}")
    out_train: list[TrainView] = []
    out_test: list[HeldOutView] = []
    for view in sim.scan.views:
        objects = [o for o in sim.truth.objects_by_view[view.name] if o.threat]
        boxes = [tuple(float(v) for v in o.box) for o in objects]
        labels = [CLASS_INDEX[o.label] for o in objects]
        if job.held_out:
            prepared = prepare(view, classifier)
            std, plan = _letterboxed(render(prepared, "standard"))
            grey, _ = _letterboxed(render(prepared, "greyscale"))
            out_test.append(HeldOutView(job.index, view.name, std, grey, plan,
                                        np.asarray(boxes, np.float32).reshape(-1, 4),
                                        np.asarray(labels, np.int64),
                                        np.asarray([o.object_id for o in objects], np.int64)))
            continue
        if rng.random() < CLUTTER_PER_VIEW:
            for _ in range(int(rng.integers(1, 4))):
                label = str(rng.choice(CLUTTER_LABELS, p=CLUTTER_WEIGHTS))
                view, _box = compose(view, BENIGN_MAKERS[label](rng), profile, rng)
        if rng.random() < TIP_PER_VIEW:
            label = str(rng.choice(CLASSES))
            view, box = compose(view, THREAT_MAKERS[label](rng), profile, rng)
            if box is not None:
                boxes.append(box)
                labels.append(CLASS_INDEX[label])
        grey = bool(rng.random() < GREY_PER_VIEW)
        rgba = render(prepare(view, classifier), "greyscale" if grey else "standard")
        image, plan = _letterboxed(rgba)
        model_boxes = plan.to_model(np.asarray(boxes, np.float64).reshape(-1, 4))
        keep = np.maximum(model_boxes[:, 2] - model_boxes[:, 0],
                          model_boxes[:, 3] - model_boxes[:, 1]) >= MIN_BOX_PX
        top, left = plan.pad_top, plan.pad_left
        out_train.append(TrainView(image, model_boxes[keep].astype(np.float32),
                                   np.asarray(labels, np.int64)[keep],
                                   (top, left, *plan.resized_size), grey))
    return job, (out_test if job.held_out else out_train)


def _letterboxed(rgba: UInt8Image) -> tuple[UInt8Image, Letterbox]:
    rgb = np.ascontiguousarray(rgba[:, :, :3])
    image, plan = letterbox(rgb, INPUT_SIZE, PAD_VALUE)
    return np.ascontiguousarray(image), plan


def _article_pose(rng: np.random.Generator, side_view: bool, centre: float) -> Pose:
    """Half the time any orientation; otherwise lying flat (either face up, a little
    tilted, any yaw), seen edge-on in a side view as a packed article would be."""
    if rng.random() < 0.5:
        rotation = random_rotation(rng)
    else:
        tilt = rng.normal(0.0, 0.12, size=2)
        flip = np.pi if rng.random() < 0.5 else 0.0
        rotation = rotation_matrix(flip + tilt[0], tilt[1], rng.uniform(0.0, 2 * np.pi))
        if side_view:
            rotation = rotation_matrix(np.pi / 2, 0.0, 0.0) @ rotation
    return Pose(rotation, np.array([centre, centre, 100.0]))


def compose(view: View, article: Any, profile: ScannerProfile, rng: np.random.Generator
            ) -> tuple[View, tuple[float, float, float, float] | None]:  # fmt: skip
    """``view`` with ``article`` projected alone and multiplied into its transmission.

    The article's noise-free transmission ``T_a`` (both channels, the cabin physics) is
    blurred with the detector's point spread and multiplied into the measured bag with
    the TIP projector's physics (:func:`screener.tip.projector.compose_channel`: noise
    added to reach the detector model's variance at ``T_bag * T_a``). Returns the new
    view and the article's box in view pixels (``None``
    when it did not fit, and the view unchanged).
    """
    pitch = float(view.pixel_pitch_mm[0])
    lo, hi = article.world_bounds()
    n = int(np.ceil(float(np.linalg.norm(hi - lo)) / pitch)) + 8
    rows, cols = view.shape
    if n >= min(rows, cols):
        return view, None
    geometry = ViewGeometry.top((n, n), (pitch, pitch))
    placed = article.placed(_article_pose(rng, view.name == "side", n * pitch / 2))
    projected = project([placed], geometry)
    if not projected.footprints or not projected.areal_density:
        return view, None
    fx0, fy0, fx1, fy1 = projected.footprints[0].box
    margin = 4
    r0, r1 = max(fy0 - margin, 0), min(fy1 + margin, n)
    c0, c1 = max(fx0 - margin, 0), min(fx1 + margin, n)
    density = {m: np.ascontiguousarray(a[r0:r1, c0:c1]) for m, a in projected.areal_density.items()}
    t_low, t_high = dual_energy_transmission(density, profile)
    h, w = r1 - r0, c1 - c0
    # where to put it: over the bag (high transmission below 0.8) most of the time
    high = view.transmission("high")
    row, col = _target(high, rng)
    top = int(np.clip(row - h // 2, 0, rows - h))
    left = int(np.clip(col - w // 2, 0, cols - w))
    channels: dict[str, NDArray[np.uint16]] = {}
    for name, t_art, spectrum in (("high", t_high, profile.high), ("low", t_low, profile.low)):
        art = cv2.GaussianBlur(np.asarray(t_art, np.float32), (0, 0),
                               sigmaX=profile.blur_sigma_px, sigmaY=profile.blur_sigma_px,
                               borderType=cv2.BORDER_REPLICATE) \
            if profile.blur_sigma_px > 0 else np.asarray(t_art, np.float32)
        art = np.clip(art, 0.0, 1.0)
        t_bag = view.transmission(name)
        patch = t_bag[top:top + h, left:left + w]
        noise = ChannelNoise(quanta=float(spectrum.open_beam_quanta),
                             electronic=float(profile.electronic_noise))
        out = compose_channel(patch, art, noise, rng)
        composed = t_bag.copy()
        composed[top:top + h, left:left + w] = out
        channels[name] = np.rint(composed * np.float32(FULL_SCALE)).astype(np.uint16)
    new_view = dataclasses.replace(view, high=channels["high"], low=channels["low"])
    box = (float(left + fx0 - c0), float(top + fy0 - r0),
           float(left + fx1 - c0), float(top + fy1 - r0))
    return new_view, box


def _target(high: FloatArray, rng: np.random.Generator) -> tuple[int, int]:
    if rng.random() < 0.85:
        rows, cols = np.nonzero(high[::8, ::8] < 0.8)
        if rows.size:
            k = int(rng.integers(rows.size))
            return int(rows[k]) * 8, int(cols[k]) * 8
    return int(rng.integers(high.shape[0])), int(rng.integers(high.shape[1]))


def default_workers() -> int:
    return max(1, (os.cpu_count() or 2) - 2)
