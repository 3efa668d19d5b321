"""Annotated images for evidence: a rendered view with the screener's marks, the AI's
boxes and the TIP image's place drawn on it, and a caption that says what each is.

Boxes come from the events' payloads (docs/evidence.md, "Annotated images"), read
defensively: a missing or malformed field leaves that box out and says so in the
caption, it never stops an export. Pure numpy and OpenCV; no Qt.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import cv2
import numpy as np
from numpy.typing import NDArray

from screener.audit.chain import EventRecord

KIND_SCAN_RECEIVED: Final = "scan.received"
KIND_AI_RESULT: Final = "ai.result"
KIND_DECISION: Final = "screening.decision"
KIND_TIP_PROJECTED: Final = "tip.projected"
KIND_TIP_OUTCOME: Final = "tip.outcome"
KIND_BLIND_TRIAL: Final = "blind_test.trial"

# BGR colours, chosen apart from the material colours (orange, green, blue).
COLOURS: Final[dict[str, tuple[int, int, int]]] = {
    "mark": (255, 255, 0),  # cyan: what the screener marked
    "ai": (255, 0, 255),  # magenta: what the detector flagged
    "tip": (0, 0, 255),  # red: where the projected threat image was
}
KIND_NAMES: Final = {"mark": "screener mark", "ai": "AI detection", "tip": "TIP image"}
_MIN_SIDE = 360  # small views are enlarged (nearest neighbour) so that labels fit
_MAX_ZOOM = 16
_MIN_WIDTH = 760
_FONT = cv2.FONT_HERSHEY_SIMPLEX

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Annotation:
    kind: str  # "mark" | "ai" | "tip"
    view: str
    box: Box  # x0, y0, x1, y1 in view pixels
    label: str  # short, drawn by the box
    legend: str  # long, in the caption


@dataclass
class ScanAnnotations:
    """Everything the events say about one scan."""

    boxes: list[Annotation]
    notes: list[str]  # one line per event, in event order


def as_box(value: Any) -> Box | None:
    """A box ``[x0, y0, x1, y1]`` from an event payload (corners in any order), or None
    when the value is not four finite numbers."""
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
               for v in value):
        return None
    x0, y0, x1, y1 = (float(v) for v in value)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _text(value: Any, default: str = "?") -> str:
    return default if value is None else str(value)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def scan_annotations(events: Iterable[EventRecord], scan_sha256: str) -> ScanAnnotations:
    """The boxes and caption notes for ``scan_sha256`` from ``events`` (any order)."""
    found = ScanAnnotations([], [])
    chosen = sorted((e for e in events if e.scan_sha256 == scan_sha256),
                    key=lambda e: (e.time_utc, e.station, e.seq))
    for event in chosen:
        where = f"{event.station}#{event.seq} {event.time_utc[:19].replace('T', ' ')}"
        payload = event.payload_dict()
        if event.kind == KIND_AI_RESULT:
            _ai(event, payload, where, found)
        elif event.kind == KIND_DECISION:
            _decision(event, payload, where, found)
        elif event.kind == KIND_TIP_PROJECTED:
            _tip_projected(event, payload, where, found)
        elif event.kind in (KIND_TIP_OUTCOME, KIND_BLIND_TRIAL):
            found.notes.append(f"{where} TIP trial: {_text(payload.get('outcome'))} "
                               f"({_text(payload.get('operator'))})")
        elif event.kind == KIND_SCAN_RECEIVED:
            found.notes.append(f"{where} received from {_text(payload.get('source'))}, "
                               f"bag {_text(payload.get('bag_id'))}")
        else:
            found.notes.append(f"{where} {event.kind} by {event.actor} ({event.role})")
    return found


def _ai(event: EventRecord, payload: Mapping[str, Any], where: str,
        found: ScanAnnotations) -> None:
    model = (event.model_sha256 or "?")[:12]
    status = payload.get("status")
    detections = _list(payload.get("detections"))
    if status != "ok":
        found.notes.append(f"{where} AI {_text(status, 'status unknown')} (model {model})")
        return
    skipped = 0
    for item in detections:
        if not isinstance(item, dict) or (box := as_box(item.get("box"))) is None:
            skipped += 1
            continue
        score = item.get("score")
        shown = f"{score:.2f}" if isinstance(score, (int, float)) and not isinstance(
            score, bool) else "?"
        label = _text(item.get("label"))
        found.boxes.append(Annotation(
            "ai", _text(item.get("view"), ""), box, f"{label} {shown}",
            f"{label} ({_text(item.get('category'))}) score {shown}, model {model}, "
            f"event {event.station}#{event.seq}"))
    extra = f"; {skipped} without a usable box" if skipped else ""
    found.notes.append(f"{where} AI: {len(detections)} detection(s), model {model}{extra}")


def _decision(event: EventRecord, payload: Mapping[str, Any], where: str,
              found: ScanAnnotations) -> None:
    decision = _text(payload.get("decision")).upper()
    marks = _list(payload.get("marks"))
    skipped = 0
    for item in marks:
        if not isinstance(item, dict) or (box := as_box(item.get("box"))) is None:
            skipped += 1
            continue
        found.boxes.append(Annotation("mark", _text(item.get("view"), ""), box,
                                      f"{event.actor}",
                                      f"by {event.actor}, decision {decision}, event "
                                      f"{event.station}#{event.seq}"))
    tip = payload.get("tip")
    tip_text = ""
    if isinstance(tip, dict) and tip.get("projected"):
        tip_text = f"; TIP image {_text(tip.get('fti_id'))} on screen"
    if payload.get("rescreen"):
        tip_text += "; second look at the real bag after TIP feedback"
    ms = payload.get("response_ms")
    timing = f", {ms} ms" if isinstance(ms, int) and not isinstance(ms, bool) else ""
    extra = f"; {skipped} box(es) unusable" if skipped else ""
    found.notes.append(f"{where} decision {decision} by {event.actor} ({len(marks)} "
                       f"mark(s){timing}){tip_text}{extra}")


def _tip_projected(event: EventRecord, payload: Mapping[str, Any], where: str,
                   found: ScanAnnotations) -> None:
    """Where the FTI was composed into each view: the screener saw the composite, the
    stored scan is the real bag."""
    fti = _text(payload.get("fti_id"))
    category = _text(payload.get("category"))
    skipped = 0
    for item in _list(payload.get("projections")):
        if not isinstance(item, dict) or (box := as_box(item.get("box"))) is None:
            skipped += 1
            continue
        found.boxes.append(Annotation("tip", _text(item.get("view"), ""), box,
                                      f"TIP {category}",
                                      f"TIP image {fti} ({category}) projected here, event "
                                      f"{event.station}#{event.seq}"))
    extra = f"; {skipped} box(es) unusable" if skipped else ""
    found.notes.append(f"{where} TIP image {fti} ({category}) projected; the screener saw "
                       f"the composite{extra}")


# ---------------------------------------------------------------------- drawing
def _ascii(text: str) -> str:
    """OpenCV's Hershey fonts draw ASCII only."""
    return text.encode("ascii", "replace").decode("ascii")


