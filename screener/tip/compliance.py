"""Does an FTI library meet the ICAO figures? (``screener tip library check``; docs/tip.md)

The figures, as the trade press cites ICAO guidance (DESIGN.md, "TIP and scoring"):

* at least :data:`MIN_IMAGES` images,
* of at least :data:`MIN_ARTICLES` distinct threat articles (``article_id``),
* at least :data:`MIN_REPLACED_PER_YEAR` replaced a year. A library file keeps only the
  images it holds now, so "replaced in the last year" is counted as **added in the 365
  days up to the check date** (``as_of - 365 days < added <= as_of``).

An image is **due for replacement** when it was added more than ``replace_after_years``
(default :data:`REPLACE_AFTER_YEARS`) before the check date: informational, not one of the
figures. Orientation coverage is informational too: images per article, and the tilt of
each view, the angle between the beam and the article's flat-face normal (its z axis):
0 degrees face-on, 90 edge-on. Uniformly random rotations put 13 % of views in 0-30
degrees, 37 % in 30-60 and 50 % in 60-90.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from screener.tip.fti import FtiCategory
from screener.tip.library import FtiLibrary
from screener.tip.library_checks import FtiRecord

MIN_IMAGES = 6000
MIN_ARTICLES = 250
MIN_REPLACED_PER_YEAR = 100
REPLACE_AFTER_YEARS = 5
#: Tilt bands (degrees, upper bound inclusive for the last) and their names.
TILT_BANDS = (("face-on", 0.0, 30.0), ("oblique", 30.0, 60.0), ("edge-on", 60.0, 90.0))
#: Orientations closer than this in every angle count as one.
ORIENTATION_RESOLUTION_DEG = 0.01


@dataclass(frozen=True)
class Figure:
    """One ICAO figure: what is required, what the library has, and whether it passes."""

    name: str  # "images", "articles", "replaced_per_year"
    required: int
    actual: int
    description: str

    @property
    def passed(self) -> bool:
        return self.actual >= self.required


@dataclass(frozen=True)
class CategoryCount:
    images: int
    articles: int


@dataclass(frozen=True)
class OrientationCoverage:
    """How many ways each article was captured, and how the views tilt."""

    per_article_min: int
    per_article_median: float
    per_article_max: int
    tilt_shares: dict[str, float]  # band name -> share of all images
    articles_in_all_bands: int  # articles with at least one view in every tilt band
    median_tilt_range_deg: float  # per article: largest minus smallest tilt; median


@dataclass(frozen=True)
class LibraryReport:
    """Everything ``tip library check`` prints."""

    file: str
    as_of: str
    images: int
    articles: int
    categories: dict[str, CategoryCount]
    subcategories: dict[str, int]
    scanner_profiles: dict[str, int]
    orientation: OrientationCoverage
    added_last_365_days: int
    added_after_as_of: int
    oldest_added: str | None
    newest_added: str | None
    replace_after_years: int
    due_for_replacement: int
    figures: tuple[Figure, ...]
    notes: tuple[str, ...]

    @property
    def compliant(self) -> bool:
        return all(f.passed for f in self.figures)

    @property
    def failing(self) -> tuple[Figure, ...]:
        return tuple(f for f in self.figures if not f.passed)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["figures"] = [{**asdict(f), "passed": f.passed} for f in self.figures]
        data["compliant"] = self.compliant
        data["failing"] = [f.name for f in self.failing]
        return data


def tilt_deg(orientation_deg: tuple[float, float, float]) -> float:
    """Angle between the beam (world z) and the article's z axis after the rotation
    ``Rz Ry Rx``: ``acos(|cos rx cos ry|)``, in [0, 90] degrees."""
    rx, ry, _ = (math.radians(a) for a in orientation_deg)
    return math.degrees(math.acos(min(1.0, abs(math.cos(rx) * math.cos(ry)))))


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def check_library(library: FtiLibrary, as_of: date,
                  replace_after_years: int = REPLACE_AFTER_YEARS) -> LibraryReport:
    """Count what the ICAO figures ask about, and what is due for replacement."""
    records = library.items
    articles = library.by_article()
    added = [r.added_date for r in records]
    year_ago = as_of - timedelta(days=365)
    due_before = years_before(as_of, replace_after_years)
    recent = sum(1 for d in added if year_ago < d <= as_of)
    figures = (
        Figure("images", MIN_IMAGES, len(records), "images in the library"),
        Figure("articles", MIN_ARTICLES, len(articles), "distinct threat articles"),
        Figure("replaced_per_year", MIN_REPLACED_PER_YEAR, recent,
               f"images added in the 365 days up to {as_of.isoformat()}"),
    )
    return LibraryReport(
        file=str(library.path),
        as_of=as_of.isoformat(),
        images=len(records),
        articles=len(articles),
        categories=_categories(library),
        subcategories=dict(sorted(Counter(r.subcategory for r in records).items())),
        scanner_profiles=dict(sorted(Counter(r.scanner_profile for r in records).items())),
        orientation=_orientation_coverage(articles),
        added_last_365_days=recent,
        added_after_as_of=sum(1 for d in added if d > as_of),
        oldest_added=min(added).isoformat() if added else None,
        newest_added=max(added).isoformat() if added else None,
        replace_after_years=replace_after_years,
        due_for_replacement=sum(1 for d in added if d < due_before),
        figures=figures,
        notes=_notes(library, as_of),
    )


def _categories(library: FtiLibrary) -> dict[str, CategoryCount]:
    groups = library.by_category()
    return {
        category.value: CategoryCount(
            images=len(groups.get(category, ())),
            articles=len({r.article_id for r in groups.get(category, ())}),
        )
        for category in FtiCategory
    }


def _orientation_coverage(articles: dict[str, tuple[FtiRecord, ...]]) -> OrientationCoverage:
    counts: list[int] = []
    ranges: list[float] = []
    all_bands = 0
    bands: Counter[str] = Counter()
    for records in articles.values():
        counts.append(len({_rounded(r.orientation_deg) for r in records}))
        tilts = [tilt_deg(r.orientation_deg) for r in records]
        ranges.append(max(tilts) - min(tilts))
        names = {_band(t) for t in tilts}
        bands.update(_band(t) for t in tilts)
        all_bands += len(names) == len(TILT_BANDS)
    total = sum(bands.values())
    return OrientationCoverage(
        per_article_min=min(counts, default=0),
        per_article_median=float(statistics.median(counts)) if counts else 0.0,
        per_article_max=max(counts, default=0),
        tilt_shares={name: round(bands[name] / total, 4) if total else 0.0
                     for name, _, _ in TILT_BANDS},
        articles_in_all_bands=all_bands,
        median_tilt_range_deg=round(float(statistics.median(ranges)), 2) if ranges else 0.0,
    )


def _rounded(angles: tuple[float, float, float]) -> tuple[int, ...]:
    return tuple(round(a / ORIENTATION_RESOLUTION_DEG) for a in angles)


def _band(tilt: float) -> str:
    for name, _, upper in TILT_BANDS:
        if tilt < upper:
            return name
    return TILT_BANDS[-1][0]


def _notes(library: FtiLibrary, as_of: date) -> tuple[str, ...]:
    notes: list[str] = []
    groups = library.by_category()
    for category in (FtiCategory.GUN, FtiCategory.KNIFE, FtiCategory.IED):
        if category not in groups:
            notes.append(f"no {category.value} images")
    future = sum(1 for r in library.items if r.added_date > as_of)
    if future:
        notes.append(f"{future} image(s) dated after {as_of.isoformat()}: not counted as "
                     "replaced; check the 'added' dates")
    single = sum(1 for records in library.by_article().values() if len(records) < 2)
    if single:
        notes.append(f"{single} article(s) captured in only one orientation")
    return tuple(notes)
