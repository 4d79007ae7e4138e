import json

import numpy as np
import pytest

from decoders.datasets.errors import DataError
from decoders.datasets.trials import OfficialSplit, TrialSet
from decoders.evaluation.harness import evaluate
from decoders.evaluation.protocols import OfficialProtocol, WithinSessionKFold
from decoders.evaluation.records import ResultRecord
from decoders.evaluation.sealed import SealedTestSet, TestSetReuseError


def separable(n=80, shift=1.0, seed=0, name="toy"):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    data = rng.normal(size=(n, 3, 10))
    data[:, 0, :] += shift * labels[:, None]
    return TrialSet(data, labels, ("a", "b"), 50.0, ("x", "y", "z"), ("eeg",) * 3, name)


class MeanFeature:
    """Thresholds the mean of channel x at the midpoint of the class means (a real classifier)."""

    def __init__(self, seed):
        self.seed = seed
        self.seen_sizes = []

    def fit(self, train, valid):
        self.seen_sizes = [train.n_trials, valid.n_trials]
        feature = train.data[:, 0].mean(1)
        self.threshold = (feature[train.labels == 0].mean() + feature[train.labels == 1].mean()) / 2
        return self

    def predict_proba(self, data):
        p = 1 / (1 + np.exp(-8 * (data[:, 0].mean(1) - self.threshold)))
        return np.column_stack([1 - p, p])


def test_sealed_test_set_scores_once_and_hides_its_data():
    sealed = SealedTestSet(separable())
    assert not hasattr(sealed, "trials") and not hasattr(sealed, "data")
    outcome = sealed.score(lambda x: np.full((len(x), 2), 0.5))
    assert outcome.metrics["accuracy"] == 0.5 and sealed.used
    with pytest.raises(TestSetReuseError):
        sealed.score(lambda x: np.full((len(x), 2), 0.5))


def test_sealed_test_set_rejects_bad_probabilities():
    with pytest.raises(ValueError, match="shape"):
        SealedTestSet(separable()).score(lambda x: np.zeros((len(x), 3)))
    with pytest.raises(ValueError, match="NaN"):
        SealedTestSet(separable()).score(lambda x: np.full((len(x), 2), np.nan))


def test_evaluate_official_split_records_everything(tmp_path):
    split = OfficialSplit(separable(name="toy/train"), separable(n=40, seed=1, name="toy/test"))
    models = []
    record = evaluate(
        MeanFeature,
        split,
        OfficialProtocol(),
        seeds=(0, 1, 2),
        decoder_name="mean-feature",
        on_fitted=lambda run: models.append(run),
    )
    assert record.dataset == "toy" and record.protocol == "official"
    assert record.seeds == [0, 1, 2] and len(models) == 3
    assert record.folds[0].n_train + record.folds[0].n_valid == 80
    assert record.folds[0].n_test == 40
    assert models[0].model.seen_sizes == [64, 16]  # validation came from the training part
    assert record.metrics["accuracy"].mean > 0.8
    assert len(record.metrics["accuracy"].per_seed) == 3
    assert "numpy" in record.versions and record.wall_time_s > 0
    record.save(tmp_path / "r.json")
    again = ResultRecord.load(tmp_path / "r.json")
    assert again.metrics["accuracy"].mean == record.metrics["accuracy"].mean
    rows = again.summary_rows(("accuracy",))
    assert rows[0].keys() == {"dataset", "protocol", "decoder", "metric", "mean", "sd", "n_seeds"}
    json.dumps(again.to_dict())


def test_chance_level_on_unlearnable_data():
    record = evaluate(
        MeanFeature, separable(n=200, shift=0.0), WithinSessionKFold(5), (0, 1, 2), decoder_name="m"
    )
    assert abs(record.metrics["accuracy"].mean - 0.5) < 0.1
    assert record.metrics["accuracy"].sd > 0


def test_single_class_labels_are_refused():
    data = separable()
    one = TrialSet(
        data.data, np.zeros(80, int), ("a", "b"), 50.0, data.ch_names, data.ch_types, "one"
    )
    split = OfficialSplit(one, data)
    with pytest.raises(DataError, match="1 class"):
        evaluate(MeanFeature, split, OfficialProtocol(), (0,), decoder_name="m")
