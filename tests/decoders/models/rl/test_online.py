"""The online adapter beside the live engine: submit labelled trials, publish updated models."""

import threading

import numpy as np
import pytest
import torch

from decoders.datasets.errors import DataError
from decoders.models.rl.online import AdapterBusyError, OnlineAdapter
from decoders.models.rl.rleegnet import RLEEGNet


def copy_of(decoder: RLEEGNet) -> RLEEGNet:
    return decoder.snapshot()


def test_labelled_trials_are_adapted_on_and_published(fitted_rleegnet, make_trials):
    decoder = copy_of(fitted_rleegnet)
    published = []
    feedback = make_trials(10, 60)
    with OnlineAdapter(decoder, published.append, trials_per_update=4) as adapter:
        for trial, label in zip(feedback.data, feedback.labels, strict=True):
            adapter.submit(trial, int(label))
        assert adapter.flush(timeout=60)  # 4 + 4 + the remaining 2
    assert [r.n_trials for r in adapter.reports] == [4, 4, 2]
    assert adapter.published == 3 and len(published) == 3 and adapter.errors == []
    latest = published[-1]
    assert isinstance(latest, RLEEGNet) and latest is not decoder and latest.is_fitted
    test = make_trials(6, 61).data
    assert np.allclose(latest.predict_proba(test), decoder.predict_proba(test))
    assert not np.allclose(published[0].predict_proba(test), latest.predict_proba(test))


def test_rollback_publishes_the_restored_model(fitted_rleegnet, make_trials):
    decoder = copy_of(fitted_rleegnet)
    before = {k: v.clone() for k, v in decoder.module_.state_dict().items()}
    published = []
    feedback = make_trials(4, 62)
    with OnlineAdapter(decoder, published.append, trials_per_update=4) as adapter:
        for trial, label in zip(feedback.data, feedback.labels, strict=True):
            adapter.submit(trial, ["rest", "move"][label])  # labels by class name
        adapter.flush(timeout=60)
        adapter.rollback()
    restored = published[-1].module_.state_dict()
    assert len(published) == 2 and all(torch.equal(restored[k], before[k]) for k in before)


def test_bad_trials_are_refused_at_submission_and_a_full_queue_says_so(
    fitted_rleegnet, make_trials
):
    decoder = copy_of(fitted_rleegnet)
    adapter = OnlineAdapter(decoder, lambda d: None, max_pending=2)  # not started: queue fills
    trial = make_trials(1, 63).data[0]
    with pytest.raises(DataError, match=r"must be \(n >= 1, 4, 64\)"):
        adapter.submit(trial[:, :32], 0)
    with pytest.raises(DataError, match="unknown class 'up'"):
        adapter.submit(trial, "up")
    adapter.submit(trial, 0)
    adapter.submit(trial, 1)
    with pytest.raises(AdapterBusyError, match="2 feedback trials are already waiting"):
        adapter.submit(trial, 1)
    with pytest.raises(RuntimeError, match="not running"):
        adapter.flush()


def test_a_failing_publisher_is_recorded_and_adaptation_goes_on(fitted_rleegnet, make_trials):
    decoder = copy_of(fitted_rleegnet)
    calls = threading.Event()

    def publish(_):
        calls.set()
        raise OSError("disk full")

    feedback = make_trials(4, 64)
    with OnlineAdapter(decoder, publish, trials_per_update=2) as adapter:
        for trial, label in zip(feedback.data, feedback.labels, strict=True):
            adapter.submit(trial, int(label))
        adapter.flush(timeout=60)
    assert calls.is_set() and len(adapter.reports) == 2 and adapter.published == 0
    assert adapter.errors == ["publish failed: disk full"] * 2
