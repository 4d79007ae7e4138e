"""Screenshots of the main views: the real window on an X server (Xvfb), captured with xwd.

    python -m gui.screenshots [--out docs/screenshots] [--display :97]

Starts Xvfb (1600x1000), opens the application on it with its own settings, registry and
sessions in a cache folder (the user's are untouched), and drives it as an operator would:
the demonstration (the real MEG/EEG recording decoded live), the overview and spectrum
views, a recording session with markers, a stream loss, a model that does not fit its
stream, a calibration with a simulated participant then its feedback, and the light theme.
Each view is captured from the X server (``xwd -root``) and converted to PNG by ImageMagick.
Needs ``apt-get install xvfb x11-apps imagemagick`` and Qt's X11 libraries (the README's
desktop section lists them; ``.ci/run`` installs them). The first run trains the demonstration
model (a minute or two); later runs reuse it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

SIZE = (1600, 1000)
CONVERT = "/usr/bin/convert"  # ImageMagick's; another ``convert`` may come first on PATH
ROOT = Path(__file__).resolve().parent.parent


def start_xvfb(display: str, size: tuple[int, int] = SIZE) -> subprocess.Popen:
    """Start Xvfb on ``display`` (a screen of ``size`` pixels) and wait for its socket."""
    from .platform_check import XCB_PACKAGES

    if shutil.which("Xvfb") is None:
        raise SystemExit(f"Xvfb is missing: apt-get install xvfb {' '.join(XCB_PACKAGES)}")
    socket = Path(f"/tmp/.X11-unix/X{display.lstrip(':')}")
    if socket.exists():
        raise SystemExit(f"display {display} is in use; choose another with --display")
    server = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not socket.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit(f"Xvfb did not start on {display}")
        time.sleep(0.05)
    return server


def capture(display: str, path: Path) -> None:
    """Save the whole X screen as a PNG file (256 colours: half the size, same look)."""
    dump = subprocess.run(
        ["xwd", "-root", "-silent", "-display", display], capture_output=True, check=True
    )
    subprocess.run(
        [CONVERT, "xwd:-", "-colors", "256", f"PNG8:{path}"], input=dump.stdout, check=True
    )


class Script:
    """Runs a generator of waits from a Qt timer: each ``yield`` is a condition to wait for.

    A yielded ``(condition, timeout_s, what)`` resumes the script once ``condition()`` is
    true (the script fails, naming ``what``, when the time runs out); a yielded number waits
    that many seconds.
    """

    def __init__(self, steps: Iterator, app, on_error: Callable[[BaseException], None]):
        from PySide6.QtCore import QTimer

        self.steps = steps
        self.app = app
        self.on_error = on_error
        self.condition: Callable[[], bool] = lambda: True
        self.deadline = float("inf")
        self.what = ""
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(100)

    def tick(self) -> None:
        """Resume the script when its condition holds (called by the timer)."""
        try:
            if not self.condition():
                if time.monotonic() > self.deadline:
                    raise TimeoutError(f"screenshots: timed out waiting for {self.what}")
                return
            wait = next(self.steps)
        except StopIteration:
            self.timer.stop()
            self.app.quit()
            return
        except BaseException as error:
            self.timer.stop()
            self.on_error(error)
            self.app.quit()
            return
        if isinstance(wait, int | float):
            until = time.monotonic() + wait
            self.condition, self.deadline, self.what = (
                (lambda: time.monotonic() >= until),
                until + 1,
                "",
            )
        else:
            condition, timeout, self.what = wait
            self.condition, self.deadline = condition, time.monotonic() + timeout


def views(window, shoot: Callable[[str], None]) -> Iterator:
    """Drive the window through the main views, shooting each."""
    from bci_app.session.demo import DEMO_RECORDING
    from bci_app.session.sources import PlaySource, load_source
    from gui.demo import start_demo

    controller, viewer, decoder = window.controller, window.viewer, window.decoder
    start_demo(window)
    yield (
        (lambda: decoder.live is not None and len(decoder.history) >= 3),
        900,
        "decoder.live is not None and len(decoder.history) >= 3",
    )
    yield (
        (lambda: viewer.traces.frame is not None and viewer.traces.frame.times.size > 0),
        60,
        "viewer.traces.frame is not None and viewer.traces.frame.times.size > 0",
    )
    viewer.window_box.setCurrentIndex(1)  # 5 s
    viewer.set_page(4)
    yield 2.0
    viewer.auto_scale()
    yield 4.0
    shoot("signals-decoder")
    viewer.mode_box.setCurrentIndex(1)
    yield 3.0
    shoot("overview")
    viewer.mode_box.setCurrentIndex(2)
    yield 3.0
    shoot("spectrum")
    viewer.mode_box.setCurrentIndex(0)

    session = window.session
    window.session_dock.raise_()
    session.identifier.setText("demonstration participant 1")
    session.label.setText("demo")
    session.operator.setText("OP")
    session.record()
    yield (lambda: controller.recording), 30, "controller.recording"
    yield 2.0
    session.send_marker("eyes closed")
    session.note_text.setText("participant comfortable, impedances checked")
    session.add_note()
    yield 3.0
    session.quick_buttons[0].click()
    yield 2.0
    shoot("session-recording")

    simulator = "sim-motor_imagery"
    controller.play(
        lambda: load_source(PlaySource("simulator", "motor_imagery", duration_s=120.0)),
        simulator,
        loop=True,
        source="simulator motor_imagery",
        markers=False,
    )
    yield (
        (lambda: simulator in controller.acquisition.inlets),
        120,
        "simulator in controller.acquisition.inlets",
    )
    yield (lambda: viewer.stream_box.findText(simulator) >= 0), 30, "the stream in the viewer"
    viewer.stream_box.setCurrentText(simulator)
    yield (lambda: viewer.inlet is not None and viewer.inlet.name == simulator), 30, "the view"
    yield 3.0
    controller.stop_player(simulator)
    yield (lambda: viewer.banner.kind == "alarm"), 30, "viewer.banner.kind == 'alarm'"
    yield 1.5
    shoot("stream-lost")
    controller.play(
        lambda: load_source(PlaySource("simulator", "motor_imagery", duration_s=120.0)),
        simulator,
        loop=True,
        source="simulator motor_imagery",
        connect=False,
        markers=False,
    )
    yield (lambda: viewer.banner.kind == "ok"), 60, "viewer.banner.kind == 'ok'"
    yield 1.0
    shoot("stream-reconnected")
    session.stop_recording()
    yield (
        (lambda: not controller.recording and "stop recording" not in controller.tasks.running),
        120,
        "the recording to stop",
    )

    window.decoder_dock.raise_()
    decoder.stop()
    yield (lambda: decoder.live is None), 30, "decoder.live is None"
    decoder.select_stream(simulator)
    decoder.start()
    yield (
        (lambda: decoder.mismatch_box is not None and decoder.mismatch_box.isVisible()),
        60,
        "decoder.mismatch_box is not None and decoder.mismatch_box.isVisible()",
    )
    yield 1.0
    shoot("model-mismatch")
    decoder.mismatch_map_button.click()
    yield (
        (lambda: decoder.mapping_dialog is not None and decoder.mapping_dialog.isVisible()),
        30,
        "decoder.mapping_dialog is not None and decoder.mapping_dialog.isVisible()",
    )
    yield 1.0
    shoot("channel-mapping")
    decoder.mapping_dialog.reject()

    panel = window.calibration
    window.tabs.setCurrentWidget(panel)
    panel.classes.setText("left_hand, right_hand")
    panel.trials.setValue(8)
    panel.fixation.setValue(1.0)
    panel.cue.setValue(1.0)
    panel.imagery.setValue(2.0)
    panel.rest_min.setValue(1.0)
    panel.rest_max.setValue(1.5)
    panel.tmin.setValue(0.5)
    panel.tmax.setValue(2.5)
    panel.feedback_trials.setValue(6)
    panel.source.setCurrentIndex(0)
    panel.start()
    yield (
        (lambda: panel.stage == "calibration" and panel.display.phase is not None),
        120,
        "panel.stage == 'calibration' and panel.display.phase is not None",
    )
    yield (lambda: panel.display.phase.value == "cue"), 60, "panel.display.phase.value == 'cue'"
    yield 0.3
    shoot("calibration-cue")
    yield (
        (lambda: panel.stage in ("feedback", "failed")),
        600,
        "panel.stage in ('feedback', 'failed')",
    )
    yield (
        (lambda: panel.stage != "feedback" or panel.display.phase.value == "imagery"),
        60,
        "panel.stage != 'feedback' or panel.display.phase.value == 'imagery'",
    )
    yield 1.2
    shoot("calibration-feedback")
    yield (lambda: panel.stage in ("done", "failed")), 300, "panel.stage in ('done', 'failed')"
    yield 1.0
    shoot("calibration-done")

    window.tabs.setCurrentWidget(viewer)
    viewer.stream_box.setCurrentText(DEMO_RECORDING)
    window.apply_theme("light")
    yield 3.0
    shoot("light-theme")
    window.apply_theme("dark")


def main() -> None:
    """Start Xvfb, open the application on it and save the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--display", default=":97")
    parser.add_argument(
        "--home",
        type=Path,
        default=Path.home() / ".cache" / "bci-app" / "screenshots",
        help="settings, registry and sessions of the run (the demo model is kept there)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    home = args.home
    for sub in ("config", "sessions"):
        shutil.rmtree(home / sub, ignore_errors=True)
    os.environ.update(
        {
            "DISPLAY": args.display,
            "QT_QPA_PLATFORM": "xcb",
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "BCI_APP_MODELS": str(home / "registry"),
            "BCI_APP_SESSIONS": str(home / "sessions"),
            "MPLBACKEND": "Agg",
        }
    )
    os.environ.setdefault("LSLAPICFG", str(ROOT / "tests" / "lsl_api.cfg"))
    server = start_xvfb(args.display)
    errors: list[BaseException] = []
    try:
        import pyqtgraph as pg
        from PySide6.QtWidgets import QApplication

        from .main_window import MainWindow
        from .settings import Settings

        pg.setConfigOptions(antialias=True)
        app = QApplication([sys.argv[0]])
        window = MainWindow(Settings(), auto_refresh=True)
        window.setGeometry(0, 0, *SIZE)
        window.confirm_close = lambda: True  # unattended: a recording is stopped cleanly
        window.show()

        def shoot(name: str) -> None:
            path = args.out / f"{name}.png"
            capture(args.display, path)
            print(f"saved {path}", flush=True)

        script = Script(views(window, shoot), app, errors.append)
        app.exec()
        del script
        window.close()
    finally:
        server.terminate()
        server.wait(10)
    if errors:
        raise errors[0]


if __name__ == "__main__":
    main()
