import io
import struct

import numpy as np
import pytest

from acquisition.streaminfo import build_stream_info
from acquisition.xdf_writer import XdfWriter, marker_header, varlen


def _write(path, cut_last_flush_at=None):
    signal = build_stream_info("sig", "EEG", ["Cz", "Pz"], ["eeg", "eeg"], 100.0, source_id="x")
    stamps = 50 + np.arange(300) / 100
    values = np.random.default_rng(0).standard_normal((300, 2)).astype(np.float32)
    with open(path, "wb") as file:
        writer = XdfWriter(file)
        writer.stream_header(1, signal.as_xml())
        writer.stream_header(2, marker_header("cues", "Markers", "cues-sid"))
        writer.samples(1, "float32", stamps[:200], values[:200])
        writer.samples(2, "string", [50.5, 51.0], [["left"], ["réponse, 2"]])
        writer.clock_offset(1, 50.0, 0.25)
        writer.flush()
        writer.samples(1, "float32", stamps[200:], values[200:])
        writer.boundary()
        if cut_last_flush_at is None:
            writer.stream_footer(1, first=50.0, last=stamps[-1], count=300, offsets=[(50.0, 0.25)])
            writer.flush()
        else:
            file.write(bytes(writer._pending)[:cut_last_flush_at])
    return stamps, values


def test_pyxdf_reads_what_was_written(tmp_path):
    import pyxdf

    stamps, values = _write(tmp_path / "a.xdf")
    streams, _ = pyxdf.load_xdf(str(tmp_path / "a.xdf"), dejitter_timestamps=False)
    signal, cues = sorted(streams, key=lambda s: s["info"]["name"][0] != "sig")
    np.testing.assert_array_equal(signal["time_series"], values)
    np.testing.assert_allclose(signal["time_stamps"], stamps + 0.25)  # clock offset applied
    assert cues["time_series"] == [["left"], ["réponse, 2"]]
    assert signal["footer"]["info"]["sample_count"] == ["300"]
    assert signal["info"]["desc"][0]["channels"][0]["channel"][1]["label"] == ["Pz"]


@pytest.mark.parametrize("cut", [7, 900, 1700])  # inside the 1713-byte Samples chunk
def test_a_file_cut_inside_its_last_write_keeps_every_earlier_write(tmp_path, cut):
    import pyxdf

    _write(tmp_path / "cut.xdf", cut_last_flush_at=cut)
    streams, _ = pyxdf.load_xdf(str(tmp_path / "cut.xdf"))
    signal = next(s for s in streams if s["info"]["name"] == ["sig"])
    assert len(signal["time_stamps"]) == 200


def test_lengths_use_the_smallest_width():
    assert varlen(200) == b"\x01\xc8"
    assert varlen(70_000) == b"\x04" + struct.pack("<I", 70_000)
    assert varlen(2**33) == b"\x08" + struct.pack("<Q", 2**33)


def test_a_failed_write_counts_nothing_as_written():
    class Full(io.BytesIO):
        def write(self, data):
            raise OSError(28, "No space left on device")

    writer = XdfWriter(Full())
    with pytest.raises(OSError, match="No space"):
        writer.flush()
    assert writer.bytes_written == 0 and writer.pending > 0
