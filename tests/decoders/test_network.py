"""A new network decoder is its module and a registry entry: shown end to end through the
public API (registry, harness, checkpoint, export with parity, the live path's model)."""

import json
from pathlib import Path

import numpy as np
import pytest

from bci_app.inference.model import OnnxModel
from decoders import registry
from decoders.card import DecoderCard
from decoders.checkpoint import load_decoder, save_decoder
from decoders.datasets.trials import OfficialSplit, TrialSet
from decoders.evaluation.harness import evaluate
from decoders.evaluation.protocols import make_protocol
from decoders.export.onnx_export import export_decoder
from decoders.network import NetworkDecoder

README = Path(__file__).resolve().parents[2] / "README.md"


class TinyConvNet(NetworkDecoder):
    """One temporal convolution, log power, a linear read-out: everything else is the base's."""

    def __init__(self, seed=0, hop_s=0.1, width=4, **training):
        super().__init__(seed, hop_s, **training)
        self.width = width

    def build(self, spec, output):
        import torch

        class Net(torch.nn.Module):
            def __init__(self, n_channels, width, n_classes):
                super().__init__()
                self.conv = torch.nn.Conv1d(n_channels, width, 9, padding=4)
                self.out = torch.nn.Linear(width, n_classes)

            def forward(self, x):
                power = self.conv(x * 1e5).pow(2).mean(-1)
                return self.out(torch.log(power + 1e-6))

        return Net(len(spec.ch_names), self.width, len(output.names))


@pytest.fixture
def tiny_convnet():
    entry = registry.DecoderEntry(
        "tiny-convnet",
        TinyConvNet,
        "test",
        "a convolution and a read-out",
        defaults={"lr": 1e-2},
        tiny={"max_epochs": 20, "patience": 5},
    )
    registry.register(entry)
    yield entry
    registry.unregister("tiny-convnet")


def toy(n=80, seed=0, name="toy"):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    data = rng.normal(size=(n, 4, 64)) * 1e-5
    data[labels == 1, 0] *= 3
    names = tuple(f"C{i}" for i in range(4))
    return TrialSet(data, labels, ("rest", "move"), 128.0, names, ("eeg",) * 4, name)


def test_a_network_decoder_added_through_the_registry_trains_saves_exports_and_runs(
    tiny_convnet, tmp_path
):
    split = OfficialSplit(toy(seed=0, name="toy/train"), toy(60, seed=1, name="toy/test"))
    record = evaluate(
        lambda seed: registry.create("tiny-convnet", seed=seed, **tiny_convnet.tiny),
        split,
        make_protocol("official"),
        seeds=(0,),
        decoder_name="tiny-convnet",
        dataset_name="toy",
    )
    assert record.metrics["accuracy"].mean > 0.8

    decoder = registry.create("tiny-convnet", band=[4.0, 40.0], **tiny_convnet.tiny)
    decoder.fit(toy(seed=2), toy(40, seed=3))
    assert decoder.name == "tiny-convnet" and decoder.input_spec_.preprocessing[0]["l_freq"] == 4
    assert decoder.config()["lr"] == 1e-2 and decoder.config()["width"] == 4
    assert decoder.history_.best_epoch >= 0

    save_decoder(decoder, DecoderCard.for_decoder(decoder), tmp_path / "run")
    loaded, card = load_decoder(tmp_path / "run")
    assert card.decoder == "tiny-convnet" and card.config == json.loads(
        json.dumps(decoder.config())
    )
    report = export_decoder(loaded, tmp_path / "tiny.onnx")
    assert report.parity.passed

    live = OnnxModel(report.path.read_bytes(), "tiny.onnx")
    trials = toy(8, seed=4)
    from decoders.preprocessing import apply_to_trials

    spec = loaded.input_spec_
    inputs = apply_to_trials(spec.preprocessing, trials.data, spec.sfreq)
    online = np.stack([live.predict(window) for window in inputs])
    assert np.allclose(online, decoder.predict_proba(trials.data), atol=1e-5)


def test_an_unknown_option_is_named_with_the_options_there_are(tiny_convnet):
    with pytest.raises(TypeError, match=r"tiny-convnet has no option depth \(options: .*width"):
        registry.create("tiny-convnet", depth=3)


def test_a_decoder_made_outside_the_registry_says_it_has_no_name():
    with pytest.raises(RuntimeError, match="not created through the decoder registry"):
        _ = TinyConvNet().name


@pytest.mark.parametrize("name", sorted(registry.REGISTRY))
def test_every_decoder_rebuilds_from_its_recorded_options(name):
    entry = registry.get(name)
    decoder = entry.create(seed=3, **entry.tiny)
    config = json.loads(json.dumps(decoder.config()))  # as written to and read from the card
    rebuilt = entry.create(**config)
    assert json.loads(json.dumps(rebuilt.config())) == config
    assert config["seed"] == 3 and set(entry.tiny) <= set(config)
    assert decoder.name == name and entry.family


def test_the_readme_decoder_table_is_the_registry():
    assert registry.markdown_table() in README.read_text()
