import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acquisition.preprocessing.pipeline import STEPS, Pipeline
from acquisition.ringbuffer import Chunk

NAMES = ["Fz", "Cz", "Pz", "Oz", "LA1", "LA2", "STI"]
TYPES = ["eeg", "eeg", "eeg", "eeg", "seeg", "seeg", "stim"]
SFREQ = 512.0
SIGNAL = np.random.default_rng(3).standard_normal((7, 3000)) * 20e-6 + 40e-6
SIGNAL[6] = (np.arange(3000) // 400) % 3  # a trigger channel

FULL_SPEC = [
    {"step": "notch", "freqs": [50.0], "harmonics": True},
    {"step": "bandpass", "l_freq": 1.0, "h_freq": 40.0},
    {"step": "car"},
    {"step": "bipolar", "pairs": [["LA1", "LA2"]], "keep_others": True},
    {"step": "pick", "channels": ["LA1-LA2", "Fz", "Cz", "STI"]},
    {"step": "resample", "sfreq_out": 200.0},
    {"step": "robust_scale", "window": 2.0, "update": 0.5},
]


def _chunked(pipeline, data, sizes):
    outputs, position, turn = [], 0, 0
    while position < data.shape[1]:
        size = sizes[turn % len(sizes)]
        outputs.append(pipeline.process(data[:, position : position + size]))
        position += size
        turn += 1
    return np.concatenate(outputs, axis=1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=700), min_size=1, max_size=12).filter(
        lambda s: any(s)
    ),
    steps=st.lists(st.sampled_from(range(len(FULL_SPEC))), min_size=1, max_size=7, unique=True),
)
def test_chunk_by_chunk_equals_all_at_once(sizes, steps):
    spec = [FULL_SPEC[i] for i in sorted(steps)]
    if any(e["step"] == "pick" for e in spec) and not any(e["step"] == "bipolar" for e in spec):
        spec = [e for e in spec if e["step"] != "pick"]
    if not spec:
        spec = [FULL_SPEC[0]]
    whole = Pipeline(spec, NAMES, TYPES, SFREQ).process(SIGNAL)
    chunked = _chunked(Pipeline(spec, NAMES, TYPES, SFREQ), SIGNAL, sizes)
    assert chunked.shape == whole.shape
    np.testing.assert_allclose(chunked, whole, rtol=1e-9, atol=1e-12 * np.abs(whole).max())


def test_full_pipeline_outputs_and_spec_round_trip():
    pipeline = Pipeline(FULL_SPEC, NAMES, TYPES, SFREQ)
    assert pipeline.ch_names == ("LA1-LA2", "Fz", "Cz", "STI")
    assert pipeline.ch_types == ("seeg", "eeg", "eeg", "stim")
    assert pipeline.sfreq == 200.0
    spec = json.loads(json.dumps(pipeline.spec()))
    rebuilt = Pipeline(spec, NAMES, TYPES, SFREQ)
    np.testing.assert_array_equal(rebuilt.process(SIGNAL), pipeline.process(SIGNAL))
    assert rebuilt.process(SIGNAL[:, :0]).shape == (4, 0)


def test_reset_makes_the_next_sample_the_first():
    pipeline = Pipeline(FULL_SPEC[:2], NAMES, TYPES, SFREQ)
    first = pipeline.process(SIGNAL)
    pipeline.reset()
    np.testing.assert_array_equal(pipeline.process(SIGNAL), first)


def test_non_finite_values_are_zeroed_and_counted():
    pipeline = Pipeline(FULL_SPEC[1:2], NAMES, TYPES, SFREQ)
    data = SIGNAL.copy()
    data[2, 100] = np.nan
    data[3, 200:203] = np.inf
    out = pipeline.process(data)
    assert np.isfinite(out).all() and pipeline.non_finite == 4


def test_process_chunk_maps_timestamps_through_resampling():
    pipeline = Pipeline([{"step": "resample", "sfreq_out": SFREQ / 4}], NAMES, TYPES, SFREQ)
    stamps = 10 + np.arange(3000) / SFREQ
    arrivals = np.repeat(np.arange(30), 100).astype(float)
    outputs = [
        pipeline.process_chunk(
            Chunk(SIGNAL[:, i : i + 100], stamps[i : i + 100], arrivals[i : i + 100], i)
        )
        for i in range(0, 3000, 100)
    ]
    out_stamps = np.concatenate([o.timestamps for o in outputs])
    np.testing.assert_allclose(out_stamps, stamps[::4])
    assert [o.start for o in outputs[:3]] == [0, 25, 50]
    np.testing.assert_array_equal(np.concatenate([o.arrivals for o in outputs]), arrivals[::4])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([{"step": "wavelet"}], "unknown"),
        ([{"step": "bandpass", "l_freq": 1, "width": 3}], "unexpected keyword"),
        ([{"step": "bandpass", "l_freq": 300}], "outside"),
        ([{"step": "pick", "channels": ["Fz", "T7"]}], "not in the stream: T7"),
        ([{"step": "resample", "sfreq_out": 100}, {"step": "resample", "sfreq_out": 50}], "once"),
    ],
)
def test_bad_specs_are_refused_with_a_clear_message(spec, message):
    with pytest.raises(ValueError, match=message):
        Pipeline(spec, NAMES, TYPES, SFREQ)


def test_every_step_is_registered():
    assert set(STEPS) == {
        "bandpass",
        "notch",
        "sos",
        "car",
        "bipolar",
        "pick",
        "resample",
        "robust_scale",
    }
