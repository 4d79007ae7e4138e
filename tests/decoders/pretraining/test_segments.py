import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from decoders.datasets.errors import DataError
from decoders.pretraining.corpus import scan_corpus
from decoders.pretraining.segments import SegmentSpec, StepStream, plan_corpus

SPEC = SegmentSpec(250.0, 500, ("eeg",))  # 2 s segments of EEG at 250 Hz


def test_the_plan_keeps_what_feeds_the_model_and_says_what_it_left_out(make_recording, tmp_path):
    make_recording(tmp_path / "mixed_raw.fif", seconds=10, extra_types=("mag", "mag", "stim"))
    make_recording(tmp_path / "short_raw.fif", seconds=1.5, seed=1)
    make_recording(tmp_path / "meg_raw.fif", seconds=10, n_eeg=0, extra_types=("grad",))
    plan = plan_corpus(scan_corpus([tmp_path]), SPEC)

    assert [item.file.path.rsplit("/", 1)[1] for item in plan.files] == ["mixed_raw.fif"]
    assert plan.files[0].n_segments == 5 and plan.n_sequences == 20
    assert plan.dropped == {"mag": 2, "stim": 1}
    assert plan.describe_dropped() == (
        "channels left out (the model takes eeg only): 2 mag, 1 stim"
    )
    reasons = {item.path.rsplit("/", 1)[1]: item.reason for item in plan.skipped}
    assert reasons["short_raw.fif"] == "1.5 s long, shorter than one 2 s segment"
    assert reasons["meg_raw.fif"] == "no eeg channel (has: grad)"
    with pytest.raises(DataError, match="no file gives a 2 s segment of eeg channels"):
        plan_corpus(scan_corpus([tmp_path / "meg_raw.fif"]), SPEC)


def test_every_epoch_takes_every_segment_once_in_a_seeded_order(eeg_corpus):
    plan = plan_corpus(scan_corpus([eeg_corpus]), SPEC)
    stream = StepStream(plan, seed=3, micro_batch=4)
    first, again, second = stream.order(0), stream.order(0), stream.order(1)
    pairs = sorted(zip(first.file.tolist(), first.segment.tolist(), strict=True))
    expected = sorted((f, s) for f, item in enumerate(plan.files) for s in range(item.n_segments))
    assert pairs == expected
    assert np.array_equal(first.file, again.file) and np.array_equal(first.segment, again.segment)
    assert not np.array_equal(first.segment, second.segment)


def _flat(steps, count):
    return [np.concatenate([batch.data for batch in batches]) for _, batches in steps][:count]


def test_one_process_accumulating_sees_what_two_processes_see(eeg_corpus):
    plan = plan_corpus(scan_corpus([eeg_corpus]), SPEC)
    single = StepStream(plan, seed=0, micro_batch=4, accumulation=2, prefetch=0)
    ranks = [
        StepStream(plan, seed=0, micro_batch=4, rank=r, world_size=2, prefetch=2) for r in (0, 1)
    ]
    steps = single.steps_in(single.order(0)) + 2  # into the second epoch
    combined = [
        np.concatenate([a, b])
        for a, b in zip(*(_flat(_take(r.steps(), steps), steps) for r in ranks), strict=True)
    ]
    alone = _flat(_take(single.steps(), steps), steps)
    assert len(alone) == steps
    for left, right in zip(alone, combined, strict=True):
        assert np.array_equal(left, right)


def _take(iterator, count):
    return [next(iterator) for _ in range(count)]


def test_resuming_at_a_step_continues_the_same_stream(eeg_corpus):
    plan = plan_corpus(scan_corpus([eeg_corpus]), SPEC)
    stream = StepStream(plan, seed=1, micro_batch=3, accumulation=2, prefetch=0)
    whole = _flat(_take(stream.steps(), 9), 9)
    resumed = _flat(_take(stream.steps(first_step=5), 4), 4)
    for left, right in zip(whole[5:], resumed, strict=True):
        assert np.array_equal(left, right)


