"""The same audit code on PostgreSQL: migrations, append-only triggers, one chain per
station, verification, station and supervisor roles, site checkpoints, reading across
stations. Needs the server on 127.0.0.1:5432 (skips without it, fails in CI)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from screener.audit.database import create_audit_engine, migrate_database
from screener.audit.keys import StationKey
from screener.audit.log import open_audit_log
from screener.audit.roles import RoleError, grant_station, grant_supervisor, revoke, table_rights
from screener.audit.site import make_site_checkpoint, rotate_site_key
from screener.audit.verify import Fault, verify_database, verify_site
from screener.errors import AuditUnavailableError, NotAnAuditDatabaseError


def _fill(tmp_path, url, station, events):
    log = open_audit_log(tmp_path / station, station, url=url, checkpoint_every=10)
    for i in range(events):
        log.append("screening.decision", {"i": i, "score": 0.25}, actor="op1",
                   role="screener")
    log.close("shift end")


def test_chains_of_two_stations_verify_alone(tmp_path, postgres_url):
    _fill(tmp_path, postgres_url, "lane-1", 25)
    _fill(tmp_path, postgres_url, "lane-2", 12)
    engine = create_audit_engine(postgres_url, create=False)
    reports = {r.station: r for r in verify_database(engine)}
    engine.dispose()
    assert {s: (r.ok, r.events) for s, r in reports.items()} == {
        "lane-1": (True, 26), "lane-2": (True, 13)}


@pytest.mark.parametrize("statement", ["UPDATE events SET actor = 'x'",
                                       "DELETE FROM checkpoints",
                                       "TRUNCATE events"])
def test_triggers_refuse_changes(tmp_path, postgres_url, statement):
    _fill(tmp_path, postgres_url, "lane-1", 3)
    engine = create_engine(postgres_url)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql(statement)
    engine.dispose()


def test_tampering_is_located_on_postgres(tmp_path, postgres_url):
    _fill(tmp_path, postgres_url, "lane-1", 25)
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER USER")
        conn.exec_driver_sql("UPDATE events SET payload = '{}' WHERE seq = 14")
    engine.dispose()
    engine = create_audit_engine(postgres_url, create=False)
    (report,) = verify_database(engine)
    engine.dispose()
    assert (report.first.fault, report.first.seq) == (Fault.PAYLOAD_CHANGED, 14)


# ---------------------------------------------------------------------- migrations
def test_migrations_reach_the_latest_version_on_postgres(postgres_url):
    from screener.audit.migrations import LATEST_VERSION

    assert migrate_database(postgres_url) == list(range(1, LATEST_VERSION + 1))
    assert migrate_database(postgres_url) == []  # recorded: never applied twice
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        tables = {r[0] for r in conn.exec_driver_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    engine.dispose()
    assert {"events", "checkpoints", "schema_migrations", "site_checkpoints"} <= tables


def test_a_version_2_database_is_upgraded_in_place(tmp_path, postgres_url):
    """A site database made by the previous Screener (migrations 1 and 2) keeps its chains
    and gains the site checkpoint table when migrated."""
    from screener.audit import migrations

    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("SELECT 1")
        old = migrations.MIGRATIONS
        try:
            migrations.MIGRATIONS = old[:2]
            migrations.migrate(conn)
        finally:
            migrations.MIGRATIONS = old
    engine.dispose()
    with pytest.raises(NotAnAuditDatabaseError, match="screener audit db migrate"):
        create_audit_engine(postgres_url, create=False)
    assert migrate_database(postgres_url) == [3, 4, 5]
    _fill(tmp_path, postgres_url, "lane-1", 5)
    engine = create_audit_engine(postgres_url, create=False)
    make_site_checkpoint(engine, StationKey.generate())
    assert verify_site(engine).ok
    engine.dispose()


def test_site_checkpoints_are_append_only_on_postgres(tmp_path, postgres_url):
    _fill(tmp_path, postgres_url, "lane-1", 3)
    engine = create_audit_engine(postgres_url, create=False)
    key = StationKey.generate()
    make_site_checkpoint(engine, key)
    rotate_site_key(engine, key, StationKey.generate())
    for statement in ("UPDATE site_checkpoints SET root = 'x'", "DELETE FROM site_checkpoints",
                      "TRUNCATE site_checkpoints", "DELETE FROM site_key_rotations",
                      "UPDATE site_key_rotations SET acceptance = 'x'",
                      "TRUNCATE site_key_rotations"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql(statement)
    engine.dispose()


# ---------------------------------------------------------------------- appends
def test_two_logs_of_one_station_take_turns_without_forking(tmp_path, postgres_url):
    """Each log remembers its own last head; when the other appended meanwhile the key
    refuses the row and the append runs again after the real head."""
    first = open_audit_log(tmp_path / "a", "lane-1", url=postgres_url, checkpoint_every=7)
    key = tmp_path / "a" / "keys" / "lane-1.ed25519.pem"
    (tmp_path / "b" / "keys").mkdir(parents=True)
    (tmp_path / "b" / "keys" / key.name).write_bytes(key.read_bytes())
    second = open_audit_log(tmp_path / "b", "lane-1", url=postgres_url, checkpoint_every=7)
    seqs = []
    for i in range(30):
        log = first if i % 3 else second
        seqs.append(log.append("screening.decision", {"i": i}, actor="op", role="screener").seq)
    first.close()
    second.close()
    assert seqs == list(range(2, 32))
    engine = create_audit_engine(postgres_url, create=False)
    (report,) = verify_database(engine)
    engine.dispose()
    assert report.ok and report.events == 31, report.findings


# ---------------------------------------------------------------------- roles
def _as(url):
    return create_engine(url)


def test_a_station_role_appends_but_cannot_change_a_row(tmp_path, postgres_url, postgres_role):
    _fill(tmp_path, postgres_url, "lane-1", 3)
    role, role_url = postgres_role()
    admin = create_audit_engine(postgres_url, create=False)
    grant_station(admin, role, ["lane-1"])
    assert table_rights(admin, role) == {
        "events": ["SELECT", "INSERT"], "checkpoints": ["SELECT", "INSERT"],
        "schema_migrations": ["SELECT"], "site_checkpoints": ["SELECT"],
        "site_key_rotations": ["SELECT"]}
    # appends work as the role, and the chain still verifies
    log = open_audit_log(tmp_path / "lane-1", "lane-1", url=role_url, checkpoint_every=4)
    for i in range(6):
        log.append("screening.decision", {"i": i}, actor="op1", role="screener")
    log.close("shift end")
    # even with the append-only triggers gone, the role may not change anything
    with admin.begin() as conn:
        for table in ("events", "checkpoints"):
            conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    station = _as(role_url)
    for statement in ("UPDATE events SET actor = 'x'", "DELETE FROM events",
                      "DELETE FROM checkpoints", "TRUNCATE events",
                      "UPDATE schema_migrations SET description = 'x'",
                      "INSERT INTO site_checkpoints VALUES (1, 't', 'p', 'r', 1, '[]', 'k', "
                      "'p', 's')",
                      "ALTER TABLE events DISABLE TRIGGER USER",
                      "DROP TRIGGER events_append_only ON events",
                      "CREATE TABLE mine (x int)"):
        with pytest.raises(DBAPIError, match=r"permission denied|must be owner"), \
                station.begin() as conn:
            conn.exec_driver_sql(statement)
    station.dispose()
    (report,) = verify_database(admin)
    admin.dispose()
    assert report.ok and report.events == 4 + 6, report.findings


def test_a_station_role_appends_only_to_its_own_chains(tmp_path, postgres_url, postgres_role):
    role, role_url = postgres_role()
    migrate_database(postgres_url)
    admin = create_audit_engine(postgres_url, create=False)
    grant_station(admin, role, ["lane-1"])
    open_audit_log(tmp_path / "a", "lane-1", url=role_url).close()
    with pytest.raises(AuditUnavailableError, match="row-level security"):
        open_audit_log(tmp_path / "b", "lane-2", url=role_url)
    grant_station(admin, role, ["lane-1", "lane-2"])  # granted again: now both
    open_audit_log(tmp_path / "b", "lane-2", url=role_url).close()
    assert [r.station for r in verify_database(admin)] == ["lane-1", "lane-2"]
    admin.dispose()


def test_a_station_role_cannot_migrate(tmp_path, postgres_url, postgres_role):
    role, role_url = postgres_role()
    migrate_database(postgres_url)
    admin = create_audit_engine(postgres_url, create=False)
    grant_station(admin, role, ["lane-1"])
    with admin.begin() as conn:  # pretend a newer Screener needs migration 3 again
        conn.exec_driver_sql("ALTER TABLE schema_migrations DISABLE TRIGGER USER")
        conn.exec_driver_sql("DELETE FROM schema_migrations WHERE version = 3")
        conn.exec_driver_sql("DROP TABLE site_checkpoints")
    admin.dispose()
    with pytest.raises(AuditUnavailableError, match="permission denied"):
        open_audit_log(tmp_path / "a", "lane-1", url=role_url)


def test_a_supervisor_role_reads_and_signs_the_site_only(tmp_path, postgres_url,
                                                         postgres_role):
    _fill(tmp_path, postgres_url, "lane-1", 3)
    role, role_url = postgres_role("sup")
    admin = create_audit_engine(postgres_url, create=False)
    grant_supervisor(admin, role)
    rights = table_rights(admin, role)
    assert rights["site_checkpoints"] == rights["site_key_rotations"] == ["SELECT", "INSERT"]
    assert rights["events"] == ["SELECT"]
    admin.dispose()
    supervisor = create_audit_engine(role_url, create=False)
    key = StationKey.generate()
    assert make_site_checkpoint(supervisor, key).number == 1
    _, first_by_new = rotate_site_key(supervisor, key, StationKey.generate())
    assert first_by_new.number == 2
    assert verify_site(supervisor).ok and verify_site(supervisor).site.key_rotations == 1
    with pytest.raises(DBAPIError, match="permission denied"), supervisor.begin() as conn:
        conn.exec_driver_sql("DELETE FROM site_checkpoints")
    supervisor.dispose()
    with pytest.raises(AuditUnavailableError, match="permission denied"):
        open_audit_log(tmp_path / "sup", "lane-9", url=role_url)


def test_roles_that_would_bypass_the_grants_are_refused(postgres_url, postgres_role):
    migrate_database(postgres_url)
    admin = create_audit_engine(postgres_url, create=False)
    with pytest.raises(RoleError, match="superuser"):
        grant_station(admin, "postgres", ["lane-1"])
    with pytest.raises(RoleError, match="role name"):
        grant_station(admin, "Robert'); DROP TABLE events;--", ["lane-1"])
    with pytest.raises(RoleError, match="at least one station"):
        grant_station(admin, postgres_role()[0], [])
    admin.dispose()


def test_revoke_takes_every_right(postgres_url, postgres_role):
    role, _ = postgres_role()
    migrate_database(postgres_url)
    admin = create_audit_engine(postgres_url, create=False)
    grant_station(admin, role, ["lane-1"])
    revoke(admin, role)
    assert table_rights(admin, role) == {t: [] for t in (
        "events", "checkpoints", "schema_migrations", "site_checkpoints",
        "site_key_rotations")}
    admin.dispose()


def test_db_commands(isolated_cli, postgres_url, postgres_role, monkeypatch):
    role, _ = postgres_role()
    code, out, _ = isolated_cli("audit", "db", "migrate", "--db", postgres_url)
    assert code == 0 and "migrations applied: 1, 2, 3" in out
    code, out, _ = isolated_cli("audit", "db", "migrate", "--db", postgres_url)
    assert code == 0 and "none (already current)" in out
    monkeypatch.setenv("LANE_PASSWORD", "s3cret'x")
    code, out, err = isolated_cli("audit", "db", "grant-station", "--db", postgres_url,
                                  "--role", role, "--station", "lane-1", "--station", "lane-2",
                                  "--password-env", "LANE_PASSWORD")
    assert code == 0, err
    assert "events: SELECT, INSERT" in out and "appends only for: lane-1, lane-2" in out
    code, _, err = isolated_cli("audit", "db", "grant-station", "--db", postgres_url)
    assert code == 2 and "--role" in err
    code, _, err = isolated_cli("audit", "db", "grant-station", "--db", "sqlite:///x.sqlite",
                                "--role", role, "--station", "lane-1")
    assert code == 2
    code, out, _ = isolated_cli("audit", "db", "revoke", "--db", postgres_url, "--role", role)
    assert code == 0 and "events: nothing" in out


# ---------------------------------------------------------------------- site checkpoints
def test_a_station_rewritten_after_a_site_checkpoint_is_caught_on_postgres(tmp_path,
                                                                           postgres_url):
    """A forger with the station's key and the database owner's rights rewrites lane-2
    from seq 5 and re-signs its checkpoints: the station alone looks intact, the site
    checkpoint names the seq."""
    for station in ("lane-1", "lane-2", "lane-3"):
        _fill(tmp_path, postgres_url, station, 12)
    engine = create_audit_engine(postgres_url, create=False)
    make_site_checkpoint(engine, StationKey.generate())
    _rewrite_and_resign(tmp_path, postgres_url, "lane-2", from_seq=5)
    result = verify_site(engine)
    engine.dispose()
    reports = {r.station: r for r in result.stations}
    assert reports["lane-1"].ok and reports["lane-3"].ok and result.site.ok
    assert (reports["lane-2"].first.fault, reports["lane-2"].first.seq) == (
        Fault.SITE_MISMATCH, 13)  # the head it recorded: genesis + 12
    assert [f.fault for f in reports["lane-2"].findings] == [Fault.SITE_MISMATCH]


def _rewrite_and_resign(tmp_path, url, station, from_seq):
    from screener.audit.chain import CheckpointRecord, checkpoint_message, row_hash
    from screener.audit.keys import key_path, load_key

    key = load_key(key_path(tmp_path / station, station))
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in ("events", "checkpoints"):
            conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        conn.exec_driver_sql("UPDATE events SET payload = '{\"forged\":true}' "
                             f"WHERE station = '{station}' AND seq = {from_seq}")
        rows = conn.exec_driver_sql(
            "SELECT station, seq, time_utc, actor, role, kind, payload, scan_sha256, "
            f"model_sha256 FROM events WHERE station = '{station}' ORDER BY seq").all()
        prev = "0" * 64
        hashes = {}
        for row in rows:
            digest = row_hash(*row, prev) if row.seq >= from_seq else conn.exec_driver_sql(
                f"SELECT hash FROM events WHERE station = '{station}' AND seq = {row.seq}"
            ).scalar()
            conn.exec_driver_sql(f"UPDATE events SET prev_hash = '{prev}', hash = '{digest}' "
                                 f"WHERE station = '{station}' AND seq = {row.seq}")
            hashes[row.seq] = prev = digest
        for cp in conn.exec_driver_sql(
                "SELECT station, genesis_hash, seq, time_utc, head_hash, reason, "
                f"key_fingerprint FROM checkpoints WHERE station = '{station}'").all():
            fields = {**cp._asdict(), "head_hash": hashes[cp.seq]}
            record = CheckpointRecord(**fields, signature=key.sign(checkpoint_message(fields)))
            conn.exec_driver_sql(f"UPDATE checkpoints SET head_hash = '{record.head_hash}', "
                                 f"signature = '{record.signature}' WHERE station = "
                                 f"'{station}' AND seq = {cp.seq}")
    engine.dispose()


# ---------------------------------------------------------------------- reading
def test_reports_and_search_read_every_station(tmp_path, postgres_url):
    """What supervisor reports and investigator search use reads all stations."""
    from screener.audit import query
    from screener.audit.cases import case_holds, place_hold, release_hold

    scan = "ab" * 32
    logs = {s: open_audit_log(tmp_path / s, s, url=postgres_url) for s in ("lane-1", "lane-2")}
    logs["lane-1"].append("screening.decision", {"operator": "op-01"}, actor="op-01",
                          role="screener", scan_sha256=scan)
    logs["lane-2"].append("screening.decision", {"operator": "op-02"}, actor="op-02",
                          role="screener", scan_sha256=scan)
    logs["lane-2"].append("tip.outcome", {"operator": "op-02"}, actor="op-02", role="screener")
    logs["lane-1"].append("tip.outcome", {"operator": "op-01"}, actor="op-01", role="screener")
    place_hold(logs["lane-1"], "C-1", [scan], actor="inv", role="investigator", reason="r")
    place_hold(logs["lane-2"], "C-2", [scan], actor="inv", role="investigator", reason="r")
    release_hold(logs["lane-1"], "C-2", actor="inv", role="investigator", reason="done")
    engine = logs["lane-1"].engine
    assert query.stations(engine) == ["lane-1", "lane-2"]
    assert [e.station for e in query.events_for_scan(engine, scan)] == ["lane-1", "lane-2"]
    assert {e.station for e in query.events_of_kinds(engine, ["tip.outcome"])} == {
        "lane-1", "lane-2"}
    outcomes = query.events_of_kind_between(engine, "tip.outcome", since="2000-01-01")
    assert [e.actor for e in outcomes] == ["op-02", "op-01"]  # time order across stations
    assert case_holds(engine) == {"C-1": {scan}}
    for log in logs.values():
        log.close()


def test_a_connection_dropped_while_idle_costs_no_append(tmp_path, postgres_url, monkeypatch):
    """A pooled connection idle for a while is checked before use: one the server dropped
    (restart, network) is replaced, and the append goes through."""
    from screener.audit import database

    monkeypatch.setattr(database, "IDLE_PING_S", 0.0)
    log = open_audit_log(tmp_path, "lane-1", url=postgres_url)
    log.append("screening.decision", {"i": 1}, actor="op1", role="screener")
    with log.engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar()
    admin.dispose()
    assert log.append("screening.decision", {"i": 2}, actor="op1", role="screener").seq == 3
    log.close()


def test_a_station_role_logs_operators_in_but_cannot_delete_accounts(tmp_path, postgres_url,
                                                                     postgres_role):
    from screener.accounts.users import Accounts, LoginError

    _fill(tmp_path, postgres_url, "lane-1", 1)
    role, role_url = postgres_role()
    admin = create_audit_engine(postgres_url, create=False)
    grant_station(admin, role, ["lane-1"])
    log = open_audit_log(tmp_path / "lane-1", "lane-1", url=role_url)
    accounts = Accounts(log)
    accounts.create_first_admin("chief", "chief-pass-1")
    with pytest.raises(LoginError):
        accounts.login("chief", "wrong-pass-1")  # counts a failure in place
    assert accounts.get("chief").failed_attempts == 1
    assert accounts.login("chief", "chief-pass-1").id == "chief"
    log.close("shift end")
    station = _as(role_url)
    with pytest.raises(DBAPIError, match="permission denied"), station.begin() as conn:
        conn.exec_driver_sql("DELETE FROM users")
    station.dispose()
    (report,) = verify_database(admin)
    admin.dispose()
    assert report.ok, report.findings
