import numpy as np
import pytest
from scipy.signal import welch

from decoders.simulators import make_simulator, simulate_raw, simulate_trials
from decoders.simulators.abnormal_eeg import AbnormalEEGSimulator
from decoders.simulators.abnormalities import BANDS_HZ, KINDS
from decoders.simulators.errors import SimulatorError
from decoders.simulators.montages import TUH_LAYOUT

SMALL = {"n_subjects": 4, "recordings_per_subject": 1, "recording_s": 30}


def _patients(kind: str, **options) -> AbnormalEEGSimulator:
    """Return a simulator whose subjects all have only ``kind``."""
    settings = {**SMALL, "abnormal_fraction": 1.0, "kinds": (kind,), **options}
    return AbnormalEEGSimulator(seed=3, **settings)


def _power(
    signals: np.ndarray, sfreq: float, band: tuple[float, float], segment_s: float = 2.0
) -> np.ndarray:
    """Return the power of each channel in ``band`` (Welch, ``segment_s`` segments)."""
    freqs, density = welch(signals, fs=sfreq, nperseg=int(segment_s * sfreq), axis=-1)
    inside = (freqs >= band[0]) & (freqs <= band[1])
    return density[..., inside].sum(axis=-1) * (freqs[1] - freqs[0])


def test_registered_with_both_classes():
    simulator = make_simulator("abnormal_eeg", **SMALL)
    assert simulator.classes == ("normal", "abnormal")
    assert simulator.ch_names == TUH_LAYOUT


def test_same_seed_gives_identical_output_and_other_seeds_differ():
    first = AbnormalEEGSimulator(seed=5, **SMALL).recording(1, 0)
    again = AbnormalEEGSimulator(seed=5, **SMALL).recording(1, 0)
    other = AbnormalEEGSimulator(seed=6, **SMALL).recording(1, 0)
    assert np.array_equal(first.signals, again.signals)
    assert first.truth() == again.truth()
    assert not np.allclose(first.signals, other.signals)
    raw = simulate_raw("abnormal_eeg", seed=5, duration_s=20.0, **SMALL)
    assert np.array_equal(
        raw.get_data(), simulate_raw("abnormal_eeg", seed=5, duration_s=20.0, **SMALL).get_data()
    )


def test_labels_follow_the_fraction_and_the_ground_truth():
    simulator = AbnormalEEGSimulator(seed=1, n_subjects=6, recording_s=20, abnormal_fraction=0.5)
    assert simulator.labels.count("abnormal") == 3
    for subject, label in enumerate(simulator.labels):
        recording = simulator.recording(subject, 1)
        truth = recording.truth()
        assert recording.label == truth["label"] == label == simulator.subject(subject).label
        if label == "normal":
            assert recording.kinds == () and truth["abnormalities"] == {}
            assert np.array_equal(recording.signals, recording.background + recording.artifacts)
        else:
            assert recording.kinds and set(recording.kinds) <= set(KINDS)
            assert list(truth["abnormalities"]) == list(recording.kinds)
            assert truth["focus_electrode"] == simulator.subject(subject).focus_electrode
            assert f"SNR {recording.kinds[0]}" in recording.description


def test_amplitudes_are_physiological():
    recording = AbnormalEEGSimulator(seed=2, **SMALL).recording(0, 0)
    rms_uv = recording.background.std(axis=1) * 1e6
    assert np.all((rms_uv > 8) & (rms_uv < 60))
    for kind in KINDS:
        features = _patients(kind, snr_db=20.0).recording(0, 0).truth()["abnormalities"]
        assert 10 < features[kind]["peak_uv"] <= 250.0


