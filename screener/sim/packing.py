"""Packing a bag in 3D: clothing, rigid items and threats inside a container on the belt.

The packer fills the container's inner volume in its bag frame: soft clothing layers first
(they may overlap anything), then the rigid benign items in random poses, mostly flat,
rejecting any pose whose oriented bounding box meets another rigid item's. The bag is put
at a random position and yaw on the belt where every cabin view sees all of it. Threats go
in last, into the room left in the packed bag, at the heights the other contents lie at,
with draws from their own generator if one is given: the benign bag is then the same with
and without threats (unless a full bag has to give up an item to make room).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

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
#: Orientations tried for a threat in the packed bag, each at :data:`_POSITIONS` places.
_THREAT_TRIES = 40
#: Random places tried at once for each orientation of a threat.
_POSITIONS = 64
#: In a tray: placements that find room, of which the one nearest the target height wins.
_THREAT_CHOICES = 6
#: Orientations weighed when there is no room and some contents must come out.
_ROOM_TRIES = 20
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
# Most of one class a bag of each kind plausibly holds (a shoe pair counts two). A bag asked
# for more items than these allow in all holds fewer.
_MAX_COUNT: dict[str, dict[str, int]] = {
    "suitcase": {"shoe": 2, "book": 3, "laptop": 2, "phone": 2, "charger": 2, "cable": 3,
                 "bottle": 3, "toiletry": 4, "umbrella": 1, "keys": 1, "coins": 2,
                 "belt_buckle": 2},
    "backpack": {"shoe": 2, "book": 3, "laptop": 1, "phone": 1, "charger": 2, "cable": 2,
                 "bottle": 2, "toiletry": 2, "umbrella": 1, "keys": 1, "coins": 1,
                 "belt_buckle": 1},
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


# Index pairs of the nine edge-cross-product axes of the separating-axis test.
_I = np.repeat(np.arange(3), 3)
_J = np.tile(np.arange(3), 3)
_I1, _I2, _J1, _J2 = (_I + 1) % 3, (_I + 2) % 3, (_J + 1) % 3, (_J + 2) % 3


@dataclass(frozen=True)
class _Boxes:
    """Placed boxes as stacked arrays, for testing one box against all of them at once."""

    boxes: Sequence[OrientedBox]
    centres: FloatArray  # (N, 3)
    axes: FloatArray  # (N, 3, 3)
    half: FloatArray  # (N, 3)

    @staticmethod
    def of(boxes: Sequence[OrientedBox]) -> _Boxes:
        if not boxes:
            return _Boxes(boxes, np.zeros((0, 3)), np.zeros((0, 3, 3)), np.zeros((0, 3)))
        return _Boxes(boxes, np.array([b.centre for b in boxes]),
                      np.array([b.axes for b in boxes]), np.array([b.half for b in boxes]))

    def meets(self, axes: FloatArray, half: FloatArray, centres: FloatArray,
              gap: float) -> NDArray[np.bool_]:
        """Which boxes (columns) each of M boxes with the same ``axes`` and ``half`` at
        ``centres`` (M, 3) meets (rows), all grown by ``gap / 2``: the separating-axis test
        of :meth:`OrientedBox.overlaps`, for every pair at once."""
        a_half = half + gap / 2
        b_half = self.half + gap / 2
        rot = np.einsum("ji,njk->nik", axes, self.axes)  # their axes in the box's frame
        t = (self.centres[None, :, :] - centres[:, None, :]) @ axes  # (M, N, 3)
        abs_rot = np.abs(rot) + 1e-9
        apart = np.any(np.abs(t) > a_half + np.einsum("nij,nj->ni", abs_rot, b_half), axis=2)
        apart |= np.any(np.abs(np.einsum("mni,nij->mnj", t, rot))
                        > np.einsum("i,nij->nj", a_half, abs_rot) + b_half, axis=2)
        ra = a_half[_I1] * abs_rot[:, _I2, _J] + a_half[_I2] * abs_rot[:, _I1, _J]
        rb = b_half[:, _J1] * abs_rot[:, _I, _J2] + b_half[:, _J2] * abs_rot[:, _I, _J1]
        cross = np.abs(t[..., _I2] * rot[:, _I1, _J] - t[..., _I1] * rot[:, _I2, _J])
        apart |= np.any(cross > ra + rb, axis=2)
        meets: NDArray[np.bool_] = ~apart
        return meets

    def blocking(self, box: OrientedBox, gap: float) -> list[int]:
        """Indices of the boxes that ``box`` meets, each grown by ``gap / 2``."""
        if not self.boxes:
            return []
        meets = self.meets(box.axes, box.half, box.centre[None, :], gap)[0]
        return [int(k) for k in np.flatnonzero(meets)]


@dataclass(frozen=True)
class _Item:
    """An object to place, with its corner points and box in its own frame worked out once."""

    obj: SceneObject
    points: FloatArray  # (N, 3) corner points whose hull holds every part
    centre: FloatArray  # (3,) centre of the box around them
    half: FloatArray  # (3,)

    @staticmethod
    def of(obj: SceneObject) -> _Item:
        points = obj.pose.apply(corners(obj.parts))
        lo, hi = points.min(axis=0), points.max(axis=0)
        return _Item(obj, points, (lo + hi) / 2, (hi - lo) / 2)

    def box(self, pose: Pose) -> OrientedBox:
        return OrientedBox(pose.apply(self.centre[None, :])[0], pose.rotation, self.half)


def _start(item: _Item, rotation: FloatArray, inner: InnerVolume, rng: np.random.Generator,
           z_from: float, of_inner: bool = False) -> tuple[FloatArray, float] | None:
    """A random position at which ``item`` turned by ``rotation`` lies in ``inner``: x and y
    anywhere, the underside at fraction ``z_from`` of the free range (of the inner height
    with ``of_inner``, as far as it fits); and the highest z it may rise to. None if it does
    not fit that way at all."""
    turned = item.points @ rotation.T
    low = inner.lo - turned.min(axis=0)
    high = inner.hi - turned.max(axis=0)
    if np.any(high < low):
        return None
    t = rng.uniform(low, high)
    if of_inner:
        t[2] = min(low[2] + (inner.hi[2] - inner.lo[2]) * z_from, high[2])
    else:
        t[2] = low[2] + (high[2] - low[2]) * z_from
    return t, float(high[2])


def _try_place(item: _Item, rotation: FloatArray, inner: InnerVolume,
               rng: np.random.Generator, placed: _Boxes | None,
               z_from: float, need_support: bool = False, of_inner: bool = False
               ) -> Pose | None:
    """A pose turning ``item`` by ``rotation`` somewhere in ``inner`` (its frame), or None.

    The height starts at fraction ``z_from`` of the free range; with ``placed`` given, the
    item then rises until it rests on the rigid items below it without touching any. With
    ``need_support``, an item lifted onto another must have its centre over it (nothing
    soft holds it up otherwise). ``of_inner`` is as for :func:`_start`.
    """
    start = _start(item, rotation, inner, rng, z_from, of_inner)
    if start is None:
        return None
    t, z_max = start
    if placed is None:
        return Pose(rotation, t)
    support: OrientedBox | None = None
    for _ in range(len(placed.boxes) + 1):
        box = item.box(Pose(rotation, t))
        blocking = placed.blocking(box, _GAP_MM)
        if not blocking:
            if need_support and support is not None and not _supported(box, support):
                return None
            return Pose(rotation, t)
        # rest on the highest item in the way (its box top), then look again
        support = max((placed.boxes[k] for k in blocking), key=_top)
        t[2] += _top(support) - (box.centre[2] - (_top(box) - box.centre[2]))
        t[2] += _GAP_MM + 0.01
        if t[2] > z_max:
            return None
    return None


def _place_rigid(obj: SceneObject, inner: InnerVolume, rng: np.random.Generator,
                 placed: list[OrientedBox], tries: int, resting: bool) -> SceneObject | None:
    """Place a rigid benign item clear of ``placed``, resting on the floor or on other items
    (``resting``) or on some soft layer at a random height."""
    item = _Item.of(obj)
    stack = _Boxes.of(placed)
    for attempt in range(tries):
        rotation = _item_rotation(rng, obj.label, obj.threat, flat_only=resting)
        lifted = not resting and attempt < tries // 2 and rng.random() < 0.5
        z_from = float(rng.uniform(0.0, 0.4)) if lifted else 0.0
        pose = _try_place(item, rotation, inner, rng, stack, z_from, need_support=resting)
        if pose is not None:
            placed.append(item.box(pose))
            return obj.placed(pose)
    return None


def _underside(item: _Item, pose: Pose, inner: InnerVolume) -> float:
    """Height of ``item``'s underside at ``pose`` above the inner floor, as a fraction of
    the inner height."""
    bottom = float((item.points @ pose.rotation.T)[:, 2].min() + pose.translation[2])
    return (bottom - float(inner.lo[2])) / float(inner.hi[2] - inner.lo[2])


def _threat_height(rng: np.random.Generator, rigid: Sequence[SceneObject],
                   inner: InnerVolume) -> float:
    """The height, as a fraction of the inner height, a threat's underside aims at: that of
    a rigid benign item of the same bag drawn at random, give or take 5 % (uniform over
    the height in a bag with none), so threats lie as high as the other contents."""
    if not rigid:
        return float(rng.uniform(0.0, 1.0))
    pick = rigid[int(rng.integers(len(rigid)))]
    bottom = float(pick.world_bounds()[0][2])
    height = (bottom - float(inner.lo[2])) / float(inner.hi[2] - inner.lo[2])
    return float(np.clip(height + rng.uniform(-0.05, 0.05), 0.0, 1.0))


def _threat_rotation(rng: np.random.Generator, obj: SceneObject, attempt: int, tries: int,
                     resting: bool) -> FloatArray:
    """The usual resting orientations for the first half of the tries, then any at all."""
    if attempt < tries // 2:
        return _item_rotation(rng, obj.label, True, flat_only=resting)
    return random_rotation(rng)


def _place_threat(obj: SceneObject, inner: InnerVolume, rng: np.random.Generator,
                  placed: Sequence[OrientedBox], movable: Sequence[bool], resting: bool,
                  target: float) -> tuple[SceneObject, list[int]] | None:
    """Put a threat into the packed bag clear of the rigid items in ``placed``.

    In a bag, each of :data:`_THREAT_TRIES` orientations is tried at :data:`_POSITIONS`
    random places (any height); the first orientation with room anywhere is taken, at the
    free place whose underside is nearest ``target`` (a fraction of the inner height). In
    a tray the threat rests on the floor or on an item: of the first
    :data:`_THREAT_CHOICES` such placements, the one nearest ``target``. Where there is
    no room, the owner makes some: over :data:`_ROOM_TRIES` orientations, the place with
    the fewest ``movable`` items in the way (then the one nearest ``target``) is taken,
    and those items come out of the bag.

    Returns the placed threat and the indices into ``placed`` of the items it displaces,
    or None when it fits the inner volume in none of the orientations tried.
    """
    item = _Item.of(obj)
    stack = _Boxes.of(placed)
    height = float(inner.hi[2] - inner.lo[2])
    if resting:
        found: list[tuple[float, Pose]] = []
        for attempt in range(_THREAT_TRIES * 4):
            rotation = _threat_rotation(rng, obj, attempt, _THREAT_TRIES * 4, resting)
            pose = _try_place(item, rotation, inner, rng, stack, 0.0, need_support=True)
            if pose is not None:
                found.append((abs(_underside(item, pose, inner) - target), pose))
                if len(found) == _THREAT_CHOICES:
                    break
        if found:
            return obj.placed(min(found, key=lambda f: f[0])[1]), []
    else:
        for attempt in range(_THREAT_TRIES):
            rotation = _threat_rotation(rng, obj, attempt, _THREAT_TRIES, resting)
            turned = item.points @ rotation.T
            low = inner.lo - turned.min(axis=0)
            high = inner.hi - turned.max(axis=0)
            if np.any(high < low):
                continue
            t = rng.uniform(low, high, size=(_POSITIONS, 3))
            meets = stack.meets(rotation, item.half, t + rotation @ item.centre, _GAP_MM)
            free = ~meets.any(axis=1)
            if free.any():
                miss = np.abs((t[:, 2] - low[2]) / height - target)
                k = int(np.argmin(np.where(free, miss, np.inf)))
                return obj.placed(Pose(rotation, t[k])), []
    # No room: take out what is in the way of the best place.
    can_move = np.array(movable, dtype=bool)
    best: tuple[float, Pose, list[int]] | None = None
    for attempt in range(_ROOM_TRIES):
        rotation = _threat_rotation(rng, obj, attempt, _ROOM_TRIES, resting)
        turned = item.points @ rotation.T
        low = inner.lo - turned.min(axis=0)
        high = inner.hi - turned.max(axis=0)
        if np.any(high < low):
            continue
        t = rng.uniform(low, high, size=(_POSITIONS, 3))
        if resting:
            t[:, 2] = low[2]
        meets = stack.meets(rotation, item.half, t + rotation @ item.centre, _GAP_MM)
        cost = meets.sum(axis=1) + np.abs((t[:, 2] - low[2]) / height - target)
        cost[(meets & ~can_move).any(axis=1)] = np.inf
        k = int(np.argmin(cost))
        if np.isfinite(cost[k]) and (best is None or cost[k] < best[0]):
            best = (float(cost[k]), Pose(rotation, t[k]), [int(i) for i in
                                                          np.flatnonzero(meets[k])])
    if best is None:
        return None
    return obj.placed(best[1]), best[2]


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
    counts: dict[str, int] = {}
    while len(labels) < n_items:
        open_ = [n for n in names if counts.get(n, 0) < limits.get(n, 99)]
        if not open_:  # every class at its limit: the bag holds fewer
            break
        probs = np.array([weights[n] for n in open_])
        label = open_[int(rng.choice(len(open_), p=probs / probs.sum()))]
        if (label == "shoe" and n_items - len(labels) >= 2
                and counts.get("shoe", 0) + 2 <= limits.get("shoe", 99)):  # shoes in pairs
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
             n_items: int | None = None,
             threat_rng: np.random.Generator | None = None) -> Scene:
    """A packed bag of ``kind`` on the belt, holding about ``n_items`` benign items and
    every one of ``threats``.

    The benign bag (container, contents, pose on the belt) is drawn from ``rng`` alone.
    The threats are put in afterwards, where there is room among the rigid items, with
    draws from ``threat_rng`` (``rng`` if None; either way after every benign draw), so
    the same ``rng`` state gives the same benign bag with or without threats.

    Raises :class:`SimulationError` for an unknown kind, or a threat that finds no room
    (too big for the bag, or no space left among its contents).
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
    owners: list[SceneObject] = []  # the object of each box
    # 1. Clothing layers: soft, so they may overlap; alternately low and high in the bag. In a
    #    tray a jacket lies flat on the floor and things put on it rest on top of it.
    for k in range(labels.count("clothing")):
        if kind == "tray":
            jacket = _place_rigid(make_clothing(rng, "jacket"), inner, rng, boxes, tries=30,
                                  resting=True)
            if jacket is not None:
                soft.append(jacket)
                owners.append(jacket)
            continue
        for _ in range(10):
            garment = make_clothing(rng)
            yaw = float(rng.normal(0, 0.15)) + (math.pi / 2 if rng.random() < 0.2 else 0.0)
            flip = math.pi if rng.random() < 0.5 else 0.0
            rotation = Pose.at(rx=flip, rz=yaw).rotation
            bias = float(rng.uniform(0.0, 0.25)) if k % 2 == 0 else float(rng.uniform(0.6, 1.0))
            pose = _try_place(_Item.of(garment), rotation, inner, rng, None, bias)
            if pose is not None:
                soft.append(garment.placed(pose))
                break
    # 2. Rigid benign items; a shoe pair is one shoe made twice the same.
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
            owners.append(where)
    pose = _bag_pose(container, rng)

    # 3. Threats, last and from their own stream, wherever there is room; if there is none,
    #    rigid benign items come out to make some.
    threat_rng = rng if threat_rng is None else threat_rng
    placed_threats: list[SceneObject] = []
    for given in threats:
        threat = SceneObject(given.label, tuple(place(given.parts, given.pose)), given.threat)
        movable = [any(owner is obj for obj in rigid) for owner in owners]
        target = _threat_height(threat_rng, rigid, inner)
        found = _place_threat(threat, inner, threat_rng, boxes, movable, resting, target)
        if found is None:
            lo, hi = bounds(threat.parts)
            raise SimulationError(
                f"threat {threat.label!r} ({np.round(hi - lo)} mm) does not fit in the "
                f"{kind}'s inner volume ({np.round(inner.hi - inner.lo)} mm) in any of "
                f"{_ROOM_TRIES} orientations tried"
            )
        where, displaced = found
        for k in sorted(displaced, reverse=True):
            rigid = [obj for obj in rigid if obj is not owners[k]]
            del boxes[k], owners[k]
        boxes.append(oriented_box(where))
        owners.append(where)
        placed_threats.append(where)

    belt = make_belt(CABIN_TUNNEL_MM[0], CABIN_TUNNEL_MM[1])
    shell = [obj.placed(pose) for obj in container.shell]
    contents = [obj.placed(pose) for obj in soft + rigid + placed_threats]
    objects = (belt, *shell, *contents)
    labelled = (False,) * (1 + len(shell)) + (True,) * len(contents)
    return Scene(objects, labelled, kind, inner.placed(pose))
