import numpy as np
import pytest
import torch

from decoders import registry
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.models.spiking.binning import TimeBins
from decoders.models.spiking.reservoir import Branching, Plasticity, Reservoir


def reservoir(weight):
    torch.manual_seed(0)
    module = Reservoir(8, 2, TimeBins.for_window(256, 64), n_neurons=96, reservoir_weight=weight)
    module.input.fit(np.random.default_rng(0).standard_normal((16, 8, 256)) * 1e-5)
    return module


def adapt(module, rule, updates=40):
    branching, generator = Branching(), torch.Generator().manual_seed(0)
    rng = np.random.default_rng(1)
    for _ in range(updates):
        windows = torch.as_tensor(rng.standard_normal((16, 8, 256)) * 1e-5, dtype=torch.float32)
        module.adapt(windows, rule, branching, generator)
    return branching.course


def test_the_astrocyte_brings_a_subcritical_reservoir_to_a_branching_factor_near_one():
    still = adapt(reservoir(0.2), Plasticity(lr=0.0, scaling=0.0))
    tuned = adapt(reservoir(0.2), Plasticity())
    assert max(still) < 0.5  # without the astrocyte the reservoir stays subcritical
    assert tuned[0] < 0.5 and 0.8 < np.mean(tuned[-10:]) < 1.25


def test_the_astrocyte_calms_a_runaway_reservoir():
    probe = torch.as_tensor(np.random.default_rng(2).standard_normal((16, 8, 256)) * 1e-5)
    runaway, calmed = reservoir(1.0), reservoir(1.0)
    course = adapt(calmed, Plasticity())
    assert float(runaway.spikes(probe.float())[1].mean()) > 0.2
    assert float(calmed.spikes(probe.float())[1].mean()) < 0.1
    assert course[0] > 1.2 and 0.8 < np.mean(course[-10:]) < 1.25


def trials(n=40, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    data = rng.standard_normal((n, 4, 128)) * 1e-5
    data[labels == 1, 0] *= 3
    names = tuple(f"C{i}" for i in range(4))
    return TrialSet(data, labels, ("rest", "move"), 128.0, names, ("eeg",) * 4, "toy")


def test_a_reservoir_that_diverges_stops_the_training_with_the_reason_and_no_weights():
    decoder = registry.create(
        "nalsm", n_neurons=64, max_steps=16, density=1.0, reservoir_weight=3.0
    )
    with pytest.raises(DataError, match=r"branching factor reached \d+\.\d+ .* unstable; lower"):
        decoder.fit(trials(), trials(20, 1))
    assert getattr(decoder, "operations_", None) is None  # stopped before the readout


def test_only_the_readout_learns_and_the_card_says_so(tmp_path):
    decoder = registry.create("nalsm", n_neurons=48, max_steps=16).fit(trials(), trials(20, 1))
    extra = decoder.card_extra()
    assert extra["gradient_through_reservoir"] is False
    assert extra["synops_per_window"] > 0 and extra["energy_uj_spiking"] > 0
    assert len(extra["branching_factor"]["course"]) >= 2
    assert not any(p.requires_grad and p.grad is not None for p in decoder.module_.parameters())
    test = trials(40, 2)
    assert np.mean(decoder.predict_proba(test.data).argmax(1) == test.labels) > 0.8
    [figure] = decoder.save_figures(tmp_path)
    assert figure.name == "branching_factor.png" and figure.stat().st_size > 1000
