import numpy as np
import pytest

from acquisition.export import GAP_ANNOTATION, export_bids, export_fif, xdf_to_raws
from acquisition.xdf_writer import XdfWriter, marker_header

SFREQ = 200.0
HEADER = (
    "<info><name>amp</name><type>EEG</type><channel_count>2</channel_count>"
    "<nominal_srate>200</nominal_srate><channel_format>float32</channel_format>"
    "<desc><channels><channel><label>Cz</label><type>EEG</type><unit>microvolts</unit></channel>"
    "<channel><label>STI</label><type>STIM</type></channel></channels></desc></info>"
)


def _recording(path):
    """2 s of signal, a 0.5 s loss, 1 s more; markers before and after the loss."""
    stamps = np.concatenate([100 + np.arange(400) / SFREQ, 102.5 + np.arange(200) / SFREQ])
    values = np.zeros((600, 2), dtype=np.float32)
    values[:, 0] = np.arange(600)  # microvolts
    with open(path, "wb") as file:
        writer = XdfWriter(file)
        writer.stream_header(1, HEADER)
        writer.stream_header(2, marker_header("cues", "Markers", "cues"))
        writer.samples(1, "float32", stamps, values)
        writer.samples(2, "string", [100.5, 102.75], [["left"], ["right"]])
        writer.flush()


def test_a_loss_becomes_zeros_annotated_bad_acq_skip_and_markers_keep_their_time(tmp_path):
    _recording(tmp_path / "rec.xdf")
    raw = xdf_to_raws(tmp_path / "rec.xdf")["amp"]
    assert raw.ch_names == ["Cz", "STI"] and raw.get_channel_types() == ["eeg", "stim"]
    assert raw.n_times == 700  # 400 + 100 missing + 200
    data = raw.get_data()
    np.testing.assert_allclose(data[0, :400], np.arange(400) * 1e-6)  # microvolts -> volts
    assert np.all(data[0, 400:500] == 0)
    np.testing.assert_allclose(data[0, 500:], np.arange(400, 600) * 1e-6)
    found = {
        (a["description"], round(a["onset"], 4), round(a["duration"], 4)) for a in raw.annotations
    }
    assert found == {(GAP_ANNOTATION, 2.0, 0.5), ("left", 0.5, 0.0), ("right", 2.75, 0.0)}


def test_export_writes_fif_files_beside_the_recording(tmp_path):
    import mne

    _recording(tmp_path / "session 1.xdf")
    (path,) = export_fif(tmp_path / "session 1.xdf")
    assert path.name == "session 1_amp_raw.fif"
    raw = mne.io.read_raw_fif(path, verbose="error")
    assert raw.n_times == 700 and GAP_ANNOTATION in raw.annotations.description
    assert raw.info["sfreq"] == pytest.approx(SFREQ)


def test_export_bids_writes_a_valid_recording_with_its_events(tmp_path):
    import mne_bids

    _recording(tmp_path / "rec.xdf")
    (path,) = export_bids(tmp_path / "rec.xdf", tmp_path / "bids", subject="p01", task="cues")
    assert path.name == "sub-p01_task-cues_acq-amp_eeg.vhdr"
    bids_path = mne_bids.get_bids_path_from_fname(path)
    bids_path.update(root=tmp_path / "bids")
    raw = mne_bids.read_raw_bids(bids_path, verbose="error")
    assert raw.n_times == 700 and raw.ch_names == ["Cz", "STI"]
    assert {"left", "right", GAP_ANNOTATION} <= set(raw.annotations.description)


def test_a_stream_with_a_single_sample_is_still_exported(tmp_path):
    with open(tmp_path / "short.xdf", "wb") as file:
        writer = XdfWriter(file)
        writer.stream_header(1, HEADER)
        writer.samples(1, "float32", np.array([5.0]), np.array([[2.0, 0.0]], dtype=np.float32))
        writer.flush()
    raw = xdf_to_raws(tmp_path / "short.xdf")["amp"]
    assert raw.n_times == 1 and raw.get_data()[0, 0] == pytest.approx(2e-6)
