import numpy as np
import pytest

from decoders import registry
from decoders.datasets.trials import TrialSet
from decoders.models.spiking.onestep import step_schedule


def trials(n=60, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    data = rng.standard_normal((n, 4, 128)) * 1e-5
    data[labels == 1, 0] *= 3
    names = tuple(f"C{i}" for i in range(4))
    return TrialSet(data, labels, ("rest", "move"), 128.0, names, ("eeg",) * 4, "toy")


def test_time_steps_halve_down_to_one():
    assert step_schedule(16) == [16, 8, 4, 2, 1]
    assert step_schedule(6) == [6, 3, 1] and step_schedule(1) == [1]
    with pytest.raises(ValueError, match="start_steps must be at least 1"):
        step_schedule(0)


def test_training_reduces_the_time_steps_and_the_network_answers_in_one(tmp_path):
    decoder = registry.create(
        "spiking-lif-1step", start_steps=8, hidden=16, max_epochs=15, patience=15, lr=1e-2
    )
    decoder.fit(trials(), trials(30, 1), checkpoint=tmp_path / "state.pt")
    steps = [row["steps"] for row in decoder.history_.epochs]
    assert steps == sorted(steps, reverse=True) and set(steps) == {8, 4, 2, 1}
    assert decoder.module_.input.bins.n_steps == 1
    assert decoder.history_.best_epoch >= steps.index(1)  # the kept weights are one-step ones
    extra = decoder.card_extra()
    assert extra["time_steps"] == 1 and extra["step_schedule"] == [8, 4, 2, 1]
    assert [stage["steps"] for stage in extra["stages"]] == [8, 4, 2, 1]
    assert extra["synops_per_window"] > 0
    test = trials(60, 2)
    assert np.mean(decoder.predict_proba(test.data).argmax(1) == test.labels) > 0.8
    assert decoder.streaming_module().block_samples == 128  # one step: the whole window


def test_a_one_step_network_refuses_more_steps_or_delays():
    with pytest.raises(ValueError, match="max_steps is fixed"):
        registry.create("spiking-lif-1step", max_steps=8)
    with pytest.raises(ValueError, match="max_delay is fixed"):
        registry.create("spiking-lif-1step", max_delay=2)


def course_trials(n, seed):
    """Classes that differ only in the order of their quarters (+ - - + against - + + -)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    quarters = np.repeat(np.array([[1.0, -1.0, -1.0, 1.0], [-1.0, 1.0, 1.0, -1.0]]), 32, axis=1)
    data = rng.standard_normal((n, 2, 128)) * 0.5 + quarters[labels][:, None]
    names = ("C0", "C1")
    return TrialSet(data * 1e-5, labels, ("a", "b"), 128.0, names, ("eeg",) * 2, "course")


def test_parts_of_the_window_let_one_step_see_a_course_that_one_bin_averages_out():
    options = dict(start_steps=2, hidden=16, max_epochs=20, patience=20, lr=1e-2)
    test = course_trials(60, 2)
    for parts, low, high in ((1, 0.0, 0.7), (4, 0.9, 1.0)):
        decoder = registry.create("spiking-lif-1step", sub_bins=parts, **options)
        decoder.fit(course_trials(80, 0), course_trials(40, 1))
        assert decoder.card_extra()["sub_bins"] == parts
        accuracy = np.mean(decoder.predict_proba(test.data).argmax(1) == test.labels)
        assert low <= accuracy <= high
    with pytest.raises(ValueError, match="sub_bins must be a positive integer"):
        registry.create("spiking-lif-1step", sub_bins=0)


def test_a_saved_one_step_network_loads_and_an_older_card_gets_a_clear_error(tmp_path):
    import json

    from decoders.card import DecoderCard
    from decoders.checkpoint import CARD_NAME, load_decoder, save_decoder
    from decoders.datasets.errors import DataError

    decoder = registry.create(
        "spiking-lif-1step", sub_bins=1, start_steps=2, hidden=8, max_epochs=2
    )
    decoder.fit(trials(), trials(30, 1))
    save_decoder(decoder, DecoderCard.for_decoder(decoder), tmp_path)
    loaded, _ = load_decoder(tmp_path)
    test = trials(10, 2).data
    assert np.allclose(loaded.predict_proba(test), decoder.predict_proba(test), atol=1e-6)
    card = json.loads((tmp_path / CARD_NAME).read_text())
    del card["config"]["sub_bins"]  # a card written before the option existed
    (tmp_path / CARD_NAME).write_text(json.dumps(card))
    with pytest.raises(DataError, match="weights do not fit the spiking-lif-1step network"):
        load_decoder(tmp_path)
