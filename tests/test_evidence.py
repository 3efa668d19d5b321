"""Evidence bundles: export -> verify round trips, and every kind of tampering caught and
named (a changed byte in any file, an added or removed file, an event edited and
re-hashed into the manifests), offline, with the station's database and home gone."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from audit_helpers import add_users, login_args
from conftest import make_synthetic_scan

from screener.audit.cases import place_hold
from screener.audit.chain import event_hash
from screener.audit.evidence import (
    BundleUnreadableError,
    export_bundle,
    select_scan,
    verify_bundle,
)
from screener.audit.evidence.annotate import annotate_view, scan_annotations
from screener.audit.evidence.bagit import ZipBagWriter, opened_bag, validate_bag
from screener.audit.keys import StationKey, display_fingerprint, key_path, load_key
from screener.audit.log import open_audit_log
from screener.audit.query import events_of_kinds
from screener.errors import AuditError
from screener.scan import ScanStore, write_scan

STATION = "station-1"
BAG = "bundle"
CASE = "CASE-7"


def populate(home: Path) -> SimpleNamespace:
    """Three stored scans (one then deleted, as retention would), nine events after the
    genesis, a case hold; checkpoints every 4 events, so the tail is not yet covered."""
    store = ScanStore(home / "scans")
    shas = []
    for seed, views in ((1, 2), (2, 1), (3, 1)):
        scan, _ = make_synthetic_scan(views=views, seed=seed)
        shas.append(store.add(write_scan(home.parent / f"scan-{seed}.h5", scan)))
    a, b, gone = shas
    store.path_for(gone).unlink()
    log = open_audit_log(home, STATION, checkpoint_every=4)
    log.append("scan.received", {"source": "demo conveyor", "bag_id": "BAG-0001",
                                 "views": ["top", "side"]}, scan_sha256=a)
    log.append("ai.result", {"status": "ok", "detections": [
        {"view": "top", "box": [10, 5, 40, 25], "label": "knife", "category": "knife",
         "score": 0.87}]}, scan_sha256=a, model_sha256="ab" * 32)
    decision = log.append("screening.decision", {
        "decision": "suspect", "marks": [{"view": "top", "box": [12, 8, 38, 30]}],
        "response_ms": 2314, "tip": {"projected": True, "fti_id": "fti-0042"}},
        actor="op7", role="screener", scan_sha256=a)
    log.append("scan.received", {"source": "demo conveyor", "bag_id": "BAG-0002",
                                 "views": ["top"]}, scan_sha256=b)
    log.append("ai.result", {"status": "unavailable", "detections": []}, scan_sha256=b,
               model_sha256="cd" * 32)
    log.append("screening.decision", {"decision": "clear", "marks": [], "response_ms": 800,
                                      "tip": None}, actor="op7", role="screener",
               scan_sha256=b)
    log.append("scan.received", {"source": "watch folder", "bag_id": "BAG-0003"},
               scan_sha256=gone)
    log.append("screening.decision", {"decision": "clear", "marks": []}, actor="op8",
               role="screener", scan_sha256=gone)
    place_hold(log, CASE, [a, gone], actor="inv1", role="investigator",
               reason="police request")
    head = log.head()
    log.engine.dispose()
    assert head is not None and head.seq == 10
    return SimpleNamespace(home=home, a=a, b=b, gone=gone, decision_seq=decision.seq)


def export_scan(home: Path, sha: str, out: Path) -> None:
    log = open_audit_log(home, STATION, checkpoint_every=4)
    try:
        export_bundle(log, select_scan(log.engine, sha), out, case_number="C-2024-17",
                      investigator="Jane Doe", store=ScanStore(home / "scans"))
    finally:
        log.engine.dispose()


def populated(home: Path, *users: str) -> SimpleNamespace:
    """``populate``, then accounts (default: the investigator inv-7, "Jane Doe") for
    ``screener evidence export --as``; their events follow the case hold (seq 10)."""
    chain = populate(home)
    log = open_audit_log(home, STATION)
    add_users(log, *(users or ("inv-7",)))
    log.engine.dispose()
    return chain


def export_cli(isolated_cli, monkeypatch, *args, user: str = "inv-7",
               password: str | None = None) -> tuple[int, str, str]:
    """``screener evidence export ARGS --as USER --password-stdin``."""
    return isolated_cli("evidence", "export", *args,
                        *login_args(monkeypatch, user, password))


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """One exported bundle (scan a) shared by the tamper tests, which only read it."""
    root = tmp_path_factory.mktemp("evidence")
    chain = populate(root / "home")
    chain.bundle = root / f"{BAG}.zip"
    export_scan(chain.home, chain.a, chain.bundle)
    return chain


# ---------------------------------------------------------------------- zip surgery
def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def write_members(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def flip(data: bytes, at: int | None = None) -> bytes:
    index = len(data) // 2 if at is None else at
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


def reseal(files: dict[str, bytes], key: StationKey | None = None) -> dict[str, bytes]:
    """Recompute the manifests and Payload-Oxum (as a forger would); with ``key`` also
    re-sign and swap in that key."""
    files = dict(files)
    if key is not None:
        files[f"{BAG}/data/station-key.pem"] = key.public_pem()
        info = files[f"{BAG}/bag-info.txt"].decode()
        files[f"{BAG}/bag-info.txt"] = re.sub(
            r"Screener-Key-Fingerprint: \w+", f"Screener-Key-Fingerprint: {key.fingerprint}",
            info).encode()
    payload = {n[len(BAG) + 1:]: d for n, d in files.items() if n.startswith(f"{BAG}/data/")}
    files[f"{BAG}/manifest-sha256.txt"] = "".join(
        f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in sorted(payload.items())).encode()
    oxum = f"{sum(len(d) for d in payload.values())}.{len(payload)}"
    files[f"{BAG}/bag-info.txt"] = re.sub(r"Payload-Oxum: \S+", f"Payload-Oxum: {oxum}",
                                          files[f"{BAG}/bag-info.txt"].decode()).encode()
    tags = ("bag-info.txt", "bagit.txt", "manifest-sha256.txt")
    tagmanifest = "".join(f"{hashlib.sha256(files[f'{BAG}/{t}']).hexdigest()}  {t}\n"
                          for t in tags).encode()
    files[f"{BAG}/tagmanifest-sha256.txt"] = tagmanifest
    if key is not None:
        files[f"{BAG}/tagmanifest-sha256.txt.sig"] = base64.b64encode(
            key.private.sign(tagmanifest)) + b"\n"
    return files


def verify_cli(isolated_cli, path: Path) -> tuple[int, str, str]:
    return isolated_cli("evidence", "verify", path)


def name_of(files: dict[str, bytes], pattern: str) -> str:
    (name,) = [n for n in files if re.fullmatch(f"{BAG}/{pattern}", n)]
    return name


# ---------------------------------------------------------------------- round trip
def test_cli_round_trip_verifies_without_the_station(tmp_path, isolated_cli, monkeypatch):
    chain = populated(tmp_path / "data")
    out = tmp_path / "case.zip"
    code, stdout, stderr = export_cli(
        isolated_cli, monkeypatch, "--scan", chain.a, "--out", out, "--case-number",
        "C-2024-17")
    assert code == 0, stderr
    assert "wrote" in stdout and "logged as evidence.exported" in stdout
    shutil.rmtree(tmp_path / "data")  # no database, no key, no scan store
    code, stdout, stderr = verify_cli(isolated_cli, out)
    assert code == 0, stdout
    assert stdout.startswith("OK:") and "3 of 3 exported events" in stdout
    code, stdout, _ = isolated_cli("evidence", "verify", out, "--json")
    result = json.loads(stdout)
    assert code == 0 and result["ok"] and result["summary"]["External-Identifier"] == "C-2024-17"


def _logged(home: Path, *kinds: str):
    log = open_audit_log(home, STATION)
    try:
        return events_of_kinds(log.engine, list(kinds))
    finally:
        log.engine.dispose()


@pytest.mark.parametrize(("user", "contact"), [("inv-7", "Jane Doe (inv-7)"),
                                               ("inv-8", "inv-8")])
def test_cli_export_is_in_the_name_of_the_logged_in_investigator(tmp_path, isolated_cli,
                                                                 monkeypatch, user, contact):
    chain = populated(tmp_path / "data", user)
    out = tmp_path / "case.zip"
    code, _, stderr = export_cli(isolated_cli, monkeypatch, "--scan", chain.a, "--out", out,
                                 "--case-number", "C-9", user=user)
    assert code == 0, stderr
    info = members(out)["case/bag-info.txt"].decode()
    assert f"\nContact-Name: {contact}\n" in info  # the account's name, else its id
    assert f"investigator {contact}," in verify_cli(isolated_cli, out)[1]
    (logged,) = _logged(tmp_path / "data", "evidence.exported")
    assert (logged.actor, logged.role) == (user, "investigator")  # who logged in
    assert json.loads(logged.payload)["investigator"] == contact
    login, logout = [e for e in _logged(tmp_path / "data", "auth.login", "auth.logout")
                     if e.actor == user]
    assert login.kind == "auth.login" and logout.kind == "auth.logout"
    assert login.seq < logged.seq < logout.seq


@pytest.mark.parametrize(("user", "password", "message", "kind"), [
    ("op-9", None, "'op-9' (screener) may not export an evidence bundle", "auth.denied"),
    ("sup-9", None, "'sup-9' (supervisor) may not export an evidence bundle", "auth.denied"),
    ("inv-7", "wrong-pass-1", "unknown user id or wrong password", "auth.failed"),
    ("nobody", None, "unknown user id or wrong password", "auth.failed"),
])
def test_cli_export_refused_writes_no_bundle(tmp_path, isolated_cli, monkeypatch, user,
                                             password, message, kind):
    chain = populated(tmp_path / "data", "inv-7", "op-9", "sup-9")
    out = tmp_path / "case.zip"
    code, stdout, stderr = export_cli(isolated_cli, monkeypatch, "--scan", chain.a, "--out",
                                      out, "--case-number", "C-9", user=user,
                                      password=password)
    assert code == 2 and stdout == ""
    assert stderr.startswith("screener: error: ") and message in stderr
    assert len(stderr.splitlines()) == 1
    assert not out.exists() and not list(tmp_path.glob(".writing-*"))
    assert not _logged(tmp_path / "data", "evidence.exported")
    (refusal,) = _logged(tmp_path / "data", kind)
    assert json.loads(refusal.payload)["user" if kind == "auth.failed" else "action"] == (
        user if kind == "auth.failed" else "evidence.export")


def test_cli_export_needs_a_login(tmp_path, isolated_cli):
    chain = populated(tmp_path / "data")
    with pytest.raises(SystemExit) as exited:  # argparse: --as is required
        isolated_cli("evidence", "export", "--scan", chain.a, "--out", tmp_path / "x.zip",
                     "--case-number", "1")
    assert exited.value.code == 2
    assert not (tmp_path / "x.zip").exists()


def test_bundle_layout(made):
    files = members(made.bundle)
    assert files[f"{BAG}/bagit.txt"] == (b"BagIt-Version: 1.0\n"
                                         b"Tag-File-Character-Encoding: UTF-8\n")
    info = files[f"{BAG}/bag-info.txt"].decode()
    for label in ("Bagging-Date", "Payload-Oxum", "Bag-Software-Agent", "Source-Organization",
                  "Screener-Key-Fingerprint", "Screener-Station"):
        assert f"\n{label}: " in f"\n{info}"
    assert "External-Identifier: C-2024-17" in info and "Contact-Name: Jane Doe" in info
    # the scan byte for byte, annotated PNGs per view, events, key, report
    stored = (made.home / "scans").rglob(f"{made.a}.h5")
    assert files[f"{BAG}/data/scans/{made.a}.h5"] == next(stored).read_bytes()
    pngs = [n for n in files if n.endswith(".png")]
    assert sorted(pngs) == [f"{BAG}/data/images/{made.a}-{v}.png" for v in ("side", "top")]
    assert all(files[n].startswith(b"\x89PNG") for n in pngs)
    assert b"BEGIN PUBLIC KEY" in files[f"{BAG}/data/station-key.pem"]
    report = files[f"{BAG}/data/report.html"].decode()
    assert "C-2024-17" in report and "fti-0042" in report and "data:image/jpeg" in report
    # every payload file in the manifest; the signature in no manifest
    manifest = files[f"{BAG}/manifest-sha256.txt"].decode()
    payload = [n for n in files if n.startswith(f"{BAG}/data/")]
    assert len(manifest.splitlines()) == len(payload)
    assert ".sig" not in files[f"{BAG}/tagmanifest-sha256.txt"].decode()
    # the events as stored plus their proof: links to a signed checkpoint, key events
    lines = [json.loads(x) for x in files[f"{BAG}/data/events.jsonl"].splitlines()]
    events = [x for x in lines if x["record"] == "event"]
    assert {x["seq"] for x in events if x["selected"]} == {2, 3, 4}
    assert {"prev_hash", "hash", "payload", "time_utc"} <= set(events[0])
    assert any(x["kind"] == "chain.genesis" for x in events)
    assert [x["seq"] for x in lines if x["record"] == "checkpoint"] == [1, 4]


def test_bagit_python_layout_rules(made):
    """The bag also passes the generic checker with no Screener knowledge."""
    with opened_bag(made.bundle) as source:
        check = validate_bag(source, unlisted_tag_files=("tagmanifest-sha256.txt.sig",))
    assert check.ok, check.problems


def test_export_is_logged_and_covered_by_a_checkpoint(made):
    from screener.audit.database import create_audit_engine

    engine = create_audit_engine(f"sqlite:///{made.home / 'audit.sqlite'}", create=False)
    try:
        (logged,) = events_of_kinds(engine, ["evidence.exported"])
        with engine.connect() as conn:
            reasons = [r for (r,) in conn.exec_driver_sql(
                "SELECT reason FROM checkpoints ORDER BY seq")]
    finally:
        engine.dispose()
    payload = json.loads(logged.payload)
    tagmanifest = members(made.bundle)[f"{BAG}/tagmanifest-sha256.txt"]
    assert payload["tagmanifest_sha256"] == hashlib.sha256(tagmanifest).hexdigest()
    assert payload["file"] == made.bundle.name and payload["case_number"] == "C-2024-17"
    assert payload["investigator"] == "Jane Doe" and payload["selection"] == {"scan": made.a}
    assert (logged.actor, logged.role) == ("Jane Doe", "investigator")
    assert "evidence export" not in reasons  # scan a's events (2-4) were already covered


def test_case_export_declares_the_deleted_scan(tmp_path, isolated_cli, monkeypatch):
    chain = populated(tmp_path / "data")
    out = tmp_path / "case.zip"
    code, stdout, stderr = export_cli(isolated_cli, monkeypatch, "--case", CASE, "--out", out,
                                      "--case-number", "7")
    assert code == 0, stderr
    assert chain.gone in stderr and "no longer in the scan store" in stderr
    files = members(out)
    assert f"Screener-Purged-Scan: {chain.gone}" in files["case/bag-info.txt"].decode()
    assert f"case/data/scans/{chain.a}.h5" in files
    assert not any(chain.gone in n for n in files if n.startswith("case/data/scans"))
    assert "not in the bundle" in files["case/data/report.html"].decode()
    kinds = [json.loads(x)["kind"] for x in files["case/data/events.jsonl"].splitlines()
             if json.loads(x).get("selected")]
    assert "case.hold" in kinds and kinds.count("screening.decision") == 2
    code, stdout, _ = verify_cli(isolated_cli, out)
    assert code == 0, stdout
    assert "1 declared no longer stored" in stdout
    # the case hold (seq 10) was not yet covered: the export signed the head first (seq
    # 15: after the accounts' events, 11-14, and the investigator's auth.login)
    lines = [json.loads(x) for x in files["case/data/events.jsonl"].splitlines()]
    assert [x["seq"] for x in lines if x["record"] == "checkpoint"] == [1, 4, 8, 15]
    assert lines[-1]["reason"] == "evidence export"


def test_events_range_export(tmp_path, isolated_cli, monkeypatch):
    populated(tmp_path / "data")
    out = tmp_path / "range.zip"
    code, stdout, stderr = export_cli(isolated_cli, monkeypatch, "--events", "5-7", "--out",
                                      out, "--case-number", "R-1", "--station", STATION)
    assert code == 0, stderr
    code, stdout, _ = verify_cli(isolated_cli, out)
    assert code == 0 and "3 of 3 exported events" in stdout


def test_unpacked_bag_folder_verifies(made, tmp_path):
    with zipfile.ZipFile(made.bundle) as zf:
        zf.extractall(tmp_path)
    assert verify_bundle(tmp_path / BAG).ok


def test_key_rotation_is_followed(tmp_path):
    home = tmp_path / "home"
    chain = populate(home)
    log = open_audit_log(home, STATION, checkpoint_every=4)
    try:
        log.rotate_key(StationKey.generate(), actor="admin", role="admin")
        log.append("case.release", {"case": CASE, "reason": "closed"}, actor="inv1",
                   role="investigator")
        export_bundle(log, select_scan(log.engine, chain.a), tmp_path / "rot.zip",
                      case_number="C-1", investigator="J", store=ScanStore(home / "scans"))
    finally:
        log.engine.dispose()
    result = verify_bundle(tmp_path / "rot.zip")
    assert result.ok, result.problems
    assert len(result.summary["keys"][STATION]) == 2


# ---------------------------------------------------------------------- tampering
TAMPERED = {
    "scan": r"data/scans/[0-9a-f]{64}\.h5",
    "events": r"data/events\.jsonl",
    "png": r"data/images/[0-9a-f]{64}-top\.png",
    "report": r"data/report\.html",
    "public key": r"data/station-key\.pem",
    "bag-info": r"bag-info\.txt",
    "bagit.txt": r"bagit\.txt",
    "manifest": r"manifest-sha256\.txt",
    "tagmanifest": r"tagmanifest-sha256\.txt",
    "signature": r"tagmanifest-sha256\.txt\.sig",
}


@pytest.mark.parametrize("what", TAMPERED)
def test_one_changed_byte_is_named(made, tmp_path, isolated_cli, what):
    files = members(made.bundle)
    name = name_of(files, TAMPERED[what])
    files[name] = flip(files[name])
    code, stdout, _ = verify_cli(isolated_cli, write_members(tmp_path / "t.zip", files))
    assert code == 1, stdout
    rel = re.escape(name.removeprefix(f"{BAG}/"))
    assert re.search(rf"(^|\s){rel}(:|\s|$)", stdout, re.MULTILINE), stdout
    assert stdout.rstrip().endswith("problem(s)") and "FAILED" in stdout


def test_a_damaged_zip_member_is_named(made, tmp_path, isolated_cli):
    """A byte flipped in the zip file itself (the scan is stored uncompressed)."""
    raw = bytearray(made.bundle.read_bytes())
    with zipfile.ZipFile(made.bundle) as zf:
        info = zf.getinfo(f"{BAG}/data/scans/{made.a}.h5")
    local = info.header_offset
    start = local + 30 + int.from_bytes(raw[local + 26:local + 28], "little") + \
        int.from_bytes(raw[local + 28:local + 30], "little")
    raw[start + info.compress_size // 2] ^= 0x01
    (tmp_path / "t.zip").write_bytes(bytes(raw))
    code, stdout, _ = verify_cli(isolated_cli, tmp_path / "t.zip")
    assert code == 1
    assert stdout.startswith(f"data/scans/{made.a}.h5: cannot be read back")


def test_an_added_file_is_named(made, tmp_path, isolated_cli):
    files = members(made.bundle)
    files[f"{BAG}/data/extra.txt"] = b"planted\n"
    code, stdout, _ = verify_cli(isolated_cli, write_members(tmp_path / "t.zip", files))
    assert code == 1
    assert "data/extra.txt: in the payload but not listed in manifest-sha256.txt" in stdout
    assert "Payload-Oxum" in stdout


def test_an_added_tag_file_is_named(made, tmp_path, isolated_cli):
    files = members(made.bundle)
    files[f"{BAG}/notes.txt"] = b"planted\n"
    code, stdout, _ = verify_cli(isolated_cli, write_members(tmp_path / "t.zip", files))
    assert code == 1 and "notes.txt: tag file not listed in tagmanifest-sha256.txt" in stdout


def test_a_removed_file_is_named(made, tmp_path, isolated_cli):
    files = members(made.bundle)
    name = name_of(files, TAMPERED["png"])
    del files[name]
    code, stdout, _ = verify_cli(isolated_cli, write_members(tmp_path / "t.zip", files))
    assert code == 1
    assert (f"{name.removeprefix(BAG + '/')}: listed in manifest-sha256.txt but missing "
            "from the bag") in stdout


def _edit_decision(files: dict[str, bytes], seq: int, rehash: bool) -> dict[str, bytes]:
    name = f"{BAG}/data/events.jsonl"
    lines = []
    for line in files[name].decode().splitlines():
        record = json.loads(line)
        if record["record"] == "event" and record["seq"] == seq:
            payload = json.loads(record["payload"])
            payload["decision"] = "clear"
            record["payload"] = json.dumps(payload, sort_keys=True, separators=(",", ":"))
            if rehash:
                fields = {k: record[k] for k in ("station", "seq", "time_utc", "actor",
                                                 "role", "kind", "payload", "scan_sha256",
                                                 "model_sha256")}
                record["hash"] = event_hash(record["prev_hash"], fields)
        lines.append(json.dumps(record, sort_keys=True, separators=(",", ":")))
    files = dict(files)
    files[name] = ("\n".join(lines) + "\n").encode()
    return files


def test_an_edited_event_is_caught_by_the_chain(made, tmp_path):
    forged = reseal(_edit_decision(members(made.bundle), made.decision_seq, rehash=False))
    result = verify_bundle(write_members(tmp_path / "t.zip", forged))
    assert not result.ok
    assert not any("differs from" in p for p in result.problems)  # the manifests pass
    assert (f"data/events.jsonl: event {STATION}#{made.decision_seq}: hash does not match "
            "its contents") in result.problems


def test_a_re_signed_forgery_is_caught(made, tmp_path):
    """The forger re-hashes the event, reseals and re-signs with a key of their own."""
    forged = reseal(_edit_decision(members(made.bundle), made.decision_seq, rehash=True),
                    key=StationKey.generate())
    result = verify_bundle(write_members(tmp_path / "t.zip", forged))
    text = "\n".join(result.problems)
    assert not any("signature over" in p for p in result.problems)  # their signature holds
    # ... but the chain does not: the checkpoint signed the original event
    assert f"checkpoint {STATION}#4: signs hash" in text
    assert f"event {STATION}#{made.decision_seq}" in text
    assert "data/station-key.pem: key" in text and "is not the key that" in text


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize("args, message", [
    (["--scan", "0" * 64], "no event in the audit log names scan"),
    (["--scan", "not-a-sha"], "is not a sha256"),
    (["--events", "500-600"], "has no event with seq 500 to 600"),
    (["--events", "7-3"], "FROM must be at least 1"),
    (["--events", "x"], "is not a range"),
    (["--case", "NO-SUCH-CASE"], "no case 'NO-SUCH-CASE'"),
])
def test_bad_selections_are_typed_errors(tmp_path, isolated_cli, monkeypatch, args,
                                        message):
    populated(tmp_path / "data")
    code, stdout, stderr = export_cli(isolated_cli, monkeypatch, *args, "--out",
                                      tmp_path / "x.zip", "--case-number", "1")
    assert code == 2 and stdout == ""
    assert stderr.startswith("screener: error: evidence export:") and message in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.zip").exists()


def test_bad_output_paths_are_typed_errors(tmp_path, isolated_cli, monkeypatch):
    chain = populated(tmp_path / "data")
    common = ["--scan", chain.a, "--case-number", "1"]
    code, _, stderr = export_cli(isolated_cli, monkeypatch, *common, "--out",
                                 tmp_path / "missing" / "x.zip")
    assert code == 2 and "does not exist" in stderr and len(stderr.splitlines()) == 1
    (tmp_path / "taken.zip").write_bytes(b"keep me")
    code, _, stderr = export_cli(isolated_cli, monkeypatch, *common, "--out",
                                 tmp_path / "taken.zip")
    assert code == 2 and "already exists" in stderr
    assert (tmp_path / "taken.zip").read_bytes() == b"keep me"
    assert not list(tmp_path.glob(".writing-*"))


def test_uncovered_events_of_another_station_are_refused(tmp_path, isolated_cli,
                                                         monkeypatch):
    chain = populated(tmp_path / "data")
    other = open_audit_log(tmp_path / "data", "station-2", checkpoint_every=100)
    other.append("screening.decision", {"decision": "clear", "marks": []}, actor="op9",
                 role="screener", scan_sha256=chain.a)
    other.engine.dispose()
    code, _, stderr = export_cli(isolated_cli, monkeypatch, "--scan", chain.a, "--out",
                                 tmp_path / "x.zip", "--case-number", "1")
    assert code == 2 and "station 'station-2'" in stderr and "not yet covered" in stderr


def test_verify_refuses_what_is_not_a_bundle(tmp_path, isolated_cli):
    (tmp_path / "plain.zip").write_bytes(b"not a zip at all")
    write_members(tmp_path / "nobag.zip", {"folder/readme.txt": b"hello"})
    for path in (tmp_path / "plain.zip", tmp_path / "nobag.zip", tmp_path / "absent.zip"):
        code, stdout, stderr = verify_cli(isolated_cli, path)
        assert code == 2 and stdout == ""
        assert stderr.startswith(f"screener: error: {path}: not an evidence bundle")
        assert len(stderr.splitlines()) == 1
    with pytest.raises(BundleUnreadableError) as caught:
        verify_bundle(tmp_path / "plain.zip")
    assert isinstance(caught.value, AuditError)


# ---------------------------------------------------------------------- pieces
def test_annotations_read_payloads_defensively(made):
    from screener.audit.chain import EventRecord

    def event(seq, kind, payload):
        return EventRecord(STATION, seq, "2024-01-01T00:00:00.000000Z", "op", "screener",
                           kind, payload, made.a, None, "0" * 64, "0" * 64)

    events = [event(1, "ai.result", json.dumps({"status": "ok", "detections": [
                  {"view": "top", "box": [1, 2, "x", 4]}, "junk",
                  {"view": "top", "box": [30, 20, 2, 3], "score": "high"}]})),
              event(2, "screening.decision", json.dumps({"marks": None, "tip": {
                  "projected": "yes"}})),
              event(5, "tip.projected", json.dumps({"fti_id": "f", "projections": [
                  {"view": "side", "box": None}, "junk"]})),
              event(3, "screening.decision", "not json"),
              event(4, "ai.result", json.dumps({"status": "unavailable"}))]
    found = scan_annotations(events, made.a)
    assert [a.box for a in found.boxes] == [(2.0, 3.0, 30.0, 20.0)]  # corners sorted
    assert any("2 without a usable box" in n for n in found.notes)
    assert any("TIP image f" in n and "2 box(es) unusable" in n for n in found.notes)
    tip = [event(6, "tip.projected", json.dumps({"fti_id": "fti-9", "category": "gun",
                                                 "projections": [{"view": "side",
                                                                  "box": [5, 5, 20, 20]}]})),
           event(7, "screening.decision", json.dumps({
               "decision": "clear", "marks": [],
               "tip": {"projected": True, "fti_id": "fti-9"}})),
           event(8, "tip.outcome", json.dumps({"outcome": "miss", "operator": "op"}))]
    framed = scan_annotations(tip, made.a)
    assert [(a.kind, a.view, a.box) for a in framed.boxes] == \
        [("tip", "side", (5.0, 5.0, 20.0, 20.0))]
    assert any("TIP image fti-9 on screen" in n for n in framed.notes)
    assert any("TIP trial: miss" in n for n in framed.notes)
    assert any("AI unavailable" in n for n in found.notes)
    import numpy as np

    image = annotate_view(np.zeros((40, 64, 4), np.uint8), "top", found.boxes, ["t"],
                          found.notes)
    assert image.ndim == 3 and image.shape[1] >= 64 * 9


def test_bag_writer_refuses_unsafe_names(tmp_path):
    with ZipBagWriter(tmp_path / "w.zip", "bag") as writer, pytest.raises(ValueError):
        writer.add_payload("../escape.txt", b"x")


@pytest.mark.parametrize("endorser", ["old", "other"])
def test_a_rotation_must_be_endorsed_by_the_key_it_replaces(endorser):
    from screener.audit.chain import (
        GENESIS_PREV_HASH,
        KIND_GENESIS,
        KIND_KEY_ROTATED,
        CheckpointRecord,
        EventRecord,
        checkpoint_message,
        rotation_message,
    )
    from screener.audit.evidence.proof import Chain, check_chain

    old, new, other = (StationKey.generate() for _ in range(3))
    events: dict[tuple[str, int], EventRecord] = {}
    prev = GENESIS_PREV_HASH
    signer = {"old": old, "other": other}[endorser]
    for seq, kind, payload in (
            (1, KIND_GENESIS, {"public_key": old.public_hex, "fingerprint": old.fingerprint}),
            (2, KIND_KEY_ROTATED, {"public_key": new.public_hex, "endorsement": signer.sign(
                rotation_message(STATION, new.public_hex))}),
            (3, "screening.decision", {"decision": "clear"})):
        fields = {"station": STATION, "seq": seq, "time_utc": "2024-01-01T00:00:00.000000Z",
                  "actor": "system", "role": "system", "kind": kind,
                  "payload": json.dumps(payload, sort_keys=True, separators=(",", ":")),
                  "scan_sha256": None, "model_sha256": None}
        record = EventRecord(**fields, prev_hash=prev, hash=event_hash(prev, fields))
        events[(STATION, seq)] = record
        prev = record.hash
    checkpoints = {}
    for seq, key in ((1, old), (2, old), (3, new)):  # a rotation's own checkpoint: old key
        fields = {"station": STATION, "genesis_hash": events[(STATION, 1)].hash, "seq": seq,
                  "time_utc": "2024-01-01T00:00:00.000000Z",
                  "head_hash": events[(STATION, seq)].hash, "reason": "test",
                  "key_fingerprint": key.fingerprint}
        checkpoints[(STATION, seq)] = CheckpointRecord(
            **fields, signature=key.sign(checkpoint_message(fields)))
    check = check_chain("events.jsonl", Chain(events, [(STATION, 3)], checkpoints))
    if endorser == "old":
        assert check.problems == [] and (STATION, 3) in check.proven
        assert check.active_key(STATION) == new.public_hex
    else:
        assert f"events.jsonl: event {STATION}#2: key rotation not endorsed by the key it " \
               "replaces" in check.problems
        # ... so the new key is unknown and the checkpoint it signed does not verify
        assert any(p.startswith(f"events.jsonl: checkpoint {STATION}#3: names key")
                   for p in check.problems)


# ---------------------------------------------------------------------- site checkpoints
OTHER = "station-2"
SITE = f"{BAG}/data/site-checkpoints.json"


def _site_checkpoint(home: Path, key: StationKey):
    from screener.audit.database import create_audit_engine
    from screener.audit.site import make_site_checkpoint

    engine = create_audit_engine(f"sqlite:///{home / 'audit.sqlite'}", create=False)
    try:
        return make_site_checkpoint(engine, key)
    finally:
        engine.dispose()


def _other_station(home: Path, sha: str, extra: int = 0) -> None:
    """station-2 decides on scan ``sha``, writes ``extra`` events more, signs its head."""
    other = open_audit_log(home, OTHER, checkpoint_every=3)
    other.append("screening.decision", {"decision": "clear", "marks": []}, actor="op9",
                 role="screener", scan_sha256=sha)
    for i in range(extra):
        other.append("operator.note", {"i": i}, actor="op9", role="screener")
    other.close("shift end")


@pytest.fixture(scope="module")
def site_made(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Two stations in one database and four bundles of scan a, exported by station-1:
    ``none`` before any site checkpoint; ``one`` after site checkpoint 1; ``tail`` after
    station-2 decided on the scan again (not yet covered); ``two`` after site
    checkpoint 2."""
    root = tmp_path_factory.mktemp("site")
    chain = populate(root / "home")
    home = chain.home
    # station-2: genesis #1, decision #2, notes #3-#5; checkpoints 1, 3 and 5 (shift end)
    _other_station(home, chain.a, extra=3)
    chain.site_key = StationKey.generate()
    chain.station_key = load_key(key_path(home, STATION))
    bundles = {}
    for name in ("none", "one", "tail", "two"):
        if name == "one":
            chain.first = _site_checkpoint(home, chain.site_key)
        elif name == "tail":
            _other_station(home, chain.a)  # station-2 #6, after site checkpoint 1
        elif name == "two":
            chain.second = _site_checkpoint(home, chain.site_key)
        (root / name).mkdir()
        bundles[name] = root / name / f"{BAG}.zip"
        export_scan(home, chain.a, bundles[name])
    chain.bundles = bundles
    return chain


