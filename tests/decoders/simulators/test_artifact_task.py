"""The artefact simulator: known kinds, times and channels, as events and annotations."""

import itertools

import numpy as np
import pytest

from decoders.simulators.artifact_task import KINDS, ArtifactSimulator
from decoders.simulators.errors import SimulatorError
from decoders.simulators.registry import available_tasks


def test_artefacts_come_at_known_times_on_known_channels():
    simulator = ArtifactSimulator(seed=3, channels=16, sfreq=250.0, per_min=20.0)
    signals, events = simulator.recording(40.0)
    assert "artifacts" in available_tasks()
    assert signals.shape == (17, 10000)  # 16 EEG + EOG
    assert {e.kind for e in events} <= set(KINDS) and len(events) >= 4
    for before, after in itertools.pairwise(events):
        assert before.onset + before.duration + 1.0 <= after.onset + 1e-9  # never overlapping
    for event in events:
        start = round(event.onset * 250.0)
        if event.kind == "pop":
            channel = simulator.ch_names.index(event.channels[0])
            assert abs(signals[channel, start + 2] - signals[channel, start - 2]) > 250e-6
        if event.kind == "blink":
            assert event.channels[-1] == "EOG"
    raw = simulator.raw(40.0)
    assert raw.get_channel_types()[-1] == "eog"
    assert [a["description"] for a in raw.annotations] == [f"BAD_{e.kind}" for e in events]


def test_bad_options_are_named():
    with pytest.raises(SimulatorError, match="sfreq must be at least 250 Hz"):
        ArtifactSimulator(sfreq=100.0)
    with pytest.raises(
        SimulatorError, match=r"unknown option\(s\) blinks .*did you mean blinks -> blink_uv"
    ):
        ArtifactSimulator(blinks=3)
    with pytest.raises(SimulatorError, match="duration_s must be positive"):
        ArtifactSimulator().recording(0.0)
    assert np.isfinite(ArtifactSimulator(channels=8).recording(5.0)[0]).all()
