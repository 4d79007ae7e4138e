"""The runner on a ring buffer written by the test: every outcome is exact, no timing."""

import json

import numpy as np
import pylsl
import pytest

from acquisition.markers import MarkerBuffer
from acquisition.preprocessing.pipeline import Pipeline
from acquisition.ringbuffer import RingBuffer
from bci_app.errors import SamplingRateError
from bci_app.inference.log import PredictionLog
from bci_app.inference.model import OnnxModel
from bci_app.inference.runner import DecoderRunner
from bci_app.inference.tracing import STAGES

MODEL_CHANNELS = [f"C{i}" for i in range(8)]
STREAM_CHANNELS = ["EOG", *reversed(MODEL_CHANNELS)]  # another order, one channel more
N_TIMES, HOP = 128, 13


def _model(model_files, key):
    return OnnxModel(model_files[key].read_bytes(), f"{key}:1")


def _signal(n_times, seed=0):
    shape = (len(STREAM_CHANNELS), n_times)
    signal = np.random.default_rng(seed).standard_normal(shape) * 10e-6
    return signal.astype(np.float32)


class _Stream:
    """A ring buffer fed by the test, stamped on the LSL clock."""

    def __init__(self, names=STREAM_CHANNELS, sfreq=128.0):
        self.buffer = RingBuffer(names, ["eeg"] * len(names), sfreq, 30.0)
        self.sfreq = sfreq
        self.origin = pylsl.local_clock()
        self.sent = 0

    def feed(self, data):
        times = self.origin + (self.sent + np.arange(data.shape[1])) / self.sfreq
        self.buffer.write(data, times, pylsl.local_clock())
        self.sent += data.shape[1]

    def time_of(self, index):
        return self.origin + index / self.sfreq

    def lose(self, n_times):
        """Lose the next ``n_times`` samples, marking the gap as an inlet does."""
        self.buffer.mark_gap(
            self.time_of(self.sent - 1), self.time_of(self.sent + n_times), "stream lost"
        )
        self.sent += n_times


def _run(runner, stream, signal, chunk):
    predictions = []
    for start in range(0, signal.shape[1], chunk):
        stream.feed(signal[:, start : start + chunk])
        predictions.extend(runner.poll(0.0))
    return predictions


def _offline(runner, model, stream, signal, stops):
    pipeline = Pipeline(
        runner.pipeline_spec, stream.buffer.ch_names, stream.buffer.ch_types, stream.sfreq
    )
    processed = pipeline.process(signal).astype(np.float32)
    return [model.predict(processed[:, stop - N_TIMES : stop]) for stop in stops]


def test_hop_windows_are_the_offline_windows_of_the_preprocessed_stream(model_files):
    stream, model = _Stream(), _model(model_files, "band")
    runner = DecoderRunner(model, "band:1", stream.buffer, name="t", stream="s")
    signal = _signal(640)

    predictions = _run(runner, stream, signal, 8)

    stops = list(range(N_TIMES, 641, HOP))
    assert [p.timestamp for p in predictions] == [stream.time_of(s - 1) for s in stops]
    expected = _offline(runner, _model(model_files, "band"), stream, signal, stops)
    assert np.allclose([p.outputs for p in predictions], expected, atol=1e-5)
    assert runner.pipeline_spec[0] == {"step": "pick", "channels": MODEL_CHANNELS}
    assert runner.counts.published == len(stops) and runner.counts.dropped == 0


def test_a_stream_at_another_rate_is_resampled_to_the_model_rate(model_files):
    stream, model = _Stream(sfreq=512.0), _model(model_files, "band")
    runner = DecoderRunner(model, "band:1", stream.buffer, name="t", stream="s")
    signal = _signal(4 * 640)

    predictions = _run(runner, stream, signal, 32)

    assert runner.pipeline_spec[1] == {"step": "resample", "sfreq_out": 128.0}
    pipeline = Pipeline(runner.pipeline_spec, STREAM_CHANNELS, ["eeg"] * 9, 512.0)
    processed = pipeline.process(signal).astype(np.float32)
    stops = list(range(N_TIMES, processed.shape[1] + 1, HOP))
    expected = [model.predict(processed[:, s - N_TIMES : s]) for s in stops]
    assert len(predictions) == len(stops)
    assert np.allclose([p.outputs for p in predictions], expected, atol=1e-5)


def test_a_card_forbidding_resampling_refuses_the_stream(model_files):
    stream = _Stream(sfreq=512.0)
    with pytest.raises(SamplingRateError, match="stream 's' for model fixed:1: sampled at 512 Hz"):
        DecoderRunner(_model(model_files, "fixed"), "fixed:1", stream.buffer, name="t", stream="s")


