"""Workstation settings as data: key bindings, UI settings, shift statistics, the
``screener gui`` command's registration."""

from __future__ import annotations

import json

import pytest
import ui_fixtures  # noqa: F401 (offscreen Qt for the tests that need a QApplication)

from screener.errors import ConfigError
from screener.imaging.presets import shipped_presets
from screener.ui.config import AiMode, UiSettings, load_ui_settings
from screener.ui.keymap import ACTIONS, DEFAULT_BINDINGS, default_keymap, load_keymap
from screener.ui.shift_stats import ShiftStats
from screener.workflow.decisions import Decision


def _write(path, document):
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_default_keys_cover_every_action_and_take_the_presets_shortcuts():
    keymap = default_keymap(shipped_presets())
    assert set(ACTIONS) <= set(keymap.bindings)
    assert set(DEFAULT_BINDINGS) == set(ACTIONS)
    assert keymap.keys("decision.clear") == ("Space", "C")
    assert keymap.keys("function.metal-only") == ("F6",)
    assert keymap.label("decision.suspect") == "S"


def test_a_site_key_file_overrides_actions_and_refuses_conflicts(tmp_path):
    presets = shipped_presets()
    good = _write(tmp_path / "keys.json", {
        "format": "screener-key-bindings", "format_version": 1,
        "bindings": {"decision.clear": ["Return"], "function.metal-only": "Ctrl+M",
                     "feedback.continue": ["F"]}})
    keymap = load_keymap(good, presets)
    assert keymap.keys("decision.clear") == ("Return",)
    assert keymap.keys("function.metal-only") == ("Ctrl+M",)
    assert keymap.keys("decision.suspect") == ("S",)  # untouched

    clash = _write(tmp_path / "clash.json", {
        "format": "screener-key-bindings", "format_version": 1,
        "bindings": {"decision.suspect": ["Space"]}})
    with pytest.raises(ConfigError, match=r"'Space' is already bound to 'decision\.clear'"):
        load_keymap(clash, presets)
    unknown = _write(tmp_path / "unknown.json", {
        "format": "screener-key-bindings", "format_version": 1,
        "bindings": {"decision.maybe": ["Q"]}})
    with pytest.raises(ConfigError, match=r"unknown\.json: setting 'bindings\.decision\.maybe'"):
        load_keymap(unknown, presets)
    with pytest.raises(ConfigError, match="format"):
        load_keymap(_write(tmp_path / "bad.json", {"bindings": {}}), presets)


def test_a_key_qt_does_not_know_is_refused_naming_the_file(qapp):
    from screener.ui.shortcuts import key_sequence

    assert not key_sequence("Shift+A", "keys.json", "ai.toggle").isEmpty()
    with pytest.raises(ConfigError, match=r"keys\.json: setting 'bindings\.ai\.toggle'"):
        key_sequence("Hyper+Banana", "keys.json", "ai.toggle")


def test_ui_settings_from_a_file_and_flags(tmp_path):
    path = _write(tmp_path / "ui.json", {
        "format": "screener-workstation-settings", "format_version": 1,
        "settings": {"decision_time_s": 12, "ai_mode": "after-first-look"}})
    settings = load_ui_settings(path)
    assert settings.decision_time_s == 12 and settings.ai_mode is AiMode.AFTER_FIRST_LOOK
    flagged = settings.replace(bags_per_minute=30, ai_mode=None)
    assert flagged.bags_per_minute == 30 and flagged.ai_mode is AiMode.AFTER_FIRST_LOOK
    assert load_ui_settings(None) == UiSettings()
    with pytest.raises(ConfigError, match=r"settings\.belt_speed"):
        load_ui_settings(_write(tmp_path / "bad.json", {
            "format": "screener-workstation-settings", "format_version": 1,
            "settings": {"belt_speed": 2}}))
    with pytest.raises(ConfigError, match="decision_time_s"):
        UiSettings(decision_time_s=0)


def test_shift_statistics():
    stats = ShiftStats(started_at=0.0)
    assert dict(stats.rows(60.0))["Median decision"] == "\u2013"
    stats.record(Decision.CLEAR, 3000, ai_flagged=False, ai_available=True)
    stats.record(Decision.SUSPECT, 5000, ai_flagged=True, ai_available=True)
    stats.record(Decision.CLEAR, 4000, ai_flagged=False, ai_available=False)
    rows = dict(stats.rows(3600.0))
    assert rows["Bags decided"] == "3"
    assert rows["Suspect"] == "1 (33 %)"
    assert rows["Median decision"] == "4.0 s"
    assert rows["Bags / hour"] == "3"
    assert rows["AI flagged"] == "1" and rows["AI unavailable"] == "1"


def test_gui_is_a_command_and_says_where_bags_must_come_from(isolated_cli):
    from screener.cli import build_parser

    args = build_parser().parse_args(["gui", "--demo", "d", "--ai", "off"])
    assert args.ai_mode == "off" and str(args.demo) == "d"
    code, _out, err = isolated_cli("gui")
    assert code == 2
    assert "--demo DIR" in err and "--watch DIR" in err


def test_the_ai_overlay_follows_the_mode_and_the_ai_state():
    from screener.ui.ai_overlay import AiPhase, overlay
    from screener.workflow.ai import AiDetection, AiResult, AiStatus

    flag = AiDetection("top", (1, 2, 30, 40), "handgun", "gun", 0.9)
    ok = AiResult(AiStatus.OK, "model 1", "ab" * 32, (flag,))
    failed = AiResult.unavailable("model 1", "model file is corrupt")

    def show(mode, result, **kw):
        given = {"switched_off": False, "revealed": False, "hidden_by_screener": False}
        return overlay(mode, result, **{**given, **kw})

    assert show(AiMode.ALWAYS, None).phase is AiPhase.PENDING
    shown = show(AiMode.ALWAYS, ok)
    assert shown.phase is AiPhase.SHOWN and shown.boxes == {"top": (flag,)}
    assert shown.text == "AI: 1 flag"
    assert show(AiMode.AFTER_FIRST_LOOK, ok).phase is AiPhase.HIDDEN
    assert show(AiMode.AFTER_FIRST_LOOK, ok, revealed=True).phase is AiPhase.SHOWN
    assert not show(AiMode.ALWAYS, ok, hidden_by_screener=True).boxes
    assert show(AiMode.OFF, ok).phase is AiPhase.OFF
    assert show(AiMode.ALWAYS, failed, switched_off=True).text == "AI off"
    unavailable = show(AiMode.ALWAYS, failed)
    assert unavailable.phase is AiPhase.UNAVAILABLE
    assert unavailable.text == "AI unavailable: model file is corrupt"