def _site_doc(path: Path) -> dict:
    return json.loads(members(path)[SITE])


def test_site_bundle_layout(site_made):
    first = site_made.first
    assert [(h.station, h.seq) for h in first.heads] == [(STATION, 11), (OTHER, 5)]
    files = members(site_made.bundles["one"])
    info = files[f"{BAG}/bag-info.txt"].decode()
    fp = site_made.site_key.fingerprint
    assert f"\nScreener-Site-Key-Fingerprint: {fp}\n" in info
    assert ("Screener-Site-Checkpoints: 1, covering 4 of 4 exported event(s) "
            "(data/site-checkpoints.json)") in info
    assert "  data/site-checkpoints.json\n" in files[f"{BAG}/manifest-sha256.txt"].decode()
    doc = json.loads(files[SITE])
    (stored,) = doc["site_checkpoints"]
    assert stored == {**first.signed_fields(), "public_key": first.public_key,
                      "signature": first.signature}
    heads = {h["head"]["station"]: h for h in doc["heads"]}
    assert heads[STATION]["head"] == first.head_of(STATION).as_dict()
    assert [h["site_checkpoint"] for h in doc["heads"]] == [1, 1]
    # the documented check by hand: the head's leaf, up through the proof, is the root
    for entry in doc["heads"]:
        node = hashlib.sha256(b"\x00" + json.dumps(
            entry["head"], sort_keys=True, separators=(",", ":")).encode()).digest()
        for side, sibling in entry["proof"]:
            pair = (bytes.fromhex(sibling) + node if side == "L"
                    else node + bytes.fromhex(sibling))
            node = hashlib.sha256(b"\x01" + pair).digest()
        assert node.hex() == stored["root"]
    # the links from the exported events up to the heads, not already in events.jsonl:
    # station-1 #2-4 are proven by checkpoint 4, so #5-#11; station-2 #2 by checkpoint 3
    in_events = {(x["station"], x["seq"]) for x in map(json.loads, files[
        f"{BAG}/data/events.jsonl"].splitlines()) if x["record"] == "event"}
    links = [(x["station"], x["seq"]) for x in doc["links"]]
    assert links == [(STATION, s) for s in range(5, 12)] + [(OTHER, 4), (OTHER, 5)]
    assert not set(links) & in_events
    assert [s["not_yet_covered"] for s in doc["stations"]] == [[], []]
    report = files[f"{BAG}/data/report.html"].decode()
    assert "Site key fingerprint" in report and fp in report
    assert "Site checkpoints" in report and "not yet covered" not in report


