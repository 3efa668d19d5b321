"""Packing a bag in 3D: clothing, rigid items and threats inside a container on the belt.

The packer fills the container's inner volume in its bag frame: soft clothing layers first
(they may overlap anything), then the threats and the rigid benign items in random poses,
mostly flat, rejecting any pose whose oriented bounding box meets another rigid item's.
Finally the bag is put at a random position and yaw on the belt where every cabin view
sees all of it. Everything is drawn from the one generator, so a seed gives one scene.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from screener.errors import SimulationError
from screener.sim.containers import (
    CONTAINER_MAKERS,
    Container,
    InnerVolume,
    make_belt,
    make_container,
)
from screener.sim.geometry import FloatArray, Pose, SceneObject, random_rotation
from screener.sim.items.benign import BENIGN_MAKERS
from screener.sim.items.clothing import make_clothing
from screener.sim.items.parts import bounds, corners, place

__all__ = [
    "BAG_KINDS",
    "CABIN_TUNNEL_MM",
    "OrientedBox",
    "Scene",
    "oriented_box",
    "pack_bag",
]

#: The bag kinds :func:`pack_bag` can make.
BAG_KINDS: tuple[str, ...] = tuple(CONTAINER_MAKERS)

#: The region every cabin view sees (x along the belt, y across, z up), in mm.
CABIN_TUNNEL_MM: tuple[float, float, float] = (750.0, 500.0, 400.0)

#: Clearance kept between the bag and the edges of the views (mm).
_MARGIN_MM = 6.0
#: Clearance kept between rigid items (mm).
_GAP_MM = 0.5
#: Labels whose free liquid surface must stay level: turned about the vertical only.
_LEVEL_ONLY = frozenset({"bottle", "toiletry"})

# Relative frequency of each benign class among the rigid items of each bag kind.
_WEIGHTS: dict[str, dict[str, float]] = {
    "suitcase": {"shoe": 0.5, "book": 0.8, "laptop": 0.35, "phone": 0.3, "charger": 0.7,
                 "cable": 0.9, "bottle": 0.6, "toiletry": 1.4, "umbrella": 0.35, "keys": 0.25,
                 "coins": 0.3, "belt_buckle": 0.5},
    "backpack": {"shoe": 0.15, "book": 1.0, "laptop": 1.6, "phone": 0.5, "charger": 0.9,
                 "cable": 1.0, "bottle": 0.9, "toiletry": 0.5, "umbrella": 0.5, "keys": 0.5,
                 "coins": 0.4, "belt_buckle": 0.2},
}
# Most of one class a bag of each kind plausibly holds.
_MAX_COUNT: dict[str, dict[str, int]] = {
    "suitcase": {"laptop": 2, "umbrella": 1, "keys": 1, "phone": 2, "shoe": 2, "coins": 2},
    "backpack": {"laptop": 1, "umbrella": 1, "keys": 1, "phone": 1, "shoe": 2, "coins": 1,
                 "book": 3},
}
# Loose things put in a tray, as alternative recipes (a jacket is "clothing").
_TRAY_RECIPES: tuple[tuple[str, ...], ...] = (
    ("laptop",),
    ("shoe", "shoe"),
    ("clothing", "keys", "phone", "belt_buckle", "coins"),
    ("phone", "keys", "coins", "belt_buckle", "charger", "cable"),
    ("toiletry", "bottle", "toiletry"),
    ("laptop", "phone", "keys"),
)


@dataclass(frozen=True)
class Scene:
    """Everything under the scanner: objects in the world frame and which carry a label.

    ``kind`` names the container ("suitcase", "backpack", "tray", "cargo"); ``inner`` is the
    volume the labelled contents lie in, in the world frame.
    """

    objects: tuple[SceneObject, ...]
    labelled: tuple[bool, ...]  # False for the belt and container shell pieces
    kind: str = ""
    inner: InnerVolume | None = None


@dataclass(frozen=True)
class OrientedBox:
    """An oriented bounding box: ``centre + axes @ (s * half)`` for ``|s| <= 1``."""

    centre: FloatArray  # (3,)
    axes: FloatArray  # (3, 3), columns are the box axes
    half: FloatArray  # (3,)

    def overlaps(self, other: OrientedBox, gap: float = 0.0) -> bool:
        """Whether the boxes, each grown by ``gap / 2``, intersect (separating-axis test)."""
        a_half = self.half + gap / 2
        b_half = other.half + gap / 2
        rot = self.axes.T @ other.axes  # other's axes in this box's frame
        t = self.axes.T @ (other.centre - self.centre)
        abs_rot = np.abs(rot) + 1e-9
        for i in range(3):  # this box's face normals
            if abs(t[i]) > a_half[i] + abs_rot[i] @ b_half:
                return False
        for j in range(3):  # other box's face normals
            if abs(t @ rot[:, j]) > a_half @ abs_rot[:, j] + b_half[j]:
                return False
        for i in range(3):  # cross products of edge directions
            i1, i2 = (i + 1) % 3, (i + 2) % 3
            for j in range(3):
                j1, j2 = (j + 1) % 3, (j + 2) % 3
                ra = a_half[i1] * abs_rot[i2, j] + a_half[i2] * abs_rot[i1, j]
                rb = b_half[j1] * abs_rot[i, j2] + b_half[j2] * abs_rot[i, j1]
                if abs(t[i2] * rot[i1, j] - t[i1] * rot[i2, j]) > ra + rb:
                    return False
        return True


def oriented_box(obj: SceneObject) -> OrientedBox:
    """The box around ``obj``'s parts in its own frame, placed by its pose."""
    lo, hi = bounds(obj.parts)
    return OrientedBox(obj.pose.apply(((lo + hi) / 2)[None, :])[0], obj.pose.rotation,
                       (hi - lo) / 2)


