import threading
import uuid

import numpy as np
import pytest

from bci_app.cli import main

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(120)]


def _recording(path, seconds=1.0):
    import mne

    sfreq = 200.0
    data = np.random.default_rng(0).normal(0, 1e-5, (2, int(seconds * sfreq)))
    raw = mne.io.RawArray(data, mne.create_info(["C3", "C4"], sfreq, "eeg"), verbose="error")
    raw.set_annotations(mne.Annotations([0.1], [0.0], ["go"]))
    raw.save(path)
    return raw


def _play_in_background(argv):
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("status", main(argv)))
    thread.start()
    return thread, outcome


def test_play_streams_a_file_with_its_markers(tmp_path, capsys):
    from acquisition.discovery import find_stream
    from acquisition.inlet import open_inlet

    name = f"cli-{uuid.uuid4().hex[:8]}"
    raw = _recording(tmp_path / "rec_raw.fif", seconds=3.0)
    thread, outcome = _play_in_background(
        ["play", str(tmp_path / "rec_raw.fif"), "--name", name, "--loop", "--duration", "2.5"]
    )
    inlet = open_inlet(find_stream(source_id=f"bci-app-player:{name}", timeout=5.0))
    try:
        assert inlet.buffer.wait(100, timeout=5.0)
        assert list(inlet.buffer.ch_names) == raw.ch_names and inlet.buffer.sfreq == 200.0
    finally:
        thread.join(20)
        inlet.stop()
    assert outcome["status"] == 0
    printed = capsys.readouterr().out
    assert f"streaming '{name}' (2 ch EEG [eeg] at 200 Hz, 3.0 s, looping" in printed
    assert f"markers on '{name}-markers' (1 events)" in printed


def test_play_names_a_file_it_cannot_read(tmp_path, capsys):
    (tmp_path / "broken.edf").write_bytes(b"0" * 100)
    assert main(["play", str(tmp_path / "broken.edf")]) == 1
    assert "broken.edf" in capsys.readouterr().err
    assert main(["play", str(tmp_path / "missing.fif")]) == 1
    assert "file not found" in capsys.readouterr().err


def test_play_wants_a_source_or_a_simulator():
    with pytest.raises(SystemExit, match="either SOURCE or --simulate"):
        main(["play"])


@pytest.mark.slow
def test_play_streams_a_simulator_with_its_cues(capsys):
    from acquisition.discovery import find_stream
    from acquisition.inlet import open_inlet
    from decoders.simulators.registry import simulate_raw

    task = "motor_imagery"  # a cue-based task: its first cue comes 2 s in
    name = f"cli-{uuid.uuid4().hex[:8]}"
    thread, outcome = _play_in_background(
        ["play", "--simulate", task, "--duration", "12", "--seed", "3", "--name", name]
    )
    try:
        signal = open_inlet(find_stream(source_id=f"bci-app-player:{name}", timeout=120.0))
        markers = open_inlet(find_stream(source_id=f"bci-app-player:{name}-markers", timeout=5.0))
        assert signal.buffer.wait(int(signal.buffer.sfreq), timeout=10.0)
        assert markers.markers.wait(0, timeout=10.0)  # the first cue comes 2 s in
        first_cue = simulate_raw(task, seed=3, duration_s=12).annotations.description[0]
        assert markers.markers.since(0)[0].value == first_cue
    finally:
        thread.join(60)
    signal.stop()
    markers.stop()
    assert outcome["status"] == 0
    assert f"streaming '{name}'" in capsys.readouterr().out


def test_play_refuses_an_unknown_simulator(capsys):
    assert main(["play", "--simulate", "no-such-task", "--duration", "1"]) == 1
    assert "no-such-task" in capsys.readouterr().err
