import numpy as np
import pytest

from acquisition.clock import ClockOffset, Dejitter


def _feed(dejitter, stamps, rng, max_chunk=40):
    out, position = [], 0
    while position < stamps.size:
        size = int(rng.integers(1, max_chunk))
        fitted, jumped = dejitter.update(stamps[position : position + size])
        assert not jumped
        out.append(fitted)
        position += size
    return np.concatenate(out)


def test_dejitter_removes_jitter_and_follows_the_actual_rate():
    rng = np.random.default_rng(1)
    sfreq, actual = 500.0, 500.25  # the amplifier's clock runs 500 ppm fast
    true = 100.0 + np.arange(20_000) / actual
    jittered = true + rng.normal(0, 2e-3, true.size)
    fitted = _feed(Dejitter(sfreq, halftime=5.0), jittered, rng)
    settled = slice(5_000, None)
    assert np.abs(fitted[settled] - true[settled]).max() < 0.3e-3  # was 2 ms rms jitter
    assert (jittered[settled] - true[settled]).std() > 1.5e-3
    assert np.median(np.diff(fitted[settled])) == pytest.approx(1 / actual, rel=2e-5)


def test_dejitter_starts_a_segment_at_a_jump_and_not_otherwise():
    dejitter = Dejitter(100.0, break_threshold=0.1)
    first = 10 + np.arange(200) / 100
    _, jumped = dejitter.update(first)
    assert not jumped
    _, jumped = dejitter.update(first[-1] + (1 + np.arange(10)) / 100)
    assert not jumped
    later = first[-1] + 0.5 + np.arange(10) / 100
    fitted, jumped = dejitter.update(later)
    assert jumped
    np.testing.assert_allclose(fitted, later, atol=1e-9)  # the new segment starts from them


def test_dejitter_refuses_irregular_streams():
    with pytest.raises(ValueError, match="regular"):
        Dejitter(0.0)


def test_clock_offset_is_the_median_of_recent_readings():
    offset = ClockOffset(history=3)
    assert not offset.known and offset.value == 0.0
    for reading in (0.010, 0.011, 0.500, float("nan"), 0.012):
        offset.add(reading)
    assert offset.known
    assert offset.value == pytest.approx(0.012)  # 0.011, 0.5, 0.012: the outlier does not win