def test_sequences_are_resampled_to_the_model_rate(make_recording, tmp_path):
    make_recording(tmp_path / "r_raw.fif", seconds=4, sfreq=512.0)
    plan = plan_corpus(scan_corpus([tmp_path]), SPEC)
    (_, (batch,)) = next(StepStream(plan, seed=0, micro_batch=4, prefetch=0).steps())
    assert batch.data.shape == (4, 500) and batch.data.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(batch.data, axis=1)).mean(axis=0)
    assert np.fft.rfftfreq(500, 1 / 250.0)[spectrum.argmax()] == pytest.approx(10.0, abs=0.5)


def test_bad_samples_and_files_that_break_later_are_weighted_out_and_reported(
    make_recording, tmp_path
):
    import mne

    path = make_recording(tmp_path / "nan_raw.fif", seconds=4)
    raw = mne.io.read_raw_fif(path, preload=True, verbose="error")
    raw._data[1, 600:700] = np.nan  # channel 1 of the second segment
    raw._data[2, :] = 0.0  # a flat channel
    raw.save(path, overwrite=True, verbose="error")
    gone = make_recording(tmp_path / "gone_raw.fif", seconds=4, seed=1)
    plan = plan_corpus(scan_corpus([tmp_path]), SPEC)
    gone.unlink()  # unreadable after the index was made
    stream = StepStream(plan, seed=0, micro_batch=16, prefetch=0)
    (_, (batch,)) = next(stream.steps())

    assert batch.weight.sum() == 16 - 8 - 1 - 2  # the lost file, a NaN channel, flat x2
    assert np.isfinite(batch.data).all() and (batch.data[batch.weight == 0] == 0).all()
    assert stream.report.unusable_sequences == 11
    assert list(stream.report.broken_files) == [str(gone.resolve())]


@pytest.mark.slow
def test_a_corpus_larger_than_the_memory_cap_streams(make_recording, tmp_path):
    """Five 10-minute recordings (129 MB as float64) under a 64 MB data cap."""
    for index in range(5):
        make_recording(tmp_path / f"long{index}_raw.fif", seconds=600, n_eeg=21, seed=index)
    script = textwrap.dedent(
        f"""
        import re, resource, sys
        import numpy, scipy.signal, mne
        from decoders.datasets.readers import read_recording
        from decoders.pretraining.corpus import scan_corpus
        from decoders.pretraining.segments import SegmentSpec, StepStream, plan_corpus

        plan = plan_corpus(scan_corpus([{str(tmp_path)!r}]), SegmentSpec(250.0, 3000, ("eeg",)))
        used = int(re.search(r"VmData:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
        cap = used * 1024 + 64 * 2**20
        resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
        if sys.argv[1] == "stream":
            stream = StepStream(plan, seed=0, micro_batch=64, prefetch=2)
            steps = stream.steps()
            total = sum(float(next(steps)[1][0].data.sum()) for _ in range(stream.steps_in(stream.order(0))))
            print("streamed", plan.n_sequences, total)
        else:
            held = [read_recording(item.file.path).get_data() for item in plan.files]
            print("loaded", len(held))
        """
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    streamed = subprocess.run(
        [sys.executable, "-c", script, "stream"], capture_output=True, text=True, env=environment
    )
    assert streamed.returncode == 0, streamed.stderr[-2000:]
    assert streamed.stdout.startswith("streamed 5250")
    loaded = subprocess.run(
        [sys.executable, "-c", script, "load"], capture_output=True, text=True, env=environment
    )
    assert loaded.returncode != 0 and "MemoryError" in loaded.stderr


def test_whole_segments_are_items_of_a_fixed_channel_count(eeg_corpus):
    spec = SegmentSpec(250.0, 500, ("eeg",), n_channels=6)
    plan = plan_corpus(scan_corpus([eeg_corpus]), spec)
    assert plan.n_sequences == plan.n_segments  # one item per segment
    stream = StepStream(plan, seed=0, micro_batch=5, prefetch=0)
    (_, (batch,)) = next(stream.steps())
    assert batch.data.shape == (5, 6, 500)
    assert (batch.data[:, 4:] == 0).all() and (batch.data[:, :4] != 0).all()
    assert batch.weight.tolist() == [1.0] * 5
    order = stream.order(0)
    assert batch.source.tolist() == order.file[:5].tolist()