def test_site_bundle_verifies_and_names_the_covering_site_checkpoint(site_made,
                                                                     isolated_cli):
    bundle = site_made.bundles["one"]
    fp = site_made.site_key.fingerprint
    code, stdout, _ = verify_cli(isolated_cli, bundle)
    assert code == 0, stdout
    assert (f"  site checkpoints: 1, signed by site key {display_fingerprint(fp)} (compare "
            "with the site's published fingerprint, or pass --site-fingerprint)") in stdout
    assert (f"    station {STATION}: 3 of 3 exported event(s) covered by site checkpoint 1 "
            f"(head {STATION}#11)") in stdout
    assert (f"    station {OTHER}: 1 of 1 exported event(s) covered by site checkpoint 1 "
            f"(head {OTHER}#5)") in stdout
    code, stdout, _ = isolated_cli("evidence", "verify", bundle, "--site-fingerprint",
                                   fp.upper())
    assert code == 0 and "(the expected site key (--site-fingerprint))" in stdout
    site = verify_bundle(bundle, site_fingerprint=fp).summary["site"]
    assert site["checkpoints"] == [1] and site["key_fingerprints"] == [fp]
    assert site["stations"][OTHER]["covered_by"] == [
        {"site_checkpoint": 1, "head_seq": 5, "events": [2]}]


