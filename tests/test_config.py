"""Settings: defaults < TOML file < environment < flags, and a ConfigError for every bad value."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from screener.config import Settings, load_settings
from screener.errors import ConfigError, ScanTooLargeError
from screener.scan import ScanLimits, read_scan


@pytest.fixture(autouse=True)
def fake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the real ~/.config/screener out of every test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def write_toml(tmp_path: Path, text: str, name: str = "screener.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(fake_home: Path) -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.home == fake_home / ".local" / "share" / "screener"
    assert settings.scan_store == settings.home / "scans"
    assert settings.max_view_pixels == 100_000_000 and settings.max_views == 8
    assert settings.scan_limits == ScanLimits()


def test_each_layer_overrides_the_one_before(tmp_path: Path) -> None:
    config = write_toml(tmp_path, """
home = "/data/from-toml"
station = "toml-station"
lane = "toml-lane"
max_view_pixels = 3000
max_views = 3
""")
    environ = {"SCREENER_LANE": "env-lane", "SCREENER_MAX_VIEW_PIXELS": "2000",
               "SCREENER_MAX_VIEWS": "2"}
    flags = {"max_views": 1, "home": None}  # a flag left out (None) does not override

    settings = load_settings(config, environ, flags)

    assert settings.station == "toml-station"  # default < TOML
    assert settings.home == Path("/data/from-toml")
    assert settings.lane == "env-lane"  # TOML < environment
    assert settings.max_view_pixels == 2000
    assert settings.max_views == 1  # environment < flags
    assert settings.scan_limits == ScanLimits(max_view_pixels=2000, max_views=1)


def test_every_setting_can_come_from_each_layer(tmp_path: Path) -> None:
    values = {"home": tmp_path / "h", "station": "s9", "lane": "l9", "max_view_pixels": 9,
              "max_views": 9}
    as_toml = "\n".join(f"{k} = {v!r}" if isinstance(v, int) else f'{k} = "{v}"'
                        for k, v in values.items())
    from_toml = load_settings(write_toml(tmp_path, as_toml), {})
    from_env = load_settings(None, {f"SCREENER_{k.upper()}": str(v) for k, v in values.items()})
    from_flags = load_settings(None, {}, values)
    for settings in (from_toml, from_env, from_flags):
        assert {k: getattr(settings, k) for k in values} == values


def test_config_file_from_environment_and_default_location(tmp_path: Path,
                                                           fake_home: Path) -> None:
    chosen = write_toml(tmp_path, 'station = "from-SCREENER_CONFIG"', "chosen.toml")
    assert load_settings(environ={"SCREENER_CONFIG": str(chosen)}).station == (
        "from-SCREENER_CONFIG")

    default = fake_home / ".config" / "screener" / "screener.toml"
    default.parent.mkdir(parents=True)
    default.write_text('station = "from-default-file"\n', encoding="utf-8")
    assert load_settings(environ={}).station == "from-default-file"
    # an explicit --config wins over both
    explicit = write_toml(tmp_path, 'station = "explicit"', "explicit.toml")
    assert load_settings(explicit, {"SCREENER_CONFIG": str(chosen)}).station == "explicit"


def test_home_expands_user(fake_home: Path) -> None:
    assert load_settings(environ={"SCREENER_HOME": "~/screener-data"}).home == (
        fake_home / "screener-data")


def test_unrelated_environment_is_ignored() -> None:
    settings = load_settings(environ={"SCREENER_COLOUR": "blue", "HOME_STATION": "x",
                                      "station": "lower-case-is-not-ours"})
    assert settings == load_settings(environ={})


def test_environment_cap_reaches_the_reader(scan_file: Callable[..., Path]) -> None:
    path = scan_file()  # 40 x 64 pixels
    settings = load_settings(environ={"SCREENER_MAX_VIEW_PIXELS": "1000"})
    with pytest.raises(ScanTooLargeError):
        read_scan(path, settings.scan_limits)


# --------------------------------------------------------------------------- errors


def expect_config_error(source: str, key: str, load: Callable[[], object]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load()
    err = info.value
    assert (err.source, err.key) == (source, key), str(err)
    assert str(err).startswith(f"{source}: setting '{key}': ")
    assert "\n" not in str(err)
    return err


def test_unknown_key_in_each_layer(tmp_path: Path) -> None:
    config = write_toml(tmp_path, 'staton = "typo"\n')
    err = expect_config_error(str(config), "staton", lambda: load_settings(config, {}))
    assert "station" in str(err)  # the message lists the known settings
    expect_config_error("flags", "colour", lambda: load_settings(None, {}, {"colour": "red"}))


def test_toml_table_is_an_unknown_key(tmp_path: Path) -> None:
    config = write_toml(tmp_path, "[scan]\nmax_views = 2\n")
    expect_config_error(str(config), "scan", lambda: load_settings(config, {}))


@pytest.mark.parametrize("raw", ["lots", "", "1e3", "3.5", "0x10"])
def test_bad_int_from_environment(raw: str) -> None:
    expect_config_error("environment", "max_view_pixels",
                        lambda: load_settings(None, {"SCREENER_MAX_VIEW_PIXELS": raw}))


@pytest.mark.parametrize("value", ['"eight"', "2.5", "true", "[8]"])
def test_bad_int_in_toml(tmp_path: Path, value: str) -> None:
    config = write_toml(tmp_path, f"max_views = {value}\n")
    expect_config_error(str(config), "max_views", lambda: load_settings(config, {}))


@pytest.mark.parametrize("value", [0, -1])
def test_non_positive_int_in_each_layer(tmp_path: Path, value: int) -> None:
    config = write_toml(tmp_path, f"max_views = {value}\n")
    expect_config_error(str(config), "max_views", lambda: load_settings(config, {}))
    expect_config_error("environment", "max_views",
                        lambda: load_settings(None, {"SCREENER_MAX_VIEWS": str(value)}))
    expect_config_error("flags", "max_view_pixels",
                        lambda: load_settings(None, {}, {"max_view_pixels": value}))


@pytest.mark.parametrize(("key", "value"), [("station", "5"), ("lane", '""'),
                                            ("station", '"   "'), ("home", '""'),
                                            ("home", "3")])
def test_bad_text_and_path_in_toml(tmp_path: Path, key: str, value: str) -> None:
    config = write_toml(tmp_path, f"{key} = {value}\n")
    expect_config_error(str(config), key, lambda: load_settings(config, {}))


def test_malformed_toml(tmp_path: Path) -> None:
    config = write_toml(tmp_path, "station = 'unterminated\nmax_views = = 3\n")
    err = expect_config_error(str(config), "(file)", lambda: load_settings(config, {}))
    assert "not valid TOML" in str(err)


def test_missing_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    expect_config_error(str(missing), "(file)", lambda: load_settings(missing, {}))
    expect_config_error(str(missing), "(file)",
                        lambda: load_settings(None, {"SCREENER_CONFIG": str(missing)}))
