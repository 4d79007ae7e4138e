import pytest

from acquisition.discovery import find_stream, find_streams

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(60)]


def test_streams_are_found_by_name_type_or_source_id_with_their_channels(outlet, unique):
    outlet(unique, stype="EEG", unit="microvolts", n_channels=3)
    outlet(f"{unique}-b", stype="SEEG", source_id=f"{unique}-other")
    by_name = find_streams(name=unique, timeout=5.0, full=True, minimum=1)
    assert [s.name for s in by_name] == [unique]
    assert by_name[0].ch_names == ["C0", "C1", "C2"] and by_name[0].channels[0].scale == 1e-6
    assert [s.name for s in find_streams(source_id=f"{unique}-other", timeout=5.0, minimum=1)] == [
        f"{unique}-b"
    ]
    typed = find_streams(stype="SEEG", timeout=0.5)
    assert f"{unique}-b" in [s.name for s in typed] and unique not in [s.name for s in typed]


def test_find_stream_wants_exactly_one(outlet, unique):
    with pytest.raises(LookupError, match="no LSL stream"):
        find_stream(name=unique, timeout=0.2)
    outlet(unique, source_id=f"{unique}-1")
    outlet(unique, source_id=f"{unique}-2")
    with pytest.raises(LookupError, match="2 LSL streams match"):
        find_stream(name=unique, timeout=0.5)
    stream = find_stream(source_id=f"{unique}-2")
    assert stream.name == unique and stream.info is not None and stream.header


def test_quotes_in_criteria_are_refused():
    with pytest.raises(ValueError, match="quotes"):
        find_streams(name="it's", timeout=0.1)
