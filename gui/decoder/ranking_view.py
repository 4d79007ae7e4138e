"""The ranked speech candidates of a speech model, beside the decoder panel's outputs.

Offers the registry's candidate sets to rank with (the decoder panel passes the chosen one
when it starts a model), then shows, for the newest window, the top candidates with their
scores and the time the ranking took.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bci_app.errors import LiveError
from bci_app.inference.prediction import Prediction
from bci_app.models.candidates import CandidateStore
from bci_app.models.registry import ModelRegistry

NO_SET = "(no ranking)"


class RankingView(QWidget):
    """Candidate set chooser and the table of the newest window's best candidates."""

    def __init__(self) -> None:
        super().__init__()
        self.sets = QComboBox()
        self.sets.setToolTip("Candidate set a speech model ranks (bci-app candidates --register)")
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["candidate", "score"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setVisible(False)  # until a speech model ranks
        self.status = QLabel()
        form = QFormLayout()
        form.addRow("Candidates", self.sets)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)

    def refresh(self, registry: ModelRegistry) -> None:
        """List the candidate sets registered in ``registry``."""
        current = self.sets.currentText()
        try:
            names = sorted({record.name for record in CandidateStore(registry).records()})
        except LiveError as error:
            names = []
            self.status.setText(str(error))
        self.sets.clear()
        self.sets.addItems([NO_SET, *names])
        if current in names:
            self.sets.setCurrentText(current)

    def chosen(self) -> str | None:
        """Return the chosen candidate set, or None."""
        text = self.sets.currentText()
        return None if not text or text == NO_SET else text

    def show_ranking(self, prediction: Prediction) -> None:
        """Show the ranking of ``prediction`` (nothing when it has none)."""
        ranking = prediction.ranking
        if ranking is None:
            return
        self.table.setVisible(True)
        self.table.setRowCount(len(ranking.names))
        for row, (name, score) in enumerate(zip(ranking.names, ranking.scores, strict=True)):
            for column, text in enumerate((f"{row + 1}. {name}", f"{score:.3f}")):
                item = self.table.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, column, item)
                item.setText(text)
        self.status.setText(f"ranked in {prediction.trace.ranking:.2f} ms")
