import numpy as np
import pytest

from decoders.simulators import simulate_raw, simulate_trials
from decoders.simulators.errors import SimulatorError
from decoders.simulators.motor_imagery import MotorImagerySimulator
from decoders.simulators.signals import band_power

SMALL = {"n_subjects": 2, "n_runs": 2, "trials_per_class": 3}


def _band_passed(trials):
    from scipy.signal import butter, sosfiltfilt

    sos = butter(4, [8.0, 30.0], btype="bandpass", fs=trials.sfreq, output="sos")
    return sosfiltfilt(sos, trials.data, axis=-1)


def _csp_lda():
    from mne.decoding import CSP
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        CSP(n_components=6, reg="ledoit_wolf", log=True),
        LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
    )


def _within_subject_accuracy(trials) -> np.ndarray:
    """CSP + LDA on 8-30 Hz trials, stratified 5-fold CV inside each subject."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from threadpoolctl import threadpool_limits

    data = _band_passed(trials)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = []
    with threadpool_limits(1):  # BLAS threads only fight over the two shared cores
        for g in np.unique(trials.groups):
            subject = trials.groups == g
            scores.append(
                cross_val_score(_csp_lda(), data[subject], trials.labels[subject], cv=folds).mean()
            )
    return np.array(scores)


def _leave_one_subject_out_accuracy(trials) -> np.ndarray:
    from threadpoolctl import threadpool_limits

    data = _band_passed(trials)
    scores = []
    with threadpool_limits(1):
        for g in np.unique(trials.groups):
            test = trials.groups == g
            model = _csp_lda().fit(data[~test], trials.labels[~test])
            scores.append(model.score(data[test], trials.labels[test]))
    return np.array(scores)


@pytest.fixture(scope="module")
def default_trials():
    return simulate_trials("motor_imagery", seed=0)


def test_same_seed_gives_identical_output_and_other_seeds_differ():
    first = simulate_trials("motor_imagery", seed=5, **SMALL)
    again = simulate_trials("motor_imagery", seed=5, **SMALL)
    other = simulate_trials("motor_imagery", seed=6, **SMALL)
    assert np.array_equal(first.data, again.data)
    assert np.array_equal(first.labels, again.labels)
    assert not np.allclose(first.data, other.data)
    raw = simulate_raw("motor_imagery", seed=5, duration_s=20.0)
    assert np.array_equal(
        raw.get_data(), simulate_raw("motor_imagery", seed=5, duration_s=20.0).get_data()
    )
    assert not np.allclose(
        raw.get_data(), simulate_raw("motor_imagery", seed=6, duration_s=20.0).get_data()
    )


def test_a_subject_is_the_same_whatever_the_montage_rate_and_trial_counts():
    one = MotorImagerySimulator(seed=2).subject(1)
    other = MotorImagerySimulator(
        seed=2, channels=8, sfreq=500.0, n_subjects=2, trials_per_class=1
    ).subject(1)
    assert np.array_equal(one.source_pos, other.source_pos)
    assert np.array_equal(one.source_ori, other.source_ori)
    assert one.mu_hz == other.mu_hz and one.snr_db == other.snr_db


def test_default_trials_shape_units_and_balance(default_trials):
    trials = default_trials
    assert trials.classes == ("left_hand", "right_hand", "feet")
    assert trials.data.shape == (4 * 3 * 30, 22, 500)  # subjects x runs x trials, 2 s at 250 Hz
    assert trials.ch_types == ("eeg",) * 22
    sd = trials.data.std(axis=-1)
    assert 5e-6 < np.median(sd) < 1e-4  # tens of microvolts
    for g in range(4):
        for run in range(3):
            in_run = (trials.groups == g) & (trials.blocks == run)
            assert np.array_equal(np.bincount(trials.labels[in_run]), [10, 10, 10])


def test_trial_positions_are_the_montage_positions(default_trials):
    positions = default_trials.ch_pos
    assert positions["C3"][0] < 0 < positions["C4"][0]
    epochs = default_trials.subset(slice(0, 2)).to_epochs()
    montage = epochs.get_montage().get_positions()["ch_pos"]
    assert np.allclose(montage["Cz"], positions["Cz"])


@pytest.mark.parametrize(
    ("channels", "sfreq"),
    [(8, 250.0), (32, 500.0), (64, 1000.0), (("C3", "Cz", "C4", "Fp1"), 128.0), (10, 100.0)],
)
def test_any_montage_and_sampling_rate(channels, sfreq):
    raw = simulate_raw("motor_imagery", duration_s=16.0, channels=channels, sfreq=sfreq)
    n_channels = channels if isinstance(channels, int) else len(channels)
    assert len(raw.ch_names) == n_channels
    assert raw.info["sfreq"] == sfreq
    assert raw.n_times == round(16.0 * sfreq)
    if not isinstance(channels, int):
        assert tuple(raw.ch_names) == channels
    assert 1e-6 < np.median(raw.get_data().std(axis=1)) < 1e-4


def test_four_classes_with_tongue():
    trials = simulate_trials(
        "motor_imagery", classes=("left_hand", "right_hand", "feet", "tongue"), **SMALL
    )
    assert trials.n_classes == 4
    assert np.array_equal(np.bincount(trials.labels), [12, 12, 12, 12])


def test_annotations_match_the_trials_cut_from_the_same_recording():
    simulator = MotorImagerySimulator(seed=1, **SMALL)
    trials = simulator.trials()
    raw = simulator.recording(subject=1, run=1).to_raw()
    sfreq = raw.info["sfreq"]
    cues = [
        (onset, name)
        for onset, name in zip(raw.annotations.onset, raw.annotations.description, strict=True)
        if name in trials.classes
    ]
    signals = raw.get_data()
    cut = np.stack([signals[:, round((onset + 0.5) * sfreq) :][:, :500] for onset, _ in cues])
    in_run = (trials.groups == 1) & (trials.blocks == 1)
    assert np.array_equal(cut, trials.data[in_run])
    assert [name for _, name in cues] == [trials.classes[label] for label in trials.labels[in_run]]


def test_live_recording_follows_a_cue_based_paradigm():
    raw = simulate_raw("motor_imagery", seed=3, duration_s=120.0)
    names = list(raw.annotations.description)
    onsets = raw.annotations.onset
    assert names[0] == "fixation"
    cue_rows = [i for i, name in enumerate(names) if name not in ("fixation", "rest")]
    assert len(cue_rows) >= 12
    for row in cue_rows:
        assert names[row - 1] == "fixation" and names[row + 1] == "rest"
        assert onsets[row] - onsets[row - 1] == pytest.approx(2.0)
        assert onsets[row + 1] - onsets[row] == pytest.approx(4.0)
        assert raw.annotations.duration[row] == pytest.approx(4.0)
    assert onsets[-1] + raw.annotations.duration[-1] <= 120.0
    counts = [names.count(name) for name in ("left_hand", "right_hand", "feet")]
    assert max(counts) - min(counts) <= 1


def test_live_subject_shares_the_trial_subject_but_not_its_noise():
    simulator = MotorImagerySimulator(seed=4, **SMALL)
    live = simulator.live_recording(duration_s=30.0, subject=1)
    run = simulator.recording(subject=1, run=0)
    assert "subject 1" in live.description
    assert not np.allclose(live.background[:, :1000], run.background[:, :1000])


def test_stated_snr_is_measured_and_follows_the_option():
    measured, stated = [], []
    for snr_db in (-10.0, -4.0, 2.0):
        simulator = MotorImagerySimulator(seed=7, snr_db=snr_db, trials_per_class=8)
        recording = simulator.recording(subject=0, run=0)
        stated.append(simulator.subject(0).snr_db)
        measured.append(recording.snr_db())
        assert f"SNR {stated[-1]:.1f} dB" in recording.description
    assert np.diff(stated) == pytest.approx([6.0, 6.0])
    assert measured == pytest.approx(stated, abs=1.5)
    assert np.all(np.diff(measured) > 4.0)


def test_subjects_differ_in_snr_and_noise():
    simulator = MotorImagerySimulator(seed=0)
    subjects = [simulator.subject(i) for i in range(4)]
    assert len({round(s.snr_db, 3) for s in subjects}) == 4
    assert len({round(s.sensor_noise_uv, 3) for s in subjects}) == 4


def test_desynchronisation_is_where_the_ground_truth_says():
    simulator = MotorImagerySimulator(seed=0, trials_per_class=12)
    recording = simulator.recording(subject=0, run=0)
    truth = simulator.subject(0)
    sources = np.linalg.pinv(simulator.source_patterns(0)) @ recording.task_signal
    sfreq, cues = recording.sfreq, recording.cue_samples()
    ratio = {}
    for label, name in enumerate(simulator.classes):
        onsets = cues[recording.schedule.labels == label]
        imagery = np.stack(
            [sources[:, c + round(1.0 * sfreq) : c + round(3.5 * sfreq)] for c in onsets]
        )
        rest = np.stack([sources[:, c - round(2.0 * sfreq) : c] for c in onsets])
        ratio[name] = dict(
            zip(
                truth.source_names,
                (imagery**2).mean(axis=(0, 2)) / (rest**2).mean(axis=(0, 2)),
                strict=True,
            )
        )
    assert truth.power_change["left_hand"]["hand_rh"] < -0.3
    assert ratio["left_hand"]["hand_rh"] < 0.75 < ratio["right_hand"]["hand_rh"]
    assert ratio["right_hand"]["hand_lh"] < 0.75 < ratio["left_hand"]["hand_lh"]
    assert (
        ratio["feet"]["foot"] < 0.75 < min(ratio["left_hand"]["foot"], ratio["right_hand"]["foot"])
    )


def test_subjects_differ_in_spatial_pattern():
    simulator = MotorImagerySimulator(seed=0)
    patterns = [simulator.source_patterns(i)[:, 0] for i in range(4)]  # left hand area
    correlation = np.corrcoef(patterns)[np.triu_indices(4, 1)]
    assert np.all(np.abs(correlation) < 0.99)
    positions = np.array([simulator.subject(i).source_pos[0] for i in range(4)])
    assert np.linalg.norm(positions - positions.mean(axis=0), axis=1).max() > 0.003


@pytest.mark.slow
def test_learnable_but_not_trivial(default_trials):
    within = _within_subject_accuracy(default_trials)
    assert 0.55 <= within.mean() <= 0.85, within
    across = _leave_one_subject_out_accuracy(default_trials)
    assert across.mean() < within.mean() - 0.05, (within, across)


@pytest.mark.slow
def test_without_desynchronisation_nothing_is_learnable():
    trials = simulate_trials("motor_imagery", seed=0, erd_depth=0.0)
    assert _within_subject_accuracy(trials).mean() < 0.43


def test_blinks_are_frontal_and_line_noise_at_the_line_frequency():
    simulator = MotorImagerySimulator(seed=0, channels=32, line_freq=None, blinks_per_min=30.0)
    artifacts = simulator.live_recording(duration_s=30.0).artifacts
    names = simulator.ch_names
    peak = np.abs(artifacts).max(axis=1)
    assert peak[names.index("Fp1")] > 30e-6
    assert peak[names.index("Fp1")] > 5 * peak[names.index("Pz")]
    for line_freq in (50.0, 60.0):
        recording = MotorImagerySimulator(
            seed=0, line_freq=line_freq, blinks_per_min=0.0
        ).live_recording(30.0)
        at_line = band_power(recording.artifacts, 250.0, (line_freq - 1, line_freq + 1))
        assert at_line == pytest.approx(band_power(recording.artifacts, 250.0, (0.0, 125.0)))
        assert recording.to_raw().info["line_freq"] == line_freq


def test_background_falls_with_frequency():
    background = MotorImagerySimulator(seed=0).live_recording(duration_s=60.0).background
    assert band_power(background, 250.0, (1.0, 3.0)) > 3 * band_power(
        background, 250.0, (35.0, 45.0)
    )


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"classes": ("left_hand", "jump")}, "classes"),
        ({"classes": ("feet",)}, "classes"),
        ({"sfreq": 50.0}, "sfreq"),
        ({"erd_depth": 1.5}, "erd_depth"),
        ({"tmin": 3.0, "tmax": 2.0}, "trial window"),
        ({"n_subjects": 0}, "n_subjects"),
        ({"blink_uv": -1.0}, "blink_uv"),
        ({"channels": ["C3", "Q7"]}, "Q7"),
    ],
)
def test_bad_options_are_named(options, problem):
    with pytest.raises(SimulatorError, match=problem):
        MotorImagerySimulator(**options)


def test_bad_raw_requests_are_named():
    with pytest.raises(SimulatorError, match="duration_s"):
        simulate_raw("motor_imagery", duration_s=0.0)
    with pytest.raises(SimulatorError, match="subject"):
        simulate_raw("motor_imagery", subject=-1)
