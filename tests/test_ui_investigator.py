"""The investigator's view (issue 7, item 5): event search (decision, operator, scan
prefix; a bad field named next to it), chain verification (OK, then a tampered row
located by seq), the exact image of a decision with its marks and AI boxes (and a TIP
bag's FTI frame), evidence export to a zip the offline verifier accepts, legal holds, and
a refusal for another role. ``SCREENER_UPDATE_SCREENSHOTS=1`` also writes
docs/screenshots/investigator-view.png."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from audit_helpers import attacker
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from screener.accounts.users import Accounts
from screener.audit.chain import EventRecord
from screener.audit.evidence import verify_bundle
from screener.audit.log import open_audit_log
from screener.audit.query import events_in_range
from screener.audit.verify import Fault
from screener.config import Settings
from screener.scan.store import ScanStore
from screener.ui.app import ensure_app
from screener.ui.context import ViewContext
from screener.ui.event_search import build_search, summarise
from screener.ui.evidence_image import scan_overlay
from screener.ui.investigator_view import CHAIN_TAB, EVIDENCE_TAB, InvestigatorView
from screener.workflow.roles import KIND_AUTH_DENIED, Role
from screener.workflow.session import Operator
from screener.workflow.simulation import SimulationPlan, run_simulation

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DOCS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
MAX_BYTES = 500 * 1024
STATION = "inv-station"
PASSWORD = "correct horse 7"
WAIT = 30_000


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A station home after a small simulated shift, made once: three bags, two screeners,
    one bag called suspect with a mark and AI boxes."""
    home = tmp_path_factory.mktemp("investigator") / "home"
    log = open_audit_log(home, STATION, checkpoint_every=100)
    run_simulation(log, ScanStore(home / "scans"),
                   SimulationPlan(bags=3, operators=2, seed=3, pool=3, threat_fraction=0.67),
                   lane="lane-1")
    accounts = Accounts(log)
    chief = accounts.create_first_admin("chief", PASSWORD)
    accounts.create(Operator(chief.user_id, Role.ADMIN), "inv1", Role.INVESTIGATOR, PASSWORD)
    events = events_in_range(log.engine, STATION, 1, 10**6)
    log.close("test setup")
    return SimpleNamespace(home=home, events=events)


def decisions(events: list[EventRecord], answer: str) -> list[EventRecord]:
    return [e for e in events if e.kind == "screening.decision"
            and json.loads(e.payload)["decision"] == answer]


@pytest.fixture
def station(template: SimpleNamespace, tmp_path: Path):
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    settings = Settings(home=home, station=STATION)
    log = open_audit_log(home, STATION, checkpoint_every=100)
    yield SimpleNamespace(home=home, settings=settings, log=log,
                          store=ScanStore(home / "scans"), events=template.events)
    log.engine.dispose()


@pytest.fixture
def make_view(qapp, qtbot, station):
    ensure_app()
    made: list[InvestigatorView] = []

    def make(role: Role = Role.INVESTIGATOR, user: str = "inv1") -> InvestigatorView:
        context = ViewContext(station.settings, station.log, Accounts(station.log),
                              Operator(user, role), station.store)
        view = InvestigatorView(context)
        qtbot.addWidget(view)
        view.resize(1600, 900)
        view.show()
        view.activateWindow()
        qtbot.waitExposed(view)
        qtbot.waitUntil(lambda: QApplication.activeWindow() is view)  # shortcuts work
        made.append(view)
        return view

    yield make
    for view in made:
        view.wait_idle()


def search(qtbot, view: InvestigatorView, **fields: str) -> list[EventRecord]:
    panel = view.search
    panel.reset()
    for name, text in fields.items():
        if name == "decision":
            panel.decision.setCurrentIndex(panel.decision.findData(text))
        elif name in ("station", "kind"):
            getattr(panel, name).setEditText(text)
        else:
            getattr(panel, name).setText(text)
    with qtbot.waitSignal(panel.search_done, timeout=WAIT):
        qtbot.keyClick(panel.actor, Qt.Key.Key_Return)  # Enter in any field searches
    return list(panel.model.events)


def logged(station: SimpleNamespace, kind: str) -> list[EventRecord]:
    return [e for e in events_in_range(station.log.engine, STATION, 1, 10**6) if e.kind == kind]


