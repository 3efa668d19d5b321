"""``screener audit verify|key|checkpoint``: exit 0 intact, 1 tampered, 2 cannot check."""

from __future__ import annotations

import json
import sqlite3

import pytest
from audit_helpers import STATION, add_users, attacker, login_args, make_chain

from screener.audit.chain import KIND_KEY_ROTATED
from screener.audit.database import create_audit_engine
from screener.audit.query import events_of_kinds
from screener.config import Settings


def test_verify_intact_exits_0(isolated_cli, tmp_path):
    make_chain(tmp_path / "data").close()
    code, out, _ = isolated_cli("audit", "verify")
    assert code == 0
    assert f"station {STATION}: OK (45 events" in out


def test_verify_tampered_exits_1_naming_seq_and_fault(isolated_cli, tmp_path):
    make_chain(tmp_path / "data").close()
    attacker(tmp_path / "data").execute("DELETE FROM events WHERE seq = 17")
    code, out, _ = isolated_cli("audit", "verify")
    assert code == 1
    assert "TAMPERED: seq 17: row deleted" in out
    code, out, _ = isolated_cli("audit", "verify", "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    assert report["stations"][0]["first_fault"]["seq"] == 17
    assert report["stations"][0]["first_fault"]["fault"] == "row deleted"


def test_verify_missing_database_exits_2(isolated_cli, tmp_path):
    code, out, err = isolated_cli("audit", "verify", "--db",
                                  f"sqlite:///{tmp_path / 'nothing.sqlite'}")
    assert code == 2 and out == ""
    assert "no such database file" in err and len(err.splitlines()) == 1


def test_verify_foreign_database_exits_2(isolated_cli, tmp_path):
    path = tmp_path / "other.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE customers (id INTEGER)")
    code, _, err = isolated_cli("audit", "verify", "--db", f"sqlite:///{path}")
    assert code == 2
    assert "not a Screener audit database" in err and "customers" in err


def test_verify_not_a_database_file_exits_2(isolated_cli, tmp_path):
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    code, _, err = isolated_cli("audit", "verify", "--db", f"sqlite:///{path}")
    assert code == 2 and "audit log unavailable" in err


def test_bad_url_exits_2(isolated_cli):
    code, _, err = isolated_cli("audit", "verify", "--db", "nonsense://")
    assert code == 2 and "nonsense" in err


def _events(home, kind):
    engine = create_audit_engine(Settings(home=home).audit_url, create=False)
    try:
        return events_of_kinds(engine, [kind])
    finally:
        engine.dispose()


def test_key_show_rotate_and_checkpoint(isolated_cli, tmp_path, monkeypatch):
    log = make_chain(tmp_path / "data", events=3)
    add_users(log, "op-9")
    log.close()
    code, out, _ = isolated_cli("audit", "key", "show")
    assert code == 0 and "fingerprint" in out
    old = out.split("full: ")[1].strip()
    code, out, err = isolated_cli("audit", "key", "rotate", *login_args(monkeypatch, "chief"))
    assert code == 0, err
    new = out.split("full: ")[1].strip()
    assert new != old
    assert list((tmp_path / "data" / "keys").glob("*.retired-*"))
    (rotated,) = _events(tmp_path / "data", KIND_KEY_ROTATED)
    assert (rotated.actor, rotated.role) == ("chief", "admin")  # who logged in
    code, out, _ = isolated_cli("audit", "checkpoint", "--reason", "test")
    assert code == 0
    code, out, _ = isolated_cli("audit", "verify", "--json")
    assert code == 0
    assert json.loads(out)["stations"][0]["key_fingerprints"] == [old, new]


def _key_bytes(home):
    return sorted((p.name, p.read_bytes()) for p in (home / "keys").iterdir())


