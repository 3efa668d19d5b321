"""Options shared by the TIP commands."""

from __future__ import annotations

from screener.errors import ScreenerError
from screener.tip.fti import FtiCategory


def parse_weights(text: str, option: str = "--weights") -> dict[FtiCategory, float]:
    """``gun=1,knife=1,ied=0.5``: a weight per category (categories left out weigh 0)."""
    weights = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            weights[FtiCategory(name.strip())] = float(value)
        except ValueError:
            raise ScreenerError(f"{option}: {part!r} is not CATEGORY=WEIGHT with a category "
                                f"of {', '.join(c.value for c in FtiCategory)}") from None
    return weights
