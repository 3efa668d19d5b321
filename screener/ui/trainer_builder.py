"""The blind-test builder: a trainer's form for :class:`~screener.tip.blind_test.BlindTestSpec`
and the bag pool, built with :func:`~screener.tip.blind_test.build_blind_test` on a worker
thread and saved as the test file (docs/tip-blind-tests.md). The same steps as
``screener blind-test build``.

A value the spec refuses is shown next to its field before anything is built
(``BlindTestError`` names the field: ``blind test field 'prevalence': ...``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from screener.config import Settings
from screener.scan.store import ScanStore
from screener.tip.blind_test import (
    BlindTest,
    BlindTestError,
    BlindTestSpec,
    build_blind_test,
    write_blind_test,
)
from screener.tip.fti import FtiCategory
from screener.tip.library import FtiLibrary
from screener.ui.background import BackgroundJobs, JobProgress, JobResult, Progress
from screener.ui.widgets import FieldError, form_row, say, show_progress, side_panel
from screener.workflow.pool import POOL_INDEX, build_pool, pool_recipes

BUILD = "blindtest.build"
#: Under the home folder: which stored scan each simulated pool bag's recipe gave (the
#: folder ``screener blind-test build --simulated-bags`` uses, so both share the bags).
_FIELD = re.compile(r"field '([a-z_]+)'")
CATEGORY_LABELS = {FtiCategory.GUN: "Guns", FtiCategory.KNIFE: "Knives",
                   FtiCategory.IED: "IEDs", FtiCategory.OTHER: "Other"}


@dataclass(frozen=True)
class BagPool:
    """Where the bags come from: a folder of ``.h5`` scans, or N simulated bags."""

    folder: Path | None = None
    simulated: int = 0


@dataclass(frozen=True)
class Built:
    test: BlindTest
    path: Path
    bags: int


def pool_shas(pool: BagPool, spec: BlindTestSpec, store: ScanStore, settings: Settings,
              progress: Progress) -> list[str]:
    """The pool's scans, put into the scan store; their sha256s."""
    if pool.folder is not None:
        files = sorted(pool.folder.glob("*.h5")) if pool.folder.is_dir() else []
        if not files:
            raise BlindTestError(f"bag pool {pool.folder}: no .h5 scan files there")
        shas = []
        for number, path in enumerate(files, start=1):
            shas.append(store.add(path))
            progress(number, len(files), f"storing bag {number} of {len(files)}")
        return shas
    recipes = pool_recipes(spec.seed, pool.simulated, 0.0, station=settings.station,
                           lane=settings.lane)
    made = 0

    def on_bag(_bag: object) -> None:
        nonlocal made
        made += 1
        progress(made, len(recipes), f"bag {made} of {len(recipes)} (simulated)")

    return [bag.scan_sha256 for bag in build_pool(store, recipes,
                                                  index=settings.home / POOL_INDEX,
                                                  on_bag=on_bag)]


def build_test(spec: BlindTestSpec, library: FtiLibrary, pool: BagPool, store: ScanStore,
               settings: Settings, out: Path, progress: Progress) -> Built:
    """Make the pool, build the test and write its file (worker thread)."""
    shas = pool_shas(pool, spec, store, settings, progress)
    progress(0, 0, f"placing FTIs in {spec.tip_trials} of {spec.trials} images")
    test = build_blind_test(spec, library, store, shas)
    path = write_blind_test(out, test)
    return Built(test, path, len(set(shas)))