def test_export_before_any_site_checkpoint_says_none_cover_it(site_made, isolated_cli):
    bundle = site_made.bundles["none"]
    files = members(bundle)
    assert ("Screener-Site-Checkpoints: none: no site checkpoint covers the 4 exported "
            "event(s) yet") in files[f"{BAG}/bag-info.txt"].decode()
    assert "Screener-Site-Key-Fingerprint" not in files[f"{BAG}/bag-info.txt"].decode()
    assert "not yet covered by a site checkpoint" in files[f"{BAG}/data/report.html"].decode()
    code, stdout, _ = verify_cli(isolated_cli, bundle)
    assert code == 0, stdout
    assert "  site checkpoints: none\n" in stdout
    assert (f"    station {STATION}: 3 exported event(s) not yet covered by a site "
            f"checkpoint (from {STATION}#2: no site checkpoint has recorded this station "
            "yet)") in stdout
    assert f"    station {OTHER}: 1 exported event(s) not yet covered" in stdout
    assert verify_bundle(bundle).summary["site"]["checkpoints"] == []


def test_events_after_the_last_site_checkpoint_are_not_yet_covered(site_made,
                                                                  isolated_cli):
    bundle = site_made.bundles["tail"]
    code, stdout, _ = verify_cli(isolated_cli, bundle)
    assert code == 0, stdout
    assert (f"    station {OTHER}: 1 of 2 exported event(s) covered by site checkpoint 1 "
            f"(head {OTHER}#5); 1 exported event(s) not yet covered by a site checkpoint "
            f"(from {OTHER}#6: after the last site checkpoint, 1, head {OTHER}#5)") in stdout
    info = members(bundle)[f"{BAG}/bag-info.txt"].decode()
    assert f"not yet covered: 1 of station {OTHER} (from seq 6)" in info
    assert f"station {OTHER} (from seq 6) are not yet covered" in members(bundle)[
        f"{BAG}/data/report.html"].decode()
    assert verify_bundle(bundle).summary["site"]["stations"][OTHER]["not_yet_covered"] == [6]


