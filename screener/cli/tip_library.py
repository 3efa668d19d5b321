"""The FTI library a command asks for, or the small simulated one built on first use.

``screener simulate --tip`` without a library, and ``screener gui --demo`` without
``--tip-library``, use a simulated library (18 articles x 4 orientations, 72 images) built
once under the home folder (``<home>/tip/simulation-library.h5``); the library writer
renames a finished file into place, so an interrupted build leaves nothing half-written.
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from screener.tip.build import BuildSettings, build_library
from screener.tip.fti import FtiImage
from screener.tip.library import FtiLibrary, read_library

#: ``--tip`` without a library: the simulated one, built under the home folder.
BUILT_IN = Path("built-in")
SIMULATION_LIBRARY = Path("tip") / "simulation-library.h5"
SIMULATION_LIBRARY_SIZE = BuildSettings(articles=18, orientations=4, seed=0,
                                        added="2026-01-01")


def simulation_library_path(home: Path) -> Path:
    """Where the simulated library lives under ``home`` (built or not)."""
    return home / SIMULATION_LIBRARY


def ensure_simulation_library(home: Path, *, progress: bool = True) -> Path:
    """The simulated library under ``home``, built now if it is not there yet (a few
    seconds; a progress bar on a terminal when ``progress``)."""
    built = simulation_library_path(home)
    if built.exists():
        return built
    built.parent.mkdir(parents=True, exist_ok=True)
    with tqdm(total=SIMULATION_LIBRARY_SIZE.articles, unit="article",
              desc="building the simulated FTI library", disable=None if progress else True
              ) as bar:

        def built_one(_: list[FtiImage]) -> None:
            bar.update()

        build_library(built, SIMULATION_LIBRARY_SIZE, on_article=built_one)
    return built


def tip_library(path: Path, home: Path) -> FtiLibrary:
    """The library at ``path``, or with :data:`BUILT_IN` the simulated one (built on
    first use)."""
    if path != BUILT_IN:
        return read_library(path)
    return read_library(ensure_simulation_library(home))