# ---------------------------------------------------------------------- search
def test_search_by_decision_operator_and_scan_prefix(make_view, qtbot, station):
    view = make_view()
    (suspect,) = decisions(station.events, "suspect")
    found = search(qtbot, view, decision="suspect")
    assert [(e.station, e.seq) for e in found] == [(STATION, suspect.seq)]
    assert view.search.model.data(view.search.model.index(0, 6)).startswith("SUSPECT")

    by_op = search(qtbot, view, actor="sim-op-2")
    assert by_op and {e.actor for e in by_op} == {"sim-op-2"}
    assert [e.kind for e in by_op] == ["session.ended", "screening.decision",
                                       "session.started"]  # newest first

    prefix = suspect.scan_sha256[:8].upper()  # any case: the form lower-cases it
    by_scan = search(qtbot, view, scan=prefix)
    assert {e.kind for e in by_scan} == {"scan.received", "ai.result", "screening.decision"}
    assert {e.scan_sha256 for e in by_scan} == {suspect.scan_sha256}
    assert view.search.errors["scan_sha256"].isHidden()


def test_a_bad_field_is_named_next_to_it_and_nothing_is_searched(make_view, qtbot):
    view = make_view()
    panel = view.search
    panel.scan.setText("xyz123")
    panel.search_button.click()
    error = panel.errors["scan_sha256"]
    assert error.isVisible() and "hex" in error.text()
    assert panel.scan.property("invalid") is True
    assert panel.last_search is None and panel.model.rowCount() == 0
    assert panel.status.level == "error"

    panel.scan.clear()
    panel.since.setText("yesterday")
    panel.search_button.click()
    assert panel.errors["since"].isVisible() and "not a time" in panel.errors["since"].text()
    assert not panel.errors["scan_sha256"].isVisible()


def test_form_times_and_summaries():
    wanted = build_search(since="2026-03-03 08:00", until="2026-03-03", kinds="ai.result")
    assert wanted.since == "2026-03-03T08:00:00.000000Z"
    assert wanted.before == "2026-03-04T00:00:00.000000Z"  # a day alone: all of it
    assert wanted.kinds == ("ai.result",)
    event = EventRecord("s", 4, "2026-03-03T08:00:00.000000Z", "op", "screener",
                        "screening.decision", json.dumps(
                            {"decision": "suspect", "marks": [{"view": "top",
                                                               "box": [1, 2, 3, 4]}],
                             "response_ms": 2100, "tip": {"projected": True,
                                                          "fti_id": "fti-9"}}),
                        None, None, "0" * 64, "1" * 64)
    assert summarise(event) == "SUSPECT · 1 mark(s) · 2100 ms · TIP fti-9"
    handed = EventRecord("s", 5, "2026-03-03T08:01:00.000000Z", "chief", "admin",
                         "site.key_rotated",
                         json.dumps({"rotation": 1, "fingerprint": "ab12" * 16}),
                         None, None, "1" * 64, "2" * 64)
    assert summarise(handed) == "site key handed over to ab12 ab12 ab12 ab12"


# ---------------------------------------------------------------------- chain
def test_verify_shows_ok_then_the_tampered_row(make_view, qtbot, station):
    view = make_view()
    view.show_tab(CHAIN_TAB)
    chain = view.chain
    assert chain.fingerprint.text().replace(" ", "") == station.log.key.fingerprint[:32]
    with qtbot.waitSignal(chain.verified, timeout=WAIT) as first:
        qtbot.keyClick(view.focusWidget() or view, Qt.Key.Key_F5)
    assert first.args[0].ok
    assert chain.status.level == "ok" and "OK" in chain.status.text()
    assert view.chain_chip.level == "ok"
    assert chain.model.data(chain.model.index(0, 1)) == "OK"
    assert chain.progress.value() == chain.progress.maximum()

    (suspect,) = decisions(station.events, "suspect")
    conn = attacker(station.home)
    conn.execute("UPDATE events SET payload = ? WHERE seq = ?",
                 ('{"decision":"clear","marks":[]}', suspect.seq))
    conn.close()
    with qtbot.waitSignal(chain.verified, timeout=WAIT) as second:
        chain.verify_button.click()
    (report,) = second.args[0].reports
    assert report.first.seq == suspect.seq and report.first.fault is Fault.PAYLOAD_CHANGED
    assert chain.status.level == "error" and f"seq {suspect.seq}" in chain.status.text()
    assert chain.model.data(chain.model.index(0, 1)) == "TAMPERED"
    assert chain.model.data(chain.model.index(0, 6)).startswith(
        f"seq {suspect.seq} · payload changed")
    assert view.chain_chip.level == "error"


