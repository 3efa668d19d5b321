"""The detectors Screener ships (``models/``, training/README.md): one network exported
twice, ``threats.onnx`` for the standard pseudo-colour rendering of dual-energy scans and
``threats-grey.onnx`` for the greyscale rendering of single-energy scans."""

from __future__ import annotations

from pathlib import Path

from screener.scan.model import SourceKind

STANDARD_MODEL = "threats.onnx"
GREYSCALE_MODEL = "threats-grey.onnx"


def model_folders() -> list[Path]:
    """``models/`` of a source checkout (beside the ``screener`` package), then
    ``screener/models/`` inside an installed package."""
    package = Path(__file__).resolve().parent.parent
    return [package.parent / "models", package / "models"]


def shipped_model(source_kind: SourceKind | None = None) -> Path | None:
    """The shipped model for scans of ``source_kind``: the greyscale one for
    single-energy scans, the pseudo-colour one otherwise. None when none is installed."""
    name = GREYSCALE_MODEL if source_kind is SourceKind.SINGLE_ENERGY else STANDARD_MODEL
    for folder in model_folders():
        if (folder / name).is_file():
            return folder / name
    return None