def test_each_event_is_covered_by_the_earliest_site_checkpoint(site_made, isolated_cli):
    assert site_made.second.head_of(OTHER).seq == 6
    bundle = site_made.bundles["two"]
    code, stdout, _ = verify_cli(isolated_cli, bundle)
    assert code == 0, stdout
    assert "  site checkpoints: 1, 2, signed by site key" in stdout
    assert (f"    station {OTHER}: 2 of 2 exported event(s) covered by site checkpoint 1 "
            f"(head {OTHER}#5), 2 (head {OTHER}#6)") in stdout
    assert f"    station {STATION}: 3 of 3 exported event(s) covered by site checkpoint 1 " \
        in stdout


def test_a_single_station_bundle_has_no_site_checkpoints(made, isolated_cli):
    assert not any(n.endswith("site-checkpoints.json") for n in members(made.bundle))
    code, stdout, _ = verify_cli(isolated_cli, made.bundle)
    assert code == 0 and stdout.rstrip().endswith("site checkpoints: none")
    assert verify_bundle(made.bundle).summary["site"] == {
        "checkpoints": [], "key_fingerprints": [], "pinned": None, "stations": {}}


def _head_entry(doc: dict, station: str) -> dict:
    return next(h for h in doc["heads"] if h["head"]["station"] == station)


