import numpy as np
import pytest

from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from federated.sites.config import load_site
from federated.sites.data import InputRequest, partition_trials, prepare, site_data

REQUEST = InputRequest(("left_hand", "right_hand"), 2.0)


def test_a_simulated_site_gives_stratified_splits_in_the_federations_class_order(site_files):
    site = load_site(site_files(("site-b",))[0])
    data = prepare(site, InputRequest(("right_hand", "left_hand"), 2.0))
    assert data.train.classes == ("right_hand", "left_hand")
    assert (data.train.n_channels, data.train.sfreq, data.train.n_times) == (16, 200.0, 400)
    total = data.train.n_trials + data.valid.n_trials + data.test.n_trials
    assert total == 20 and data.test.n_trials == 5 and data.valid.n_trials >= 2
    for part in (data.train, data.valid, data.test):
        assert set(part.labels.tolist()) == {0, 1}


def test_the_montage_selects_channels_and_resamples(site_files):
    extra = '[montage]\nchannels = ["C3", "Cz", "C4"]\nsfreq = 125.0\n'
    site = load_site(site_files(("site-a",), extra=extra)[0])
    data = prepare(site, REQUEST)
    assert data.train.ch_names == ("C3", "Cz", "C4")
    assert (data.train.sfreq, data.train.n_times) == (125.0, 250)


def test_labels_are_mapped_onto_the_federations(site_files):
    extra = '[labels]\nmap = { left_hand = "L", right_hand = "R" }\n'
    site = load_site(site_files(("site-a",), extra=extra)[0])
    data = prepare(site, InputRequest(("R", "L"), 2.0))
    assert data.train.classes == ("R", "L")


@pytest.mark.parametrize(
    ("extra", "classes", "message"),
    [
        ("", ("left_hand", "feet"), "label 'right_hand' is not one of the federation's"),
        ('[labels]\ndrop = ["right_hand"]\n', ("left_hand", "right_hand"), "no trial of"),
        ('[montage]\ntypes = ["ecog"]\n', ("left_hand", "right_hand"), "no usable channels"),
        ('[montage]\nchannels = ["C3", "O9"]\n', ("left_hand", "right_hand"), r"\['O9'\]"),
    ],
)
def test_sites_that_cannot_serve_the_federation_are_refused(site_files, extra, classes, message):
    site = load_site(site_files(("site-a",), extra=extra)[0])
    with pytest.raises(DataError, match=message) as error:
        prepare(site, InputRequest(classes, 2.0))
    assert str(site.path) in str(error.value)


def test_fedavg_needs_every_common_channel_and_the_window(site_files):
    site = load_site(site_files(("site-a",))[0])
    common = InputRequest(REQUEST.classes, 2.0, ("C3", "Cz", "C4", "O1"), 250.0)
    with pytest.raises(DataError, match=r"lacks the federation's common channel\(s\) \['O1'\]"):
        prepare(site, common)
    data = prepare(site, InputRequest(REQUEST.classes, 2.0, ("C4", "C3"), 100.0))
    assert data.train.ch_names == ("C4", "C3") and data.train.n_times == 200
    with pytest.raises(DataError, match=r"trials last 2 s.*window is 1 s"):
        prepare(site, InputRequest(REQUEST.classes, 1.0))


def test_partitions_of_a_shared_source_are_disjoint_and_cover_it():
    labels = np.repeat([0, 1, 2], 20)
    trials = TrialSet(
        np.arange(60, dtype=float).reshape(60, 1, 1) * np.ones((1, 1, 4)),
        labels,
        ("a", "b", "c"),
        100.0,
        ("C3",),
        ("eeg",),
        "shared",
    )
    parts = [partition_trials(trials, index, (6, 3, 1), seed=5) for index in range(3)]
    ids = [part.data[:, 0, 0].astype(int) for part in parts]
    assert [len(i) for i in ids] == [36, 18, 6]
    assert sorted(np.concatenate(ids).tolist()) == list(range(60))
    assert all(
        np.bincount(part.labels).tolist() == [len(i) // 3] * 3
        for part, i in zip(parts, ids, strict=True)
    )


def test_prepared_trials_are_cached_and_the_cache_follows_the_site_file(site_files):
    path = site_files(("site-a",))[0]
    first = site_data(load_site(path), REQUEST)
    cached = sorted((path.parent / "site-a-state" / "cache").glob("*.npz"))
    assert len(cached) == 1
    again = site_data(load_site(path), REQUEST)
    np.testing.assert_allclose(again.train.data, first.train.data, rtol=1e-6)
    assert again.train.ch_names == first.train.ch_names
    path.write_text(path.read_text().replace("validation = 0.25", "validation = 0.3"))
    site_data(load_site(path), REQUEST)
    assert len(list((path.parent / "site-a-state" / "cache").glob("*.npz"))) == 2


def test_recordings_are_cut_at_their_events(tmp_path):
    import mne

    sfreq, rng = 200.0, np.random.default_rng(0)
    info = mne.create_info(["EEG C3", "EEG C4", "STI"], sfreq, ["eeg", "eeg", "stim"])
    raw = mne.io.RawArray(rng.standard_normal((3, 4000)) * 1e-5, info, verbose="error")
    onsets = np.arange(1.0, 19.0, 1.5)
    names = ["T1", "T2", "rest"] * 4
    raw.set_annotations(mne.Annotations(onsets, 0.0, names))
    raw.save(tmp_path / "run_raw.fif", verbose="error")
    (tmp_path / "site.toml").write_text(
        '[data]\nrecordings = ["run_raw.fif"]\ntmin = 0.0\ntmax = 1.0\n'
        '[montage]\nrename = { "EEG C3" = "C3", "EEG C4" = "C4" }\nsfreq = 100.0\n'
        '[labels]\nmap = { T1 = "left", T2 = "right" }\n[split]\nvalidation = 0.25\ntest = 0.25\n'
    )
    data = prepare(load_site(tmp_path / "site.toml"), InputRequest(("left", "right"), 1.0))
    assert data.train.ch_names == ("C3", "C4") and data.train.n_times == 100
    assert data.train.n_trials + data.valid.n_trials + data.test.n_trials == 8
    bad = tmp_path / "bad.toml"
    bad.write_text((tmp_path / "site.toml").read_text().replace("T1 =", "X1 ="))
    with pytest.raises(DataError, match="no trial of the federation's class"):
        prepare(load_site(bad), InputRequest(("left", "right"), 1.0))


def test_a_real_trial_set_split_into_sites_keeps_its_official_test_part(real_data, tmp_path):
    text = (
        '[data]\ntrial_set = "HandMovementDirection"\n'
        "[data.partition]\nindex = {index}\nweights = [3, 1]\nseed = 2\n"
        '[montage]\nchannels = ["MEG01", "MEG02", "MEG05"]\nsfreq = 200.0\n'
    )
    sizes = []
    for index in (0, 1):
        path = tmp_path / f"site{index}.toml"
        path.write_text(text.replace("{index}", str(index)))
        classes = ("right", "forward", "left", "backward")
        data = prepare(load_site(path), InputRequest(classes, 1.0))
        assert (data.train.n_channels, data.train.n_times) == (3, 200)
        sizes.append((data.train.n_trials + data.valid.n_trials, data.test.n_trials))
    assert sum(s[0] for s in sizes) == 160 and sum(s[1] for s in sizes) == 74
    assert sizes[0][0] > 2 * sizes[1][0]
