"""Shared fixtures. Scans here are synthetic and small: tests of the scan format must not
depend on the simulator."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from screener.scan import (
    BeltDirection,
    GroundTruth,
    LabelledObject,
    Scan,
    ScanMetadata,
    SourceKind,
    View,
    write_scan,
)

MakeScan = Callable[..., tuple[Scan, GroundTruth | None]]


def _channel(rng: np.random.Generator, shape: tuple[int, int], dtype: str,
             full_scale: float) -> np.ndarray:
    if dtype == "uint16":
        return rng.integers(0, int(full_scale) + 1, size=shape, dtype=np.uint16)
    return rng.random(shape, dtype=np.float32)


def make_synthetic_scan(
    *,
    dtype: str = "uint16",
    views: int = 1,
    truth: bool = False,
    shape: tuple[int, int] = (40, 64),
    full_scale: float | None = None,
    seed: int = 0,
    kind: str | None = None,
) -> tuple[Scan, GroundTruth | None]:
    """A scan of random transmission images (and, if asked, labels for each view).

    ``kind`` (a ``SourceKind`` value) defaults to simulated-dual-energy with ``truth``,
    else dual-energy; single-energy and pseudo-colour scans get no ``low`` channel, and
    pseudo-colour ones a random ``material_class`` (0..4).
    """
    rng = np.random.default_rng(seed)
    scale = 1.0 if dtype == "float32" else (full_scale or 4095.0)
    source_kind = SourceKind(kind) if kind is not None else (
        SourceKind.SIMULATED_DUAL_ENERGY if truth else SourceKind.DUAL_ENERGY)
    names = ("top", "side", "front", "back")
    made = tuple(
        View(
            name=names[i],
            high=_channel(rng, shape, dtype, scale),
            low=_channel(rng, shape, dtype, scale) if source_kind.is_dual_energy else None,
            full_scale=scale,
            pixel_pitch_mm=(0.8 + 0.1 * i, 1.25),
            belt_direction=BeltDirection.LEFT_TO_RIGHT if i % 2 == 0
            else BeltDirection.RIGHT_TO_LEFT,
            material_class=rng.integers(0, 5, size=shape, dtype=np.uint8)
            if source_kind is SourceKind.PSEUDO_COLOUR else None,
        )
        for i in range(views)
    )
    metadata = ScanMetadata(
        bag_id=f"BAG-{seed:04d}",
        station="checkpoint-A",
        lane="lane-3",
        acquired_at=datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
        source="synthetic test fixture 1.0",
        source_kind=source_kind,
        scanner_profile="cabin-160kV",
        channel_low="160 kV, front layer 0.4 mm CsI",
        channel_high="160 kV, rear layer 4 mm GOS, 0.6 mm Cu filter",
    )
    ground_truth = None
    if truth:
        by_view = {}
        for i, view in enumerate(made):
            mask = rng.random((10, 12)) > 0.5
            by_view[view.name] = (
                LabelledObject(100 + i, "knife", True, (3, 4, 15, 14), mask),
                LabelledObject(200 + i, "laptop", False, (0, 0, 5, 3), np.ones((3, 5), bool)),
            )
        ground_truth = GroundTruth(by_view)
    return Scan(metadata, made), ground_truth


@pytest.fixture
def make_scan() -> MakeScan:
    """Factory: ``make_scan(dtype="float32", views=2, truth=True)``."""
    return make_synthetic_scan


@pytest.fixture
def scan_file(tmp_path: Path) -> Callable[..., Path]:
    """Factory writing a synthetic scan; ``scan_file(name, **make_scan_kwargs)``."""

    def write(name: str = "scan.h5", **kwargs: object) -> Path:
        scan, truth = make_synthetic_scan(**kwargs)  # type: ignore[arg-type]
        return write_scan(tmp_path / name, scan, truth)

    return write


SCREENER_VARIABLES = ("SCREENER_CONFIG", "SCREENER_HOME", "SCREENER_STATION", "SCREENER_LANE",
                      "SCREENER_MAX_VIEW_PIXELS", "SCREENER_MAX_VIEWS", "SCREENER_AUDIT_DB",
                      "SCREENER_CHECKPOINT_EVERY", "SCREENER_SCAN_STORE_DIR")


@pytest.fixture
def isolated_cli(tmp_path, capsys, monkeypatch):
    """``isolated_cli("scan", "info", FILE)`` -> (exit status, stdout, stderr), run in-process
    with a fake HOME, no SCREENER_* variable and ``--home`` inside tmp_path."""
    from screener.cli import main

    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    for name in SCREENER_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def call(*args):
        code = main(["--home", str(tmp_path / "data"), *map(str, args)])
        out, err = capsys.readouterr()
        return code, out, err

    return call


POSTGRES_URL = os.environ.get("SCREENER_TEST_POSTGRES",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url():
    """A fresh, empty schema on the test PostgreSQL server, as a SQLAlchemy URL; dropped
    afterwards. Skips when no server answers, unless SCREENER_REQUIRE_POSTGRES=1 (CI),
    where that is a failure."""
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except (OperationalError, ImportError) as exc:
        reason = f"no PostgreSQL at {POSTGRES_URL} ({str(exc).splitlines()[0]})"
        if os.environ.get("SCREENER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}; SCREENER_REQUIRE_POSTGRES=1 makes this a failure")
        pytest.skip(reason)
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


@pytest.fixture
def postgres_role(postgres_url):
    """Factory for PostgreSQL login roles: ``name, url = postgres_role()`` gives a new role
    name and ``postgres_url`` logging in as it (the role itself is made by the code under
    test). Every role named is dropped afterwards, with whatever it was granted."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    names: list[str] = []

    def make(prefix: str = "st") -> tuple[str, str]:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        names.append(name)
        url = make_url(postgres_url).set(username=name)
        return name, url.render_as_string(hide_password=False)

    yield make
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        for name in names:
            if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                            {"r": name}).first():
                conn.exec_driver_sql(f'DROP OWNED BY "{name}"')
                conn.exec_driver_sql(f'DROP ROLE "{name}"')
    engine.dispose()
