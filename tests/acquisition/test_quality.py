import numpy as np
import pytest

from acquisition.quality import QualitySettings, QualityTracker, assess_quality

SFREQ = 500.0
TIMES = np.arange(1000) / SFREQ


def _channels():
    rng = np.random.default_rng(0)
    good = rng.normal(0, 10e-6, TIMES.size)
    return {
        "good": ("eeg", good),
        "flat": ("eeg", np.full(TIMES.size, 3e-3)),
        "mains": ("eeg", good + 40e-6 * np.sin(2 * np.pi * 50 * TIMES + 1.0)),
        "harmonic": ("eeg", good + 40e-6 * np.sin(2 * np.pi * 150 * TIMES)),
        "popping": ("eeg", good + 1.5e-3 * (TIMES > 1.5)),
        "broken": ("eeg", np.where(TIMES > 1.9, np.nan, good)),
        "seeg": ("seeg", good * 50 + 0.08),  # 500 µV rms on an 80 mV offset: plausible
        "mag": ("mag", rng.normal(0, 1e-12, TIMES.size)),
        "trigger": ("stim", np.zeros(TIMES.size)),
    }


def test_each_problem_raises_its_own_flag_and_the_bad_flag():
    channels = _channels()
    names = list(channels)
    data = np.vstack([c[1] for c in channels.values()])
    report = assess_quality(data, names, [c[0] for c in channels.values()], SFREQ, time=3.0)
    assert report.bad_channels == ["flat", "mains", "harmonic", "popping", "broken"]
    assert report.reasons("flat") == ["flat"]
    assert report.reasons("mains") == ["line noise"] and report.reasons("harmonic") == [
        "line noise"
    ]
    assert report.reasons("popping") == ["out of range", "jump"]
    assert report.reasons("broken") == ["NaN/Inf"]
    assert report.reasons("good") == [] and report.reasons("trigger") == []
    assert report.line_noise[names.index("mains")] > 0.8 > 0.05 > report.line_noise[0]
    assert report.time == 3.0


def test_thresholds_follow_the_settings():
    channels = _channels()
    data = np.vstack([channels["mains"][1], channels["popping"][1]])
    settings = QualitySettings(line_freq=60.0, max_amplitude={"eeg": 3e-3})
    report = assess_quality(data, ["mains", "popping"], ["eeg", "eeg"], SFREQ, settings)
    assert report.bad_channels == []


def test_the_tracker_reports_each_block_whatever_the_chunks():
    channels = _channels()
    data = np.vstack([c[1] for c in channels.values()])
    names, types = list(channels), [c[0] for c in channels.values()]
    tracker = QualityTracker(names, types, SFREQ, QualitySettings(window=1.0))
    reports = []
    for start in range(0, 1000, 70):
        report = tracker.update(data[:, start : start + 70], time=start)
        if report is not None:
            reports.append(report)
    assert len(reports) == 2 and tracker.report is reports[-1]
    first = assess_quality(data[:, :500], names, types, SFREQ)
    np.testing.assert_allclose(reports[0].line_noise, first.line_noise, rtol=1e-9)
    assert reports[0].bad_channels == ["flat", "mains", "harmonic"]  # no jump, no NaN yet
    assert reports[1].bad_channels == ["flat", "mains", "harmonic", "popping", "broken"]


def test_quality_needs_samples():
    with pytest.raises(ValueError, match="at least one sample"):
        assess_quality(np.zeros((1, 0)), ["a"], ["eeg"], SFREQ)
