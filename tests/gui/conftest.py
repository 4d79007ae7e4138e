"""Fixtures of the GUI tests: the real main window offscreen, a registry with an exported
model, toy recordings played over real LSL, unique stream names."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

SFREQ = 128.0
CHANNELS = tuple(f"C{i}" for i in range(8))


def toy_raw(
    channels=CHANNELS,
    sfreq: float = SFREQ,
    seconds: float = 40.0,
    *,
    flat: tuple[str, ...] = (),
    events_every: float = 2.0,
):
    """Return an EEG recording in volts with ``mark`` annotations every ``events_every`` s."""
    import mne

    rng = np.random.default_rng(0)
    data = rng.standard_normal((len(channels), round(seconds * sfreq))) * 10e-6
    for name in flat:
        data[list(channels).index(name)] = 0.0
    info = mne.create_info(list(channels), sfreq, "eeg")
    raw = mne.io.RawArray(data, info, verbose="error")
    onsets = np.arange(1.0, seconds - 1.0, events_every)
    raw.set_annotations(mne.Annotations(onsets, [0.0] * onsets.size, ["mark"] * onsets.size))
    return raw


def _train_toy(channels=CHANNELS):
    from decoders import registry
    from decoders.datasets.trials import TrialSet

    rng = np.random.default_rng(0)
    labels = np.arange(60) % 2
    data = rng.standard_normal((60, len(channels), 128)) * 10e-6
    data[labels == 1, 0] *= 3.0
    trials = TrialSet(
        data, labels, ("rest", "move"), SFREQ, channels, ("eeg",) * len(channels), "toy"
    )
    decoder = registry.create("csp-lda", n_components=2)
    decoder.fit(trials.subset(np.arange(40)), trials.subset(np.arange(40, 60)))
    return decoder


@pytest.fixture(scope="session")
def model_registry(tmp_path_factory) -> Path:
    """A registry holding ``toy`` (CSP+LDA on C0..C7 at 128 Hz, 1 s windows), exported for real."""
    from decoders.export.publish import publish

    root = tmp_path_factory.mktemp("registry")
    publish(_train_toy(), root, "toy")
    return root


@pytest.fixture
def unique() -> str:
    """Return a stream name no other test uses."""
    return f"g-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def settings(tmp_path, model_registry):
    """Return settings stored in a temporary file, pointing at the test registry."""
    from PySide6.QtCore import QSettings

    from gui.settings import Settings

    store = QSettings(str(tmp_path / "settings.conf"), QSettings.Format.IniFormat)
    result = Settings(store)
    result.set("paths/registry", str(model_registry))
    result.set("paths/sessions", str(tmp_path / "sessions"))
    return result


@pytest.fixture
def window(qtbot, settings) -> Iterator:
    """Return the main window, shown offscreen; closed (recording stopped) after the test.

    Not handed to ``qtbot.addWidget``: pytest-qt would delete it even while it refuses to
    close during a recording.
    """
    from gui.main_window import MainWindow

    main = MainWindow(settings, auto_refresh=False)
    main.show()
    yield main
    main.confirm_close = lambda: True
    main.close()
    qtbot.waitUntil(lambda: not main.isVisible(), timeout=30_000)
    main.deleteLater()


@pytest.fixture
def play(window, qtbot) -> Callable[..., object]:
    """Return ``play(name, raw=None, **options)``: stream a toy recording and wait for it open."""

    def start(name: str, raw=None, *, markers: bool = True, **options):
        recording = raw if raw is not None else toy_raw()
        window.controller.play(lambda: recording, name, source="toy", **options)
        qtbot.waitUntil(lambda: name in window.controller.acquisition.inlets, timeout=15_000)
        if markers:
            qtbot.waitUntil(
                lambda: f"{name}-markers" in window.controller.acquisition.inlets, timeout=15_000
            )
        return window.controller.acquisition.inlets[name]

    return start


def pytest_collection_modifyitems(items):
    """Mark every test of this folder ``gui``."""
    folder = Path(__file__).parent
    for item in items:
        if folder in Path(item.fspath).parents:
            item.add_marker(pytest.mark.gui)


@pytest.fixture
def make_raw() -> Callable[..., object]:
    """Return :func:`toy_raw`."""
    return toy_raw
