"""A site on PostgreSQL: several station processes appending to one database at once,
one of them killed mid-run, a shared scan store and evidence export from any station.
Needs the server on 127.0.0.1:5432 (skips without it, fails in CI).

Run as a script, this file is one station process (``python THIS URL HOME STATION
COUNT``): it opens its log, prints ``ready``, waits for a line on stdin, then appends
``COUNT`` events and prints each returned append as ``seq hash`` (flushed), so the test
knows exactly which appends returned.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from audit_helpers import add_users, login_args

CHECKPOINT_EVERY = 25


def _station_process(url: str, home: Path, station: str, count: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    return subprocess.Popen([sys.executable, __file__, url, str(home), station, str(count)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)


def _returned(lines: list[str]) -> dict[int, str]:
    return {int(seq): digest for seq, digest in (line.split() for line in lines if line)}


def _stored(url: str) -> dict[str, dict[int, str]]:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT station, seq, hash FROM events").all()
    engine.dispose()
    chains: dict[str, dict[int, str]] = {}
    for station, seq, digest in rows:
        chains.setdefault(station, {})[seq] = digest
    return chains


def _verify(url: str):
    from screener.audit.database import create_audit_engine
    from screener.audit.verify import verify_site

    engine = create_audit_engine(url, create=False)
    try:
        return verify_site(engine)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_eight_stations_append_at_once_and_one_is_killed(tmp_path, postgres_url,
                                                         postgres_role):
    """8 station processes, connected as a station role, append 200 events each at the
    same moment; lane-8 is SIGKILLed part way. Every chain verifies, nothing that
    returned is lost, the other stations are complete, and the killed one ends exactly
    at its last returned append (or one after, if it died between commit and print)."""
    from screener.audit.database import create_audit_engine, migrate_database
    from screener.audit.roles import grant_station

    stations = [f"lane-{i}" for i in range(1, 9)]
    migrate_database(postgres_url)
    admin = create_audit_engine(postgres_url, create=False)
    role, role_url = postgres_role()
    grant_station(admin, role, stations)
    admin.dispose()
    count = 200
    procs = {s: _station_process(role_url, tmp_path / s, s, count) for s in stations}
    for proc in procs.values():
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs.values():  # all start together
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    victim = procs["lane-8"]
    assert victim.stdout is not None
    killed_after = random.Random(8).randrange(20, 150)
    seen = [victim.stdout.readline().strip() for _ in range(killed_after)]
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    seen += [line.strip() for line in victim.stdout]  # returned between read and kill
    outputs = {"lane-8": seen}
    for station, proc in procs.items():
        if station != "lane-8":
            out, _ = proc.communicate(timeout=600)  # no deadlock: every station finishes
            assert proc.returncode == 0, station
            outputs[station] = out.splitlines()
    result = _verify(postgres_url)
    assert result.ok, [r.findings for r in result.stations]
    stored = _stored(postgres_url)
    for station in stations:
        returned = _returned(outputs[station])
        assert {seq: stored[station].get(seq) for seq in returned} == returned, station
    for station in stations[:-1]:  # untouched: genesis + every append, in seq order
        assert sorted(stored[station]) == list(range(1, count + 2)), station
        assert sorted(_returned(outputs[station])) == list(range(2, count + 2))
    last = max(_returned(seen))
    assert last >= killed_after + 1
    assert sorted(stored["lane-8"]) in (list(range(1, last + 1)), list(range(1, last + 2)))


@pytest.mark.slow
def test_a_station_killed_again_and_again_resumes_its_chain(tmp_path, postgres_url):
    """A station killed at random points five times while another appends: each restart
    continues its chain after the last committed event; both chains verify."""
    rng = random.Random(20261123)
    other = _station_process(postgres_url, tmp_path / "lane-2", "lane-2", 300)
    assert other.stdout is not None and other.stdout.readline().strip() == "ready"
    assert other.stdin is not None
    other.stdin.write("go\n")
    other.stdin.flush()
    returned: dict[int, str] = {}
    for _ in range(5):
        proc = _station_process(postgres_url, tmp_path / "lane-1", "lane-1", 10_000)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        lines = [proc.stdout.readline().strip() for _ in range(rng.randrange(1, 40))]
        time.sleep(rng.random() * 0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        returned.update(_returned(lines + [line.strip() for line in proc.stdout]))
    other_out, _ = other.communicate(timeout=600)
    assert other.returncode == 0
    result = _verify(postgres_url)
    assert result.ok, [r.findings for r in result.stations]
    stored = _stored(postgres_url)
    assert {seq: stored["lane-1"].get(seq) for seq in returned} == returned
    assert sorted(stored["lane-2"]) == list(range(1, 302))
    assert _returned(other_out.splitlines()) == {s: stored["lane-2"][s] for s in range(2, 302)}


def test_two_processes_of_one_station_make_one_chain(tmp_path, postgres_url):
    """Two processes appending to one station's chain at once (its key copied): the
    advisory lock and the (station, seq) key keep them from forking it."""
    first = tmp_path / "a"
    from screener.audit.log import open_audit_log

    open_audit_log(first, "lane-1", url=postgres_url).close()
    key = first / "keys" / "lane-1.ed25519.pem"
    (tmp_path / "b" / "keys").mkdir(parents=True)
    (tmp_path / "b" / "keys" / key.name).write_bytes(key.read_bytes())
    procs = [_station_process(postgres_url, home, "lane-1", 150)
             for home in (first, tmp_path / "b")]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=600)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    seqs = sorted(seq for out in outputs for seq in _returned(out.splitlines()))
    assert seqs == list(range(2, 302))  # no seq handed out twice
    result = _verify(postgres_url)
    assert result.ok and result.stations[0].events == 301


# ---------------------------------------------------------------------- scan store
def test_stations_share_a_scan_store_and_export_from_any_station(tmp_path, postgres_url,
                                                                 scan_file, monkeypatch,
                                                                 capsys):
    """lane-1 stores a scan in the site's shared store and records its decision; lane-2
    stores the same bytes (one file: the store is content-addressed) and exports the
    evidence of the scan, signed by its own key; the bundle verifies offline."""
    from screener.audit.log import open_audit_log
    from screener.cli import main
    from screener.config import load_settings
    from screener.scan import ScanStore

    shared = tmp_path / "site-scans"
    homes = {s: tmp_path / s for s in ("lane-1", "lane-2")}
    config = tmp_path / "site.toml"
    config.write_text(f'audit_db = "{postgres_url}"\nscan_store_dir = "{shared}"\n',
                      encoding="utf-8")
    settings = {s: load_settings(config, {"SCREENER_STATION": s}, {"home": home})
                for s, home in homes.items()}
    assert settings["lane-1"].scan_store == settings["lane-2"].scan_store == shared
    source = scan_file("bag.h5", seed=3)
    digest = ScanStore(settings["lane-1"].scan_store).add(source)
    assert ScanStore(settings["lane-2"].scan_store).add(source) == digest
    assert [sha for sha, _ in ScanStore(shared).stored()] == [digest]  # stored once
    lane1 = open_audit_log(homes["lane-1"], "lane-1", url=postgres_url)
    lane1.append("screening.decision", {"decision": "suspect"}, actor="op-01",
                 role="screener", scan_sha256=digest)
    lane1.close("shift end")  # signs its head: another station may now export it
    open_audit_log(homes["lane-2"], "lane-2", url=postgres_url).close()
    desk = open_audit_log(homes["lane-1"], "lane-1", url=postgres_url)
    add_users(desk, "inv-7")  # the site's accounts: every station shares them
    desk.close("accounts")

    for name in ("SCREENER_HOME", "SCREENER_AUDIT_DB", "SCREENER_SCAN_STORE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCREENER_STATION", "lane-2")
    out = tmp_path / "case.zip"
    code = main(["--config", str(config), "--home", str(homes["lane-2"]), "evidence",
                 "export", "--scan", digest, "--out", str(out), "--case-number", "2026-8",
                 *login_args(monkeypatch, "inv-7")])  # an account made on lane-1
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "signed by station lane-2" in printed.out and "1 scan(s) included" in printed.out
    assert main(["evidence", "verify", str(out)]) == 0
    assert "investigator Jane Doe (inv-7)" in capsys.readouterr().out
    result = _verify(postgres_url)
    assert result.ok
    # lane-1: genesis, decision, 4 account events; lane-2: genesis, login, export, logout
    assert {r.station: r.events for r in result.stations} == {"lane-1": 6, "lane-2": 4}


def test_scan_store_dir_setting(tmp_path):
    from screener.config import Settings, load_settings

    assert Settings(home=tmp_path).scan_store == tmp_path / "scans"
    settings = load_settings(environ={"SCREENER_SCAN_STORE_DIR": str(tmp_path / "shared"),
                                      "SCREENER_HOME": str(tmp_path / "h")})
    assert settings.scan_store == tmp_path / "shared"


# ---------------------------------------------------------------------- child
def _child() -> None:
    from screener.audit.log import open_audit_log

    url, home, station, count = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    log = open_audit_log(home, station, url=url, checkpoint_every=CHECKPOINT_EVERY)
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        record = log.append("screening.decision", {"station": station, "i": i},
                            actor=f"op-{i % 3}", role="screener")
        print(f"{record.seq} {record.hash}", flush=True)
    log.close("station done")


if __name__ == "__main__":
    _child()
