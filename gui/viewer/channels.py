"""The channel list of the viewer: which channels are shown, their quality, bad marks, gains."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QFont
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QMenu

from acquisition.quality import QualityReport

from ..theme import Theme


class ChannelList(QListWidget):
    """Checkable channels: checked ones are drawn; red when the quality flags them.

    Signals
    -------
    shown_changed()
        The set of checked channels changed.
    bad_toggled(str, bool)
        The operator marked a channel bad (True) or good again (False).
    gain_changed(str, float)
        The operator changed a channel's gain.
    """

    shown_changed = Signal()
    bad_toggled = Signal(str, bool)
    gain_changed = Signal(str, float)

    def __init__(self, theme: Theme) -> None:
        super().__init__()
        self._theme = theme
        self._names: list[str] = []
        self._types: list[str] = []
        self.bad: set[str] = set()
        self.gains: dict[str, float] = {}
        self.flagged: dict[str, list[str]] = {}
        self._updating = False
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.itemChanged.connect(self._item_changed)
        self.setMinimumWidth(130)

    def set_channels(self, names: Sequence[str], types: Sequence[str], bad: set[str]) -> None:
        """Fill the list: every channel checked except stimulus channels."""
        self._updating = True
        self.clear()
        self._names, self._types = list(names), list(types)
        self.bad = set(bad)
        self.gains = {}
        self.flagged = {}
        for name, kind in zip(names, types, strict=True):
            item = QListWidgetItem(f"{name}  ({kind})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if kind == "stim" else Qt.CheckState.Checked)
            self.addItem(item)
        self._updating = False
        self._restyle_all()

    def shown_indices(self) -> list[int]:
        """Return the indices of the checked channels."""
        return [
            row
            for row in range(self.count())
            if self.item(row).checkState() == Qt.CheckState.Checked
        ]

    def set_shown(self, names: set[str]) -> None:
        """Check exactly the channels in ``names``."""
        self._updating = True
        for row in range(self.count()):
            item = self.item(row)
            checked = item.data(Qt.ItemDataRole.UserRole) in names
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self._updating = False
        self.shown_changed.emit()

    def set_bad(self, name: str, bad: bool) -> None:
        """Mark or unmark a channel bad (as the operator would)."""
        if bad == (name in self.bad):
            return
        (self.bad.add if bad else self.bad.discard)(name)
        self._restyle(self._names.index(name))
        self.bad_toggled.emit(name, bad)

    def set_gain(self, name: str, gain: float) -> None:
        """Set a channel's display gain."""
        self.gains[name] = gain
        self._restyle(self._names.index(name))
        self.gain_changed.emit(name, gain)

    def set_quality(self, report: QualityReport | None) -> None:
        """Show the quality flags of the latest report (red, with the reasons as tooltip)."""
        flagged = {}
        if report is not None and report.ch_names == tuple(self._names):
            flagged = {name: report.reasons(name) for name in report.bad_channels}
        if flagged == self.flagged:
            return
        changed = set(flagged) ^ set(self.flagged)
        self.flagged = flagged
        for name in changed:
            self._restyle(self._names.index(name))

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        self._theme = theme
        self._restyle_all()

    def _restyle_all(self) -> None:
        for row in range(self.count()):
            self._restyle(row)

    def _restyle(self, row: int) -> None:
        item = self.item(row)
        name = self._names[row]
        reasons = self.flagged.get(name, [])
        font = QFont(item.font())
        font.setStrikeOut(name in self.bad)
        item.setFont(font)
        if name in self.bad:
            item.setForeground(QBrush(QColor(self._theme.plot_foreground)))
        elif reasons:
            item.setForeground(QBrush(QColor(self._theme.bad)))
        else:
            item.setForeground(QBrush(QColor(self._theme.text)))
        gain = self.gains.get(name, 1.0)
        tips = [f"{name} ({self._types[row]})"]
        if reasons:
            tips.append("quality: " + ", ".join(reasons))
        if name in self.bad:
            tips.append("marked bad by the operator")
        if gain != 1.0:
            tips.append(f"gain x{gain:g}")
        item.setToolTip("\n".join(tips))
        suffix = f"  x{gain:g}" if gain != 1.0 else ""
        item.setText(f"{name}  ({self._types[row]}){suffix}")

    def _item_changed(self, item: QListWidgetItem) -> None:
        if not self._updating:
            self.shown_changed.emit()

    def _menu(self, position) -> None:
        item = self.itemAt(position)
        if item is None:
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        menu = QMenu(self)
        bad = name in self.bad
        mark = QAction("Mark good" if bad else "Mark bad", menu)
        mark.triggered.connect(lambda: self.set_bad(name, not bad))
        menu.addAction(mark)
        gain = self.gains.get(name, 1.0)
        for label, value in (("Gain x2", gain * 2), ("Gain /2", gain / 2), ("Reset gain", 1.0)):
            action = QAction(label, menu)
            action.triggered.connect(lambda _=False, v=value: self.set_gain(name, v))
            menu.addAction(action)
        solo = QAction("Show only this channel", menu)
        solo.triggered.connect(lambda: self.set_shown({name}))
        menu.addAction(solo)
        menu.popup(self.viewport().mapToGlobal(position))

    def keyPressEvent(self, event) -> None:
        """Toggle the bad mark of the current channel with B."""
        item = self.currentItem()
        if event.key() == Qt.Key.Key_B and item is not None:
            name = item.data(Qt.ItemDataRole.UserRole)
            self.set_bad(name, name not in self.bad)
            return
        super().keyPressEvent(event)
