"""The trainer's FTI library browser: the items of a library file, filtered by category
and text, the selected FTI rendered as a screener would see it, and the library's
compliance with the ICAO figures (:func:`screener.tip.compliance.check_library`).

Opening a library (the index only, about 0.2 s for 6,000 images) and rendering a preview
(one image read and rendered, a few milliseconds) run on a worker thread.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from screener.imaging.presets import shipped_presets
from screener.tip.compliance import LibraryReport, check_library, tilt_deg
from screener.tip.fti import FtiCategory
from screener.tip.library import FtiLibrary, read_library
from screener.tip.library_checks import FtiRecord
from screener.ui.background import BackgroundJobs, JobResult, Progress
from screener.ui.controller import to_qimage
from screener.ui.fti_preview import FUNCTION, render_fti
from screener.ui.scan_canvas import ScanCanvas
from screener.ui.table_model import Index, RowsModel
from screener.ui.theme import ERROR, MUTED, PASSED
from screener.ui.widgets import error_text, panel_title, say, side_panel

OPEN = "library.open"
PREVIEW = "library.preview"
CHECK, CROSS, DASH = "\u2714", "\u2718", "\u2013"


@dataclass(frozen=True)
class OpenedLibrary:
    library: FtiLibrary
    report: LibraryReport


@dataclass(frozen=True)
class Preview:
    fti_id: str
    function: str
    image: QImage | None
    reason: str | None


def open_library(path: Path) -> OpenedLibrary:
    """Read the index and count the ICAO figures as of today (worker thread)."""
    library = read_library(path)
    return OpenedLibrary(library, check_library(library, datetime.now(UTC).date()))


def preview_image(library: FtiLibrary, fti_id: str, function: str) -> Preview:
    """Read one FTI and render it for the screen (worker thread)."""
    from screener.imaging.render import FunctionUnavailableError

    fti = library.load(fti_id)
    try:
        return Preview(fti_id, function, to_qimage(render_fti(fti, function)), None)
    except FunctionUnavailableError as error:
        return Preview(fti_id, function, None, error.reason)


class FtiTableModel(RowsModel[FtiRecord]):
    """The library's index, one row per image."""

    COLUMNS = ("FTI", "Category", "Subcategory", "Article", "Orientation (x, y, z)", "Tilt",
               "Added")

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and section == 5:
            return "angle between the beam and the article's flat face normal: 0\u00b0 " \
                "face-on, 90\u00b0 edge-on"
        return super().headerData(section, orientation, role)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.UserRole and index.isValid():
            return self.rows[index.row()].fti_id
        return super().data(index, role)

    def display(self, row: FtiRecord, column: int) -> str:
        x, y, z = row.orientation_deg
        return (row.fti_id, row.category.value, row.subcategory, row.article_id,
                f"{x:.0f}\u00b0, {y:.0f}\u00b0, {z:.0f}\u00b0",
                f"{tilt_deg(row.orientation_deg):.0f}\u00b0", row.added)[column]

    def tooltip(self, row: FtiRecord, column: int) -> str | None:
        return f"{row.fti_id}: {row.source}; scanner profile " \
            f"{row.scanner_profile}, {row.pixel_pitch_mm:g} mm pixels"