def test_windows_with_nan_samples_are_skipped_and_counted(model_files):
    stream, model = _Stream(), _model(model_files, "band")
    runner = DecoderRunner(model, "band:1", stream.buffer, name="t", stream="s")
    signal = _signal(900)
    c3 = STREAM_CHANNELS.index("C3")
    signal[c3, 300:305] = np.nan

    predictions = _run(runner, stream, signal, 8)

    stops = list(range(N_TIMES, 901, HOP))
    published = {round((p.timestamp - stream.origin) * 128.0) + 1 for p in predictions}
    skipped = [s for s in stops if s not in published]
    assert all(np.isfinite(p.outputs).all() for p in predictions)
    assert all(s in skipped for s in stops if s - N_TIMES <= 304 and s > 300)  # every NaN window
    assert max(skipped) < 300 + N_TIMES + 2 and min(skipped) > 298  # and no other
    assert runner.counts.non_finite_windows == len(skipped)
    assert any("NaN" in message for _, message in runner.events)


def test_nan_on_a_channel_the_model_does_not_read_skips_nothing(model_files):
    stream, model = _Stream(), _model(model_files, "band")
    runner = DecoderRunner(model, "band:1", stream.buffer, name="t", stream="s")
    signal = _signal(400)
    signal[STREAM_CHANNELS.index("EOG"), 200:210] = np.nan

    predictions = _run(runner, stream, signal, 8)

    assert len(predictions) == len(range(N_TIMES, 401, HOP))
    assert runner.counts.non_finite_windows == 0


def test_non_finite_outputs_are_never_published(model_files):
    stream, model = _Stream(), _model(model_files, "plain")
    runner = DecoderRunner(model, "plain:1", stream.buffer, name="t", stream="s")
    silent = np.zeros((len(STREAM_CHANNELS), 256), np.float32)  # log of zero power

    predictions = _run(runner, stream, silent, 8)

    assert predictions == [] and runner.counts.published == 0
    assert runner.counts.non_finite_outputs == len(range(N_TIMES, 257, HOP))


def test_an_overrun_drops_to_the_newest_window_and_counts_the_rest(model_files):
    stream, model = _Stream(), _model(model_files, "band")
    runner = DecoderRunner(model, "band:1", stream.buffer, name="t", stream="s")
    signal = _signal(N_TIMES + 10 * HOP)
    stream.feed(signal[:, :N_TIMES])
    assert len(runner.poll(0.0)) == 1

    stream.feed(signal[:, N_TIMES:])  # ten hops arrive while the engine was busy
    late = runner.poll(0.0)

    assert len(late) == 1 and late[0].timestamp == stream.time_of(N_TIMES + 10 * HOP - 1)
    assert runner.counts.dropped == 9 and runner.counts.published == 2


def test_a_newer_model_is_swapped_in_between_two_windows_without_losing_one(model_files):
    stream, model = _Stream(), _model(model_files, "band")
    runner = DecoderRunner(model, "band:1", stream.buffer, name="t", stream="s")
    signal = _signal(N_TIMES + 12 * HOP)
    newer = _model(model_files, "band2")

    before = _run(runner, stream, signal[:, : N_TIMES + 5 * HOP], 13)
    assert runner.offer(newer, "band:2")
    after = _run(runner, stream, signal[:, N_TIMES + 5 * HOP :], 13)

    times = [p.timestamp for p in before + after]
    assert np.allclose(np.diff(times), HOP / 128.0) and len(times) == 13
    assert {p.model for p in before} == {"band:1"} and {p.model for p in after} == {"band:2"}
    assert runner.counts.swaps == 1 and runner.ref == "band:2"
    assert runner.events[-1][1] == "model band:1 replaced by band:2"
    reference = _offline(runner, _model(model_files, "band2"), stream, signal, [N_TIMES + 12 * HOP])
    assert np.allclose(after[-1].outputs, reference[0], atol=1e-5)


def test_a_model_with_other_inputs_is_not_swapped_in(model_files):
    stream = _Stream()
    runner = DecoderRunner(
        _model(model_files, "band"), "band:1", stream.buffer, name="t", stream="s"
    )

    assert not runner.offer(_model(model_files, "small"), "band:2")
    assert not runner.offer(_model(model_files, "plain"), "band:3")

    assert runner.counts.refused_swaps == 2 and runner.ref == "band:1"
    messages = [message for _, message in runner.events]
    assert messages == [
        "model band:2 not swapped in: its ch_names differ",
        "model band:3 not swapped in: its pipeline differ",
    ]


