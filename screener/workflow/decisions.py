"""What a screener decides about a bag: clear or suspect, with marked regions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from screener.scan.model import Scan
from screener.workflow.errors import InvalidDecisionError

Box = tuple[int, int, int, int]


class Decision(StrEnum):
    CLEAR = "clear"
    SUSPECT = "suspect"


@dataclass(frozen=True)
class Mark:
    """A region the screener marked: ``box`` is x0, y0, x1, y1 in pixel corners of the
    view's stored pixels (x = column), like ``LabelledObject.box``."""

    view: str
    box: Box

    def to_payload(self) -> dict[str, Any]:
        return {"view": self.view, "box": list(self.box)}


def check_decision(scan: Scan, decision: Decision, marks: Sequence[Mark]) -> None:
    """Refuse marks on a clear decision and marks that do not lie inside a view."""
    if decision is Decision.CLEAR and marks:
        raise InvalidDecisionError("a bag cleared must carry no marks")
    shapes = {view.name: view.shape for view in scan.views}
    for mark in marks:
        if mark.view not in shapes:
            raise InvalidDecisionError(f"mark on view '{mark.view}', which this scan does not "
                                       f"have (views: {', '.join(shapes)})")
        rows, columns = shapes[mark.view]
        x0, y0, x1, y1 = mark.box
        if not (0 <= x0 < x1 <= columns and 0 <= y0 < y1 <= rows):
            raise InvalidDecisionError(f"mark {list(mark.box)} does not lie inside view "
                                       f"'{mark.view}' ({columns} x {rows} pixels)")