def _flip_hex(text: str, at: int = 0) -> str:
    return text[:at] + format(int(text[at], 16) ^ 0x1, "x") + text[at + 1:]


def _resign(key: StationKey):
    def edit(doc: dict) -> None:
        from screener.audit.site import site_message

        (cp,) = doc["site_checkpoints"]
        cp["root"] = hashlib.sha256(b"another site").hexdigest()
        signed = {k: cp[k] for k in ("number", "time_utc", "previous", "root", "stations",
                                     "key_fingerprint")}
        cp["signature"] = key.sign(site_message(signed))
    return edit


def _other_key(doc: dict) -> None:
    from screener.audit.site import site_message

    key = StationKey.generate()
    (cp,) = doc["site_checkpoints"]
    cp.update(public_key=key.public_hex, key_fingerprint=key.fingerprint)
    signed = {k: cp[k] for k in ("number", "time_utc", "previous", "root", "stations",
                                 "key_fingerprint")}
    cp["signature"] = key.sign(site_message(signed))


def _drop_link(station: str, seq: int):
    def edit(doc: dict) -> None:
        doc["links"] = [x for x in doc["links"] if (x["station"], x["seq"]) != (station, seq)]
    return edit


def _edit_link(doc: dict) -> None:
    link = next(x for x in doc["links"] if (x["station"], x["seq"]) == (STATION, 7))
    link["actor"] = "someone else"