def test_key_rotate_with_a_wrong_password_changes_nothing(isolated_cli, tmp_path,
                                                          monkeypatch):
    home = tmp_path / "data"
    log = make_chain(home, events=3)
    add_users(log, "op-9")
    log.close()
    keys = _key_bytes(home)
    code, out, err = isolated_cli("audit", "key", "rotate",
                                  *login_args(monkeypatch, "chief", "wrong-pass-1"))
    assert code == 2 and out == ""
    assert err == "screener: error: unknown user id or wrong password\n"
    assert _key_bytes(home) == keys  # not rotated, nothing retired
    assert not _events(home, KIND_KEY_ROTATED)
    (failed,) = _events(home, "auth.failed")
    assert json.loads(failed.payload) == {"user": "chief", "reason": "wrong password",
                                          "consecutive_failures": 1}
    assert not _events(home, "auth.login")[1:]  # only add_users' own login
    code, out, _ = isolated_cli("audit", "verify")
    assert code == 0


@pytest.mark.parametrize("user", ["op-9", "inv-7"])
def test_key_rotate_by_a_non_administrator_is_refused(isolated_cli, tmp_path, monkeypatch,
                                                      user):
    home = tmp_path / "data"
    log = make_chain(home, events=3)
    add_users(log, user)
    log.close()
    keys = _key_bytes(home)
    code, _, err = isolated_cli("audit", "key", "rotate", *login_args(monkeypatch, user))
    assert code == 2 and len(err.splitlines()) == 1
    assert f"'{user}' (" in err and "may not manage station keys" in err
    assert _key_bytes(home) == keys
    (denied,) = _events(home, "auth.denied")
    assert denied.actor == user and json.loads(denied.payload)["action"] == "keys.manage"
    (logout,) = [e for e in _events(home, "auth.logout") if e.actor == user]
    assert json.loads(logout.payload)["reason"] == "command failed"


def test_key_rotate_needs_a_login(isolated_cli, tmp_path):
    code, out, err = isolated_cli("audit", "key", "rotate")
    assert code == 2 and out == ""
    assert err == ("screener: error: --as ID is needed to manage station keys: the user "
                   "who does it logs in\n")
    assert not (tmp_path / "data").exists()  # nothing opened, nothing created


def test_key_rotate_by_an_unknown_or_locked_user_is_refused(isolated_cli, tmp_path,
                                                            monkeypatch):
    home = tmp_path / "data"
    log = make_chain(home, events=3)
    add_users(log, "op-9")
    log.close()
    keys = _key_bytes(home)
    code, _, err = isolated_cli("audit", "key", "rotate", *login_args(monkeypatch, "nobody"))
    assert code == 2 and err == "screener: error: unknown user id or wrong password\n"
    for _ in range(4):
        isolated_cli("audit", "key", "rotate", *login_args(monkeypatch, "chief", "wrong-pass"))
    code, _, err = isolated_cli("audit", "key", "rotate", *login_args(monkeypatch, "chief",
                                                                      "wrong-pass"))
    assert code == 2 and "account chief is locked" in err and len(err.splitlines()) == 1
    code, _, err = isolated_cli("audit", "key", "rotate", *login_args(monkeypatch, "chief"))
    assert code == 2 and "account chief is locked" in err  # the right password too
    assert _key_bytes(home) == keys
    assert len(_events(home, "auth.locked")) == 1


def test_search_finds_decisions_across_stations(isolated_cli, tmp_path):
    from screener.audit.log import open_audit_log

    home = tmp_path / "data"
    scan = "ab" * 32
    for station, decision in (("lane-1", "suspect"), ("lane-2", "clear"),
                              ("lane-2", "suspect")):
        log = open_audit_log(home, station)
        log.append("screening.decision", {"decision": decision, "marks": []},
                   actor=f"op-{station}", role="screener", scan_sha256=scan)
        log.engine.dispose()
    code, out, err = isolated_cli("audit", "search", "--decision", "suspect", "--json")
    assert code == 0, err
    found = [json.loads(line) for line in out.splitlines()]
    assert sorted(e["station"] for e in found) == ["lane-1", "lane-2"]
    assert all(json.loads(e["payload"])["decision"] == "suspect" for e in found)
    code, out, _ = isolated_cli("audit", "search", "--actor", "op-lane-2", "--scan",
                                scan[:8].upper())
    assert code == 0 and out.startswith("2 event(s)")
    code, _, err = isolated_cli("audit", "search", "--scan", "xyz")
    assert code == 2 and "scan_sha256" in err