class BuilderPage(QWidget):
    """The form, the build button, its progress and result."""

    built = Signal(object)  # Built

    def __init__(self, settings: Settings, store: ScanStore, jobs: BackgroundJobs,
                 library: Callable[[], FtiLibrary | None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("builderPage")
        self.settings = settings
        self.store = store
        self.jobs = jobs
        self.library = library
        self.error_labels: dict[str, FieldError] = {}
        self._build()
        jobs.finished.connect(self._finished)
        jobs.progressed.connect(self._progressed)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 8, 0, 0)
        frame, column = side_panel(self, "NEW BLIND TEST", (16, 12, 16, 12))
        frame.setMaximumWidth(900)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(2, 1)
        self._grid = grid
        row = 0

        self.name = QLineEdit("Cabin L1", frame)
        self.name.setObjectName("testName")
        self.name.setMinimumWidth(360)
        row = self._row(row, "&Name", self.name, "name", "shown to trainees and on "
                        "certificates")
        self.trials = QSpinBox(frame)
        self.trials.setObjectName("testTrials")
        self.trials.setRange(2, 10_000)
        self.trials.setValue(100)
        self.trials.setMaximumWidth(140)
        row = self._row(row, "&Images", self.trials, "trials", "images in the test; every "
                        "trainee sees the same ones in the same order")
        self.prevalence = QDoubleSpinBox(frame)
        self.prevalence.setObjectName("testPrevalence")
        self.prevalence.setRange(1.0, 99.0)
        self.prevalence.setDecimals(1)
        self.prevalence.setSuffix(" %")
        self.prevalence.setValue(50.0)
        self.prevalence.setMaximumWidth(140)
        row = self._row(row, "&Prevalence", self.prevalence, "prevalence",
                        "exactly round(images \u00d7 prevalence) images carry an FTI")
        weights_row = QHBoxLayout()
        self.weights: dict[FtiCategory, QDoubleSpinBox] = {}
        for category in FtiCategory:
            label = QLabel(CATEGORY_LABELS[category], frame)
            box = QDoubleSpinBox(frame)
            box.setObjectName(f"testWeight-{category.value}")
            box.setAccessibleName(f"{category.value} weight")
            box.setRange(0.0, 100.0)
            box.setDecimals(1)
            box.setValue(0.0 if category is FtiCategory.OTHER else 1.0)
            box.setMaximumWidth(90)
            label.setBuddy(box)
            weights_row.addWidget(label)
            weights_row.addWidget(box)
            self.weights[category] = box
        weights_row.addStretch(1)
        holder = QWidget(frame)
        holder.setObjectName("formRow")
        holder.setLayout(weights_row)
        weights_row.setContentsMargins(0, 0, 0, 0)
        row = self._row(row, "Category &weights", holder, "weights",
                        "the FTI images are split between categories in proportion",
                        self.weights[FtiCategory.GUN])
        self.seed = QSpinBox(frame)
        self.seed.setObjectName("testSeed")
        self.seed.setRange(0, 2_147_483_647)
        self.seed.setMaximumWidth(160)
        row = self._row(row, "See&d", self.seed, "seed", "the same seed, library and bags "
                        "give the same test")
        self.time_limit = QDoubleSpinBox(frame)
        self.time_limit.setObjectName("testTimeLimit")
        self.time_limit.setRange(1.0, 600.0)
        self.time_limit.setDecimals(1)
        self.time_limit.setSuffix(" s")
        self.time_limit.setValue(15.0)
        self.time_limit.setMaximumWidth(140)
        row = self._row(row, "&Time limit per image", self.time_limit, "time_limit_s",
                        "an image not answered in time counts as cleared")
        marks = QHBoxLayout()
        marks.setContentsMargins(0, 0, 0, 0)
        self.pass_d = QDoubleSpinBox(frame)
        self.pass_d.setObjectName("passDPrime")
        self.pass_d.setRange(-5.0, 10.0)
        self.pass_d.setDecimals(2)
        self.pass_d.setSingleStep(0.1)
        self.pass_d.setValue(2.0)
        self.pass_d.setMaximumWidth(100)
        self.pass_a = QDoubleSpinBox(frame)
        self.pass_a.setObjectName("passAPrime")
        self.pass_a.setRange(0.0, 1.0)
        self.pass_a.setDecimals(3)
        self.pass_a.setSingleStep(0.01)
        self.pass_a.setValue(0.85)
        self.pass_a.setMaximumWidth(100)
        d_label = QLabel("d\u2032 \u2265", frame)
        a_label = QLabel("and A\u2032 \u2265", frame)
        for widget in (d_label, self.pass_d, a_label, self.pass_a):
            marks.addWidget(widget)
        marks.addStretch(1)
        holder = QWidget(frame)
        holder.setObjectName("formRow")
        holder.setLayout(marks)
        row = self._row(row, "P&ass mark", holder, "pass_d_prime",
                        "a trainee passes when both are met", self.pass_d)
        self.error_labels["pass_a_prime"] = self.error_labels["pass_d_prime"]

        pool = QVBoxLayout()
        pool.setContentsMargins(0, 0, 0, 0)
        self.pool_group = QButtonGroup(frame)
        first = QHBoxLayout()
        self.simulated_choice = QRadioButton("Si&mulated bags without threats:", frame)
        self.simulated_choice.setObjectName("poolSimulated")
        self.simulated = QSpinBox(frame)
        self.simulated.setObjectName("poolSize")
        self.simulated.setRange(1, 5000)
        self.simulated.setValue(60)
        self.simulated.setMaximumWidth(110)
        self.simulated.setAccessibleName("Simulated bags")
        first.addWidget(self.simulated_choice)
        first.addWidget(self.simulated)
        first.addStretch(1)
        second = QHBoxLayout()
        self.folder_choice = QRadioButton("F&older of scans (.h5):", frame)
        self.folder_choice.setObjectName("poolFolder")
        self.folder = QLineEdit(frame)
        self.folder.setObjectName("poolFolderPath")
        self.folder.setAccessibleName("Folder of bag scans")
        self.folder.setPlaceholderText("bags without real threats")
        self.folder_browse = QPushButton("Browse…", frame)
        second.addWidget(self.folder_choice)
        second.addWidget(self.folder, 1)
        second.addWidget(self.folder_browse)
        for button in (self.simulated_choice, self.folder_choice):
            self.pool_group.addButton(button)
        self.simulated_choice.setChecked(True)
        pool.addLayout(first)
        pool.addLayout(second)
        holder = QWidget(frame)
        holder.setObjectName("formRow")
        holder.setLayout(pool)
        row = self._row(row, "Bag pool", holder, "pool", "bags are drawn without "
                        "replacement while the pool lasts; a bag with a real threat does "
                        "not belong in a blind test", self.simulated_choice)

        out_row = QHBoxLayout()
        out_row.setContentsMargins(0, 0, 0, 0)
        self.out = QLineEdit(str(self.settings.home / "blind-tests" / "cabin-l1.json"), frame)
        self.out.setObjectName("testOut")
        self.out.setAccessibleName("Test file")
        self.out_browse = QPushButton("Choose…", frame)
        out_row.addWidget(self.out, 1)
        out_row.addWidget(self.out_browse)
        holder = QWidget(frame)
        holder.setObjectName("formRow")
        holder.setLayout(out_row)
        row = self._row(row, "Test &file", holder, "out", "the JSON file of the test",
                        self.out)
        column.addLayout(grid)

        self.library_label = QLabel("", frame)
        self.library_label.setObjectName("hint")
        self.library_label.setWordWrap(True)
        column.addWidget(self.library_label)
        buttons = QHBoxLayout()
        self.build_button = QPushButton("B&uild the test", frame)
        self.build_button.setObjectName("buildTest")
        self.build_button.setProperty("primary", True)
        self.progress = QProgressBar(frame)
        self.progress.setObjectName("buildProgress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(10)
        buttons.addWidget(self.build_button)
        buttons.addWidget(self.progress, 1)
        column.addLayout(buttons)
        self.status = QLabel("", frame)
        self.status.setObjectName("messageLabel")
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(3 * self.status.fontMetrics().lineSpacing())
        column.addWidget(self.status)
        column.addStretch(1)
        outer.addWidget(frame, 1)
        outer.addStretch(0)

        self.folder_browse.clicked.connect(self._choose_folder)
        self.out_browse.clicked.connect(self._choose_out)
        self.build_button.clicked.connect(self.build)
        self.folder.textEdited.connect(lambda _t: self.folder_choice.setChecked(True))
        self.name.textChanged.connect(self._check)
        for spin in (self.trials, self.seed):
            spin.valueChanged.connect(self._check)
        for box in (self.prevalence, self.time_limit, self.pass_d, self.pass_a,
                    *self.weights.values()):
            box.valueChanged.connect(self._check)

    def _row(self, row: int, text: str, field: QWidget, key: str, tip: str,
             buddy: QWidget | None = None) -> int:
        field.setToolTip(tip)
        self.error_labels[key] = form_row(self._grid, row, text, field, self, buddy=buddy)
        return row + 1

    def _choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Folder of bag scans",
                                                  self.folder.text())
        if chosen:
            self.folder.setText(chosen)
            self.folder_choice.setChecked(True)

    def _choose_out(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Save the blind test as",
                                                self.out.text(), "Blind tests (*.json)")
        if chosen:
            self.out.setText(chosen)

    # ------------------------------------------------------------------ checking
    def spec(self) -> BlindTestSpec:
        """The spec in the form; raises BlindTestError naming a field."""
        return BlindTestSpec(
            name=self.name.text(), trials=self.trials.value(),
            prevalence=round(self.prevalence.value() / 100.0, 6),
            weights={c: box.value() for c, box in self.weights.items()},
            seed=self.seed.value(), time_limit_s=self.time_limit.value(),
            pass_d_prime=self.pass_d.value(), pass_a_prime=self.pass_a.value())

    def _clear_errors(self) -> None:
        for label in self.error_labels.values():
            label.clear_error()

    def _show_error(self, error: BaseException) -> bool:
        """Show ``error`` next to the field it names; False when it names none."""
        text = str(error)
        found = _FIELD.search(text)
        label = self.error_labels.get(found.group(1)) if found else None
        if label is None:
            return False
        label.show_error(text.split(": ", 1)[-1])
        return True

    def _check(self) -> BlindTestSpec | None:
        self._clear_errors()
        try:
            spec = self.spec()
        except BlindTestError as error:
            self._show_error(error)
            return None
        self.set_library_note()
        return spec

    def set_library_note(self) -> None:
        library = self.library()
        if library is None:
            self.library_label.setText("Open an FTI library (Library tab) to build from.")
            return
        counts = {c: len(r) for c, r in library.by_category().items()}
        have = ", ".join(f"{c.value} {n}" for c, n in counts.items())
        self.library_label.setText(f"FTIs from {library.path.name}: {have}.")

    def pool(self) -> BagPool:
        if self.folder_choice.isChecked():
            return BagPool(folder=Path(self.folder.text().strip()).expanduser())
        return BagPool(simulated=self.simulated.value())

    # ------------------------------------------------------------------ building
    def build(self) -> None:
        if self.jobs.running(BUILD):
            return
        spec = self._check()
        if spec is None:
            say(self.status, "error", "Not built: correct the field marked in red.")
            return
        library = self.library()
        if library is None:
            say(self.status, "error", "Open an FTI library first (Library tab).")
            return
        pool = self.pool()
        if pool.folder is not None and not self.folder.text().strip():
            self.error_labels["pool"].show_error("choose a folder of scans")
            return
        text = self.out.text().strip()
        if not text:
            self.error_labels["out"].show_error("give the file to write")
            return
        out = Path(text).expanduser()
        store, settings = self.store, self.settings

        def work(progress: Progress) -> Built:
            out.parent.mkdir(parents=True, exist_ok=True)
            return build_test(spec, library, pool, store, settings, out, progress)

        self.build_button.setEnabled(False)
        self.progress.setRange(0, 0)
        say(self.status, "", "Building…")
        self.jobs.submit(BUILD, work)

    def _progressed(self, progress: JobProgress) -> None:
        if progress.tag != BUILD:
            return
        show_progress(self.progress, progress)
        say(self.status, "", f"Building: {progress.label}…")

    def _finished(self, result: JobResult) -> None:
        if result.tag != BUILD:
            return
        self.build_button.setEnabled(True)
        self.progress.setRange(0, 1)
        if result.error is not None:
            self.progress.setValue(0)
            self._show_error(result.error)
            say(self.status, "error", f"Not built: {result.error}")
            return
        built: Built = result.value
        self.progress.setValue(1)
        spec = built.test.spec
        tips = sum(t.is_tip for t in built.test.trials)
        say(self.status, "ok", f"Wrote {built.path}: '{spec.name}' ({built.test.test_id[:12]}), "
            f"{spec.trials} images, {tips} with an FTI, from {built.bags} bags; time limit "
            f"{spec.time_limit_s:g} s; pass at d\u2032 \u2265 {spec.pass_d_prime:g} and "
            f"A\u2032 \u2265 {spec.pass_a_prime:g}.")
        self.built.emit(built)