def _proof_step(doc: dict) -> None:
    step = _head_entry(doc, OTHER)["proof"][0]
    step[1] = _flip_hex(step[1], 5)


def _proof_side(doc: dict) -> None:
    step = _head_entry(doc, OTHER)["proof"][0]
    step[0] = {"L": "R", "R": "L"}[step[0]]


def _claim_uncovered(doc: dict) -> None:
    next(s for s in doc["stations"] if s["station"] == OTHER)["not_yet_covered"] = [2]


SITE_TAMPERED = {
    "signature byte": (
        lambda doc: doc["site_checkpoints"][0].update(
            signature=_flip_hex(doc["site_checkpoints"][0]["signature"], 10)),
        ["data/site-checkpoints.json: site checkpoint 1: signature does not verify with its "
         "site key"]),
    "edited head": (
        lambda doc: _head_entry(doc, STATION)["head"].update(head_hash="ab" * 32),
        [f"data/site-checkpoints.json: site checkpoint 1, station {STATION}: head "
         f"{STATION}#11 and its inclusion proof (1 step(s)) give root",
         f"data/site-checkpoints.json: site checkpoint 1, station {STATION}: records hash "
         f"abababababababab... at seq 11, but event {STATION}#11 has hash"]),
    "proof step": (
        _proof_step,
        [f"data/site-checkpoints.json: site checkpoint 1, station {OTHER}: head {OTHER}#5 "
         "and its inclusion proof (1 step(s)) give root"]),
    "proof side": (
        _proof_side,
        [f"data/site-checkpoints.json: site checkpoint 1, station {OTHER}: head {OTHER}#5 "
         "and its inclusion proof (1 step(s)) give root"]),
    "re-signed root": (
        None,  # filled in by the test: needs the site key
        [f"data/site-checkpoints.json: site checkpoint 1, station {STATION}: head "
         f"{STATION}#11 and its inclusion proof (1 step(s)) give root",
         f"data/site-checkpoints.json: site checkpoint 1, station {OTHER}: head {OTHER}#5"]),
    "another site key": (
        _other_key,
        ["bag-info.txt: Screener-Site-Key-Fingerprint is not the fingerprint of the site key "
         "in data/site-checkpoints.json"]),
    "missing link": (
        _drop_link(STATION, 7),
        [f"data/site-checkpoints.json: event {STATION}#7 is missing: it links event "
         f"{STATION}#2 to the head of site checkpoint 1 ({STATION}#11)"]),
    "edited link": (
        _edit_link,
        [f"data/site-checkpoints.json: event {STATION}#7: hash does not match its contents"]),
    "false claim": (
        _claim_uncovered,
        [f"data/site-checkpoints.json: station {OTHER}: says {OTHER}#2 not yet covered by a "
         "site checkpoint, but its heads leave no event uncovered"]),
}


@pytest.mark.parametrize("what", SITE_TAMPERED)
def test_a_tampered_site_proof_is_named(site_made, tmp_path, isolated_cli, what):
    """Each edit is resealed and re-signed with the station's own key, as a forger holding
    it would: only the site checks can catch it."""
    edit, messages = SITE_TAMPERED[what]
    if edit is None:
        edit = _resign(site_made.site_key)
    files = members(site_made.bundles["one"])
    doc = json.loads(files[SITE])
    edit(doc)
    files[SITE] = json.dumps(doc, indent=1).encode()
    forged = write_members(tmp_path / "t.zip", reseal(files, key=site_made.station_key))
    code, stdout, _ = verify_cli(isolated_cli, forged)
    assert code == 1, stdout
    for message in messages:
        assert message in stdout, stdout
    assert "differs from" not in stdout and "signature over" not in stdout  # resealed
    assert stdout.rstrip().endswith("problem(s)") and "FAILED" in stdout
    if what != "signature byte":  # the site signature still holds: another check caught it
        assert "signature does not verify" not in stdout


def test_a_stripped_site_file_is_named(site_made, tmp_path, isolated_cli):
    files = members(site_made.bundles["one"])
    del files[SITE]
    forged = write_members(tmp_path / "t.zip", reseal(files, key=site_made.station_key))
    code, stdout, _ = verify_cli(isolated_cli, forged)
    assert code == 1
    assert ("data/site-checkpoints.json: missing, but bag-info.txt says the bundle holds "
            "site checkpoints") in stdout


def test_a_site_key_other_than_the_expected_one_is_named(site_made, made, isolated_cli,
                                                        tmp_path):
    fp = site_made.site_key.fingerprint
    other = "ab" * 32
    code, stdout, _ = isolated_cli("evidence", "verify", site_made.bundles["one"],
                                   "--site-fingerprint", other)
    assert code == 1
    assert (f"data/site-checkpoints.json: site checkpoint 1: signed by site key "
            f"{display_fingerprint(fp)}, not by the expected site key "
            f"{display_fingerprint(other)} (--site-fingerprint)") in stdout
    # a forger holding the station key re-signs the site checkpoint with a key of their
    # own and names it in bag-info: consistent, so only the pinned site key tells
    files = members(site_made.bundles["one"])
    doc = json.loads(files[SITE])
    _other_key(doc)
    forged_fp = doc["site_checkpoints"][0]["key_fingerprint"]
    files[SITE] = json.dumps(doc).encode()
    files[f"{BAG}/bag-info.txt"] = files[f"{BAG}/bag-info.txt"].replace(
        fp.encode(), forged_fp.encode())
    forged = write_members(tmp_path / "t.zip", reseal(files, key=site_made.station_key))
    code, stdout, _ = verify_cli(isolated_cli, forged)
    assert code == 0 and f"signed by site key {display_fingerprint(forged_fp)}" in stdout
    code, stdout, _ = isolated_cli("evidence", "verify", forged, "--site-fingerprint", fp)
    assert code == 1
    assert (f"site checkpoint 1: signed by site key {display_fingerprint(forged_fp)}, not by "
            f"the expected site key {display_fingerprint(fp)} (--site-fingerprint)") in stdout
    # a pinned site key needs a site checkpoint to check against
    code, stdout, _ = isolated_cli("evidence", "verify", site_made.bundles["none"],
                                   "--site-fingerprint", fp)
    assert code == 1 and "data/site-checkpoints.json: holds no site checkpoint" in stdout
    code, stdout, _ = isolated_cli("evidence", "verify", made.bundle, "--site-fingerprint",
                                   fp)
    assert code == 1 and "data/site-checkpoints.json: missing: the bundle holds no" in stdout
    code, stdout, stderr = isolated_cli("evidence", "verify", made.bundle,
                                        "--site-fingerprint", "xyz")
    assert code == 2 and stdout == "" and "--site-fingerprint 'xyz'" in stderr
    assert len(stderr.splitlines()) == 1


