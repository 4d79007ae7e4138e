import pytest

from acquisition.session import AcquisitionSession
from bci_app.session.calibration import CueEvent, Phase
from bci_app.session.cues import CueOutlet

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(60)]


def test_cue_markers_arrive_with_their_scheduled_times(stream_name, wait_for):
    import pylsl

    outlet = CueOutlet(stream_name, f"{stream_name}-source")
    with AcquisitionSession() as session:
        inlet = session.open(source_id=f"{stream_name}-source", timeout=5.0)
        wait_for(lambda: inlet.status.value == "connected")
        now = pylsl.local_clock()
        outlet.push(CueEvent(now - 0.25, Phase.FIXATION, None, "fixation"))
        outlet.push(CueEvent(now, Phase.CUE, None, "left_hand"))
        wait_for(lambda: inlet.markers.next_seq == 2)
        first, second = inlet.markers.since(0)
        assert (first.value, second.value) == ("fixation", "left_hand")
        assert second.timestamp - first.timestamp == pytest.approx(0.25, abs=1e-4)
        assert inlet.description.stype == "Markers"
    outlet.close()
    outlet.push(CueEvent(0.0, Phase.REST, None, "rest"))  # closed: nothing is sent, no error
