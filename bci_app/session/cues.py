"""The paradigm's markers as an LSL marker stream, stamped with each phase's exact time."""

from __future__ import annotations

from .calibration import CueEvent

CUE_STREAM_TYPE = "Markers"


class CueOutlet:
    """An irregular text stream carrying the cue runner's markers.

    Recorded like any marker stream (its markers become annotations of the exported FIF
    files), and readable live by decoders locked to the cues and by online adaptation.

    Parameters
    ----------
    name : str
        Stream name.
    source_id : str
        Source id (unique: the stream is found by it).
    """

    def __init__(self, name: str, source_id: str) -> None:
        import pylsl

        info = pylsl.StreamInfo(name, CUE_STREAM_TYPE, 1, 0.0, "string", source_id)
        info.desc().append_child_value("paradigm", "motor imagery cues (bci-app)")
        self.name = name
        self.source_id = source_id
        self._outlet = pylsl.StreamOutlet(info)

    def push(self, event: CueEvent) -> None:
        """Publish one phase change stamped with its scheduled time."""
        if self._outlet is not None:
            self._outlet.push_sample([event.marker], event.time)

    def close(self) -> None:
        """Remove the stream from the network."""
        self._outlet = None
