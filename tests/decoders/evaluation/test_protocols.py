import numpy as np
import pytest

from decoders.datasets.errors import DataError
from decoders.datasets.trials import OfficialSplit, TrialSet
from decoders.evaluation.protocols import (
    ByBlock,
    LeaveOneSubjectOut,
    OfficialProtocol,
    WithinSessionKFold,
    make_protocol,
    validation_split,
)


def trials(n=60, n_classes=3, groups=None, blocks=None, name="toy"):
    rng = np.random.default_rng(0)
    return TrialSet(
        data=rng.normal(size=(n, 4, 20)),
        labels=np.arange(n) % n_classes,
        classes=tuple(f"c{i}" for i in range(n_classes)),
        sfreq=100.0,
        ch_names=("a", "b", "c", "d"),
        ch_types=("eeg",) * 4,
        name=name,
        groups=groups,
        blocks=blocks,
    )


def test_kfold_partitions_every_trial_once_and_stratifies():
    data = trials()
    folds = list(WithinSessionKFold(5).folds(data, seed=0))
    assert len(folds) == 5
    test_counts = sum(f.test.n_trials for f in folds)
    assert test_counts == 60
    for fold in folds:
        assert fold.train.n_trials + fold.test.n_trials == 60
        assert np.bincount(fold.test.labels).tolist() == [4, 4, 4]


def test_kfold_with_fewer_trials_than_folds_is_a_clear_error():
    with pytest.raises(DataError, match="cannot make 5 stratified folds"):
        list(WithinSessionKFold(5).folds(trials(n=12, n_classes=3), seed=0))


def test_loso_and_blocks_hold_out_whole_groups():
    data = trials(groups=np.repeat([0, 1, 2], 20), blocks=np.tile(np.repeat([0, 1], 10), 3))
    loso = list(LeaveOneSubjectOut().folds(data, 0))
    assert [f.name for f in loso] == ["subject0", "subject1", "subject2"]
    for fold in loso:
        assert len(np.unique(fold.test.groups)) == 1
        assert fold.test.groups[0] not in fold.train.groups
    blocks = list(ByBlock().folds(data, 0))
    assert len(blocks) == 2 and all(f.test.n_trials == 30 for f in blocks)
    with pytest.raises(DataError, match="single subject"):
        list(LeaveOneSubjectOut().folds(trials(), 0))


def test_official_protocol_needs_an_official_split_and_others_refuse_it():
    split = OfficialSplit(trials(name="x/train"), trials(n=30, name="x/test"))
    (fold,) = OfficialProtocol().folds(split, 0)
    assert fold.test.n_trials == 30
    with pytest.raises(DataError, match="no official"):
        list(OfficialProtocol().folds(trials(), 0))
    with pytest.raises(DataError, match="use the 'official' protocol"):
        list(WithinSessionKFold().folds(split, 0))


def test_validation_split_is_stratified_disjoint_and_seeded():
    data = trials(n=50, n_classes=2)
    fit, valid = validation_split(data, 0.2, seed=3)
    assert fit.n_trials == 40 and valid.n_trials == 10
    assert np.bincount(valid.labels).tolist() == [5, 5]
    fit_again, _ = validation_split(data, 0.2, seed=3)
    assert np.array_equal(fit.data, fit_again.data)
    other, _ = validation_split(data, 0.2, seed=4)
    assert not np.array_equal(fit.data, other.data)


def test_class_missing_from_training_fold_is_named():
    data = trials(n=21, n_classes=3).subset(np.r_[0:20])  # class c2 has 6, fine
    labels = data.labels.copy()
    labels[labels == 2] = 0
    labels[2] = 2  # a single c2 trial
    lonely = TrialSet(data.data, labels, data.classes, 100.0, data.ch_names, data.ch_types, "toy")
    with pytest.raises(DataError, match=r"\['c2'\] have fewer than 2 training trials"):
        validation_split(lonely, 0.2, 0)


def test_make_protocol():
    assert make_protocol("kfold10").n_folds == 10
    assert isinstance(make_protocol("loso"), LeaveOneSubjectOut)
    with pytest.raises(ValueError, match="unknown protocol"):
        make_protocol("peeking")
