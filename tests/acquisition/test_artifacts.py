"""Artefact flags of the quality monitor: each artefact raises its own flag on its channels."""

import numpy as np
import pytest

from acquisition.quality import QualitySettings, QualityTracker
from acquisition.quality_summary import artifact_text, assess_recording, channel_summary

SFREQ = 250.0
NAMES = ["Fp1", "Cz", "T7", "O1"]


def background(seconds, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 8e-6, (len(NAMES), round(seconds * SFREQ)))


def flags(data, **settings):
    reports = assess_recording(data, NAMES, ["eeg"] * 4, SFREQ, QualitySettings(**settings))
    return reports


def flagged(reports, kind):
    """Return (block, channel) pairs of one flag."""
    return {(i, NAMES[c]) for i, r in enumerate(reports) for c in np.flatnonzero(getattr(r, kind))}


def test_clean_signal_raises_no_artefact_flag():
    reports = flags(background(20))
    assert all(artifact_text(report) is None for report in reports)
    assert not any(report.bad.any() for report in reports)


def test_a_blink_on_the_frontal_channel_is_an_eye_artefact_there_only():
    data = background(10)
    t = np.arange(round(0.4 * SFREQ)) / SFREQ
    start = round(5.2 * SFREQ)
    data[0, start : start + t.size] += 200e-6 * np.sin(np.pi * t / 0.4)
    data[1, start : start + t.size] += 40e-6 * np.sin(np.pi * t / 0.4)
    reports = flags(data)
    assert flagged(reports, "eye") == {(5, "Fp1")}
    assert reports[5].measures["eye_uv"][0] > 150 and np.isnan(reports[5].measures["eye_uv"][3])
    assert not flagged(reports, "jump") and not flagged(reports, "muscle")


def test_muscle_burst_jump_drift_and_saturation_raise_their_flags():
    data = background(20)
    rng = np.random.default_rng(1)
    burst = slice(round(12 * SFREQ), round(13 * SFREQ))
    data[2, burst] += rng.normal(0.0, 30e-6, burst.stop - burst.start)  # muscle on T7
    data[3, round(8.5 * SFREQ) :] += 400e-6  # a pop on O1 that stays
    data[1, round(14 * SFREQ) :] += 150e-6 * np.arange(data.shape[1] - round(14 * SFREQ)) / SFREQ
    data[0, round(3 * SFREQ) : round(4 * SFREQ)] = np.clip(
        data[0, round(3 * SFREQ) : round(4 * SFREQ)], -5e-6, 5e-6
    )
    reports = flags(data)
    assert flagged(reports, "muscle") == {(12, "T7")}
    assert flagged(reports, "jump") == {(8, "O1")}
    drifting = flagged(reports, "drift")
    assert drifting and {name for _, name in drifting} == {"Cz"}
    assert min(block for block, _ in drifting) >= 15  # causal: after the drift started
    assert flagged(reports, "saturated") == {(3, "Fp1")}
    assert artifact_text(reports[8]) == "jump: O1"
    rows = {row.name: row for row in channel_summary(reports, ["eeg"] * 4)}
    assert rows["O1"].flagged["jump"] == pytest.approx(1 / 20)
    assert rows["T7"].measures["jump_uv"] < 100


def test_flags_do_not_depend_on_how_the_stream_is_chunked():
    data = background(12)
    data[3, round(6.3 * SFREQ) :] += 300e-6
    whole = flags(data)
    tracker = QualityTracker(NAMES, ["eeg"] * 4, SFREQ)
    chunked = []
    for start in range(0, data.shape[1], 37):
        report = tracker.update(data[:, start : start + 37], start / SFREQ)
        if report is not None:
            chunked.append(report)
    for kind in ("eye", "muscle", "jump", "drift", "saturated"):
        assert flagged(whole, kind) == flagged(chunked, kind), kind


def test_thresholds_are_settable_in_clinical_units_and_checked():
    data = background(10)
    data[3, round(5.5 * SFREQ) :] += 120e-6
    assert not flagged(flags(data), "jump")
    assert flagged(flags(data, jump_uv=80.0), "jump") == {(5, "O1")}
    with pytest.raises(ValueError, match=r"jump_uv=5.0 µV outside its range 10..10000 µV"):
        QualitySettings(jump_uv=5.0)
    with pytest.raises(ValueError, match=r"muscle_db=-3.0 dB outside its range"):
        QualitySettings.from_options({"muscle_db": -3.0})
    with pytest.raises(ValueError, match=r"unknown quality setting\(s\) \['blink'\]"):
        QualitySettings.from_options({"blink": 1.0})
