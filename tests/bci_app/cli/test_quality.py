"""``bci-app quality`` on a file and on a live stream."""

import threading
import time

import numpy as np
import pytest

from bci_app.cli import main


def _recording(path):
    import mne

    rng = np.random.default_rng(0)
    data = rng.normal(0.0, 8e-6, (3, 2500))
    data[2, 1300:] += 500e-6  # a pop on Pz at 5.2 s
    info = mne.create_info(["Fz", "Cz", "Pz"], 250.0, "eeg")
    mne.io.RawArray(data, info, verbose="error").save(path, verbose="error")
    return path


def test_quality_of_a_file_prints_flagged_channels_and_draws_the_flags(tmp_path, capsys):
    path = _recording(tmp_path / "rec_raw.fif")

    status = main(["quality", str(path), "--png", str(tmp_path / "flags.png")])

    out = capsys.readouterr().out
    assert status == 0
    assert "10 blocks of 1 s, 1 of 3 channels flagged" in out
    assert "| Pz | eeg |  |  | 10% |" in out and "| Fz |" not in out  # the pop only
    assert (tmp_path / "flags.png").stat().st_size > 1000


def test_quality_threshold_outside_its_range_is_a_clear_error(tmp_path, capsys):
    path = _recording(tmp_path / "rec_raw.fif")
    assert main(["quality", str(path), "--set", "eye_uv=1"]) == 1
    assert "eye_uv=1.0 µV outside its range 10..5000 µV" in capsys.readouterr().err
    assert main(["quality", str(path), "--set", "eye_uv"]) == 1
    assert "'eye_uv' is not NAME=NUMBER" in capsys.readouterr().err
    assert main(["quality"]) == 1


@pytest.mark.lsl
def test_quality_of_a_stream(stream_name, capsys):
    import pylsl

    from acquisition.streaminfo import build_stream_info

    info = build_stream_info(
        stream_name, "EEG", ["Fz", "Cz"], ["eeg", "eeg"], 200.0, source_id=stream_name
    )
    outlet = pylsl.StreamOutlet(info, chunk_size=10)
    stop = threading.Event()

    def push():
        rng, sent, origin = np.random.default_rng(0), 0, pylsl.local_clock()
        while not stop.is_set():
            chunk = (
                rng.normal(0.0, 8e-6, (10, 2)) + (sent // 200 % 2) * np.array([0.0, 1e-3])
            ).astype(np.float32)
            outlet.push_chunk(chunk, timestamp=origin + (sent + 9) / 200.0)
            sent += 10
            time.sleep(max(0.0, origin + sent / 200.0 - pylsl.local_clock()))

    thread = threading.Thread(target=push, daemon=True)
    thread.start()
    try:
        status = main(["quality", "--stream", stream_name, "--seconds", "4"])
    finally:
        stop.set()
        thread.join()
    out = capsys.readouterr().out
    assert status == 0 and "| Cz | eeg |  |  | " in out  # jumps of a 1 mV square wave
