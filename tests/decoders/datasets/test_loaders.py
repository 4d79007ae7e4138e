import numpy as np
import pytest

from decoders.datasets.loaders import load_ecog_lfp, load_meg_eeg, load_trial_set


def test_meg_eeg_types_geometry_and_events(real_data):
    raw = load_meg_eeg(real_data)
    types = raw.get_channel_types()
    counts = {kind: types.count(kind) for kind in set(types)}
    assert counts == {"grad": 204, "mag": 102, "eeg": 60, "eog": 1, "stim": 9}
    assert raw.info["sfreq"] == pytest.approx(600.615, abs=1e-3)
    assert raw.info["dev_head_t"] is not None
    assert len(raw.info["projs"]) == 3
    mag = raw.get_data(picks="mag")
    assert 1e-13 < mag.std() < 1e-10  # tesla
    assert 1e-7 < raw.get_data(picks="eeg").std() < 1e-3  # volts
    assert len(raw.annotations) == 31
    import mne

    events, event_id = mne.events_from_annotations(raw, verbose="error")
    stim_events = mne.find_events(raw, stim_channel="STI 014", verbose="error")
    assert np.array_equal(events[:, 0], stim_events[:, 0])
    assert event_id.keys() == {
        "auditory/left",
        "auditory/right",
        "visual/left",
        "visual/right",
        "smiley",
        "button",
    }


def test_ecog_lfp_types_volts_positions_and_grips(real_data):
    raw = load_ecog_lfp(real_data)
    types = raw.get_channel_types()
    assert types.count("ecog") == 6 and types.count("dbs") == 3 and types.count("misc") == 1
    neural = raw.get_data(picks=["ecog", "dbs"])
    assert neural.std(axis=1).min() > 1e-6 and neural.std(axis=1).max() < 1e-3  # tens of µV
    positions = raw.get_montage().get_positions()["ch_pos"]
    assert sum(np.isfinite(p).all() for p in positions.values()) >= 6
    assert np.allclose(raw.annotations.onset, [3.35, 10.24, 14.99], atol=0.01)
    assert set(raw.annotations.description) == {"grip"}


@pytest.mark.parametrize(
    ("name", "train", "test", "shape", "n_classes", "scale"),
    [
        ("FingerMovements", 316, 100, (28, 50), 2, 1e-4),
        ("HandMovementDirection", 160, 74, (10, 400), 4, 1e-12),
        ("SelfRegulationSCP1", 268, 293, (6, 896), 2, 1e-4),
    ],
)
def test_trial_sets_official_splits_in_si_units(
    real_data, name, train, test, shape, n_classes, scale
):
    split = load_trial_set(name, real_data)
    assert split.train.n_trials == train and split.test.n_trials == test
    assert split.train.data.shape[1:] == shape == split.test.data.shape[1:]
    assert split.train.n_classes == n_classes == len(np.unique(split.test.labels))
    assert split.train.classes == split.test.classes
    assert scale / 100 < split.train.data.std() < scale
    assert split.name == name


def test_finger_movements_has_10_20_positions(real_data):
    split = load_trial_set("FingerMovements", real_data)
    assert split.train.ch_pos is not None and len(split.train.ch_pos) == 28
    epochs = split.train.to_epochs()
    assert epochs.get_montage() is not None
