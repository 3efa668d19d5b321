"""Enhancement functions: what each one shows, as data plus pure formulas.

A function is three independent choices, so that they compose:

* **colouring**: how a pixel's material picks its hue. ``material`` (class colours: orange
  organic, green inorganic, blue metal, black impenetrable), ``selected`` (class colours for
  the chosen classes only, the others removed to white), ``zeff`` (a continuous hue along
  Zeff), ``grey``, or ``auto`` (class colours where the view knows materials, grey where
  it does not);
* **density**: how attenuation sets lightness ``L`` (1 white .. 0 black).
  ``exponential``: ``L = exp(-A / scale)`` (``T ** (1 / scale)``); ``window`` (variable
  density): ``L = clip((hi - A) / (hi - lo), 0, 1)`` for a window ``[lo, hi]`` the screener
  slides; ``equalised``: ``L = 1 - u`` for the local-contrast rank ``u`` of the spatial step;
* **spatial** step before colouring: none (the function is one table lookup), CLAHE on the
  companded log attenuation (super enhancement) or an unsharp mask on it (edge
  enhancement).

:class:`Adjustments` (brightness, contrast, gamma, inverse, the variable-density window)
apply on top of any function. The named functions the toolbar shows are presets
(:mod:`screener.imaging.presets`): data naming one of :data:`BASE_FUNCTIONS` with
parameters and default adjustments.

:func:`colour_formula` is the direct per-pixel definition of every function's colours; the
lookup tables of :mod:`screener.imaging.lut` are this formula evaluated on a grid, and the
tests check the two agree on random pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import cv2
import numpy as np
from numpy.typing import NDArray

from screener.imaging.calibration import MaterialClass
from screener.imaging.colour import Palette, adjust, as_unit, ramp, to_bytes, zeff_hue
from screener.imaging.view_index import A_MAX, MaterialDetail

Float32Array = NDArray[np.float32]

#: Classes that carry a hue (organic, inorganic, metal), by the name used in preset files.
COLOURED_CLASSES: Final = {
    "organic": MaterialClass.ORGANIC,
    "inorganic": MaterialClass.INORGANIC,
    "metal": MaterialClass.METAL,
}


class Colouring(StrEnum):
    """How a pixel's material picks its hue."""

    MATERIAL = "material"
    SELECTED = "selected"
    ZEFF = "zeff"
    GREY = "grey"
    AUTO = "auto"


class Density(StrEnum):
    """How attenuation (or the spatial step's output) sets lightness."""

    EXPONENTIAL = "exponential"
    WINDOW = "window"
    EQUALISED = "equalised"


class Spatial(StrEnum):
    """The neighbourhood operation before colouring, if any."""

    NONE = "none"
    CLAHE = "clahe"
    UNSHARP = "unsharp"


@dataclass(frozen=True)
class Adjustments:
    """What the screener tunes on top of a function. Every field has a neutral default.

    ``brightness`` in [-1, 1] (added), ``contrast`` in [0, 10] (gain about mid-grey),
    ``gamma`` in [0.05, 20] (``x ** (1 / gamma)``: above 1 lifts dark detail), ``invert``
    (the negative, applied last), ``window`` ``(lo, hi)`` in log attenuation for
    variable density (``None``: the function's default window).
    """

    brightness: float = 0.0
    contrast: float = 1.0
    gamma: float = 1.0
    invert: bool = False
    window: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        _check_range("brightness", self.brightness, -1.0, 1.0)
        _check_range("contrast", self.contrast, 0.0, 10.0)
        _check_range("gamma", self.gamma, 0.05, 20.0)
        if not isinstance(self.invert, bool):
            raise ValueError(f"invert: must be true or false, not {self.invert!r}")
        if self.window is not None:
            object.__setattr__(self, "window", check_window("window", self.window))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Adjustments:
        """From a preset file's ``adjustments`` object; ``ValueError('field: problem')``."""
        unknown = sorted(set(data) - {"brightness", "contrast", "gamma", "invert", "window"})
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown adjustment (known: brightness, contrast, "
                             "gamma, invert, window)")  # fmt: skip
        kwargs: dict[str, Any] = {}
        for key in ("brightness", "contrast", "gamma"):
            if key in data:
                kwargs[key] = _number(key, data[key])
        if "invert" in data:
            kwargs["invert"] = data["invert"]
        if "window" in data and data["window"] is not None:
            kwargs["window"] = check_window("window", data["window"])
        return cls(**kwargs)


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name}: must be a number, not {value!r}")
    return float(value)


