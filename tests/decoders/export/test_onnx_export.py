import json

import numpy as np
import pytest

from bci_app.models.format import KEY_CARD, KEY_EXPORT, KEY_LIVE, live_session, read_metadata
from decoders import registry
from decoders.card import DecoderCard
from decoders.checkpoint import save_decoder
from decoders.contract import Decoder
from decoders.export.onnx_export import ExportError, export_checkpoint, export_decoder
from decoders.export.parity import ParityError


class _TestDecoder(Decoder):
    """A linear read-out of channel means, with a forward chosen by each test."""

    def __init__(self, seed=0, hop_s=0.1, forward="plain"):
        super().__init__(seed, hop_s)
        self.forward_kind = forward

    def build(self, spec, output):
        import torch

        kind = self.forward_kind

        class Module(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.linear = torch.nn.Linear(len(spec.ch_names), len(output.names))

            def forward(self, x):
                if kind == "eigh":  # no ONNX operator computes an eigendecomposition
                    covariance = x @ x.transpose(-1, -2)
                    return self.linear(torch.linalg.eigh(covariance)[0])
                out = self.linear(x.mean(-1) * 1e5)
                exporting = torch.onnx.is_in_onnx_export() or torch.compiler.is_exporting()
                if kind == "diverging" and exporting:
                    out = 2.0 * out  # the exported graph is not what eager torch computes
                return out

        return Module()

    def train_module(self, module, train, valid, run):
        return None


@pytest.fixture
def make_test_decoder():
    """Register the test decoder for one test; return a function creating it."""
    registry.register(registry.DecoderEntry("test-decoder", _TestDecoder, "test", "for tests"))
    yield lambda **options: registry.create("test-decoder", **options)
    registry.unregister("test-decoder")


def test_export_writes_card_live_settings_and_parity_into_the_file(toy_split, tmp_path):
    train, valid = toy_split
    decoder = registry.create("csp-lda", n_components=2, band=[8.0, 30.0]).fit(train, valid)
    card = DecoderCard.for_decoder(decoder, data={"name": "toy"})

    report = export_decoder(decoder, tmp_path / "model.onnx", card=card, allow_resample=False)

    entries = read_metadata(str(report.path))
    assert json.loads(entries[KEY_CARD]) == json.loads(card.to_json())
    live = json.loads(entries[KEY_LIVE])
    assert live["graph"] == "window" and live["resample"] is False
    assert live["pipeline"] == [dict(step) for step in decoder.input_spec_.preprocessing]
    export = json.loads(entries[KEY_EXPORT])
    assert export["opset"] == 20 and export["parity"]["seed"] == report.parity.seed
    session = live_session(report.path)
    assert session.get_inputs()[0].shape == ["batch", 8, 200]  # dynamic batch
    assert list(tmp_path.iterdir()) == [report.path]  # no temporary or external data file


def test_a_graph_that_differs_from_torch_is_refused_and_not_written(
    make_test_decoder, toy_split, tmp_path
):
    decoder = make_test_decoder(forward="diverging").fit(*toy_split)

    with pytest.raises(ParityError, match=r"max relative error .* > 0\.0001.*refused"):
        export_decoder(decoder, tmp_path / "model.onnx")

    assert list(tmp_path.iterdir()) == []


def test_a_module_torch_cannot_export_fails_with_its_name(make_test_decoder, toy_split, tmp_path):
    decoder = make_test_decoder(forward="eigh").fit(*toy_split)

    with pytest.raises(
        ExportError,
        match=r"decoder test-decoder \(window graph\): torch could not export it to ONNX: No ONNX function found for .*eigh",
    ):
        export_decoder(decoder, tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


def test_a_classifier_logits_are_compared_behind_its_softmax(
    make_test_decoder, toy_split, tmp_path
):
    import onnx

    from decoders.export.parity import with_logits_output

    report = export_decoder(make_test_decoder().fit(*toy_split), tmp_path / "model.onnx")

    assert report.parity.logits_checked
    model = onnx.load_model_from_string(with_logits_output(report.path.read_bytes()))
    assert model.graph.output[0].name == "output" and len(model.graph.output) == 2
    model.graph.output.reverse()  # the first output is now the logits, not a softmax
    with pytest.raises(ValueError, match="not a softmax"):
        with_logits_output(model.SerializeToString())


def test_the_same_seed_gives_the_same_parity_inputs(make_test_decoder, toy_split, tmp_path):
    decoder = make_test_decoder().fit(*toy_split)
    first = export_decoder(decoder, tmp_path / "a.onnx", seed=7).parity
    second = export_decoder(decoder, tmp_path / "b.onnx", seed=7).parity
    assert first.seed == second.seed == 7
    assert first.max_abs_error == second.max_abs_error


def test_an_unfitted_decoder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        export_decoder(registry.create("csp-lda"), tmp_path / "model.onnx")


def test_export_from_a_checkpoint_folder(toy_split, tmp_path):
    decoder = registry.create("eegnet", max_epochs=1, patience=1).fit(*toy_split)
    save_decoder(decoder, DecoderCard.for_decoder(decoder), tmp_path / "checkpoint")

    report = export_checkpoint(tmp_path / "checkpoint", tmp_path / "eegnet.onnx")

    session = live_session(report.path)
    windows = toy_split[1].data[:4].astype(np.float32)
    outputs = session.run(None, {"window": windows})[0]
    assert np.allclose(outputs, decoder.predict_proba(windows), atol=1e-5)
    assert "eegnet.onnx: window graph, parity with torch" in report.summary()
