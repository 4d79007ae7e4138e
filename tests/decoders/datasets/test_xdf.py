import numpy as np
import pytest

from acquisition.xdf_writer import XdfWriter, marker_header
from decoders.datasets.errors import DataError
from decoders.datasets.readers import read_recording

SFREQ = 100.0


def signal_header(unit="microvolts", n_channels=3):
    channels = "".join(
        f"<channel><label>C{i}</label><type>EEG</type><unit>{unit}</unit></channel>"
        for i in range(n_channels)
    )
    return (
        '<?xml version="1.0"?><info><name>amp</name><type>EEG</type>'
        f"<channel_count>{n_channels}</channel_count><nominal_srate>{SFREQ}</nominal_srate>"
        "<channel_format>float32</channel_format><source_id>amp-1</source_id>"
        f"<desc><channels>{channels}</channels></desc></info>"
    )


def write_xdf(path, *, gap_s=0.0, unit="microvolts"):
    """Two seconds of a 3-channel stream (values in µV), a 'go' marker at 1.5 s."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(200, 3)) * 10
    stamps = 50.0 + np.arange(200) / SFREQ
    stamps[100:] += gap_s  # a stream loss after the first second
    with open(path, "wb") as handle:
        writer = XdfWriter(handle)
        writer.stream_header(1, signal_header(unit))
        writer.stream_header(2, marker_header("amp-markers", "Markers", "amp-1-m"))
        writer.samples(1, "float32", stamps, values.astype(np.float32))
        writer.samples(2, "string", np.array([stamps[150]]), [["go"]])
        writer.flush(fsync=False)
    return values


def test_xdf_signal_in_volts_with_markers(tmp_path):
    values = write_xdf(tmp_path / "rec.xdf")
    raw = read_recording(tmp_path / "rec.xdf")
    assert raw.ch_names == ["C0", "C1", "C2"] and raw.get_channel_types() == ["eeg"] * 3
    assert raw.info["sfreq"] == SFREQ
    assert np.allclose(raw.get_data(), values.T * 1e-6, atol=1e-12)
    assert list(raw.annotations.description) == ["go"]
    assert raw.annotations.onset[0] == pytest.approx(1.5, abs=0.011)


def test_short_stream_loss_stays_a_gap_and_markers_stay_on_their_samples(tmp_path):
    write_xdf(tmp_path / "gap.xdf", gap_s=0.3)
    raw = read_recording(tmp_path / "gap.xdf")
    annotations = dict(zip(raw.annotations.description, raw.annotations.onset, strict=True))
    assert annotations["BAD_ACQ_SKIP"] == pytest.approx(1.0, abs=0.011)
    assert annotations["go"] == pytest.approx(1.5, abs=0.011)  # sample 150, not 1.8 s


def test_xdf_with_unknown_units_or_no_signal_is_refused(tmp_path):
    write_xdf(tmp_path / "odd.xdf", unit="furlongs")
    with pytest.raises(DataError, match="cannot be mapped to SI"):
        read_recording(tmp_path / "odd.xdf")
    with open(tmp_path / "markers.xdf", "wb") as handle:
        writer = XdfWriter(handle)
        writer.stream_header(2, marker_header("m", "Markers", "m"))
        writer.samples(2, "string", np.array([1.0]), [["go"]])
        writer.flush(fsync=False)
    with pytest.raises(DataError, match="no regularly sampled signal stream"):
        read_recording(tmp_path / "markers.xdf")
