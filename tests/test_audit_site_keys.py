"""Site key rotation: the site key hands over to a new key (signed by both), the verifier
follows the hand-overs, and a forged or broken one is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_helpers import add_users, attacker, forge_site_checkpoint, login_args

from screener.audit.database import create_audit_engine
from screener.audit.keys import StationKey, load_key, save_key
from screener.audit.log import open_audit_log
from screener.audit.query import events_of_kinds
from screener.audit.site import (
    SiteCheckpointError,
    make_site_checkpoint,
    rotate_site_key,
    site_key_path,
)
from screener.audit.site_keys import SiteKeyRotationRecord, key_schedule, rotation_message
from screener.audit.verify import Fault, SiteExpectation, verify_site
from screener.workflow.station_keys import KIND_SITE_KEY_ROTATED

STATIONS = ("lane-1", "lane-2")


def _events(url: str, tmp_path, station: str, count: int = 3) -> None:
    log = open_audit_log(tmp_path / station, station, url=url, checkpoint_every=4)
    for i in range(count):
        log.append("screening.decision", {"i": i}, actor="op1", role="screener")
    log.close("shift end")


@pytest.fixture
def rotated(tmp_path):
    """Two stations; site checkpoint 1 by key A; A hands over to B (site checkpoint 2 by
    B); more events and site checkpoint 3 by B. Returns (url, A, B, rotation)."""
    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"  # where attacker() looks
    for station in STATIONS:
        _events(url, tmp_path, station)
    old, new = StationKey.generate(), StationKey.generate()
    engine = create_audit_engine(url, create=False)
    try:
        make_site_checkpoint(engine, old)
        rotation, second = rotate_site_key(engine, old, new)
        assert (rotation.number, rotation.first_checkpoint, second.number) == (1, 2, 2)
        assert second.key_fingerprint == new.fingerprint
        _events(url, tmp_path, "lane-1")
        assert make_site_checkpoint(engine, new).number == 3
    finally:
        engine.dispose()
    return url, old, new, rotation


def _verify(url: str, pinned: str | None = None):
    engine = create_audit_engine(url, create=False)
    try:
        return verify_site(engine, site=SiteExpectation(fingerprint=pinned))
    finally:
        engine.dispose()


def _findings(result) -> list[tuple[int, Fault]]:
    return [(f.number, f.fault) for f in result.site.findings]


def test_a_rotated_site_verifies_pinned_to_either_key(rotated):
    url, old, new, _ = rotated
    for pinned in (None, old.fingerprint, new.fingerprint):
        result = _verify(url, pinned)
        assert result.ok, result.site.findings
        assert result.site.checkpoints == 3 and result.site.key_rotations == 1
        assert result.site.key_fingerprints == [old.fingerprint, new.fingerprint]
    foreign = _verify(url, "ab" * 32)
    assert _findings(foreign) == [(1, Fault.SITE_KEY), (2, Fault.SITE_KEY), (3, Fault.SITE_KEY)]


def test_only_the_current_site_key_signs_and_hands_over(rotated):
    url, old, new, _ = rotated
    engine = create_audit_engine(url, create=False)
    try:
        with pytest.raises(SiteCheckpointError, match="is not the site's current key"):
            make_site_checkpoint(engine, old)  # a retired key signs nothing more
        with pytest.raises(SiteCheckpointError, match="only the current key can hand over"):
            rotate_site_key(engine, old, StationKey.generate())
        with pytest.raises(SiteCheckpointError, match="the new site key is the old one"):
            rotate_site_key(engine, new, new)
    finally:
        engine.dispose()
    result = _verify(url, new.fingerprint)
    assert result.ok and result.site.checkpoints == 3 and result.site.key_rotations == 1


def test_no_hand_over_before_the_first_site_checkpoint(tmp_path):
    url = f"sqlite:///{tmp_path / 'site.sqlite'}"
    _events(url, tmp_path, "lane-1")
    engine = create_audit_engine(url, create=False)
    try:
        with pytest.raises(SiteCheckpointError, match="has signed nothing"):
            rotate_site_key(engine, StationKey.generate(), StationKey.generate())
    finally:
        engine.dispose()


def test_a_thief_of_the_retired_key_cannot_hand_the_site_over(rotated):
    """Key A leaks after it handed over to B. The thief records a rotation A -> C (both
    signatures valid: they hold A and made C) and a checkpoint by C: the rotation does not
    hand over from the key then current, so C's checkpoint is foreign."""
    url, old, new, rotation = rotated
    thief = StationKey.generate()
    fields = {"number": 2, "time_utc": "2026-11-23T23:00:00.000000Z", "first_checkpoint": 4,
              "previous": "ab" * 32, "previous_rotation": rotation.digest(),
              "old_fingerprint": old.fingerprint,
              "old_public_key": old.public_hex,
              "new_fingerprint": thief.fingerprint, "new_public_key": thief.public_hex}
    message = rotation_message(fields)
    forged = SiteKeyRotationRecord(**fields, endorsement=old.sign(message),
                                   acceptance=thief.sign(message))
    conn = attacker(_home_of(url))
    columns = ", ".join(forged.as_dict())
    conn.execute(f"INSERT INTO site_key_rotations ({columns}) VALUES "
                 f"({', '.join('?' * len(forged.as_dict()))})", tuple(forged.as_dict().values()))
    forge_site_checkpoint(url, thief)
    result = _verify(url, new.fingerprint)
    assert _findings(result) == [(4, Fault.SITE_KEY), (4, Fault.SITE_KEY)]
    rotation_finding, checkpoint_finding = result.site.findings
    assert "site key rotation 2: it hands over from key" in rotation_finding.detail
    assert "signed by key" in checkpoint_finding.detail
    # the rows that do not verify lock nobody out: B still signs the site
    engine = create_audit_engine(url, create=False)
    try:
        assert make_site_checkpoint(engine, new).number == 5
        with pytest.raises(SiteCheckpointError, match="is not the site's current key"):
            make_site_checkpoint(engine, thief)
    finally:
        engine.dispose()