def _item_rotation(rng: np.random.Generator, label: str, threat: bool,
                   flat_only: bool = False) -> FloatArray:
    """A plausible resting orientation: mostly flat, sometimes on edge, threats anyhow."""
    if rng.random() < 0.75:  # packed square to the bag's sides, more or less
        angle = int(rng.integers(4)) * math.pi / 2 + float(rng.normal(0, 0.12))
    else:
        angle = float(rng.uniform(0, 2 * math.pi))
    yaw = Pose.at(rz=angle).rotation
    if label in _LEVEL_ONLY and not threat:
        return yaw
    if flat_only:  # lying on a hard floor: flat, either face up
        return yaw @ Pose.at(rx=math.pi if rng.random() < 0.3 else 0.0).rotation
    u = float(rng.random())
    if threat and u < 0.2:
        return random_rotation(rng)
    if u < 0.7:  # flat, either face up, slightly tilted on the soft layer below
        flip = math.pi if rng.random() < 0.3 else 0.0
        tilt = Pose.at(rx=flip + float(rng.normal(0, 0.04)), ry=float(rng.normal(0, 0.04)))
        return yaw @ tilt.rotation
    if u < 0.92:  # on its long edge
        side = Pose.at(rx=math.copysign(math.pi / 2, float(rng.random()) - 0.5))
        return yaw @ side.rotation
    return yaw @ Pose.at(ry=math.pi / 2).rotation  # standing on its end


def _top(box: OrientedBox) -> float:
    return float(box.centre[2] + np.abs(box.axes[2]) @ box.half)


def _supported(box: OrientedBox, support: OrientedBox) -> bool:
    """Whether ``box``'s centre lies over ``support`` (seen from above)."""
    local = support.axes.T @ (box.centre - support.centre)
    up = np.abs(support.axes[2])  # how much each support axis points up
    # the two support axes nearest the horizontal span its top face
    across = np.argsort(up)[:2]
    return bool(np.all(np.abs(local[across]) <= support.half[across]))


def _try_place(obj: SceneObject, rotation: FloatArray, inner: InnerVolume,
               rng: np.random.Generator, placed: Sequence[OrientedBox] | None,
               z_from: float, need_support: bool = False) -> SceneObject | None:
    """``obj`` turned by ``rotation`` somewhere in ``inner`` (its frame), or None.

    The height starts at fraction ``z_from`` of the free range; with ``placed`` given, the
    item then rises until it rests on the rigid items below it without touching any. With
    ``need_support``, an item lifted onto another must have its centre over it (nothing
    soft holds it up otherwise).
    """
    turned = corners(obj.parts) @ rotation.T
    lo, hi = turned.min(axis=0), turned.max(axis=0)
    low = inner.lo - lo
    high = inner.hi - hi
    if np.any(high < low):
        return None
    t = rng.uniform(low, high)
    t[2] = low[2] + (high[2] - low[2]) * z_from
    candidate = obj.placed(Pose(rotation, t))
    if placed is None:
        return candidate
    support: OrientedBox | None = None
    for _ in range(len(placed) + 1):
        box = oriented_box(candidate)
        blocking = [other for other in placed if box.overlaps(other, _GAP_MM)]
        if not blocking:
            if need_support and support is not None and not _supported(box, support):
                return None
            return candidate
        # rest on the highest item in the way (its box top), then look again
        support = max(blocking, key=_top)
        t[2] += _top(support) - (box.centre[2] - (_top(box) - box.centre[2]))
        t[2] += _GAP_MM + 0.01
        if t[2] > high[2]:
            return None
        candidate = obj.placed(Pose(rotation, t))
    return None