def test_spike_times_carry_spikes_on_the_focal_channel():
    simulator = _patients("spikes", spikes_per_min=15.0)
    for subject in range(2):
        recording = simulator.recording(subject, 0)
        spikes = recording.abnormalities[0]
        focus = recording.ch_names.index(recording.focus_electrode)
        assert np.argmax(np.abs(spikes.signal).max(axis=1)) == focus
        peaks = np.round(np.array(spikes.events_s) * recording.sfreq).astype(int)
        assert len(peaks) >= 1
        at_spikes = recording.signals[focus, peaks]
        spread = recording.background[focus].std()
        assert np.all(at_spikes < -2 * spread)  # surface-negative, well above the background
        assert np.abs(recording.background[focus, peaks]).mean() < spread * 1.5


def test_focal_slowing_raises_delta_near_the_focus():
    recording = _patients("focal_slowing").recording(0, 0)
    slowing = recording.abnormalities[0]
    focus = recording.ch_names.index(recording.focus_electrode)
    active = slowing.active
    assert active.any() and not active.all()  # intermittent
    without = recording.signals - slowing.signal
    delta = BANDS_HZ["focal_slowing"]
    rise = _power(recording.signals[:, active], recording.sfreq, delta) / _power(
        without[:, active], recording.sfreq, delta
    )
    assert rise[focus] > 2.0
    assert rise[focus] == rise.max()
    assert np.median(rise) < rise[focus] / 2


def test_asymmetry_lowers_alpha_on_the_lesion_side():
    simulator = _patients("asymmetry")
    odd = np.array([name[-1] in "13579" for name in simulator.ch_names])  # left hemisphere
    even = np.array([name[-1] in "2468" for name in simulator.ch_names])
    for subject in range(3):
        recording = simulator.recording(subject, 0)
        without = recording.signals - recording.abnormalities[0].signal
        lesion, healthy = (
            (odd, even) if simulator.subject(subject).focus_pos[0] < 0 else (even, odd)
        )
        after = _power(recording.signals, recording.sfreq, (8.0, 13.0))
        before = _power(without, recording.sfreq, (8.0, 13.0))
        assert after[lesion].sum() / before[lesion].sum() < 0.65
        assert after[healthy].sum() / before[healthy].sum() > 0.8


def test_diffuse_slowing_moves_power_from_alpha_to_theta():
    recording = _patients("diffuse_slowing", snr_db=20.0).recording(0, 0)
    without = recording.signals - recording.abnormalities[0].signal
    occipital = [recording.ch_names.index(name) for name in ("O1", "O2")]

    def theta_over_alpha(signals: np.ndarray) -> float:
        theta = _power(signals[occipital], recording.sfreq, (4.0, 8.0)).sum()
        return theta / _power(signals[occipital], recording.sfreq, (8.0, 13.0)).sum()

    assert theta_over_alpha(recording.signals) > 2 * theta_over_alpha(without)


@pytest.mark.parametrize("kind", KINDS)
def test_stated_snr_is_measured(kind):
    recording = _patients(kind).recording(1, 0)
    feature = next(item for item in recording.abnormalities if item.kind == kind)
    stated = recording.truth()["abnormalities"][kind]["snr_db"]
    assert recording.snr_db()[kind] == pytest.approx(stated, abs=1e-3)
    assert feature.snr_db == pytest.approx(stated, abs=1e-3)
    if kind in ("asymmetry", "diffuse_slowing"):  # an independent estimate, Welch's
        band = BANDS_HZ[kind]
        ratio = _power(feature.signal, recording.sfreq, band, 10.0).sum() / (
            _power(recording.background, recording.sfreq, band, 10.0).sum()
        )
        assert 10 * np.log10(ratio) == pytest.approx(stated, abs=0.5)


def test_snr_follows_the_option_where_not_capped():
    reached = []
    for snr_db in (-12.0, -6.0):
        simulator = _patients("focal_slowing", snr_db=snr_db, n_subjects=6, recording_s=20)
        reached.append([simulator.recording(s, 0).snr_db()["focal_slowing"] for s in range(6)])
    assert np.mean(reached[0]) == pytest.approx(-12.0, abs=2.5)
    assert np.mean(reached[1]) == pytest.approx(-6.0, abs=2.5)
    assert np.std(reached[0]) > 0.3  # recordings differ around the target


