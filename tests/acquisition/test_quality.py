import numpy as np

from acquisition.quality import QualitySettings, assess_quality

SFREQ = 500.0
TIMES = np.arange(1000) / SFREQ


def _channels():
    rng = np.random.default_rng(0)
    good = rng.normal(0, 10e-6, TIMES.size)
    return {
        "good": ("eeg", good),
        "flat": ("eeg", np.full(TIMES.size, 3e-3)),
        "mains": ("eeg", good + 40e-6 * np.sin(2 * np.pi * 50 * TIMES)),
        "popping": ("eeg", good + 900e-6 * (TIMES > 1.5)),
        "broken": ("eeg", np.where(TIMES > 1.9, np.nan, good)),
        "seeg": ("seeg", good * 50),  # 500 µV rms: fine for an intracranial contact
        "mag": ("mag", rng.normal(0, 1e-12, TIMES.size)),
        "trigger": ("stim", np.zeros(TIMES.size)),
    }


def test_each_problem_raises_its_own_flag_and_the_bad_flag():
    channels = _channels()
    names = list(channels)
    report = assess_quality(
        np.vstack([c[1] for c in channels.values()]),
        names,
        [c[0] for c in channels.values()],
        SFREQ,
    )
    assert report.bad_channels == ["flat", "mains", "popping", "broken"]
    assert report.reasons("flat") == ["flat"]
    assert report.reasons("mains") == ["line noise"]
    assert report.reasons("popping") == ["out of range"]
    assert report.reasons("broken") == ["NaN/Inf"]
    assert report.reasons("good") == [] and report.reasons("trigger") == []
    assert report.line_noise[names.index("mains")] > 0.5 > report.line_noise[0]


def test_thresholds_follow_the_settings():
    channels = _channels()
    data = np.vstack([channels["mains"][1], channels["popping"][1]])
    settings = QualitySettings(line_freq=60.0, max_amplitude={"eeg": 2e-3})
    report = assess_quality(data, ["mains", "popping"], ["eeg", "eeg"], SFREQ, settings)
    assert report.bad_channels == []