def _place_rigid(obj: SceneObject, inner: InnerVolume, rng: np.random.Generator,
                 placed: list[OrientedBox], tries: int, resting: bool) -> SceneObject | None:
    """Place a rigid item clear of ``placed``, resting on the floor or on other items
    (``resting``) or on some soft layer at a random height."""
    for attempt in range(tries):
        rotation = _item_rotation(rng, obj.label, obj.threat, flat_only=resting)
        if attempt >= tries // 2 and obj.threat:  # hard to fit: any orientation at all
            rotation = random_rotation(rng)
        lifted = not resting and attempt < tries // 2 and rng.random() < 0.5
        z_from = float(rng.uniform(0.0, 0.4)) if lifted else 0.0
        candidate = _try_place(obj, rotation, inner, rng, placed, z_from,
                               need_support=resting)
        if candidate is not None:
            placed.append(oriented_box(candidate))
            return candidate
    return None


def _tray_labels(rng: np.random.Generator, n_items: int | None) -> list[str]:
    """What someone puts in a tray: one of the recipes, or ``n_items`` loose things."""
    recipe = list(_TRAY_RECIPES[int(rng.integers(len(_TRAY_RECIPES)))])
    if n_items is None:
        if len(recipe) > 3:  # pocket contents: some of them
            keep = int(rng.integers(2, len(recipe) + 1))
            recipe = [recipe[int(i)] for i in sorted(rng.permutation(len(recipe))[:keep])]
        return recipe
    if n_items > len(recipe):  # more asked for: add loose pocket contents
        extra = ["keys", "phone", "coins", "belt_buckle", "cable", "charger", "toiletry"]
        recipe += [extra[int(rng.integers(len(extra)))] for _ in range(n_items - len(recipe))]
    return recipe[:n_items]


def _choose_labels(kind: str, rng: np.random.Generator, n_items: int) -> list[str]:
    """The benign labels to pack in a bag, clothing included, ``n_items`` of them."""
    if kind == "suitcase":
        n_cloth = min(n_items, int(rng.integers(3, 7)))
    else:
        n_cloth = min(n_items, int(rng.integers(0, 3)))
    labels = ["clothing"] * n_cloth
    weights = _WEIGHTS[kind]
    limits = _MAX_COUNT[kind]
    names = list(weights)
    probs = np.array([weights[n] for n in names])
    counts: dict[str, int] = {}
    while len(labels) < n_items:
        label = names[int(rng.choice(len(names), p=probs / probs.sum()))]
        if counts.get(label, 0) >= limits.get(label, 99):
            continue
        if label == "shoe" and n_items - len(labels) >= 2:  # shoes come in pairs
            labels += ["shoe", "shoe"]
            counts["shoe"] = counts.get("shoe", 0) + 2
            continue
        labels.append(label)
        counts[label] = counts.get(label, 0) + 1
    return labels


def _default_count(kind: str, rng: np.random.Generator) -> int:
    low, high = {"suitcase": (16, 29), "backpack": (5, 12)}[kind]
    return int(rng.integers(low, high))


def _bag_pose(container: Container, rng: np.random.Generator) -> Pose:
    """A random yaw and position on the belt at which every view sees the whole bag."""
    lo, hi = container.bounds()
    bag_corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                            for z in (lo[2], hi[2])])
    span = np.array(CABIN_TUNNEL_MM) - 2 * _MARGIN_MM
    flip = math.pi if rng.random() < 0.5 else 0.0
    for attempt in range(40):
        spread = 0.25 * (1 - attempt / 40)
        yaw = flip + float(rng.normal(0, spread)) if attempt < 39 else flip
        turned = Pose.at(rz=yaw).apply(bag_corners)
        t_lo, t_hi = turned.min(axis=0), turned.max(axis=0)
        slack = span - (t_hi - t_lo)
        if np.all(slack[:2] >= 0) and slack[2] >= 0:
            x = _MARGIN_MM - t_lo[0] + float(rng.uniform(0, slack[0]))
            y = _MARGIN_MM - t_lo[1] + float(rng.uniform(0, slack[1]))
            return Pose.at(x, y, 0.0, rz=yaw)
    raise SimulationError(
        f"a {container.kind} of {hi - lo} mm does not fit the cabin tunnel {CABIN_TUNNEL_MM} mm"
    )


