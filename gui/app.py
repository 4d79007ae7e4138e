"""Starting the desktop application."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def run(*, demo: bool = False, theme: str | None = None, argv: Sequence[str] = ()) -> int:
    """Open the main window and run the Qt event loop until it closes; return the exit code.

    Parameters
    ----------
    demo : bool
        Play the real MEG/EEG recording and decode it with the demonstration model.
    theme : str, optional
        ``dark`` or ``light`` (remembered for the next start).
    argv : sequence of str
        Extra arguments for Qt (``-platform offscreen``...).
    """
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow
    from .settings import APPLICATION, ORGANIZATION, Settings

    pg.setConfigOptions(antialias=False, useOpenGL=False)
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    settings = Settings()
    if theme is not None:
        settings.set("appearance/theme", theme)
    window = MainWindow(settings)
    window.show()
    if demo:
        from .demo import start_demo

        start_demo(window)
    return app.exec()
