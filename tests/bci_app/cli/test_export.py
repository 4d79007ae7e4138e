import pytest

from bci_app.cli import main
from bci_app.models.registry import ModelRegistry
from decoders import registry as decoders
from decoders.card import DecoderCard
from decoders.checkpoint import save_decoder


@pytest.fixture
def checkpoint(tmp_path, make_trials):
    decoder = decoders.create("csp-lda", n_components=2, band=[4.0, 30.0])
    decoder.fit(make_trials(40, 0), make_trials(20, 1))
    return save_decoder(decoder, DecoderCard.for_decoder(decoder), tmp_path / "checkpoint")


def test_export_reports_parity_and_registers(checkpoint, tmp_path, capsys):
    output, models = tmp_path / "out" / "mi.onnx", tmp_path / "models"

    status = main(
        [
            "export",
            str(checkpoint),
            "-o",
            str(output),
            "--register",
            "mi",
            "--registry",
            str(models),
        ]
    )

    printed = capsys.readouterr().out
    assert status == 0 and output.is_file()
    assert "window graph, parity with torch on probabilities and logits: max relative" in printed
    assert "registered as mi:1" in printed
    assert ModelRegistry(models).resolve("mi").decoder == "csp-lda"


def test_export_of_a_folder_without_checkpoint_says_so(tmp_path, capsys):
    status = main(["export", str(tmp_path), "-o", str(tmp_path / "m.onnx")])
    assert status == 1
    assert "not a checkpoint folder (no card.json)" in capsys.readouterr().err


def test_models_list_and_verify(checkpoint, tmp_path, capsys):
    models = tmp_path / "models"
    main(["export", str(checkpoint), "-o", str(tmp_path / "m.onnx")])
    assert (
        main(["models", "--registry", str(models), "add", str(tmp_path / "m.onnx"), "--name", "mi"])
        == 0
    )
    assert main(["models", "--registry", str(models), "list"]) == 0
    assert main(["models", "--registry", str(models), "verify"]) == 0
    printed = capsys.readouterr().out
    assert "mi:1" in printed and "csp-lda" in printed and "mi:1: ok" in printed

    record = ModelRegistry(models).resolve("mi")
    (models / record.file).write_bytes(b"changed")
    assert main(["models", "--registry", str(models), "verify"]) == 1
    assert "mi:1: FAILED" in capsys.readouterr().out