# ---------------------------------------------------------------------- the image
def test_exact_image_shows_the_decision_with_its_marks_and_ai_boxes(make_view, qtbot,
                                                                    station):
    view = make_view()
    (suspect,) = decisions(station.events, "suspect")
    with qtbot.waitSignal(view.image.shown, timeout=WAIT) as shown:
        search(qtbot, view, decision="suspect")  # the first row is selected
    image = shown.args[0]
    assert image.overlay.decision == suspect and image.missing is None
    payload = json.loads(suspect.payload)
    ai = next(e for e in station.events if e.kind == "ai.result"
              and e.scan_sha256 == suspect.scan_sha256)
    detections = json.loads(ai.payload)["detections"]
    canvases = view.image.visible_canvases()
    assert [c.view_name for c in canvases] == list(image.view_names) == ["top", "side"]
    for canvas in canvases:
        assert canvas.image_key is not None and not canvas.marking_enabled
        assert canvas.marks == [tuple(m["box"]) for m in payload["marks"]
                                if m["view"] == canvas.view_name]
        assert len(canvas.boxes) == sum(d["view"] == canvas.view_name for d in detections)
    assert sum(len(c.marks) for c in canvases) == len(payload["marks"]) >= 1
    assert "SUSPECT" in view.image.legend.text() and "sim-op-1" in view.image.legend.text()
    assert view.image.status.level == "ok"

    # an event naming no scan clears the image
    view.image.show_event(next(e for e in station.events if e.kind == "session.started"))
    assert not view.image.visible_canvases() and "names no scan" in view.image.status.text()


def test_tip_bag_frames_the_fti_from_tip_projected():
    scan = "ab" * 32
    rows = [("scan.received", {"source": "belt", "bag_id": "B1", "views": ["top"]}),
            ("tip.projected", {"fti_id": "fti-0042", "category": "gun", "projections": [
                {"view": "top", "box": [10, 12, 40, 30]}, {"view": "side", "box": "bad"}]}),
            ("ai.result", {"status": "ok", "detector": "d", "detections": [
                {"view": "top", "box": [11, 13, 39, 29], "label": "handgun",
                 "category": "gun", "score": 0.8}]}),
            ("screening.decision", {"decision": "suspect", "marks": [
                {"view": "top", "box": [9, 11, 41, 31]}], "response_ms": 1500,
                "tip": {"projected": True, "fti_id": "fti-0042"}}),
            ("tip.outcome", {"outcome": "hit", "fti_id": "fti-0042"}),
            ("ai.result", {"status": "ok", "detector": "d", "detections": []}),
            ("screening.decision", {"decision": "clear", "marks": [], "rescreen": True,
                                    "tip": {"projected": False, "fti_id": None}})]
    events = [EventRecord("s", seq, f"2026-01-01T00:00:0{seq}.000000Z", "op", "screener",
                          kind, json.dumps(payload), scan, None, "0" * 64, f"{seq:064x}")
              for seq, (kind, payload) in enumerate(rows, 2)]
    tip_decision, rescreen = events[3], events[6]
    overlay = scan_overlay(events, scan, tip_decision)
    (frame,) = overlay.tip["top"]
    assert frame.box == (10.0, 12.0, 40.0, 30.0) and frame.caption == "TIP fti-0042 (gun): HIT"
    assert overlay.marks == {"top": [(9, 11, 41, 31)]} and len(overlay.ai["top"]) == 1
    assert overlay.unusable == 1 and any("malformed" in line for line in overlay.legend)
    # from the projection event, the TIP look is found; the re-screen shows no FTI
    assert scan_overlay(events, scan, events[1]).decision == tip_decision
    again = scan_overlay(events, scan, rescreen)
    assert again.tip == {} and again.ai == {} and again.marks == {}
    assert "re-screen" in again.legend[0]


# ---------------------------------------------------------------------- evidence
def test_evidence_export_writes_a_bundle_the_verifier_accepts(make_view, qtbot, station,
                                                              tmp_path):
    view = make_view()
    (suspect,) = decisions(station.events, "suspect")
    search(qtbot, view, decision="suspect")
    view.show_tab(EVIDENCE_TAB)
    export = view.export
    assert export.scan_value.text() == suspect.scan_sha256  # from the selected event
    assert export.investigator.text() == "inv1"  # prefilled with the operator
    export.case_number.setText("2026-17")
    export.investigator.setText("J. Doe")
    out = tmp_path / "case-17.zip"
    export.out.setText(str(out))
    export.export_button.click()
    qtbot.waitUntil(lambda: export.last is not None or export.status.level == "error",
                    timeout=WAIT)
    assert export.status.level == "ok", export.status.text()
    result = verify_bundle(out)
    assert result.ok, result.problems
    assert result.summary["External-Identifier"] == "2026-17"
    assert result.summary["Contact-Name"] == "J. Doe"  # the name typed for the bundle
    (exported,) = logged(station, "evidence.exported")
    # the log names who was logged in, whatever name the bundle carries
    assert (exported.actor, exported.role) == ("inv1", "investigator")
    assert json.loads(exported.payload)["selection"] == {"scan": suspect.scan_sha256}
    assert "verified" in export.status.text() and "evidence.exported" in export.result.text()

    # the same file again is refused next to the field, never overwritten
    export.export_button.click()
    assert "never overwritten" in export.errors["out"].text()


