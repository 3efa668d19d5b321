"""Typed errors of the detector runtime.

Every way a detector can fail to load is a :class:`DetectorUnavailableError`, so the
workstation catches one type, keeps working without AI flags, shows
``"AI unavailable: <reason>"`` (:attr:`DetectorUnavailableError.ui_message`) and logs the
event. Manifest problems and hash mismatches are subclasses that say more precisely what
is wrong and name the file and the field.
"""

from __future__ import annotations

from pathlib import Path

from screener.errors import ScreenerError


def _one_line(text: str) -> str:
    return " ".join(text.split())


class DetectorUnavailableError(ScreenerError):
    """The detector cannot be used: the model is missing, broken, refused or failed to run."""

    hint = ""

    def __init__(self, path: Path | str | None, reason: str) -> None:
        self.path = None if path is None else Path(path)
        self.reason = _one_line(reason).rstrip(".")
        where = "" if self.path is None else f"{self.path}: "
        hint = f". {self.hint}" if self.hint else ""
        super().__init__(f"{where}{self.reason}{hint}")

    @property
    def ui_message(self) -> str:
        """What the screener sees: ``AI unavailable: <reason>``."""
        return f"AI unavailable: {self.reason}"


class ModelManifestError(DetectorUnavailableError):
    """A model manifest (sidecar JSON, embedded ``screener_manifest`` or ultralytics
    metadata) is missing, malformed or does not fit the model. Names the file and field."""

    hint = "Fix the manifest (docs/detector.md, Manifest) or ask for a corrected model."

    def __init__(self, path: Path | str, field: str | None, problem: str) -> None:
        self.field = field
        self.problem = _one_line(problem)
        reason = self.problem if field is None else f"manifest field '{field}': {self.problem}"
        super().__init__(path, reason)


class ModelHashMismatchError(DetectorUnavailableError):
    """The model file's sha256 is not the one its manifest (or the settings) pins."""

    hint = ("The model file was changed or replaced: restore the model that goes with the "
            "manifest, or install a new model together with its own manifest.")

    def __init__(self, path: Path | str, pinned_by: str, expected: str, actual: str) -> None:
        self.pinned_by = pinned_by
        self.expected = expected
        self.actual = actual
        super().__init__(
            path,
            f"model file sha256 is {actual} but {pinned_by} requires {expected}; "
            "the model is refused",
        )


class DetectionInputError(ScreenerError):
    """An image handed to the detector does not fit the model's input kind, or a view
    cannot give the input the model needs (a dual-energy model on a single-energy scan)."""

    def __init__(self, what: str, problem: str) -> None:
        self.what = what
        self.problem = _one_line(problem)
        super().__init__(f"{what}: {self.problem}")