def _fit(text: str, width: int, scale: float, thickness: int) -> str:
    text = _ascii(text)
    while text and cv2.getTextSize(text, _FONT, scale, thickness)[0][0] > width:
        text = text[:-4] + "..." if len(text) > 4 else ""
    return text


def _wrap(text: str, width: int, scale: float, thickness: int) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` pixels."""
    lines: list[str] = []
    current = ""
    for word in _ascii(text).split():
        trial = f"{current} {word}" if current else word
        if current and cv2.getTextSize(trial, _FONT, scale, thickness)[0][0] > width:
            lines.append(current)
            current = "  " + word
        else:
            current = trial
    if current:
        lines.append(current)
    return [_fit(line, width, scale, thickness) for line in lines] or [""]


def _ink(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    b, g, r = colour
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 110 else (255, 255, 255)


Rect = tuple[int, int, int, int]  # x0, y0, x1, y1


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _place_tag(box: Rect, size: tuple[int, int], bounds: tuple[int, int],
               taken: list[Rect]) -> Rect:
    """Where a box's tag goes: above its top-left corner, else below its bottom, else
    inside its top, else the first free place further down; never over another tag."""
    x0, y0, x1, y1 = box
    tw, th = size
    width, height = bounds
    def at(x: int, y: int) -> Rect:
        x = min(max(x, 0), max(0, width - tw))
        y = min(max(y, 0), max(0, height - th))
        return x, y, x + tw, y + th
    candidates = [at(x0, y0 - th), at(x0, y1 + 1), at(x0, y0 + 1), at(x1 - tw, y0 - th),
                  at(x1 - tw, y1 + 1)]
    for rect in candidates:
        if not any(_overlaps(rect, other) for other in taken):
            return rect
    rect = candidates[0]
    for _ in range(height // max(1, th) + 1):
        rect = at(rect[0], rect[3] + 1)
        if not any(_overlaps(rect, other) for other in taken):
            break
    return rect


def annotate_view(rgba: NDArray[np.uint8], view: str, boxes: Iterable[Annotation],
                  title: Iterable[str], notes: Iterable[str] = ()) -> NDArray[np.uint8]:
    """The view (RGBA from :func:`screener.imaging.render.render`) as a BGR image with
    ``boxes`` of this view drawn and numbered, and a caption below: ``title`` lines, a
    legend of the numbered boxes, and ``notes``."""
    rows, cols = rgba.shape[:2]
    zoom = max(1, min(_MAX_ZOOM, math.ceil(_MIN_SIDE / max(1, min(rows, cols)))))
    image = cv2.cvtColor(np.ascontiguousarray(rgba), cv2.COLOR_RGBA2BGR)
    if zoom > 1:
        image = cv2.resize(image, (cols * zoom, rows * zoom), interpolation=cv2.INTER_NEAREST)
    height, width = image.shape[:2]
    canvas_width = max(width, _MIN_WIDTH)
    scale = max(0.5, min(2.0, canvas_width / 1400))
    stroke = max(2, round(canvas_width / 500))
    text_thickness = max(1, round(scale * 1.6))
    line = cv2.getTextSize("Ag", _FONT, scale, text_thickness)[0][1] * 2 + 4

    mine = [b for b in boxes if b.view == view]
    corners: list[Rect] = []
    for ann in mine:
        x0, y0, x1, y1 = (round(v * zoom) for v in ann.box)
        x0, x1 = (min(max(v, 0), width - 1) for v in (x0, x1))
        y0, y1 = (min(max(v, 0), height - 1) for v in (y0, y1))
        corners.append((x0, y0, x1, y1))
        colour = COLOURS.get(ann.kind, (255, 255, 255))
        cv2.rectangle(image, (x0, y0), (x1, y1), (0, 0, 0), stroke + 2, cv2.LINE_AA)
        cv2.rectangle(image, (x0, y0), (x1, y1), colour, stroke, cv2.LINE_AA)
    taken: list[Rect] = []
    for number, (ann, corner) in enumerate(zip(mine, corners, strict=True), 1):
        colour = COLOURS.get(ann.kind, (255, 255, 255))
        tag = _fit(f"{number} {ann.label}", width - 8, scale, text_thickness)
        (tw, th), base = cv2.getTextSize(tag, _FONT, scale, text_thickness)
        rect = _place_tag(corner, (tw + 6, th + base + 4), (width, height), taken)
        taken.append(rect)
        cv2.rectangle(image, rect[:2], (rect[2] - 1, rect[3] - 1), colour, cv2.FILLED)
        cv2.putText(image, tag, (rect[0] + 3, rect[3] - base - 2), _FONT, scale,
                    _ink(colour), text_thickness, cv2.LINE_AA)

    swatch = line - 8
    wrap_width = canvas_width - 20
    caption: list[tuple[str, tuple[int, int, int] | None]] = []
    for text in title:
        caption += [(part, None) for part in _wrap(text, wrap_width, scale, text_thickness)]
    for number, ann in enumerate(mine, 1):
        parts = _wrap(f"[{number}] {KIND_NAMES.get(ann.kind, ann.kind)}: {ann.legend}",
                      wrap_width - swatch - 8, scale, text_thickness)
        caption += [(part, COLOURS.get(ann.kind) if i == 0 else (255, 255, 255))
                    for i, part in enumerate(parts)]
    if not mine:
        caption.append(("no marks, detections or TIP image on this view", None))
    for text in notes:
        caption += [(part, None) for part in _wrap(text, wrap_width, scale, text_thickness)]
    band = line * len(caption) + line // 2
    canvas = np.full((height + band, canvas_width, 3), 255, dtype=np.uint8)
    canvas[:height, :width] = image
    if width < canvas_width:
        canvas[:height, width:] = 64
    for index, (text, fill) in enumerate(caption):
        y = height + line * (index + 1)
        x = 10
        if fill is not None:
            if fill != (255, 255, 255):
                cv2.rectangle(canvas, (x, y - swatch), (x + swatch, y), fill, cv2.FILLED)
                cv2.rectangle(canvas, (x, y - swatch), (x + swatch, y), (0, 0, 0), 1)
            x += swatch + 8
        cv2.putText(canvas, text, (x, y - 4), _FONT, scale, (0, 0, 0), text_thickness,
                    cv2.LINE_AA)
    return canvas


def encode_png(image: NDArray[np.uint8]) -> bytes:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("OpenCV could not encode the PNG")
    return bytes(data.tobytes())


def encode_jpeg(image: NDArray[np.uint8], quality: int = 85) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("OpenCV could not encode the JPEG")
    return bytes(data.tobytes())


def thumbnail(image: NDArray[np.uint8], longest: int = 900) -> NDArray[np.uint8]:
    """A copy no longer than ``longest`` pixels on its longer side (area averaging)."""
    height, width = image.shape[:2]
    factor = longest / max(height, width)
    if factor >= 1:
        return image
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
