"""Stations and keys: this station's signing key (fingerprint, rotation), the chain's head
and whether a signed checkpoint covers it (sign one now), and the stations of the
database with the keys and anchors this station pins.

Rotation and signing go through :mod:`screener.workflow.station_keys`, as
``screener audit key rotate`` does, on the station's running log; both are the
administrator's (``keys.manage``): the guard logs and refuses anyone else.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from screener.audit.chain import CheckpointRecord, EventRecord
from screener.audit.keys import display_fingerprint
from screener.audit.log import AuditLog
from screener.audit.pins import station_expectations
from screener.audit.query import covering_checkpoint, stations
from screener.config import Settings
from screener.ui.background import BackgroundJobs, Progress
from screener.ui.table_model import RowsModel
from screener.ui.theme import MUTED
from screener.ui.widgets import StatusLine, card_column, error_text, table_view
from screener.workflow.session import Operator
from screener.workflow.station_keys import Rotation, rotate_station_key, sign_checkpoint


@dataclass(frozen=True)
class StationRow:
    station: str
    in_database: bool
    pinned: str | None  # the fingerprint of the key file on this station
    anchor_seq: int | None
    anchor_time: str | None


@dataclass(frozen=True)
class KeyState:
    fingerprint: str
    head: EventRecord | None
    covered_by: CheckpointRecord | None
    stations: list[StationRow]
    key_files: list[str]


def key_state(log: AuditLog, settings: Settings) -> KeyState:
    """What the panel shows (worker thread)."""
    head = log.head()
    covered = None if head is None else covering_checkpoint(log.engine, log.station, head.seq)
    pins = station_expectations(settings.home)
    names = sorted(set(stations(log.engine)) | set(pins))
    in_db = set(stations(log.engine))
    rows = []
    for name in names:
        pin = pins.get(name)
        anchor = None if pin is None else pin.anchor
        rows.append(StationRow(name, name in in_db, None if pin is None else pin.fingerprint,
                               None if anchor is None else anchor.seq,
                               None if anchor is None else anchor.time_utc))
    folder = settings.home / "keys"
    files = sorted(p.name for p in folder.glob(f"{log.station}.ed25519.pem*")) \
        if folder.is_dir() else []
    return KeyState(log.key.fingerprint, head, covered, rows, files)


# ---------------------------------------------------------------------- the panel
class StationModel(RowsModel[StationRow]):
    COLUMNS = ("Station", "Chain here", "Key pinned on this station", "Anchor")

    def display(self, row: StationRow, column: int) -> str:
        anchor = "none" if row.anchor_seq is None else \
            f"seq {row.anchor_seq} · {(row.anchor_time or '')[:19].replace('T', ' ')}"
        return (row.station, "yes" if row.in_database else "no",
                display_fingerprint(row.pinned) if row.pinned else "no key file here",
                anchor)[column]

    def tooltip(self, row: StationRow, column: int) -> str | None:
        return row.pinned if column == 2 else None

    def foreground(self, row: StationRow, column: int) -> QColor | None:
        return QColor(MUTED) if column in (1, 3) else None


class KeysPanel(QFrame):
    """This station's key and chain head; rotate, checkpoint; the stations."""

    changed = Signal(str)

    def __init__(self, log: AuditLog, settings: Settings, operator: Operator,
                 tasks: BackgroundJobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tabPage")
        self.log = log
        self.settings = settings
        self.operator = operator
        self.tasks = tasks
        self.state: KeyState | None = None
        self._build()
        self.refresh()

    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 8, 8)
        column.setSpacing(8)
        top = QHBoxLayout()
        top.setSpacing(8)
        key_card, key_column = card_column(self, f"Station {self.log.station}")
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        self.values: dict[str, QLabel] = {}
        for index, (key, label) in enumerate((("fingerprint", "Key fingerprint"),
                                              ("full", "Full sha256"),
                                              ("head", "Chain head"),
                                              ("covered", "Signed checkpoint"),
                                              ("files", "Key files"))):
            name = QLabel(label, key_card)
            name.setObjectName("fieldLabel")
            value = QLabel("…", key_card)
            value.setObjectName("fingerprint" if key == "fingerprint" else "valueLabel")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(key in ("covered", "files", "full"))
            grid.addWidget(name, index, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, index, 1)
            self.values[key] = value
        grid.setColumnStretch(1, 1)
        key_column.addLayout(grid)
        key_column.addStretch(1)
        top.addWidget(key_card, 3)

        actions, action_column = card_column(self, "Actions")
        self.checkpoint_button = QPushButton("Sign &checkpoint now", actions)
        self.checkpoint_button.setObjectName("primaryButton")
        self.checkpoint_button.setToolTip("Sign the chain's head with the station key now "
                                          "(also written to the anchor)")
        action_column.addWidget(self.checkpoint_button)
        note = QLabel("Events after the last checkpoint are protected by the chain only: "
                      "sign one before copying the anchor off the station.", actions)
        note.setObjectName("fieldLabel")
        note.setWordWrap(True)
        action_column.addWidget(note)
        self.rotate_button = QPushButton("&Rotate key…", actions)
        self.rotate_button.setToolTip("Hand the chain to a new signing key")
        action_column.addWidget(self.rotate_button)
        self.confirm = QFrame(actions)
        self.confirm.setObjectName("confirmBar")
        confirm_column = QVBoxLayout(self.confirm)
        confirm_column.setContentsMargins(8, 6, 8, 6)
        warning = QLabel("The rotation is logged and signed by the current key; later "
                         "checkpoints are signed by the new key. The old key file is kept as "
                         "*.retired-*. Publish the new fingerprint.", self.confirm)
        warning.setObjectName("fieldLabel")
        warning.setWordWrap(True)
        confirm_column.addWidget(warning)
        confirm_row = QHBoxLayout()
        self.rotate_confirm = QPushButton("R&otate now", self.confirm)
        self.rotate_confirm.setObjectName("dangerButton")
        self.rotate_cancel = QPushButton("Cancel", self.confirm)
        confirm_row.addWidget(self.rotate_confirm)
        confirm_row.addWidget(self.rotate_cancel)
        confirm_row.addStretch(1)
        confirm_column.addLayout(confirm_row)
        self.confirm.hide()
        action_column.addWidget(self.confirm)
        action_column.addStretch(1)
        top.addWidget(actions, 2)
        column.addLayout(top)

        list_card, list_column = card_column(self, "Stations of this database")
        self.model = StationModel(self)
        self.table = table_view(list_card, "stationTable")
        self.table.setModel(self.model)
        header = self.table.horizontalHeader()
        for index, width in enumerate((140, 90, 320)):
            header.resizeSection(index, width)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        list_column.addWidget(self.table, 1)
        self.status = StatusLine(list_card)
        list_column.addWidget(self.status)
        column.addWidget(list_card, 1)

        self.checkpoint_button.clicked.connect(self.checkpoint)
        self.rotate_button.clicked.connect(self._ask_rotate)
        self.rotate_cancel.clicked.connect(self._cancel_rotate)
        self.rotate_confirm.clicked.connect(self.rotate)

    # ------------------------------------------------------------------ reading
    def refresh(self) -> None:
        log, settings = self.log, self.settings

        def work(_progress: Progress) -> KeyState:
            return key_state(log, settings)

        self.tasks.submit("keys.state", work, self._shown,
                          failed=lambda e: self.status.say(
                              f"Cannot read the station's state: {error_text(e)}", "error"))

    def _shown(self, state: KeyState) -> None:
        self.state = state
        self.values["fingerprint"].setText(display_fingerprint(state.fingerprint))
        self.values["full"].setText(state.fingerprint)
        head = state.head
        self.values["head"].setText("no events yet" if head is None else
                                    f"seq {head.seq} · {head.hash[:16]}… · {head.kind}")
        covered = state.covered_by
        if head is None:
            text = "\u2013"
        elif covered is None:
            text = "not yet: the newest events are covered by the chain only"
        else:
            text = (f"seq {covered.seq} ({covered.reason}), "
                    f"{covered.time_utc[:19].replace('T', ' ')} UTC")
        self.values["covered"].setText(text)
        self.values["files"].setText(", ".join(state.key_files) or "none")
        self.model.set_rows(state.stations)
        if self.status.level not in ("ok", "error"):
            self.status.say(f"{len(state.stations)} station(s).")

    # ------------------------------------------------------------------ actions
    def checkpoint(self) -> None:
        log, operator = self.log, self.operator

        def work(_progress: Progress) -> CheckpointRecord | None:
            return sign_checkpoint(log, operator)

        self.status.say("Signing…", "busy")
        self.tasks.submit("keys.checkpoint", work, self._checkpointed, failed=self._failed)

    def _checkpointed(self, checkpoint: CheckpointRecord | None) -> None:
        if checkpoint is None:
            self.status.say("The head is already covered by a checkpoint.", "ok")
        else:
            self.status.say(f"Checkpoint signed at seq {checkpoint.seq} "
                            f"({checkpoint.head_hash[:16]}…).", "ok")
        self.changed.emit("checkpoint")
        self.refresh()

    def _ask_rotate(self) -> None:
        self.confirm.show()
        self.rotate_cancel.setFocus(Qt.FocusReason.OtherFocusReason)

    def _cancel_rotate(self) -> None:
        self.confirm.hide()
        self.rotate_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def rotate(self) -> None:
        self.confirm.hide()
        log, settings, operator = self.log, self.settings, self.operator

        def work(_progress: Progress) -> Rotation:
            return rotate_station_key(log, settings.home, operator)

        self.status.say("Rotating the station key…", "busy")
        self.rotate_button.setEnabled(False)
        self.tasks.submit("keys.rotate", work, self._rotated, failed=self._failed)

    def _rotated(self, rotation: Rotation) -> None:
        self.rotate_button.setEnabled(True)
        self.status.say(f"Key rotated (event seq {rotation.event.seq}): new fingerprint "
                        f"{display_fingerprint(rotation.new_fingerprint)}; the old key is "
                        f"kept as {rotation.retired.name}. Publish the new fingerprint.", "ok")
        self.changed.emit("rotated")
        self.refresh()

    def _failed(self, error: BaseException) -> None:
        self.rotate_button.setEnabled(True)
        self.status.say(error_text(error), "error")
        self.refresh()
