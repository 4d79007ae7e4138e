"""The sEEG word-reading simulator: implants per subject, seeded, SNR as stated, learnable."""

import numpy as np

from decoders.datasets.ieeg import rank_channels
from decoders.simulators.registry import available_tasks
from decoders.simulators.seeg_words import INFORMATIVE, WORDS, SeegWords


def small(**options):
    return SeegWords(seed=3, n_subjects=3, n_words=5, repeats=6, sfreq=400.0, **options)


def test_the_task_is_registered_with_61_words_by_default():
    assert "seeg_words" in available_tasks()
    assert len(SeegWords().classes) == 61 == len(set(WORDS))


def test_subjects_have_different_implants_with_informative_and_silent_contacts():
    simulator = small()
    implants = [simulator.implant(s) for s in range(3)]
    assert len({len(i.names) for i in implants}) > 1 or implants[0].names != implants[1].names
    for implant in implants:
        informative = [r for r in implant.regions if r in INFORMATIVE]
        assert 0 < len(informative) < len(implant.names) / 3


def test_the_same_seed_gives_the_same_trials():
    first, second = small().trials(), small().trials()
    assert np.array_equal(first.data, second.data) and np.array_equal(first.labels, second.labels)
    assert not np.array_equal(first.data, small(snr_db=-6.0).trials().data)


def test_the_measured_snr_is_the_stated_one_plus_the_subject_offset():
    simulator = small(snr_db=-10.0)
    snrs = [simulator.snr_db(s) for s in range(3)]
    assert all(-16 < value < -4 for value in snrs) and len(set(snrs)) == 3
    raw = simulator.raw(subject=0)
    assert f"SNR {snrs[0]:.1f} dB" in raw.info["description"]


def test_the_words_are_carried_by_contacts_near_the_informative_regions():
    simulator = small(snr_db=-5.0)
    trials = simulator.trials()
    implant = simulator.implant(0)
    positions = implant.positions
    from decoders.simulators.seeg_words import REGIONS

    distance = np.min(
        [np.linalg.norm(positions - np.asarray(REGIONS[r][0]), axis=1) for r in INFORMATIVE], axis=0
    )
    best = np.argsort(-rank_channels(trials))[:3]
    assert np.all(distance[best] < 25.0)
    assert trials.groups.tolist() == [0] * trials.n_trials and trials.n_trials == 30


def test_unlabelled_recordings_carry_no_events():
    raw = small().raw(35.0, subject=1, labelled=False)
    assert len(raw.annotations) == 0 and raw.n_times == 10 * 3.5 * 400