# ---------------------------------------------------------------------- site key rotation
@pytest.fixture(scope="module")
def site_rotated(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Two stations; site checkpoints 1 and 2 by key A, then A hands over to B (site
    checkpoint 3 by B); one bundle of scan a exported after that: its events are covered
    by site checkpoint 1, signed by A, while the site now pins B."""
    from screener.audit.database import create_audit_engine
    from screener.audit.site import rotate_site_key

    root = tmp_path_factory.mktemp("site-rotated")
    chain = populate(root / "home")
    home = chain.home
    _other_station(home, chain.a, extra=3)
    chain.old_key, chain.new_key = StationKey.generate(), StationKey.generate()
    chain.station_key = load_key(key_path(home, STATION))
    _site_checkpoint(home, chain.old_key)
    _site_checkpoint(home, chain.old_key)  # A's last before the hand-over: a link to carry
    engine = create_audit_engine(f"sqlite:///{home / 'audit.sqlite'}", create=False)
    try:
        chain.rotation, _ = rotate_site_key(engine, chain.old_key, chain.new_key)
    finally:
        engine.dispose()
    chain.bundle = root / f"{BAG}.zip"
    export_scan(home, chain.a, chain.bundle)
    return chain


def test_a_bundle_signed_before_a_site_key_rotation_verifies_against_the_new_key(
        site_rotated, isolated_cli):
    old, new = site_rotated.old_key.fingerprint, site_rotated.new_key.fingerprint
    doc = _site_doc(site_rotated.bundle)
    assert [cp["key_fingerprint"] for cp in doc["site_checkpoints"]] == [old]
    assert [r["new_fingerprint"] for r in doc["key_rotations"]] == [new]
    assert [cp["number"] for cp in doc["hand_over_links"]] == [2]  # 1 -> 2, A's last
    for pinned in (new, old):
        code, stdout, _ = isolated_cli("evidence", "verify", site_rotated.bundle,
                                       "--site-fingerprint", pinned)
        assert code == 0, stdout
        assert ("(the expected site key (--site-fingerprint), through 1 site key "
                "rotation(s) signed by both keys") in stdout
        if pinned == old:  # a check pinned to a retired key is told to pin the new one
            assert (f"the pinned key was handed over since: pin the current site key "
                    f"{display_fingerprint(new)}") in stdout
    code, stdout, _ = isolated_cli("evidence", "verify", site_rotated.bundle,
                                   "--site-fingerprint", "ab" * 32)
    assert code == 1 and "not by the expected site key" in stdout


def test_a_thief_of_a_retired_site_key_cannot_forge_its_history(site_rotated, tmp_path,
                                                               isolated_cli):
    """Key A leaked after it handed over to B. The thief re-signs site checkpoint 1 with A
    over another root: its signature holds and A is in the key schedule, but it no longer
    leads to the checkpoint the hand-over names. Dropping the links fails the same way."""
    from screener.audit.site import site_message

    new = site_rotated.new_key.fingerprint
    problem = ("data/site-checkpoints.json: site checkpoint 1: signed by a key later handed "
               "over, but it does not lead by 'previous' digests to site checkpoint 2")

    def resign_with_old_key(doc: dict) -> None:
        (cp,) = doc["site_checkpoints"]
        cp["time_utc"] = "2026-01-01T00:00:00.000000Z"
        signed = {k: cp[k] for k in ("number", "time_utc", "previous", "root", "stations",
                                     "key_fingerprint")}
        cp["signature"] = site_rotated.old_key.sign(site_message(signed))

    forged = _forged_rotation(site_rotated, tmp_path, resign_with_old_key)
    code, stdout, _ = isolated_cli("evidence", "verify", forged, "--site-fingerprint", new)
    assert code == 1 and problem in stdout, stdout
    assert "signature does not verify" not in stdout
    unlinked = _forged_rotation(site_rotated, tmp_path, lambda doc: doc.pop("hand_over_links"))
    code, stdout, _ = isolated_cli("evidence", "verify", unlinked, "--site-fingerprint", new)
    assert code == 1 and problem in stdout, stdout


def _forged_rotation(site_rotated, tmp_path: Path, edit) -> Path:
    files = members(site_rotated.bundle)
    doc = json.loads(files[SITE])
    edit(doc)
    files[SITE] = json.dumps(doc, indent=1).encode()
    return write_members(tmp_path / "t.zip", reseal(files, key=site_rotated.station_key))


def test_a_bundle_whose_rotation_was_forged_or_dropped_fails_against_the_new_key(
        site_rotated, tmp_path, isolated_cli):
    """Resealed and re-signed with the station key, as a forger holding it would: only
    the rotation's own signatures and the pinned key can tell."""
    old, new = site_rotated.old_key.fingerprint, site_rotated.new_key.fingerprint
    expected_problem = (f"site checkpoint 1: signed by site key {display_fingerprint(old)}, "
                        f"not by the expected site key {display_fingerprint(new)}")

    def flip_acceptance(doc: dict) -> None:
        rotation = doc["key_rotations"][0]
        rotation["acceptance"] = _flip_hex(rotation["acceptance"], 4)

    forged = _forged_rotation(site_rotated, tmp_path, flip_acceptance)
    code, stdout, _ = isolated_cli("evidence", "verify", forged, "--site-fingerprint", new)
    assert code == 1
    assert ("data/site-checkpoints.json: site key rotation 1: its acceptance does not "
            "verify with the new key") in stdout
    assert expected_problem in stdout
    dropped = _forged_rotation(site_rotated, tmp_path, lambda doc: doc.pop("key_rotations"))
    code, stdout, _ = isolated_cli("evidence", "verify", dropped, "--site-fingerprint", new)
    assert code == 1 and expected_problem in stdout
    code, stdout, _ = isolated_cli("evidence", "verify", dropped, "--site-fingerprint", old)
    assert code == 0, stdout  # pinned to A, A's own checkpoint needs no rotation
    broken = _forged_rotation(site_rotated, tmp_path,
                              lambda doc: doc["key_rotations"][0].pop("endorsement"))
    code, stdout, _ = verify_cli(isolated_cli, broken)
    assert code == 1
    assert "data/site-checkpoints.json: key rotation entry 1 has no 'endorsement'" in stdout
