"""The seizure simulator: seeded, SNR as stated, preictal changes and seizures where stated."""

import numpy as np
import pytest

from decoders.datasets.chbmit import read_chbmit
from decoders.simulators.errors import SimulatorError
from decoders.simulators.registry import available_tasks, make_simulator, simulate_raw
from decoders.simulators.seizure import CHANNELS, CHBMIT_CHANNELS, SeizureSimulator
from decoders.simulators.signals import band_power

TINY = {
    "n_subjects": 2,
    "seizures_per_subject": 3,
    "seizure_interval_s": (240.0, 300.0),
    "seizure_duration_s": (10.0, 15.0),
    "preictal_s": (60.0, 90.0),
    "postictal_s": 20.0,
    "file_s": 200.0,
    "sfreq": 128.0,
}


@pytest.fixture(scope="module")
def simulator():
    return SeizureSimulator(seed=3, **TINY)


def test_it_is_registered_and_seeded(simulator):
    assert "seizure" in available_tasks()
    again = make_simulator("seizure", seed=3, **TINY)
    other = SeizureSimulator(seed=4, **TINY)
    first = simulator.seizure_subject(0).segments[1].read()
    assert np.array_equal(first, again.seizure_subject(0).segments[1].read())
    assert not np.array_equal(first, other.seizure_subject(0).segments[1].read())
    assert first.shape[0] == len(CHANNELS) == 22 and first.dtype == np.float32


def test_the_schedule_keeps_every_seizure_inside_one_file(simulator):
    for index in range(TINY["n_subjects"]):
        subject = simulator.seizure_subject(index)
        assert len(subject.seizures) == 3
        for seizure in subject.seizures:
            segment = subject.segment_at(seizure.onset_s)
            assert segment is not None and seizure.end_s <= segment.end_s
        gaps = [
            b.start_s - a.end_s
            for a, b in zip(subject.segments, subject.segments[1:], strict=False)
        ]
        assert all(1.0 <= gap <= 10.0 for gap in gaps)


def test_the_measured_snr_is_the_stated_one(simulator):
    truth = simulator.subject(0)

    assert simulator.measured_snr_db(0, seconds=400.0) == pytest.approx(truth.snr_db, abs=1.0)


def _focal_power(simulator, subject, start, stop):
    recording = simulator.seizure_subject(subject)
    segment = recording.segment_at(start)
    data = segment.read()
    first = round((start - segment.start_s) * simulator.sfreq)
    last = round((stop - segment.start_s) * simulator.sfreq)
    truth = simulator.subject(subject)
    band = (truth.focal_hz - 2 * truth.focal_width_hz, truth.focal_hz + 2 * truth.focal_width_hz)
    return band_power(data[:, first:last], simulator.sfreq, band)


def test_focal_power_rises_before_onset_and_seizures_dwarf_the_background():
    simulator = SeizureSimulator(seed=3, **{**TINY, "snr_db": 0.0, "fluctuation": 0.0})
    truth = simulator.subject(0)
    seizure = truth.seizures[1]
    before = _focal_power(
        simulator,
        0,
        seizure.onset_s - truth.preictal_s - 40,
        seizure.onset_s - truth.preictal_s - 5,
    )
    late = _focal_power(simulator, 0, seizure.onset_s - 35, seizure.onset_s)
    assert late > 1.5 * before

    recording = simulator.seizure_subject(0)
    segment = recording.segment_at(seizure.onset_s)
    data = segment.read()
    onset = round((seizure.onset_s - segment.start_s) * simulator.sfreq)
    ictal = np.abs(data[:, onset + 3 * 128 : onset + 8 * 128]).max()
    interictal = np.abs(data[:, onset - 40 * 128 : onset - 35 * 128]).std()
    assert ictal > 5 * interictal


def test_it_writes_the_chbmit_layout_that_the_reader_opens(tmp_path):
    simulator = SeizureSimulator(seed=1, **{**TINY, "n_subjects": 1, "seizures_per_subject": 2})

    simulator.write_corpus(tmp_path)

    corpus = read_chbmit(tmp_path)
    subject = corpus.subjects[0]
    truth = simulator.subject(0)
    assert subject.name == "chb01" and subject.ch_names == CHANNELS
    assert len(CHBMIT_CHANNELS) == 23
    assert [round(s.onset_s) for s in subject.seizures] == [
        round(s.onset_s) for s in truth.seizures
    ]
    written = subject.segments[0].read()
    assert np.abs(written - simulator.seizure_subject(0).segments[0].read()).max() < 0.05e-6


def test_a_live_recording_ends_after_the_first_seizure_which_is_annotated():
    raw = simulate_raw("seizure", seed=3, duration_s=60.0, **TINY)

    assert raw.times[-1] == pytest.approx(60.0, abs=0.1)
    assert list(raw.annotations.description) == ["seizure"]
    assert 10.0 < raw.annotations.onset[0] < 60.0 - 30.0


def test_bad_options_are_named():
    with pytest.raises(SimulatorError, match=r"unknown option\(s\) seizures"):
        SeizureSimulator(seizures=2)
    with pytest.raises(SimulatorError, match="seizure_interval_s must exceed the longest seizure"):
        SeizureSimulator(**{**TINY, "seizure_interval_s": (20.0, 30.0)})
    with pytest.raises(SimulatorError, match="synchrony must be an increasing pair"):
        SeizureSimulator(synchrony=(0.8, 0.2))
