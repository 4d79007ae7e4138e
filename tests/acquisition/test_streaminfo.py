import pytest

from acquisition.streaminfo import build_stream_info, describe, describe_xml, stream_type_for


def test_published_channels_come_back_with_types_and_si_units():
    info = build_stream_info(
        "amp",
        "MEG",
        ["MEG0111", "MEG0112", "EEG001", "STI 014"],
        ["mag", "grad", "eeg", "stim"],
        600.615,
        source_id="amp-1",
        extra={"source": "test_raw.fif"},
    )
    stream = describe(info)
    assert (stream.name, stream.stype, stream.source_id) == ("amp", "MEG", "amp-1")
    assert stream.sfreq == pytest.approx(600.615) and stream.regular and not stream.is_marker
    assert stream.ch_names == ["MEG0111", "MEG0112", "EEG001", "STI 014"]
    assert stream.ch_types == ["mag", "grad", "eeg", "stim"]
    assert [c.unit for c in stream.channels] == ["T", "T/m", "V", ""]
    assert all(c.scale == 1.0 for c in stream.channels)
    assert "<source>test_raw.fif</source>" in stream.header


def test_headers_in_other_units_are_scaled_to_si():
    xml = (
        "<info><name>x</name><type>EEG</type><channel_count>3</channel_count>"
        "<nominal_srate>250</nominal_srate><channel_format>int16</channel_format><desc><channels>"
        "<channel><label>C3</label><unit>microvolts</unit></channel>"
        "<channel><label>C4</label><type>EMG</type><unit>mV</unit></channel>"
        "</channels></desc></info>"
    )
    stream = describe_xml(xml)
    assert [(c.name, c.kind, c.scale) for c in stream.channels] == [
        ("C3", "eeg", 1e-6),
        ("C4", "emg", 1e-3),
        ("ch3", "eeg", 1.0),
    ]


def test_stream_type_follows_the_dominant_data_channels():
    assert stream_type_for(["grad"] * 204 + ["mag"] * 102 + ["eeg"] * 60 + ["stim"]) == "MEG"
    assert stream_type_for(["ecog"] * 6 + ["dbs"] * 3 + ["misc"]) == "ECOG"
    assert stream_type_for(["seeg"] * 3 + ["eeg"] * 2) == "SEEG"
    assert stream_type_for(["misc", "stim"]) == "MISC"


def test_compatibility_names_every_change():
    info = build_stream_info("a", "EEG", ["x", "y"], ["eeg", "eeg"], 250.0, source_id="a")
    before = describe(info)
    after = describe(build_stream_info("a", "EEG", ["x"], ["eeg"], 500.0, source_id="a"))
    assert before.compatible_with(describe(info)) is None
    assert before.compatible_with(after) == "sampling rate 250 Hz -> 500 Hz; channel count 2 -> 1"


def test_mismatched_names_and_types_are_refused():
    with pytest.raises(ValueError, match="2 channel names but 1"):
        build_stream_info("a", "EEG", ["x", "y"], ["eeg"], 250.0, source_id="a")