def _check_range(name: str, value: Any, low: float, high: float) -> None:
    number = _number(name, value)
    if not (math.isfinite(number) and low <= number <= high):
        raise ValueError(f"{name}: must lie in [{low:g}, {high:g}], not {value!r}")


def check_window(name: str, value: Any) -> tuple[float, float]:
    """A window ``(lo, hi)`` with ``0 <= lo < hi <= A_MAX``, as floats."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"{name}: must be two numbers [lo, hi], not {value!r}")
    lo, hi = _number(name, value[0]), _number(name, value[1])
    if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 <= lo < hi <= A_MAX):
        raise ValueError(f"{name}: must satisfy 0 <= lo < hi <= {A_MAX:g} (log attenuation), "
                         f"not {value!r}")  # fmt: skip
    return lo, hi


@dataclass(frozen=True)
class EnhancementFunction:
    """One enhancement function: a colouring, a density mapping and a spatial step.

    Hashable, so lookup tables are cached per ``(function, adjustments)``. Build one with
    :func:`make_function` (which validates parameters) or take it from a preset.
    """

    base: str
    colouring: Colouring
    density: Density
    spatial: Spatial = Spatial.NONE
    shown: frozenset[MaterialClass] = frozenset()
    density_scale: float = 2.0
    default_window: tuple[float, float] = (1.0, 3.0)
    clip_limit: float = 2.5
    tile_rows: int = 8
    amount: float = 1.5
    sigma_px: float = 2.0
    palette: Palette = field(default_factory=Palette)

    @property
    def requires(self) -> MaterialDetail:
        """The least material information a view needs for this function."""
        if self.colouring is Colouring.ZEFF:
            return MaterialDetail.ZEFF
        if self.colouring in (Colouring.MATERIAL, Colouring.SELECTED):
            return MaterialDetail.CLASSES
        return MaterialDetail.NONE

    @property
    def table_driven(self) -> bool:
        """True when rendering is one lookup per pixel (no spatial step)."""
        return self.spatial is Spatial.NONE

    def window(self, adjustments: Adjustments) -> tuple[float, float]:
        """The variable-density window in effect."""
        return adjustments.window if adjustments.window is not None else self.default_window


# --------------------------------------------------------------------------------------
# Base functions and their parameters


@dataclass(frozen=True)
class _Base:
    colouring: Colouring
    density: Density
    spatial: Spatial
    params: frozenset[str]
    defaults: Mapping[str, Any] = field(default_factory=dict)


_COLOUR_PARAM: Final = "colour"
BASE_FUNCTIONS: Final[Mapping[str, _Base]] = {
    "standard": _Base(Colouring.MATERIAL, Density.EXPONENTIAL, Spatial.NONE,
                      frozenset({"density_scale"})),
    "greyscale": _Base(Colouring.GREY, Density.EXPONENTIAL, Spatial.NONE,
                       frozenset({"density_scale"})),
    "material-only": _Base(Colouring.SELECTED, Density.EXPONENTIAL, Spatial.NONE,
                           frozenset({"show", "density_scale"})),
    "high-penetration": _Base(Colouring.AUTO, Density.EXPONENTIAL, Spatial.NONE,
                              frozenset({"density_scale", _COLOUR_PARAM}),
                              {"density_scale": 6.0}),
    "variable-density": _Base(Colouring.AUTO, Density.WINDOW, Spatial.NONE,
                              frozenset({"default_window", _COLOUR_PARAM})),
    "zeff-colour": _Base(Colouring.ZEFF, Density.EXPONENTIAL, Spatial.NONE,
                         frozenset({"density_scale"})),
    "super-enhancement": _Base(Colouring.AUTO, Density.EQUALISED, Spatial.CLAHE,
                               frozenset({"clip_limit", "tile_rows", _COLOUR_PARAM})),
    "edge-enhancement": _Base(Colouring.AUTO, Density.EXPONENTIAL, Spatial.UNSHARP,
                              frozenset({"amount", "sigma_px", "density_scale", _COLOUR_PARAM})),
}  # fmt: skip


def _positive(name: str, value: Any, high: float) -> float:
    number = _number(name, value)
    if not (math.isfinite(number) and 0.0 < number <= high):
        raise ValueError(f"{name}: must be a number in (0, {high:g}], not {value!r}")
    return number


def _tile_rows(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
        raise ValueError(f"{name}: must be an integer from 1 to 64, not {value!r}")
    return value


def _colouring(name: str, value: Any) -> Colouring:
    allowed = ("auto", "material", "grey", "zeff")
    if value not in allowed:
        raise ValueError(f"{name}: must be one of {', '.join(allowed)}, not {value!r}")
    return Colouring(value)


def _shown(name: str, value: Any) -> frozenset[MaterialClass]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(n in COLOURED_CLASSES for n in names):
        raise ValueError(f"{name}: must be one or more of {', '.join(COLOURED_CLASSES)}, "
                         f"not {value!r}")  # fmt: skip
    return frozenset(COLOURED_CLASSES[n] for n in names)


_PARAM_CHECKS: Final[Mapping[str, tuple[str, Callable[[str, Any], Any]]]] = {
    "density_scale": ("density_scale", lambda n, v: _positive(n, v, 100.0)),
    "default_window": ("default_window", check_window),
    "clip_limit": ("clip_limit", lambda n, v: _positive(n, v, 100.0)),
    "tile_rows": ("tile_rows", _tile_rows),
    "amount": ("amount", lambda n, v: _positive(n, v, 20.0)),
    "sigma_px": ("sigma_px", lambda n, v: _positive(n, v, 50.0)),
    "show": ("shown", _shown),
    _COLOUR_PARAM: ("colouring", _colouring),
}


def make_function(base: str, params: Mapping[str, Any] | None = None,
                  palette: Palette | None = None) -> EnhancementFunction:  # fmt: skip
    """The function ``base`` (one of :data:`BASE_FUNCTIONS`) with ``params``.

    Raises ``ValueError('field: problem')`` for an unknown base or parameter or a bad value.
    """
    spec = BASE_FUNCTIONS.get(base)
    if spec is None:
        raise ValueError(f"function: unknown base function {base!r} (known: "
                         f"{', '.join(BASE_FUNCTIONS)})")  # fmt: skip
    given = dict(params or {})
    unknown = sorted(set(given) - spec.params)
    if unknown:
        allowed = ", ".join(sorted(spec.params)) or "none"
        raise ValueError(f"params.{unknown[0]}: not a parameter of {base!r} (it takes: "
                         f"{allowed})")  # fmt: skip
    if "show" in spec.params and "show" not in given:
        raise ValueError(f"params.show: {base!r} needs the classes to show")
    kwargs: dict[str, Any] = {"colouring": spec.colouring}
    for key, value in {**spec.defaults, **given}.items():
        attr, check = _PARAM_CHECKS[key]
        kwargs[attr] = check(f"params.{key}", value)
    return EnhancementFunction(base=base, density=spec.density, spatial=spec.spatial,
                               palette=palette or Palette(), **kwargs)  # fmt: skip


# --------------------------------------------------------------------------------------
# The direct formula


def lightness(function: EnhancementFunction, value: NDArray[np.floating],
              adjustments: Adjustments) -> Float32Array:  # fmt: skip
    """Lightness (1 white, 0 black) of each pixel before colouring.

    ``value`` is log attenuation A, except for the ``equalised`` density where it is the
    spatial step's rank ``u`` in [0, 1].
    """
    v = np.asarray(value, dtype=np.float32)
    if function.density is Density.EXPONENTIAL:
        out: Float32Array = np.exp(v * np.float32(-1.0 / function.density_scale))
        return out
    if function.density is Density.WINDOW:
        lo, hi = function.window(adjustments)
        out = np.clip((np.float32(hi) - v) * np.float32(1.0 / (hi - lo)), 0.0, 1.0)
        return out.astype(np.float32)
    out = np.clip(np.float32(1.0) - v, 0.0, 1.0)
    return out.astype(np.float32)


def base_colour(
    function: EnhancementFunction,
    value: NDArray[np.floating],
    classes: NDArray[np.integer],
    zeff: NDArray[np.floating],
    adjustments: Adjustments,
) -> Float32Array:
    """Float RGB in [0, 1] of pixels before the brightness, contrast and gamma adjustments.

    ``classes`` are material classes 0-4, or 255 where the material is unknown; ``zeff`` is
    NaN where unknown. ``value``, ``classes`` and ``zeff`` broadcast against each other (the
    lookup tables pass levels as a column and material codes as a row); the result has the
    broadcast shape plus a last axis of 3. The rules: the ``grey`` colouring, and any pixel
    of unknown material or of the background class, is grey ``L``; impenetrable pixels take
    the palette's impenetrable colour (black); organic, inorganic and metal take their hue
    (the class colour, or for ``zeff`` colouring the Zeff hue where Zeff is known) through
    :func:`~screener.imaging.colour.ramp`; with ``selected`` colouring the classes not shown
    take the palette's "removed" colour (white).
    """
    pal = function.palette
    light = lightness(function, value, adjustments)[..., None]
    cls = np.asarray(classes).astype(np.int32)
    if function.colouring is Colouring.GREY:
        return np.broadcast_to(light, np.broadcast_shapes(light.shape, (*cls.shape, 3))).copy()
    hue_of_class = np.zeros((256, 3), dtype=np.float32)
    for c, rgb_c in ((MaterialClass.ORGANIC, pal.organic),
                     (MaterialClass.INORGANIC, pal.inorganic),
                     (MaterialClass.METAL, pal.metal)):  # fmt: skip
        hue_of_class[c] = as_unit(rgb_c)
    hue = hue_of_class[cls]
    if function.colouring is Colouring.ZEFF:
        z = np.asarray(zeff, dtype=np.float32)
        known = np.isfinite(z)
        hue = np.where(known[..., None], zeff_hue(np.where(known, z, 0.0), pal), hue)
    coloured = ((cls >= MaterialClass.ORGANIC) & (cls <= MaterialClass.METAL))[..., None]
    rgb = np.where(coloured, ramp(hue, light[..., 0], pal.pivot), light)
    rgb = np.where((cls == MaterialClass.IMPENETRABLE)[..., None], as_unit(pal.impenetrable), rgb)
    if function.colouring is Colouring.SELECTED:
        shown = np.isin(cls, [int(c) for c in function.shown])[..., None]
        rgb = np.where(coloured & ~shown, as_unit(pal.removed), rgb)
    out: Float32Array = rgb.astype(np.float32)
    return out


#: Steps per unit of the colour handed to the adjustments (12 bits): the lookup tables keep
#: the base colour at this precision so that a slider move only re-maps it.
ADJUST_STEPS: Final = 4095


def colour_formula(
    function: EnhancementFunction,
    value: NDArray[np.floating],
    classes: NDArray[np.integer],
    zeff: NDArray[np.floating],
    adjustments: Adjustments,
) -> NDArray[np.uint8]:
    """RGB (uint8) of pixels, straight from the definitions: the reference for the tables.

    :func:`base_colour`, rounded to 12 bits, then
    :func:`~screener.imaging.colour.adjust` (gamma, contrast, brightness), rounded to 8 bits,
    and last the negative (``255 - x``) if ``adjustments.invert``.
    """
    rgb = base_colour(function, value, classes, zeff, adjustments)
    steps = np.rint(rgb * np.float32(ADJUST_STEPS)) * np.float32(1.0 / ADJUST_STEPS)
    out = to_bytes(adjust(steps, adjustments.brightness, adjustments.contrast, adjustments.gamma))
    if adjustments.invert:
        np.subtract(np.uint8(255), out, out=out)
    return out


# --------------------------------------------------------------------------------------
# Spatial steps (pure OpenCV on 8-bit images)


def clahe_grid(shape: tuple[int, int], tile_rows: int) -> tuple[int, int]:
    """CLAHE tile grid ``(columns, rows)`` with square-ish tiles, ``tile_rows`` down."""
    rows, cols = shape
    tile = max(1.0, rows / tile_rows)
    return max(1, round(cols / tile)), max(1, min(tile_rows, rows))


def super_enhance(level8: NDArray[np.uint8], clip_limit: float, tile_rows: int,
                  out: NDArray[np.uint8] | None = None) -> NDArray[np.uint8]:  # fmt: skip
    """Contrast-limited adaptive histogram equalisation of an 8-bit attenuation image.

    ``level8`` is the top byte of the index (256 steps of sqrt A, dark = thin); the result
    is the local rank ``u * 255`` that the ``equalised`` density turns into lightness.
    """
    clahe = cv2.createCLAHE(clipLimit=float(clip_limit),
                            tileGridSize=clahe_grid(level8.shape, tile_rows))  # fmt: skip
    result = clahe.apply(level8, out) if out is not None else clahe.apply(level8)
    return np.asarray(result, dtype=np.uint8)


def edge_enhance(level8: NDArray[np.uint8], amount: float, sigma_px: float,
                 out: NDArray[np.uint8] | None = None) -> NDArray[np.uint8]:  # fmt: skip
    """Unsharp mask: ``clip(l + amount (l - G_sigma * l), 0, 255)`` on 8-bit levels.

    The Gaussian's kernel is cut at 2 sigma (an odd size), saturating 8-bit arithmetic.
    """
    size = 2 * math.ceil(2.0 * sigma_px) + 1
    blurred = cv2.GaussianBlur(level8, (size, size), sigmaX=sigma_px, sigmaY=sigma_px,
                               dst=out, borderType=cv2.BORDER_REPLICATE)  # fmt: skip
    result = cv2.addWeighted(level8, 1.0 + amount, blurred, -amount, 0.0, dst=blurred)
    return np.asarray(result, dtype=np.uint8)
