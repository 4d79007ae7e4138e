"""Fixtures of the live-path tests: toy models exported to ONNX, registries, live outlets."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from decoders.datasets.trials import TrialSet

SFREQ = 128.0
N_TIMES = 128
CHANNELS = tuple(f"C{i}" for i in range(8))


def toy_trials(n_trials: int = 60, seed: int = 0, channels=CHANNELS) -> TrialSet:
    """Two classes: class 1 has three times the amplitude on the first channel (volts)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n_trials) % 2
    data = rng.standard_normal((n_trials, len(channels), N_TIMES)) * 10e-6
    data[labels == 1, 0] *= 3.0
    types = ("eeg",) * len(channels)
    return TrialSet(data, labels, ("rest", "move"), SFREQ, channels, types, f"toy{seed}")


def export_toy(
    path: Path, *, seed: int = 0, band=(4.0, 30.0), allow_resample=True, channels=CHANNELS
) -> Path:
    """Fit a CSP+LDA (optionally with a declared band-pass) on toy trials and export it."""
    from decoders import registry
    from decoders.export.onnx_export import export_decoder

    decoder = registry.create(
        "csp-lda", seed=seed, n_components=2, band=list(band) if band else None
    )
    decoder.fit(toy_trials(60, seed, channels), toy_trials(30, seed + 100, channels))
    export_decoder(decoder, path, allow_resample=allow_resample)
    return path


def export_recurrent(path: Path) -> Path:
    """Fit a tiny LIF network on toy trials; export its window and step graphs."""
    from decoders import registry
    from decoders.export.onnx_export import export_decoder

    entry = registry.get("spiking-lif")
    decoder = entry.create(seed=0, **entry.tiny)
    decoder.fit(toy_trials(40, 0), toy_trials(20, 100))
    export_decoder(decoder, path)
    return path


def export_explaining(path: Path) -> Path:
    """Fit a tiny EEGFormer (which explains its decisions by its tokens) and export it."""
    from decoders import registry
    from decoders.export.onnx_export import export_decoder

    entry = registry.get("eegformer")
    decoder = entry.create(seed=0, **entry.tiny)
    decoder.fit(toy_trials(40, 0), toy_trials(20, 100))
    export_decoder(decoder, path)
    return path


@pytest.fixture
def make_trials() -> Callable[..., TrialSet]:
    """Return :func:`toy_trials`."""
    return toy_trials


@pytest.fixture(scope="session")
def model_files(tmp_path_factory) -> dict[str, Path]:
    """Exported toy models: ``band`` (declared 4-30 Hz band-pass), ``band2`` (same input,
    other weights), ``plain`` (no preprocessing), ``fixed`` (no resampling allowed),
    ``small`` (4 channels)."""
    folder = tmp_path_factory.mktemp("models")
    return {
        "band": export_toy(folder / "band.onnx"),
        "band2": export_toy(folder / "band2.onnx", seed=1),
        "plain": export_toy(folder / "plain.onnx", band=None),
        "fixed": export_toy(folder / "fixed.onnx", allow_resample=False),
        "small": export_toy(folder / "small.onnx", channels=CHANNELS[:4]),
    }


@pytest.fixture(scope="session")
def recurrent_model(tmp_path_factory) -> Path:
    """A tiny exported LIF network, with its ``.step.onnx`` beside it."""
    return export_recurrent(tmp_path_factory.mktemp("recurrent") / "recurrent.onnx")


@pytest.fixture(scope="session")
def explaining_model(tmp_path_factory) -> Path:
    """A tiny exported EEGFormer whose graph also outputs each token's evidence."""
    return export_explaining(tmp_path_factory.mktemp("explaining") / "explaining.onnx")


@pytest.fixture
def stream_name() -> str:
    """Return a stream name no other test uses."""
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def live_outlet() -> Iterator[Callable[..., np.ndarray]]:
    """Start LSL outlets pushing toy EEG in real time (chunks of 4 samples) from a thread.

    ``start(name, channels=CHANNELS, sfreq=SFREQ, kind="eeg")`` returns the whole signal it
    will send (every channel of MNE type ``kind``).
    """
    import pylsl

    from acquisition.streaminfo import build_stream_info

    stop = threading.Event()
    threads = []

    def start(
        name: str, channels=CHANNELS, sfreq: float = SFREQ, seconds: float = 60.0, kind="eeg"
    ):
        info = build_stream_info(
            name, kind.upper(), list(channels), [kind] * len(channels), sfreq, source_id=name
        )
        outlet = pylsl.StreamOutlet(info, chunk_size=4)
        signal = np.random.default_rng(0).standard_normal((round(seconds * sfreq), len(channels)))
        signal = (signal * 10e-6).astype(np.float32)

        def push() -> None:
            origin, sent = pylsl.local_clock(), 0
            while not stop.is_set() and sent < len(signal):
                due = origin + (sent + 3) / sfreq
                time.sleep(max(0.0, due - pylsl.local_clock()))
                outlet.push_chunk(signal[sent : sent + 4], timestamp=due)
                sent += 4

        thread = threading.Thread(target=push, daemon=True)
        thread.start()
        threads.append((thread, outlet))
        return signal

    yield start
    stop.set()
    for thread, _ in threads:
        thread.join(2.0)


def wait_until(condition: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Poll ``condition`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(0.02)


@pytest.fixture
def wait_for() -> Callable[..., None]:
    """Return :func:`wait_until`."""
    return wait_until


def run_bci_app(*args, cwd, env=None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``bci-app ARGS`` as a user would (a separate process), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "bci_app", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def bci_app() -> Callable[..., subprocess.CompletedProcess]:
    """Return :func:`run_bci_app`."""
    return run_bci_app
