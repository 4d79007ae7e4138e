import numpy as np
import pytest

from acquisition.events import StreamStatus
from acquisition.inlet import MarkerInlet, SignalInlet
from acquisition.session import AcquisitionSession

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(60)]


def test_a_session_opens_streams_by_source_id_name_or_type_and_records_them(
    outlet, unique, push, wait, tmp_path
):
    eeg = outlet(f"{unique}-eeg", n_channels=4, sfreq=250.0)
    seeg = outlet(f"{unique}-seeg", n_channels=6, sfreq=1000.0, stype=f"SEEG-{unique}")
    cues = outlet(
        f"{unique}-cues", n_channels=1, sfreq=0, stype="Markers", channel_format="string", unit=None
    )
    with AcquisitionSession(seconds=5.0) as session:
        first = session.open(source_id=f"{unique}-eeg-sid")
        second = session.open(stype=f"SEEG-{unique}")
        third = session.open(name=f"{unique}-cues")
        assert set(session.signals) == {f"{unique}-eeg", f"{unique}-seeg"}
        assert isinstance(third, MarkerInlet) and list(session.markers) == [f"{unique}-cues"]
        with pytest.raises(LookupError, match="already open"):
            session.open(source_id=f"{unique}-eeg-sid")
        wait(lambda: all(i.status is not StreamStatus.CONNECTING for i in session.inlets.values()))
        recorder = session.record(tmp_path / "all.xdf", fif=False)
        push(eeg, 50)
        push(seeg, 200)
        cues.push_sample(["start"])
        wait(lambda: first.buffer.total == 50 and second.buffer.total == 200)
        wait(lambda: third.markers.next_seq == 1)
        result = recorder.stop()
        assert result.samples == {f"{unique}-eeg": 50, f"{unique}-seeg": 200, f"{unique}-cues": 1}
        session.close(f"{unique}-seeg")
        assert second.status is StreamStatus.STOPPED and f"{unique}-seeg" not in session.inlets
        assert isinstance(first, SignalInlet) and np.isfinite(first.buffer.latest(0.1).data).all()
    assert first.status is StreamStatus.STOPPED and third.status is StreamStatus.STOPPED
    kinds = {(e.stream, e.kind.value) for e in session.events.since(0)}
    assert (f"{unique}-eeg", "connected") in kinds and (f"{unique}-cues", "connected") in kinds


def test_opening_a_missing_stream_names_what_was_asked(unique):
    with AcquisitionSession() as session, pytest.raises(LookupError, match=f"name='{unique}'"):
        session.open(name=unique, timeout=0.2)