def test_marker_locked_windows_are_the_trials(model_files, make_trials):
    stream, model = _Stream(names=MODEL_CHANNELS), _model(model_files, "plain")
    markers = MarkerBuffer("cues")
    runner = DecoderRunner(model, "plain:1", stream.buffer, name="t", stream="s", markers=markers)
    trials = make_trials(6, 5)
    signal = np.concatenate(list(trials.data.astype(np.float32)), axis=1)
    onsets = [stream.time_of(i * N_TIMES) for i in range(6)]
    labels = [trials.classes[label] for label in trials.labels]
    markers.add(onsets[:3], labels[:3], pylsl.local_clock())  # markers before their samples

    predictions = _run(runner, stream, signal[:, : 4 * N_TIMES], 32)
    markers.add(onsets[3:], labels[3:], pylsl.local_clock())  # one after its samples
    predictions += _run(runner, stream, signal[:, 4 * N_TIMES :], 32)

    assert [p.marker for p in predictions] == labels
    assert [p.marker_time for p in predictions] == onsets
    for prediction, trial in zip(predictions, trials.data.astype(np.float32), strict=True):
        assert np.array_equal(prediction.outputs, model.predict(trial))


def test_a_gap_inside_a_marker_locked_window_is_published_flagged_and_counted(
    model_files, tmp_path
):
    stream, model = _Stream(names=MODEL_CHANNELS), _model(model_files, "plain")
    markers = MarkerBuffer("cues")
    log = PredictionLog(tmp_path / "predictions.jsonl")
    runner = DecoderRunner(
        model, "plain:1", stream.buffer, name="t", stream="s", markers=markers, log=log
    )
    signal = (np.random.default_rng(1).standard_normal((8, 1024)) * 10e-6).astype(np.float32)
    onsets = {"a": 0, "b": 192, "in-gap": 280, "c": 400}
    markers.add([stream.time_of(i) for i in onsets.values()], list(onsets), pylsl.local_clock())

    predictions = _run(runner, stream, signal[:, :256], 32)
    stream.lose(64)  # samples 256 to 319 never arrive: "b" has 64 samples on each side
    predictions += _run(runner, stream, signal[:, 320:], 32)
    log.close()

    assert [(p.marker, p.gap) for p in predictions] == [("a", False), ("b", True), ("c", False)]
    assert runner.counts.gaps == 1 and runner.counts.dropped == 1  # "in-gap" has no samples
    flagged = np.concatenate((signal[:, 192:256], signal[:, 320:384]), axis=1)
    assert np.array_equal(predictions[1].outputs, model.predict(flagged))
    assert predictions[2].timestamp == stream.time_of(400 + N_TIMES - 1)  # not shifted
    assert np.array_equal(predictions[2].outputs, model.predict(signal[:, 400:528]))
    logged = [json.loads(line) for line in log.path.read_text().splitlines()]
    assert [(e["marker"], e["gap"]) for e in logged] == [("a", False), ("b", True), ("c", False)]


def test_marker_locked_windows_with_nan_samples_are_skipped_and_counted(model_files):
    stream, model = _Stream(names=MODEL_CHANNELS), _model(model_files, "plain")
    markers = MarkerBuffer("cues")
    runner = DecoderRunner(model, "plain:1", stream.buffer, name="t", stream="s", markers=markers)
    signal = (np.random.default_rng(2).standard_normal((8, 512)) * 10e-6).astype(np.float32)
    signal[3, 200] = np.nan

    predictions = _run(runner, stream, signal, 32)  # markers after their samples
    markers.add([stream.time_of(i) for i in (0, 100, 300)], ["a", "b", "c"], pylsl.local_clock())
    predictions += runner.poll(0.0)

    assert [p.marker for p in predictions] == ["a", "c"]
    assert runner.counts.non_finite_windows == 1 and runner.counts.published == 2


def test_marker_values_select_the_decoded_markers(model_files, make_trials):
    stream, model = _Stream(names=MODEL_CHANNELS), _model(model_files, "plain")
    markers = MarkerBuffer("cues")
    runner = DecoderRunner(
        model,
        "plain:1",
        stream.buffer,
        name="t",
        stream="s",
        markers=markers,
        marker_values={"move"},
    )
    trials = make_trials(4, 6)
    markers.add(
        [stream.time_of(i * N_TIMES) for i in range(4)],
        [trials.classes[label] for label in trials.labels],
        pylsl.local_clock(),
    )

    predictions = _run(
        runner, stream, np.concatenate(list(trials.data.astype(np.float32)), axis=1), 32
    )

    assert [p.marker for p in predictions] == ["move", "move"]


def test_each_prediction_carries_its_latency_per_stage(model_files):
    stream = _Stream()
    runner = DecoderRunner(
        _model(model_files, "band"), "band:1", stream.buffer, name="t", stream="s"
    )
    predictions = _run(runner, stream, _signal(400), 8)

    for prediction in predictions:
        trace = prediction.trace
        stages = [getattr(trace, stage) for stage in STAGES[:-1]]
        assert trace.e2e == pytest.approx(sum(stages))
        assert min(stages[1:]) >= 0 and trace.inference > 0
        assert trace.overhead == pytest.approx(trace.e2e - trace.inference)
    summary = runner.latency.summary()
    assert set(summary) == {*STAGES, "overhead"}
    assert all(v["p50"] <= v["p95"] <= v["p99"] for v in summary.values())
    assert len(runner.latency) == len(predictions)
