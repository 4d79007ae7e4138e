"""Dark and light themes: the Qt palette and the colours of the plots."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class Theme:
    """Colours of one theme (``#rrggbb``)."""

    name: str
    window: str
    base: str
    text: str
    highlight: str
    plot_background: str
    plot_foreground: str
    trace: str
    trace_alt: str
    bad: str
    selected: str
    marker: str
    gap: str
    alarm: str
    ok: str


THEMES = {
    "dark": Theme(
        "dark",
        window="#202328",
        base="#16181c",
        text="#e4e6eb",
        highlight="#3d7bd9",
        plot_background="#101215",
        plot_foreground="#b8bcc4",
        trace="#7fc8ff",
        trace_alt="#a3e39a",
        bad="#e0555a",
        selected="#ffd25e",
        marker="#ff9f43",
        gap="#5a2a2d",
        alarm="#b3262c",
        ok="#2e7d32",
    ),
    "light": Theme(
        "light",
        window="#eff0f2",
        base="#ffffff",
        text="#15171a",
        highlight="#2a62c9",
        plot_background="#ffffff",
        plot_foreground="#30343a",
        trace="#1c4f99",
        trace_alt="#2c7a2c",
        bad="#c62828",
        selected="#b26a00",
        marker="#d35400",
        gap="#f4c7c9",
        alarm="#c62828",
        ok="#2e7d32",
    ),
}


def theme(name: str) -> Theme:
    """Return the theme called ``name`` (the dark one for unknown names)."""
    return THEMES.get(name, THEMES["dark"])


def apply_palette(app: QApplication, current: Theme) -> None:
    """Give the application the Fusion style and the theme's palette."""
    app.setStyle("Fusion")
    palette = QPalette()
    window, base, text = QColor(current.window), QColor(current.base), QColor(current.text)
    palette.setColor(QPalette.ColorRole.Window, window)
    palette.setColor(QPalette.ColorRole.WindowText, text)
    palette.setColor(QPalette.ColorRole.Base, base)
    palette.setColor(QPalette.ColorRole.AlternateBase, window)
    palette.setColor(QPalette.ColorRole.Text, text)
    palette.setColor(QPalette.ColorRole.Button, window)
    palette.setColor(QPalette.ColorRole.ButtonText, text)
    palette.setColor(QPalette.ColorRole.ToolTipBase, base)
    palette.setColor(QPalette.ColorRole.ToolTipText, text)
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(current.plot_foreground))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(current.highlight))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    disabled = QColor(current.plot_foreground)
    disabled.setAlpha(120)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    app.setPalette(palette)