def test_holds_are_placed_and_released(make_view, qtbot, station):
    view = make_view()
    (suspect,) = decisions(station.events, "suspect")
    search(qtbot, view, decision="suspect")
    holds = view.holds
    assert holds.scans.text() == suspect.scan_sha256
    holds.case_id.setText("CASE-7")
    holds.reason.setText("police request")
    with qtbot.waitSignal(holds.changed, timeout=WAIT):
        holds.hold_button.click()
    qtbot.waitUntil(lambda: holds.model.rowCount() == 1, timeout=WAIT)
    assert holds.model.cases == [("CASE-7", [suspect.scan_sha256])]
    holds.reason.setText("case closed")
    with qtbot.waitSignal(holds.changed, timeout=WAIT):
        holds.release_button.click()
    qtbot.waitUntil(lambda: holds.model.rowCount() == 0, timeout=WAIT)
    assert [e.kind for e in logged(station, "case.hold") + logged(station, "case.release")] \
        == ["case.hold", "case.release"]


def test_another_role_is_refused_and_the_attempt_logged(make_view, qtbot, station, tmp_path):
    view = make_view(Role.SCREENER, "sim-op-1")
    search(qtbot, view, decision="suspect")
    view.export.case_number.setText("2026-18")
    out = tmp_path / "nope.zip"
    view.export.out.setText(str(out))
    view.export.export_button.click()
    qtbot.waitUntil(lambda: view.export.status.level == "error", timeout=WAIT)
    assert "may not export an evidence bundle" in view.export.status.text()
    assert not out.exists()
    view.holds.case_id.setText("CASE-8")
    view.holds.reason.setText("curious")
    view.holds.hold_button.click()
    qtbot.waitUntil(lambda: view.holds.status.level == "error", timeout=WAIT)
    denied = logged(station, KIND_AUTH_DENIED)
    assert [json.loads(e.payload)["action"] for e in denied] == ["evidence.export",
                                                                 "case.hold"]
    assert {e.actor for e in denied} == {"sim-op-1"}
    assert not logged(station, "evidence.exported") and not logged(station, "case.hold")


# ---------------------------------------------------------------------- the picture
def test_screenshot_of_the_investigator_view(make_view, qtbot, station, tmp_path):
    view = make_view()
    with qtbot.waitSignal(view.image.shown, timeout=WAIT):
        search(qtbot, view, since="2025-01-01")
        suspect = next(i for i, e in enumerate(view.search.model.events)
                       if e.kind == "screening.decision" and '"suspect"' in e.payload)
        view.search.select_row(suspect)
    with qtbot.waitSignal(view.chain.verified, timeout=WAIT):
        view.chain.verify()
    for canvas in view.image.visible_canvases():
        canvas.settle()
    view.search.table.setFocus()
    QApplication.processEvents()  # the layout catches up with the texts set last
    image = view.grab().toImage()
    assert image.width() >= 1600 and image.height() >= 900
    assert image.save(str(tmp_path / "investigator-view.png"), "PNG", 0)
    if os.environ.get("SCREENER_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        target = DOCS / "investigator-view.png"
        small = image.convertToFormat(QImage.Format.Format_Indexed8,
                                      Qt.ImageConversionFlag.DiffuseDither)
        assert small.save(str(target), "PNG", 0)
        assert target.stat().st_size < MAX_BYTES, "screenshot too large for the docs"


def test_verify_checks_the_site_checkpoints_too(make_view, qtbot, station):
    from screener.audit.keys import load_or_create_key
    from screener.audit.site import make_site_checkpoint, site_key_path

    make_site_checkpoint(station.log.engine, load_or_create_key(site_key_path(station.home)))
    view = make_view()
    view.show_tab(CHAIN_TAB)
    chain = view.chain
    with qtbot.waitSignal(chain.verified, timeout=WAIT) as done:
        chain.verify_button.click()
    check = done.args[0]
    assert check.ok and check.site is not None and check.site.checkpoints == 1
    assert "1 site checkpoint(s) intact" in chain.status.text()
    conn = attacker(station.home)
    conn.execute("UPDATE site_checkpoints SET root = ?", ("0" * 64,))
    conn.close()
    with qtbot.waitSignal(chain.verified, timeout=WAIT) as again:
        chain.verify_button.click()
    assert not again.args[0].ok
    assert chain.status.level == "error" and "site checkpoint 1" in chain.status.text()
