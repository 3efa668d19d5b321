"""A read-only table model over a list of rows, for the role views' tables.

A subclass names its columns (:attr:`RowsModel.COLUMNS`, the header) and says what a cell
shows (:meth:`RowsModel.display`); :meth:`~RowsModel.tooltip`, :meth:`~RowsModel.foreground`
and :meth:`~RowsModel.font` give the other roles (None: Qt's default). A model that needs
more roles extends :meth:`RowsModel.data` and calls it for the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel, Generic[T]):
    """One object per row (:attr:`rows`), replaced all at once by :meth:`set_rows`."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[T] = []

    def set_rows(self, rows: Iterable[T]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.foreground(row, column)
        if role == Qt.ItemDataRole.FontRole:
            return self.font(row, column)
        return None

    def display(self, row: T, column: int) -> str:
        """The cell's text: every model says how its rows read."""
        raise NotImplementedError

    def tooltip(self, row: T, column: int) -> str | None:
        return None

    def foreground(self, row: T, column: int) -> QColor | None:
        return None

    def font(self, row: T, column: int) -> QFont | None:
        return None


def monospace() -> QFont:
    """The font of hashes in a table."""
    font = QFont("monospace")
    font.setStyleHint(QFont.StyleHint.Monospace)
    return font


def bold() -> QFont:
    font = QFont()
    font.setBold(True)
    return font
