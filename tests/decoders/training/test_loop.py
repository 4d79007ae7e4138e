import numpy as np

from decoders.datasets.trials import TrialSet
from decoders.history import TrainingRun
from decoders.training.loop import TrainConfig, fit_classifier


def make_module(seed):
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2 * 8, 2))


def data(seed):
    rng = np.random.default_rng(seed)
    y = np.arange(40) % 2
    x = rng.normal(size=(40, 2, 8))
    x[:, 0] += y[:, None]
    return TrialSet(x, y, ("a", "b"), 100.0, ("c1", "c2"), ("eeg", "eeg"), f"toy {seed}")


def test_early_stopping_keeps_the_best_validation_weights():
    train, valid = data(0), data(1)
    module = make_module(0)
    history = fit_classifier(module, train, valid, TrainConfig(max_epochs=30, patience=5, lr=0.05))
    losses = [epoch["valid_loss"] for epoch in history.epochs]
    assert history.best_epoch == int(np.argmin(losses))
    assert len(losses) <= 30 and (len(losses) == 30 or len(losses) - 1 - history.best_epoch == 5)


def test_resumed_training_equals_uninterrupted_training(tmp_path):
    import torch

    train, valid = data(0), data(1)
    config = TrainConfig(max_epochs=8, patience=100, lr=0.01, batch_size=8, seed=3)
    straight = make_module(0)
    full = fit_classifier(straight, train, valid, config)

    checkpoint = tmp_path / "state.pt"
    interrupted = make_module(0)
    short = TrainConfig(max_epochs=3, patience=100, lr=0.01, batch_size=8, seed=3)
    fit_classifier(interrupted, train, valid, short, TrainingRun(checkpoint=checkpoint))
    resumed_module = make_module(42)  # weights come from the checkpoint, not from here
    resumed = fit_classifier(
        resumed_module, train, valid, config, TrainingRun(checkpoint=checkpoint)
    )

    assert [e["epoch"] for e in resumed.epochs] == list(range(8))
    assert np.allclose(
        [e["valid_loss"] for e in resumed.epochs], [e["valid_loss"] for e in full.epochs]
    )
    for a, b in zip(
        straight.state_dict().values(), resumed_module.state_dict().values(), strict=True
    ):
        assert torch.allclose(a, b)
