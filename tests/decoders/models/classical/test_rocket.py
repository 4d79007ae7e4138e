"""MiniRocket and MultiRocket: the torch graph computes aeon's features, and the decoder learns."""

import numpy as np
import pytest
import torch

from decoders import registry
from decoders.models.braindecode_zoo.survey import survey_trials


def _features(decoder, data):
    """Return the module's features (its classifier replaced by the identity)."""
    module = decoder.module_
    n_features = module.coef.shape[1]
    coef, intercept = module.coef, module.intercept
    module.coef = torch.eye(n_features, dtype=torch.float64)
    module.intercept = torch.zeros(n_features, dtype=torch.float64)
    try:
        with torch.no_grad():
            scaled = torch.from_numpy(data.astype(np.float32))
            return module(scaled).double().numpy()
    finally:
        module.coef, module.intercept = coef, intercept


@pytest.mark.parametrize("kind", ["minirocket", "multirocket"])
@pytest.mark.parametrize("n_channels", [8, 1])
def test_the_graph_computes_aeons_features(kind, n_channels):
    train, valid = survey_trials(40, 0), survey_trials(12, 1)
    if n_channels == 1:
        train, valid = (
            t.__class__(t.data[:, :1], t.labels, t.classes, t.sfreq, t.ch_names[:1],
                        t.ch_types[:1], t.name)
            for t in (train, valid)
        )  # fmt: skip
    decoder = registry.create(kind, n_kernels=336, max_dilations_per_kernel=8).fit(train, valid)
    scale = float(decoder.module_.scale)
    reference = np.asarray(decoder.transform_.transform((valid.data * scale).astype(np.float32)))
    ours = _features(decoder, valid.data)
    assert ours.shape == reference.shape
    # aeon computes in float32 with fast-math: a sample within rounding of a bias may fall on
    # the other side; proportions then differ by one sample in the window, rarely
    differing = np.abs(ours - reference) > 1e-4 * np.maximum(1.0, np.abs(reference))
    assert differing.mean() < 0.002


def test_rocket_learns_the_toy_classes():
    train, valid = survey_trials(60, 0), survey_trials(30, 1)
    decoder = registry.create("minirocket", n_kernels=840).fit(train, valid)
    test = survey_trials(30, 2)
    assert np.mean(decoder.predict_proba(test.data).argmax(1) == test.labels) > 0.8
    assert decoder.card_extra()["features"] == 840 - 840 % 84


@pytest.mark.parametrize("kind", ["minirocket", "multirocket"])
def test_rocket_learns_a_binary_task(kind):
    """Two classes: scikit-learn 1.9's binary ridge gives its weights as a vector."""
    train, valid, test = (survey_trials(n, seed) for n, seed in ((60, 0), (30, 1), (30, 2)))
    train, valid, test = (t.subset(np.flatnonzero(t.labels < 2)) for t in (train, valid, test))
    decoder = registry.create(kind, n_kernels=336, max_dilations_per_kernel=8).fit(train, valid)
    probabilities = decoder.predict_proba(test.data)
    assert probabilities[:, 2].max() < 1e-3  # the class absent from training
    assert np.mean(probabilities.argmax(1) == test.labels) > 0.8