def _make(label: str, rng: np.random.Generator) -> SceneObject:
    maker: Callable[[np.random.Generator], SceneObject] = BENIGN_MAKERS[label]
    return maker(rng)


def pack_bag(kind: str, rng: np.random.Generator, threats: Sequence[SceneObject] = (),
             n_items: int | None = None) -> Scene:
    """A packed bag of ``kind`` on the belt, holding about ``n_items`` benign items and
    every one of ``threats``.

    Raises :class:`SimulationError` for an unknown kind or a threat too big for the bag.
    """
    if kind not in CONTAINER_MAKERS:
        raise SimulationError(f"unknown bag kind {kind!r}; valid kinds: {', '.join(BAG_KINDS)}")
    if n_items is not None and n_items < 0:
        raise SimulationError(f"n_items must be zero or more, not {n_items}")
    container = make_container(kind, rng)
    inner = container.inner
    if kind == "tray":
        labels = _tray_labels(rng, n_items)
    else:
        labels = _choose_labels(kind, rng, _default_count(kind, rng) if n_items is None
                                else n_items)

    resting = kind == "tray"  # nothing soft to lie on in a tray
    soft: list[SceneObject] = []
    rigid: list[SceneObject] = []
    boxes: list[OrientedBox] = []
    # 1. Clothing layers: soft, so they may overlap; alternately low and high in the bag. In a
    #    tray a jacket lies flat on the floor and things put on it rest on top of it.
    for k in range(labels.count("clothing")):
        if kind == "tray":
            jacket = _place_rigid(make_clothing(rng, "jacket"), inner, rng, boxes, tries=30,
                                  resting=True)
            if jacket is not None:
                soft.append(jacket)
            continue
        for _ in range(10):
            garment = make_clothing(rng)
            yaw = float(rng.normal(0, 0.15)) + (math.pi / 2 if rng.random() < 0.2 else 0.0)
            flip = math.pi if rng.random() < 0.5 else 0.0
            rotation = Pose.at(rx=flip, rz=yaw).rotation
            bias = float(rng.uniform(0.0, 0.25)) if k % 2 == 0 else float(rng.uniform(0.6, 1.0))
            placed = _try_place(garment, rotation, inner, rng, None, bias)
            if placed is not None:
                soft.append(placed)
                break
    # 2. Threats get their place before the bag fills up with rigid things.
    placed_threats: list[SceneObject] = []
    for given in threats:
        threat = SceneObject(given.label, tuple(place(given.parts, given.pose)), given.threat)
        where = _place_rigid(threat, inner, rng, boxes, tries=200, resting=resting)
        if where is None:
            lo, hi = bounds(threat.parts)
            raise SimulationError(
                f"threat {threat.label!r} ({np.round(hi - lo)} mm) does not fit in the "
                f"{kind}'s inner volume ({np.round(inner.hi - inner.lo)} mm)"
            )
        placed_threats.append(where)
    # 3. Rigid benign items; a shoe pair is one shoe made twice the same.
    previous_shoe: SceneObject | None = None
    for label in labels:
        if label == "clothing":
            continue
        if label == "shoe" and previous_shoe is not None:
            obj, previous_shoe = previous_shoe, None
        else:
            obj = _make(label, rng)
            previous_shoe = obj if label == "shoe" else None
        where = _place_rigid(obj, inner, rng, boxes, tries=60, resting=resting)
        if where is not None:
            rigid.append(where)

    pose = _bag_pose(container, rng)
    belt = make_belt(CABIN_TUNNEL_MM[0], CABIN_TUNNEL_MM[1])
    shell = [obj.placed(pose) for obj in container.shell]
    contents = [obj.placed(pose) for obj in soft + rigid + placed_threats]
    objects = (belt, *shell, *contents)
    labelled = (False,) * (1 + len(shell)) + (True,) * len(contents)
    return Scene(objects, labelled, kind, inner.placed(pose))