def test_a_subject_is_the_same_whatever_the_montage_and_corpus_size():
    small = AbnormalEEGSimulator(seed=4, n_subjects=3, recording_s=20)
    other = AbnormalEEGSimulator(
        seed=4, n_subjects=7, recording_s=60, channels=("C3", "Cz", "C4", "O1", "O2")
    )
    assert small.subject(2).physiology == other.subject(2).physiology
    assert np.array_equal(small.subject(2).focus_pos, other.subject(2).focus_pos)


def test_several_sampling_rates_are_given_to_subjects_in_turn():
    simulator = AbnormalEEGSimulator(seed=0, sfreq=[250, 256], **SMALL)
    assert [simulator.sfreq_of(s) for s in range(3)] == [250.0, 256.0, 250.0]
    assert simulator.recording(1, 0).signals.shape == (19, 30 * 256)
    with pytest.raises(SimulatorError, match="one sampling rate"):
        simulator.trials()


def test_trials_are_windows_of_every_recording():
    trials = simulate_trials("abnormal_eeg", seed=0, window_s=10.0, **SMALL)
    assert trials.classes == ("normal", "abnormal")
    assert trials.data.shape == (4 * 3, 19, 2500)
    assert np.array_equal(np.unique(trials.groups), np.arange(4))
    simulator = AbnormalEEGSimulator(seed=0, **SMALL)
    for subject, label in enumerate(simulator.labels):
        assert set(trials.labels[trials.groups == subject]) == {trials.classes.index(label)}
    np.testing.assert_array_equal(trials.data[0], simulator.recording(0, 0).signals[:, :2500])


def test_live_recording_marks_its_abnormal_events():
    simulator = _patients("spikes", spikes_per_min=10.0)
    raw = simulator.raw(duration_s=30.0, subject=0)
    assert raw.info["sfreq"] == 250.0 and raw.info["line_freq"] == 60.0
    assert set(raw.annotations.description) == {"spikes"}
    assert "SNR spikes" in raw.info["description"]
    assert list(raw.get_montage().get_positions()["ch_pos"]) == list(TUH_LAYOUT)
    corpus = simulator.recording(0, 0)
    assert not np.allclose(raw.get_data(), corpus.signals)
    with pytest.raises(SimulatorError, match="at least 20 s"):
        simulator.raw(duration_s=5.0)
    with pytest.raises(SimulatorError, match=r"subject must be within 0\.\.3"):
        simulator.raw(duration_s=20.0, subject=4)


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"n_subject": 3}, "unknown option.*n_subject"),
        ({"abnormal_fraction": 1.5}, "abnormal_fraction must be within 0..1"),
        ({"abnormal_fraction": -0.1}, "abnormal_fraction must be within 0..1"),
        ({"recording_s": 5}, "recording_s must be whole seconds, at least 20"),
        ({"recording_s": 30.5}, "recording_s must be whole seconds"),
        ({"channels": ("Fp1", "Xx")}, "not in the .* montage: Xx"),
        ({"kinds": ("tumour",)}, "kinds must be distinct names"),
        ({"sfreq": [250, 50]}, "sfreq must be whole Hz, at least 100"),
        ({"n_subjects": 0}, "n_subjects must be at least 1"),
        ({"n_subjects": "two"}, "n_subjects must be a number"),
        ({"recordings_per_subject": 1.5}, "recordings_per_subject must be a whole number"),
        ({"eval_fraction": 1.0}, "eval_fraction must be within 0..1"),
        ({"window_s": 40}, "window_s must be within 0..recording_s"),
    ],
)
def test_bad_options_are_named(options, problem):
    with pytest.raises(SimulatorError, match=problem):
        make_simulator("abnormal_eeg", **{"recording_s": 30, **options})
