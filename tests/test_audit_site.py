"""Site checkpoints: the Merkle root over station heads, its signature by the site key,
and each way a site can be tampered with after one (docs/audit.md, "Site checkpoints").
Runs on SQLite (several stations in one file); tests/test_audit_postgres.py repeats the
central case on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest
from audit_helpers import attacker, forge_site_checkpoint

from screener.audit.canonical import canonical_json
from screener.audit.chain import (
    CheckpointRecord,
    EventRecord,
    checkpoint_message,
    event_hash,
    row_hash,
)
from screener.audit.database import create_audit_engine, migrate_database
from screener.audit.keys import StationKey, key_path, load_key
from screener.audit.log import open_audit_log
from screener.audit.site import (
    SiteCheckpointError,
    SiteCheckpointRecord,
    SiteHead,
    inclusion_proof,
    make_site_checkpoint,
    merkle_root,
    root_from_proof,
    site_anchor_path,
    write_site_anchor,
)
from screener.audit.verify import Fault, SiteExpectation, verify_site
from screener.errors import NotAnAuditDatabaseError

STATIONS = ("lane-1", "lane-2", "lane-3")


def _head(i: int) -> SiteHead:
    return SiteHead(f"lane-{i}", f"{i:064x}", 10 * i, f"{i + 100:064x}")


# ---------------------------------------------------------------------- the tree
def test_the_merkle_tree_is_the_documented_one():
    def leaf(head):
        return hashlib.sha256(b"\x00" + canonical_json(
            {"station": head.station, "genesis_hash": head.genesis_hash, "seq": head.seq,
             "head_hash": head.head_hash})).digest()

    def node(left, right):
        return hashlib.sha256(b"\x01" + left + right).digest()

    a, b, c = _head(1), _head(2), _head(3)
    assert merkle_root([a]) == leaf(a).hex()
    assert merkle_root([b, a]) == node(leaf(a), leaf(b)).hex()  # sorted by station
    # an odd node is promoted, not duplicated
    assert merkle_root([a, b, c]) == node(node(leaf(a), leaf(b)), leaf(c)).hex()
    assert merkle_root([a, b, c]) != merkle_root([a, b, c, c.__class__(
        "lane-4", c.genesis_hash, c.seq, c.head_hash)])


def test_a_site_checkpoint_names_each_station_once_and_at_least_one():
    with pytest.raises(SiteCheckpointError, match="no station"):
        merkle_root([])
    with pytest.raises(SiteCheckpointError, match="once"):
        merkle_root([_head(1), _head(1)])


@pytest.mark.parametrize("count", range(1, 10))
def test_inclusion_proofs_lead_each_head_to_the_root(count):
    heads = [_head(i) for i in range(1, count + 1)]
    root = merkle_root(heads)
    for head in heads:
        proof = inclusion_proof(heads, head.station)
        assert root_from_proof(head, proof) == root
        forged = SiteHead(head.station, head.genesis_hash, head.seq + 1, head.head_hash)
        assert root_from_proof(forged, proof) != root


def test_the_fast_row_hash_is_the_canonical_one():
    payloads = ['{"a":1}', '{"q":"\\"quote\\" \\\\ back"}', "{}",
                '{"n":"é ü 漢字 \\u0001 \\n \\t"}', "not json at all \x01\x1f\"\\"]
    for i, payload in enumerate(payloads):
        for scan, model in ((None, None), ("a" * 64, None), (None, "b" * 64)):
            record = EventRecord("lane-ü", 10 ** i, "2026-11-23T14:05:09.123456Z", "op \"1\"",
                                 "screener", "screening.decision", payload, scan, model,
                                 f"{i:064x}", "")
            fields = record.hashed_fields()
            assert row_hash(**fields, prev_hash=record.prev_hash) == event_hash(
                record.prev_hash, fields)
    # a damaged row of another type takes the general path instead of failing
    assert row_hash("s", True, "t", "a", "r", "k", "{}", None, None, "0" * 64) == event_hash(
        "0" * 64, {"station": "s", "seq": True, "time_utc": "t", "actor": "a", "role": "r",
                   "kind": "k", "payload": "{}", "scan_sha256": None, "model_sha256": None})


# ---------------------------------------------------------------------- a site
@pytest.fixture
def site(tmp_path):
    """Three stations in one database (12 events after genesis each, checkpoints every
    5) and one site checkpoint; returns (url, site key, the checkpoint)."""
    url = f"sqlite:///{tmp_path / 'site.sqlite'}"
    for station in STATIONS:
        log = open_audit_log(tmp_path / station, station, url=url, checkpoint_every=5)
        for i in range(12):
            log.append("screening.decision", {"i": i}, actor="op1", role="screener")
        log.close("shift end")
    key = StationKey.generate()
    engine = create_audit_engine(url, create=False)
    record = make_site_checkpoint(engine, key)
    engine.dispose()
    return url, key, record


def _verify(url, site=None):
    engine = create_audit_engine(url, create=False)
    try:
        return verify_site(engine, site=site)
    finally:
        engine.dispose()


def _station(result, station):
    return next(r for r in result.stations if r.station == station)


def _site_db(url) -> sqlite3.Connection:
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                ).fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    return conn


def test_an_intact_site_verifies(site, tmp_path):
    url, key, first = site
    assert (first.number, len(first.heads)) == (1, 3)
    assert [(h.station, h.seq) for h in first.heads] == [(s, 13) for s in STATIONS]
    log = open_audit_log(tmp_path / "lane-2", "lane-2", url=url)
    log.append("screening.decision", {}, actor="op1", role="screener")
    engine = create_audit_engine(url, create=False)
    second = make_site_checkpoint(engine, key)
    engine.dispose()
    log.close()
    assert second.number == 2 and second.previous == first.digest()
    assert second.head_of("lane-2").seq == 14
    result = _verify(url, SiteExpectation(fingerprint=key.fingerprint, anchor=second))
    assert result.ok
    assert result.site.checkpoints == 2 and result.site.key_fingerprints == [key.fingerprint]


def test_an_empty_site_has_no_site_checkpoint(tmp_path):
    url = f"sqlite:///{tmp_path / 'site.sqlite'}"
    migrate_database(url)
    engine = create_audit_engine(url, create=False)
    with pytest.raises(SiteCheckpointError, match="no station"):
        make_site_checkpoint(engine, StationKey.generate())
    engine.dispose()


def test_a_station_rewritten_and_resigned_is_caught(site, tmp_path):
    """The forger holds lane-1's key: the chain and its checkpoints are consistent again,
    only the site checkpoint knows the old head."""
    url, _, _ = site
    conn = _site_db(url)
    conn.execute("UPDATE events SET payload = '{\"i\":99}' WHERE station = 'lane-1' "
                 "AND seq = 4")
    rows = conn.execute("SELECT station, seq, time_utc, actor, role, kind, payload, "
                        "scan_sha256, model_sha256 FROM events WHERE station = 'lane-1' "
                        "ORDER BY seq").fetchall()
    prev = "0" * 64
    hashes = {}
    for row in rows:
        digest = row_hash(*row, prev)
        conn.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE station = 'lane-1' "
                     "AND seq = ?", (prev, digest, row[1]))
        hashes[row[1]] = prev = digest
    key = load_key(key_path(tmp_path / "lane-1", "lane-1"))
    for cp in conn.execute("SELECT station, genesis_hash, seq, time_utc, head_hash, reason, "
                           "key_fingerprint FROM checkpoints WHERE station = 'lane-1'"
                           ).fetchall():
        fields = dict(zip(("station", "genesis_hash", "seq", "time_utc", "head_hash",
                           "reason", "key_fingerprint"), cp, strict=True))
        fields["head_hash"] = hashes[fields["seq"]]
        record = CheckpointRecord(**fields, signature=key.sign(checkpoint_message(fields)))
        conn.execute("UPDATE checkpoints SET head_hash = ?, signature = ? WHERE station = "
                     "'lane-1' AND seq = ?", (record.head_hash, record.signature, record.seq))
    result = _verify(url)
    report = _station(result, "lane-1")
    assert [(f.fault, f.seq) for f in report.findings] == [(Fault.SITE_MISMATCH, 13)]
    assert "rewritten after it" in report.findings[0].detail
    assert result.site.ok and _station(result, "lane-2").ok


def test_a_tail_cut_with_its_checkpoints_is_caught(site):
    url, _, _ = site
    conn = _site_db(url)
    conn.execute("DELETE FROM events WHERE station = 'lane-3' AND seq > 9")
    conn.execute("DELETE FROM checkpoints WHERE station = 'lane-3' AND seq > 9")
    report = _station(_verify(url), "lane-3")
    assert [(f.fault, f.seq) for f in report.findings] == [(Fault.TAIL_TRUNCATED, 10)]
    assert "site checkpoint 1" in report.findings[0].detail


def test_a_station_removed_entirely_is_caught(site):
    url, _, _ = site
    conn = _site_db(url)
    conn.execute("DELETE FROM events WHERE station = 'lane-2'")
    conn.execute("DELETE FROM checkpoints WHERE station = 'lane-2'")
    report = _station(_verify(url), "lane-2")
    assert (report.first.fault, report.first.seq) == (Fault.TAIL_TRUNCATED, 1)


def test_a_station_replaced_by_another_chain_is_caught(site, tmp_path):
    url, _, _ = site
    conn = _site_db(url)
    conn.execute("DELETE FROM events WHERE station = 'lane-2'")
    conn.execute("DELETE FROM checkpoints WHERE station = 'lane-2'")
    log = open_audit_log(tmp_path / "forger", "lane-2", url=url, checkpoint_every=5)
    for i in range(20):
        log.append("screening.decision", {"i": i}, actor="op1", role="screener")
    log.close()
    report = _station(_verify(url), "lane-2")
    assert (report.first.fault, report.first.seq) == (Fault.CHAIN_REPLACED, 1)


def test_changed_heads_in_a_site_checkpoint_are_caught_and_not_trusted(site):
    url, _, record = site
    heads = [h.as_dict() for h in record.heads]
    heads[0]["seq"] = 99
    _site_db(url).execute("UPDATE site_checkpoints SET heads = ?",
                          (json.dumps(heads, separators=(",", ":"), sort_keys=True),))
    result = _verify(url)
    assert [(f.number, f.fault) for f in result.site.findings] == [(1, Fault.SITE_ROOT)]
    assert all(r.ok for r in result.stations)  # the forged head 99 is not held against lane-1


def test_a_bad_site_signature_is_caught(site):
    url, _, record = site
    signature = ("0" if record.signature[0] != "0" else "1") + record.signature[1:]
    _site_db(url).execute("UPDATE site_checkpoints SET signature = ?", (signature,))
    result = _verify(url)
    assert [(f.number, f.fault) for f in result.site.findings] == [(1, Fault.SITE_SIGNATURE)]
    assert not result.ok


def test_a_site_checkpoint_by_another_key_is_caught(site):
    url, key, _ = site
    engine = create_audit_engine(url, create=False)
    with pytest.raises(SiteCheckpointError, match="is not the site's current key"):
        make_site_checkpoint(engine, StationKey.generate())  # refused at the source
    engine.dispose()
    forge_site_checkpoint(url, StationKey.generate())
    result = _verify(url)  # not pinned: every one must share site checkpoint 1's key
    assert [(f.number, f.fault) for f in result.site.findings] == [(2, Fault.SITE_KEY)]
    other = _verify(url, SiteExpectation(fingerprint="ab" * 32))
    assert [(f.number, f.fault) for f in other.site.findings] == [
        (1, Fault.SITE_KEY), (2, Fault.SITE_KEY)]
    assert _verify(url, SiteExpectation(fingerprint=key.fingerprint)).site.findings[0].number == 2


def test_a_removed_site_checkpoint_is_caught(site):
    url, key, _ = site
    engine = create_audit_engine(url, create=False)
    make_site_checkpoint(engine, key)
    third = make_site_checkpoint(engine, key)
    engine.dispose()
    conn = _site_db(url)
    conn.execute("DELETE FROM site_checkpoints WHERE number = 2")
    result = _verify(url)
    assert [(f.number, f.fault) for f in result.site.findings] == [(2, Fault.SITE_REMOVED)]
    # the latest one is gone as well: only the copy kept outside the database can tell
    conn.execute("DELETE FROM site_checkpoints WHERE number = 3")
    assert _verify(url).ok
    result = _verify(url, SiteExpectation(anchor=third))
    assert [(f.number, f.fault) for f in result.site.findings] == [(3, Fault.SITE_REMOVED)]
    assert "is gone from the database" in result.site.findings[0].detail


def test_the_site_checkpoint_file_still_checks_stations_when_the_database_lost_it(site,
                                                                                  tmp_path):
    url, key, record = site
    anchor = site_anchor_path(tmp_path / "supervisor")
    write_site_anchor(anchor, record)
    conn = _site_db(url)
    conn.execute("DELETE FROM site_checkpoints")
    conn.execute("DELETE FROM events WHERE station = 'lane-1' AND seq > 7")
    conn.execute("DELETE FROM checkpoints WHERE station = 'lane-1' AND seq > 7")
    from screener.audit.site import read_site_anchor

    result = _verify(url, SiteExpectation(fingerprint=key.fingerprint,
                                          anchor=read_site_anchor(anchor)))
    assert [(f.number, f.fault) for f in result.site.findings] == [(1, Fault.SITE_REMOVED)]
    report = _station(result, "lane-1")
    assert (report.first.fault, report.first.seq) == (Fault.TAIL_TRUNCATED, 8)


def test_no_site_checkpoint_over_a_station_that_lost_its_recorded_head(site):
    url, key, _ = site
    _site_db(url).execute("UPDATE events SET hash = 'x' WHERE station = 'lane-2' AND seq = 13")
    engine = create_audit_engine(url, create=False)
    with pytest.raises(SiteCheckpointError, match=r"lane-2.*screener audit verify"):
        make_site_checkpoint(engine, key)
    engine.dispose()


def test_a_site_checkpoint_file_round_trips(site, tmp_path):
    _, _, record = site
    path = tmp_path / "copy.json"
    write_site_anchor(path, record)
    from screener.audit.site import read_site_anchor

    assert read_site_anchor(path) == record
    assert read_site_anchor(tmp_path / "none.json") is None
    path.write_text("{", encoding="utf-8")
    with pytest.raises(SiteCheckpointError, match="unreadable"):
        read_site_anchor(path)
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(SiteCheckpointError, match="not a site checkpoint"):
        read_site_anchor(path)
    assert SiteCheckpointRecord.from_dict(record.as_dict()) == record


# ---------------------------------------------------------------------- migrations
def test_a_version_2_file_is_upgraded_when_the_station_opens_it(tmp_path):
    from screener.audit import migrations

    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    old = migrations.MIGRATIONS
    migrations.MIGRATIONS = old[:2]
    try:
        migrate_database(url)
    finally:
        migrations.MIGRATIONS = old
    with pytest.raises(NotAnAuditDatabaseError, match="screener audit db migrate"):
        create_audit_engine(url, create=False)
    open_audit_log(tmp_path, "lane-1", url=url).close()
    engine = create_audit_engine(url, create=False)
    make_site_checkpoint(engine, StationKey.generate())
    engine.dispose()
    conn = sqlite3.connect(tmp_path / "audit.sqlite")
    from screener.audit.migrations import LATEST_VERSION

    assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone() == \
        (LATEST_VERSION,)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM site_checkpoints")


# ---------------------------------------------------------------------- the commands
def _two_stations(home):
    for station in ("lane-1", "lane-2"):
        log = open_audit_log(home, station, checkpoint_every=5)
        for i in range(7):
            log.append("screening.decision", {"i": i}, actor="op1", role="screener")
        log.close()


def test_site_checkpoint_and_verify_commands(isolated_cli, tmp_path):
    home = tmp_path / "data"
    _two_stations(home)
    code, out, _ = isolated_cli("audit", "verify")
    assert code == 0 and "site: OK (no site checkpoint yet" in out
    code, out, err = isolated_cli("audit", "site-checkpoint")
    assert code == 0, err
    assert "site checkpoint 1 over 2 station(s)" in out and "lane-2: seq 8" in out
    assert (home / "keys" / "site" / "site.ed25519.pem").is_file()
    assert (home / "audit" / "site-checkpoint.latest.json").is_file()
    code, out, _ = isolated_cli("audit", "verify")
    assert code == 0
    assert "station lane-1: OK" in out and "station lane-2: OK" in out
    assert "site: OK (1 site checkpoint(s), latest 1" in out and "not pinned" not in out
    code, out, _ = isolated_cli("audit", "verify", "--json")
    report = json.loads(out)
    assert report["ok"] and report["site"]["latest"]["number"] == 1
    assert [s["station"] for s in report["stations"]] == ["lane-1", "lane-2"]


def test_verify_command_reports_a_tampered_site(isolated_cli, tmp_path):
    home = tmp_path / "data"
    _two_stations(home)
    isolated_cli("audit", "site-checkpoint")
    conn = attacker(home)
    conn.execute("DELETE FROM site_checkpoints")
    conn.execute("DELETE FROM events WHERE station = 'lane-2' AND seq > 5")
    conn.execute("DELETE FROM checkpoints WHERE station = 'lane-2' AND seq > 5")
    code, out, _ = isolated_cli("audit", "verify")
    assert code == 1
    assert "site: TAMPERED: site checkpoint 1: site checkpoint removed or replaced" in out
    assert "station lane-2: TAMPERED: seq 6: tail truncated" in out
    code, out, _ = isolated_cli("audit", "verify", "--db", f"sqlite:///{home / 'audit.sqlite'}")
    assert code == 0  # the database alone is consistent: the file in the home tells
    code, _, err = isolated_cli("audit", "verify", "--site-fingerprint", "xyz")
    assert code == 2 and "--site-fingerprint" in err
    code, _, err = isolated_cli("audit", "verify", "--site-anchor", str(tmp_path / "no.json"))
    assert code == 2 and "no such site checkpoint file" in err
