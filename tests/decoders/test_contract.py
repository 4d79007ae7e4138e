import numpy as np
import pytest

from decoders import registry
from decoders.card import DecoderCard
from decoders.checkpoint import WEIGHTS_NAME, load_decoder, save_decoder
from decoders.contract import InputSpec, OutputSpec
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet


def toy(n=60, n_channels=4, n_times=64, seed=0, name="toy"):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    data = rng.normal(size=(n, n_channels, n_times)) * 1e-5
    data[labels == 1, 0] *= 3  # class 1: more power on channel 0
    names = tuple(f"C{i}" for i in range(n_channels))
    return TrialSet(data, labels, ("rest", "move"), 128.0, names, ("eeg",) * n_channels, name)


def test_registry_lists_baselines_and_explains_unknown_names():
    assert {"csp-lda", "cov-ts-lr", "xdawncov-ts-lr", "eegnet", "shallow-fbcsp"} <= set(
        registry.REGISTRY
    )
    with pytest.raises(KeyError, match="unknown decoder 'nope'"):
        registry.get("nope")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.get("csp-lda"))


def test_fit_declares_input_and_output(tmp_path):
    decoder = registry.create("csp-lda", n_components=2, band=[4.0, 40.0]).fit(toy(), toy(seed=1))
    spec = decoder.input_spec_
    assert spec.ch_names == ("C0", "C1", "C2", "C3") and spec.sfreq == 128.0
    assert spec.n_times == 64 and spec.window_s == 0.5
    assert spec.preprocessing[0]["step"] == "bandpass"
    assert decoder.output_spec_ == OutputSpec("probabilities", ("rest", "move"))
    proba = decoder.predict_proba(toy(seed=2).data)
    assert proba.shape == (60, 2) and np.mean(proba.argmax(1) == toy(seed=2).labels) > 0.8


def test_checkpoint_round_trip_is_weights_only(tmp_path):
    import torch

    decoder = registry.create("eegnet", max_epochs=2, patience=2).fit(toy(), toy(seed=1))
    card = DecoderCard.for_decoder(decoder, data={"name": "toy"})
    save_decoder(decoder, card, tmp_path)
    state = torch.load(tmp_path / WEIGHTS_NAME, weights_only=True)
    assert all(isinstance(value, torch.Tensor) for value in state.values())
    loaded, loaded_card = load_decoder(tmp_path)
    assert loaded_card.decoder == "eegnet" and loaded_card.data == {"name": "toy"}
    assert len(loaded_card.history["epochs"]) == 2
    test = toy(seed=3).data
    assert np.allclose(loaded.predict_proba(test), decoder.predict_proba(test), atol=1e-6)


def test_checkpoint_refuses_pickled_objects(tmp_path):
    import torch

    decoder = registry.create("csp-lda", n_components=2).fit(toy(), toy(seed=1))
    save_decoder(decoder, DecoderCard.for_decoder(decoder), tmp_path)
    torch.save({"evil": object()}, tmp_path / WEIGHTS_NAME)
    with pytest.raises(Exception, match=r"[Ww]eights only"):
        load_decoder(tmp_path)


def test_channels_rate_and_length_are_checked():
    spec = InputSpec(("C3", "C4", "Cz"), ("eeg",) * 3, 250.0, 500, 0.1)
    with pytest.raises(DataError, match="lacks 1 of the decoder's 3 channels: Cz"):
        spec.check_channels(["C3", "C4"], "stream")
    decoder = registry.create("csp-lda", n_components=2).fit(toy(), toy(seed=1))
    with pytest.raises(DataError, match=r"windows must be \(n, 4, 64\)"):
        decoder.predict_proba(np.zeros((2, 4, 32)))
    wrong_rate = toy()
    object.__setattr__(wrong_rate, "sfreq", 256.0)
    with pytest.raises(DataError, match=r"sampled at 256\.0 Hz"):
        decoder.input_spec_.check_trials(wrong_rate)


def test_validation_with_other_channels_is_refused():
    with pytest.raises(DataError, match="validation trials differ"):
        registry.create("csp-lda").fit(toy(), toy(n_channels=5))


def test_predict_runs_the_declared_pipeline_as_the_stream_does():
    import torch

    from acquisition.preprocessing.pipeline import Pipeline

    decoder = registry.create("csp-lda", n_components=2, band=[4.0, 40.0]).fit(toy(), toy(seed=1))
    spec = decoder.input_spec_
    trials = toy(seed=2).data
    streamed = []
    for trial in trials:  # as a live stream would see each trial: chunk by chunk
        pipeline = Pipeline(spec.preprocessing, spec.ch_names, spec.ch_types, spec.sfreq)
        streamed.append(
            np.concatenate([pipeline.process(c) for c in np.array_split(trial, 5, axis=1)], axis=1)
        )
    with torch.no_grad():
        expected = decoder.inference_module()(torch.tensor(np.stack(streamed), dtype=torch.float32))
    assert np.allclose(decoder.predict_proba(trials), expected.numpy(), atol=1e-6)
    with torch.no_grad():
        unfiltered = decoder.inference_module()(torch.tensor(trials, dtype=torch.float32)).numpy()
    assert not np.allclose(unfiltered, expected.numpy(), atol=1e-3)


def test_a_decoder_without_pretrained_weights_refuses_an_init(tmp_path):
    with pytest.raises(DataError, match="csp-lda does not start from pretrained weights"):
        registry.create("csp-lda", n_components=2).fit(toy(), toy(seed=1), init=tmp_path)
