"""Smoke test on a real X server: ``bci-app gui --demo`` as a user starts it, on a fresh machine.

Runs in the pass of the GUI tests under Xvfb (``make test-x11``: Qt's xcb platform); skipped
offscreen. The demo model trains the first time (in a child process), then decodes the window
after each marker: the test waits for the first decision on the prediction stream the decoder
publishes, then captures the screen.
"""

import os
import subprocess
import sys
from pathlib import Path

import pylsl
import pytest

from bci_app.session.demo import DEMO_CLASSES, DEMO_MODEL

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.lsl,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        os.environ.get("QT_QPA_PLATFORM") != "xcb" or not os.environ.get("DISPLAY"),
        reason="runs on an X server (make test-x11)",
    ),
]


def test_the_demo_opens_on_x11_trains_decides_and_is_captured(real_data, tmp_path):
    from gui.screenshots import capture

    env = dict(
        os.environ,
        BCI_APP_MODELS=str(tmp_path / "registry"),  # empty: the demo model trains first
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    )
    log = (tmp_path / "gui.log").open("w")
    desktop = subprocess.Popen(
        [sys.executable, "-m", "bci_app", "gui", "--demo"], env=env, stdout=log, stderr=log
    )
    try:
        found = []
        while not found:
            assert desktop.poll() is None, (tmp_path / "gui.log").read_text()[-3000:]
            found = pylsl.resolve_byprop("name", f"bci-app-{DEMO_MODEL}", timeout=2.0)
        inlet = pylsl.StreamInlet(found[0])
        decision, stamp = inlet.pull_sample(timeout=120.0)
        assert stamp is not None and len(decision) == len(DEMO_CLASSES)
        assert sum(decision) == pytest.approx(1.0, abs=1e-4)
        shot = tmp_path / "demo.png"
        capture(os.environ["DISPLAY"], shot)
        assert shot.stat().st_size > 20_000  # a drawn desktop, not an empty screen
        assert desktop.poll() is None
    finally:
        desktop.terminate()
        desktop.wait(30)
        log.close()
    assert not list((tmp_path / "cache").rglob("*staging*"))