def _home_of(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///")).parent


@pytest.mark.parametrize("column, fault", [
    ("endorsement", "its endorsement does not verify with the key it replaces"),
    ("acceptance", "its acceptance does not verify with the new key"),
])
def test_a_broken_rotation_signature_is_caught(rotated, column, fault):
    url, _, _, rotation = rotated
    conn = attacker(_home_of(url))
    value = getattr(rotation, column)
    flipped = ("0" if value[0] != "0" else "1") + value[1:]
    conn.execute(f"UPDATE site_key_rotations SET {column} = ?", (flipped,))
    result = _verify(url)
    assert not result.ok
    detail = result.site.findings[0].detail
    assert detail == f"site key rotation 1: {fault}"
    # the schedule stops at the broken rotation: B's checkpoints are foreign to A
    assert _findings(result) == [(2, Fault.SITE_KEY), (2, Fault.SITE_KEY), (3, Fault.SITE_KEY)]


def test_a_removed_rotation_leaves_the_new_keys_checkpoints_foreign(rotated):
    url, _, new, _ = rotated
    attacker(_home_of(url)).execute("DELETE FROM site_key_rotations")
    # B pinned: its own checkpoints stand, but nothing hands A over to B any more
    assert _findings(_verify(url, new.fingerprint)) == [(1, Fault.SITE_KEY)]
    assert _findings(_verify(url)) == [(2, Fault.SITE_KEY), (3, Fault.SITE_KEY)]


def test_a_rewritten_checkpoint_of_the_old_key_breaks_the_hand_over(rotated):
    url, _, new, _ = rotated
    attacker(_home_of(url)).execute("UPDATE site_checkpoints SET root = ? WHERE number = 1",
                                    ("cd" * 32,))
    details = [f.detail for f in _verify(url, new.fingerprint).site.findings]
    assert ("site key rotation 1 hands over after site checkpoint 1, which differs from the "
            "one it names") in details


def test_the_new_keys_first_checkpoint_cannot_be_removed_unseen(rotated):
    url, _, new, _ = rotated
    attacker(_home_of(url)).execute("DELETE FROM site_checkpoints WHERE number >= 2")
    details = [f.detail for f in _verify(url, new.fingerprint).site.findings]
    assert ("site checkpoint 2, the first by the key site key rotation 1 hands over to, is "
            "missing") in details


def test_the_key_schedule_names_the_key_of_each_checkpoint(rotated):
    _, old, new, rotation = rotated
    schedule, fault = key_schedule(old.fingerprint, [rotation])
    assert fault is None and schedule.keys == (old.fingerprint, new.fingerprint)
    assert [schedule.key_for(n) for n in (1, 2, 3, 99)] == [
        old.fingerprint, new.fingerprint, new.fingerprint, new.fingerprint]
    assert schedule.current == new.fingerprint
    later = key_schedule(None, [rotation])[0]  # a bundle: the first key from rotation 1
    assert later.first_key == old.fingerprint and later.key_for(1) == old.fingerprint
    renumbered = SiteKeyRotationRecord(**{**rotation.as_dict(), "number": 2})
    schedule, fault = key_schedule(old.fingerprint, [renumbered])
    assert fault is not None and "rotation 1 is missing" in str(fault)
    assert schedule.keys == (old.fingerprint,)


# ---------------------------------------------------------------------- the commands
def _two_stations(home) -> None:
    for station in STATIONS:
        log = open_audit_log(home, station, checkpoint_every=5)
        if station == "lane-1":
            add_users(log, "op-9")
        for i in range(4):
            log.append("screening.decision", {"i": i}, actor="op1", role="screener")
        log.close()


def test_site_key_rotate_command(isolated_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SCREENER_STATION", "lane-1")  # the supervisor's machine
    home = tmp_path / "data"
    _two_stations(home)
    code, _, err = isolated_cli("audit", "site-checkpoint")
    assert code == 0, err
    key_file = site_key_path(home)
    old = load_key(key_file)
    code, out, _ = isolated_cli("audit", "site-key", "show")
    assert code == 0 and f"full: {old.fingerprint}" in out and "another one" not in out

    # a screener may not; nothing changes
    code, _, err = isolated_cli("audit", "site-key", "rotate",
                                *login_args(monkeypatch, "op-9"))
    assert code == 2 and "'op-9' (" in err and "may not manage station keys" in err
    assert load_key(key_file).fingerprint == old.fingerprint
    assert not list(key_file.parent.glob("*.retired-*"))

    code, out, err = isolated_cli("audit", "site-key", "rotate",
                                  *login_args(monkeypatch, "chief"))
    assert code == 0, err
    new = load_key(key_file)
    assert new.fingerprint != old.fingerprint
    assert "site key rotation 1: site checkpoint 2 is the first signed by the new key" in out
    assert f"full: {new.fingerprint}" in out
    (retired,) = key_file.parent.glob("*.retired-*")
    assert load_key(retired).fingerprint == old.fingerprint
    anchor = json.loads((home / "audit" / "site-checkpoint.latest.json").read_text())
    assert anchor["number"] == 2 and anchor["key_fingerprint"] == new.fingerprint

    code, out, _ = isolated_cli("audit", "verify")  # pinned to the new key by the home
    assert code == 0, out
    assert "site: OK (2 site checkpoint(s)" in out and "1 key rotation(s)" in out
    code, out, _ = isolated_cli("audit", "verify", "--site-fingerprint", old.fingerprint)
    assert code == 0, out
    code, out, err = isolated_cli("audit", "site-checkpoint")
    assert code == 0 and "site checkpoint 3" in out, err
    code, _, err = isolated_cli("audit", "site-checkpoint", "--site-key", str(retired))
    assert code == 2 and "is not the site's current key" in err

    engine = create_audit_engine(f"sqlite:///{home / 'audit.sqlite'}", create=False)
    try:
        (event,) = events_of_kinds(engine, [KIND_SITE_KEY_ROTATED])
    finally:
        engine.dispose()
    assert (event.actor, event.role, event.station) == ("chief", "admin", "lane-1")
    assert event.payload_dict()["fingerprint"] == new.fingerprint
    assert event.payload_dict()["previous_fingerprint"] == old.fingerprint


def test_site_key_rotate_needs_a_login_and_a_key_file(isolated_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SCREENER_STATION", "lane-1")
    home = tmp_path / "data"
    _two_stations(home)
    code, _, err = isolated_cli("audit", "site-key", "rotate")
    assert code == 2 and "--as ID is needed" in err
    code, _, err = isolated_cli("audit", "site-key", "rotate",
                                *login_args(monkeypatch, "chief"))
    assert code == 2 and "site.ed25519.pem" in err and "no key file" in err


def test_a_failed_hand_over_leaves_no_key_file_behind(isolated_cli, tmp_path, monkeypatch):
    """The database refused the rotation: the new key's file is removed, the old key
    stays, and a second attempt works."""
    monkeypatch.setenv("SCREENER_STATION", "lane-1")
    home = tmp_path / "data"
    _two_stations(home)
    isolated_cli("audit", "site-checkpoint")
    key_file = site_key_path(home)
    old = load_key(key_file).fingerprint

    def refused(*args, **kwargs):
        raise SiteCheckpointError("station 'lane-2' no longer holds the head")

    monkeypatch.setattr("screener.workflow.station_keys.rotate_site_key", refused)
    code, _, err = isolated_cli("audit", "site-key", "rotate", *login_args(monkeypatch, "chief"))
    assert code == 2 and "no longer holds the head" in err
    (unused,) = key_file.parent.glob("*.unused-*")  # set aside, never deleted
    assert sorted(p.name for p in key_file.parent.iterdir()) == ["site.ed25519.pem",
                                                                  unused.name]
    assert load_key(key_file).fingerprint == old
    monkeypatch.undo()
    monkeypatch.setenv("SCREENER_STATION", "lane-1")
    code, _, err = isolated_cli("audit", "site-key", "rotate", *login_args(monkeypatch, "chief"))
    assert code == 0, err
    assert load_key(key_file).fingerprint != old


def test_an_interrupted_hand_over_is_finished_and_a_lost_key_not_replaced(isolated_cli,
                                                                          tmp_path):
    """The database took the rotation but the files were never swapped: the next command
    swaps them. A missing site key file is never silently replaced by a new key."""
    home = tmp_path / "data"
    _two_stations(home)
    isolated_cli("audit", "site-checkpoint")
    key_file = site_key_path(home)
    old = load_key(key_file)
    new = StationKey.generate()
    save_key(new, key_file.with_name("site.ed25519.pem.new"))
    engine = create_audit_engine(f"sqlite:///{home / 'audit.sqlite'}", create=False)
    try:
        rotate_site_key(engine, old, new)
    finally:
        engine.dispose()
    code, out, err = isolated_cli("audit", "site-checkpoint")
    assert code == 0, err
    assert "finished an interrupted site key hand-over" in out and "site checkpoint 3" in out
    assert load_key(key_file).fingerprint == new.fingerprint
    (retired,) = key_file.parent.glob("*.retired-*")
    assert load_key(retired).fingerprint == old.fingerprint
    code, out, _ = isolated_cli("audit", "verify", "--site-fingerprint", old.fingerprint)
    assert code == 0 and "the pinned key was handed over since" in out
    key_file.unlink()
    code, _, err = isolated_cli("audit", "site-checkpoint")
    assert code == 2 and "no site key file, but the site is signed by key" in err
    assert not key_file.exists()


def test_settling_a_hand_over_against_another_database_touches_nothing(rotated, tmp_path):
    """The new key waits in .new after a commit on the site database; asked of a database
    that knows nothing of it (a station's own file), nothing is moved or deleted."""
    from screener.workflow.station_keys import finish_hand_over

    url, old, new, _ = rotated
    key_file = tmp_path / "keys" / "site.ed25519.pem"
    save_key(old, key_file)
    save_key(new, key_file.with_name("site.ed25519.pem.new"))
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    _events(elsewhere, tmp_path / "other", "lane-9")
    for database in (elsewhere, url):
        engine = create_audit_engine(database, create=False)
        try:
            retired = finish_hand_over(key_file, engine)
        finally:
            engine.dispose()
        if database == elsewhere:
            assert retired is None
            assert load_key(key_file.with_name("site.ed25519.pem.new")) is not None
            assert load_key(key_file).fingerprint == old.fingerprint
    assert load_key(key_file).fingerprint == new.fingerprint  # the site database said so
    assert retired is not None and load_key(retired).fingerprint == old.fingerprint
    assert not key_file.with_name("site.ed25519.pem.new").exists()


def test_rows_that_do_not_verify_neither_lock_the_key_out_nor_get_handed_over(rotated):
    url, _, new, rotation = rotated
    conn = attacker(_home_of(url))
    junk = {**rotation.as_dict(), "number": 2, "first_checkpoint": 9}
    conn.execute(f"INSERT INTO site_key_rotations ({', '.join(junk)}) VALUES "
                 f"({', '.join('?' * len(junk))})", tuple(junk.values()))
    row = conn.execute("SELECT * FROM site_checkpoints WHERE number = 1").fetchone()
    conn.execute("INSERT INTO site_checkpoints VALUES (0" + ", ?" * (len(row) - 1) + ")",
                 row[1:])
    engine = create_audit_engine(url, create=False)
    try:
        assert make_site_checkpoint(engine, new).number == 4  # B is still the site's key
        with pytest.raises(SiteCheckpointError, match="run 'screener audit verify'"):
            rotate_site_key(engine, new, StationKey.generate())
    finally:
        engine.dispose()