class FtiFilter(QSortFilterProxyModel):
    """Keeps the rows of one category (or all) whose text contains the search."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.category: FtiCategory | None = None
        self.text = ""

    def set_category(self, category: FtiCategory | None) -> None:
        self.beginFilterChange()
        self.category = category
        self.endFilterChange()

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self.text = text.strip().lower()
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:  # noqa: N802
        model = self.sourceModel()
        assert isinstance(model, FtiTableModel)
        record = model.rows[source_row]
        if self.category is not None and record.category is not self.category:
            return False
        if not self.text:
            return True
        return any(self.text in value.lower() for value in (
            record.fti_id, record.subcategory, record.article_id, record.added))


def compliance_html(report: LibraryReport) -> str:
    """The compliance summary, for a QTextBrowser."""
    verdict = (f"<span style='color:{PASSED}'><b>COMPLIANT</b></span> with the ICAO figures"
               if report.compliant else
               f"<span style='color:{ERROR}'><b>NOT COMPLIANT</b></span>: " + "; ".join(
                   f"{f.name} {f.actual} &lt; {f.required}" for f in report.failing))
    rows = "".join(
        f"<tr><td>{html.escape(f.description)}</td><td align='right'>{f.actual}</td>"
        f"<td align='right'>{f.required}</td><td style='color:{PASSED if f.passed else ERROR}'>"
        f"{CHECK if f.passed else CROSS}</td></tr>" for f in report.figures)
    categories = ", ".join(
        f"{name} {count.images} ({count.articles} article{'' if count.articles == 1 else 's'})"
        for name, count in report.categories.items())
    tilts = ", ".join(f"{name} {share:.0%}"
                      for name, share in report.orientation.tilt_shares.items())
    coverage = report.orientation
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in report.notes)
    return (
        f"<p>{verdict}<br><span style='color:{MUTED}'>as of {report.as_of}; "
        f"{html.escape(Path(report.file).name)}</span></p>"
        "<table cellspacing='0' cellpadding='4'>"
        "<tr><th align='left'>figure</th><th align='right'>has</th>"
        f"<th align='right'>needs</th><th></th></tr>{rows}</table>"
        f"<p><b>Categories:</b> {html.escape(categories) or 'none'}<br>"
        f"<b>Views per article:</b> {coverage.per_article_min} to "
        f"{coverage.per_article_max} (median {coverage.per_article_median:g})<br>"
        f"<b>Tilt:</b> {html.escape(tilts)}<br>"
        f"<b>Added:</b> {report.oldest_added or DASH} to "
        f"{report.newest_added or DASH}; {report.due_for_replacement} due for "
        f"replacement (older than {report.replace_after_years} years)</p>"
        + (f"<ul>{notes}</ul>" if notes else ""))


class LibraryPage(QWidget):
    """Browse a library: list, filter, preview, compliance."""

    library_opened = Signal(object)  # FtiLibrary

    def __init__(self, jobs: BackgroundJobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("libraryPage")
        self.jobs = jobs
        self.library: FtiLibrary | None = None
        self.report: LibraryReport | None = None
        self._build()
        jobs.finished.connect(self._finished)

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 8, 0, 0)
        outer.setSpacing(8)
        row = QHBoxLayout()
        label = QLabel("FTI librar&y", self)
        self.path = QLineEdit(self)
        self.path.setObjectName("libraryPath")
        self.path.setPlaceholderText("an FTI library file (.h5)")
        label.setBuddy(self.path)
        self.browse = QPushButton("&Open…", self)
        self.browse.setObjectName("openLibrary")
        row.addWidget(label)
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        outer.addLayout(row)
        self.message = QLabel("", self)
        self.message.setObjectName("messageLabel")
        self.message.setWordWrap(True)
        outer.addWidget(self.message)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.setChildrenCollapsible(False)
        left = QWidget(split)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        filters = QHBoxLayout()
        label = QLabel("Cate&gory", left)
        self.category = QComboBox(left)
        self.category.setObjectName("libraryCategory")
        self.category.addItem("All categories", "")
        for category in FtiCategory:
            self.category.addItem(category.value, category.value)
        label.setBuddy(self.category)
        self.search = QLineEdit(left)
        self.search.setObjectName("librarySearch")
        self.search.setPlaceholderText("Search id, subcategory, article, date…")
        self.search.setAccessibleName("Search the library")
        self.search.setClearButtonEnabled(True)
        self.count = QLabel("", left)
        self.count.setObjectName("hint")
        filters.addWidget(label)
        filters.addWidget(self.category)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.count)
        column.addLayout(filters)
        self.model = FtiTableModel(self)
        self.proxy = FtiFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView(left)
        self.table.setObjectName("libraryTable")
        self.table.setAccessibleName("FTI library items")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setResizeContentsPrecision(100)
        header.setStretchLastSection(True)
        column.addWidget(self.table, 1)
        split.addWidget(left)

        right = QSplitter(Qt.Orientation.Vertical, split)
        right.setChildrenCollapsible(False)
        preview_frame = QFrame(right)
        preview_frame.setObjectName("sidePanel")
        preview = QVBoxLayout(preview_frame)
        preview.setContentsMargins(8, 8, 8, 8)
        top = QHBoxLayout()
        top.addWidget(panel_title("PREVIEW", preview_frame))
        top.addStretch(1)
        label = QLabel("&Function", preview_frame)
        self.function = QComboBox(preview_frame)
        self.function.setObjectName("previewFunction")
        for preset in shipped_presets().presets:
            self.function.addItem(preset.label, preset.name)
        self.function.setCurrentIndex(max(0, self.function.findData(FUNCTION)))
        label.setBuddy(self.function)
        top.addWidget(label)
        top.addWidget(self.function)
        preview.addLayout(top)
        self.canvas = ScanCanvas(0, preview_frame)
        self.canvas.setObjectName("ftiPreview")
        self.canvas.setAccessibleName("FTI preview")
        self.canvas.marking_enabled = False
        self.canvas.setMinimumSize(300, 260)
        preview.addWidget(self.canvas, 1)
        self.details = QLabel("Select an image to see it as a screener would.", preview_frame)
        self.details.setObjectName("hint")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        preview.addWidget(self.details)
        right.addWidget(preview_frame)
        compliance_frame, compliance = side_panel(right, "COMPLIANCE (ICAO FIGURES)",
                                                  (8, 8, 8, 8))
        self.compliance = QTextBrowser(compliance_frame)
        self.compliance.setObjectName("complianceSummary")
        self.compliance.setAccessibleName("Compliance summary")
        self.compliance.setOpenLinks(False)
        compliance.addWidget(self.compliance, 1)
        right.addWidget(compliance_frame)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setSizes([480, 320])
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([1010, 590])
        outer.addWidget(split, 1)

        self.browse.clicked.connect(self.choose)
        self.path.returnPressed.connect(lambda: self.open(Path(self.path.text().strip())))
        self.category.currentIndexChanged.connect(self._filter)
        self.search.textChanged.connect(self._filter)
        self.function.currentIndexChanged.connect(self._selected)
        self.table.selectionModel().currentRowChanged.connect(self._selected)
        self.setTabOrder(self.path, self.browse)
        self.setTabOrder(self.browse, self.category)
        self.setTabOrder(self.category, self.search)
        self.setTabOrder(self.search, self.table)
        self.setTabOrder(self.table, self.function)
        self.setTabOrder(self.function, self.canvas)
        self.setTabOrder(self.canvas, self.compliance)

    # ------------------------------------------------------------------ opening
    def choose(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Open an FTI library", self.path.text(),
                                                "FTI libraries (*.h5 *.hdf5);;All files (*)")
        if chosen:
            self.open(Path(chosen))

    def open(self, path: Path) -> None:
        """Open ``path`` (worker thread); the table fills when it is read."""
        if not str(path) or str(path) == ".":
            self._say("error", "Give the path of an FTI library file.")
            return
        self.path.setText(str(path))
        self._say("", f"Opening {path}…")

        def work(_progress: Progress) -> OpenedLibrary:
            return open_library(path)

        self.jobs.submit(OPEN, work, drop_stale=True)

    def _say(self, level: str, text: str) -> None:
        say(self.message, level, text)
        self.message.setVisible(bool(text))

    def _finished(self, result: JobResult) -> None:
        if result.tag not in (OPEN, PREVIEW):
            return
        if result.skipped or not self.jobs.is_current(result):
            return
        if result.tag == PREVIEW:
            self._previewed(result)
            return
        if result.error is not None:
            text = error_text(result.error)
            self._say("error", f"The library cannot be opened: {text}")
            return
        opened: OpenedLibrary = result.value
        self.library = opened.library
        self.report = opened.report
        self.model.set_rows(opened.library.items)
        self.compliance.setHtml(compliance_html(opened.report))
        self._say("", "")
        self._filter()
        if self.proxy.rowCount():
            self.table.selectRow(0)
        self.library_opened.emit(opened.library)

    def _filter(self) -> None:
        category = self.category.currentData()
        self.proxy.set_category(FtiCategory(category) if category else None)
        self.proxy.set_text(self.search.text())
        total = len(self.model.rows)
        shown = self.proxy.rowCount()
        self.count.setText(f"{shown} of {total} images" if shown != total
                           else f"{total} images")

    # ------------------------------------------------------------------ preview
    def selected_id(self) -> str | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid():
            return None
        value = index.siblingAtColumn(0).data(Qt.ItemDataRole.UserRole)
        return None if value is None else str(value)

    def _selected(self) -> None:
        library = self.library
        fti_id = self.selected_id()
        if library is None or fti_id is None:
            return
        record = library.record(fti_id)
        x, y, z = record.orientation_deg
        self.details.setText(
            f"<b>{html.escape(record.fti_id)}</b><br>{record.category.value} \u00b7 "
            f"{html.escape(record.subcategory)} \u00b7 article "
            f"{html.escape(record.article_id)}<br>orientation {x:.0f}\u00b0, {y:.0f}\u00b0, "
            f"{z:.0f}\u00b0 (tilt {tilt_deg(record.orientation_deg):.0f}\u00b0) \u00b7 added "
            f"{record.added} \u00b7 {record.shape[1]} \u00d7 {record.shape[0]} px at "
            f"{record.pixel_pitch_mm:g} mm \u00b7 {html.escape(record.scanner_profile)}")
        function = str(self.function.currentData())

        def work(_progress: Progress) -> Preview:
            return preview_image(library, fti_id, function)

        self.jobs.submit(PREVIEW, work, drop_stale=True)

    def _previewed(self, result: JobResult) -> None:
        if result.error is not None:
            self.canvas.set_view("", 0, 0)
            self.details.setText(f"This image cannot be shown: {result.error}")
            return
        preview: Preview = result.value
        if self.canvas.view_name != preview.fti_id:
            image = preview.image
            rows, cols = (image.height(), image.width()) if image is not None else (1, 1)
            self.canvas.set_view(preview.fti_id, rows, cols)
        self.canvas.set_image(preview.image, (preview.fti_id, preview.function),
                              preview.reason)
