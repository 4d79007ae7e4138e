import logging
import os
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from gui.settings import Settings

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(120)]


def test_settings_live_in_the_users_config_folder_with_types_kept(qapp):
    settings = Settings()
    assert settings.path.startswith(os.environ["XDG_CONFIG_HOME"])
    assert settings.path.endswith("bci-app/bci-app.conf")


def test_values_keep_their_types_across_instances(tmp_path):
    path = str(tmp_path / "s.conf")
    first = Settings(QSettings(path, QSettings.Format.IniFormat))
    first.set("viewer/window_s", 20.0)
    first.set("viewer/bandpass", True)
    first.set("streams/required", ["amp", "markers"])
    first.set("viewer/page_size", 32)
    first.sync()
    second = Settings(QSettings(path, QSettings.Format.IniFormat))
    assert second.get("viewer/window_s") == 20.0
    assert second.get("viewer/bandpass") is True
    assert second.get("streams/required") == ["amp", "markers"]
    assert second.get("viewer/page_size") == 32
    assert second.get("viewer/notch") == 0.0  # the default
    second.set("viewer/page_size", "many")
    assert second.get("viewer/page_size") == 16  # unreadable: the default


def test_the_theme_switches_and_is_remembered(window, settings):
    window.apply_theme("light")
    palette = QApplication.instance().palette()
    assert palette.color(QPalette.ColorRole.Window).name() == window.theme.window == "#eff0f2"
    assert window.viewer.traces.backgroundBrush().color().name() == "#ffffff"
    assert settings.get("appearance/theme") == "light"
    window.apply_theme("dark")
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).name() == "#202328"


def test_the_window_layout_is_saved_on_close(qtbot, settings):
    from gui.main_window import MainWindow

    first = MainWindow(settings, auto_refresh=False)
    first.show()
    first.log_dock.hide()
    first.close()
    assert settings.get_bytes("window/geometry") is not None
    first.deleteLater()
    second = MainWindow(settings, auto_refresh=False)
    second.show()
    assert second.log_dock.isHidden() and not second.streams_dock.isHidden()
    second.close()
    second.deleteLater()


def test_the_log_shows_nan_windows_skipped_and_python_warnings(window, qtbot, unique):
    import pylsl

    from acquisition.streaminfo import build_stream_info

    channels = [f"C{i}" for i in range(8)]
    info = build_stream_info(unique, "EEG", channels, ["eeg"] * 8, 128.0, source_id=unique)
    outlet = pylsl.StreamOutlet(info, chunk_size=8)
    stop = threading.Event()

    def push() -> None:  # 1 s of signal, then NaN on C3, in real time
        rng = np.random.default_rng(0)
        sent = 0
        origin = pylsl.local_clock()
        while not stop.is_set():
            chunk = (rng.standard_normal((8, 8)) * 1e-5).astype(np.float32)
            if sent > 128:
                chunk[:, 3] = np.nan
            due = origin + (sent + 7) / 128.0
            time.sleep(max(0.0, due - pylsl.local_clock()))
            outlet.push_chunk(chunk, timestamp=due)
            sent += 8

    thread = threading.Thread(target=push, daemon=True)
    thread.start()
    try:
        window.controller.open_stream(unique, unique)
        qtbot.waitUntil(lambda: unique in window.controller.acquisition.inlets, timeout=10_000)
        window.decoder.select_model("toy:1")
        window.decoder.select_stream(unique)
        window.decoder.start()
        qtbot.waitUntil(
            lambda: any("NaN or Inf samples" in m for m in window.log.messages("warning")),
            timeout=15_000,
        )
        qtbot.waitUntil(
            lambda: any("window skipped: NaN" in m for m in window.log.messages("warning")),
            timeout=15_000,
        )
        logging.getLogger("bci_app.test").warning("a warning from a library")
        qtbot.waitUntil(lambda: "a warning from a library" in window.log.messages("warning"))
        window.log.level_box.setCurrentIndex(2)  # errors only
        assert all(
            window.log.table.item(row, 1).text() == "error"
            for row in range(window.log.table.rowCount())
        )
    finally:
        stop.set()
        thread.join(2.0)


def test_the_settings_dialog_writes_what_the_user_chose(window, settings, tmp_path):
    window.open_settings()
    dialog = window.settings_dialog
    assert dialog.isVisible()
    dialog.sessions[1].setText(str(tmp_path / "elsewhere"))
    dialog.max_mb.setValue(500)
    dialog.markers.setText("blink, swallow")
    dialog.theme.setCurrentText("light")
    dialog.accept()
    assert settings.get("paths/sessions") == str(tmp_path / "elsewhere")
    assert settings.get("recording/max_mb") == 500
    assert settings.get("markers/buttons") == ["blink", "swallow"]
    assert window.theme.name == "light"
    assert window.controller.sessions_dir == tmp_path / "elsewhere"
