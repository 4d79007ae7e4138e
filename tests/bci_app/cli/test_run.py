import pytest

from bci_app.cli import main
from bci_app.models.registry import ModelRegistry

pytestmark = pytest.mark.lsl


@pytest.fixture
def models(tmp_path, model_files):
    ModelRegistry(tmp_path / "models").register(model_files["band"], "toy")
    return tmp_path / "models"


def test_run_prints_predictions_and_a_latency_summary(models, live_outlet, stream_name, capsys):
    live_outlet(stream_name)
    log = models.parent / "log.jsonl"

    status = main(
        [
            "run",
            "--stream",
            stream_name,
            "--model",
            "toy",
            "--registry",
            str(models),
            "--duration",
            "2",
            "--log",
            str(log),
        ]
    )

    printed = capsys.readouterr().out
    assert status == 0
    assert f"decoding '{stream_name}' with toy:1 (csp-lda)" in printed
    assert "e2e" in printed and "| inference |" in printed and "published" in printed
    assert '"kind": "prediction"' in log.read_text()


def test_run_names_missing_channels(models, live_outlet, stream_name, capsys):
    live_outlet(stream_name, channels=("C0", "C1", "C2", "C3", "C4", "C5", "Fz", "Cz"))

    status = main(["run", "--stream", stream_name, "--model", "toy", "--registry", str(models)])

    assert status == 1
    assert "lacks 2 of the 8 channels of model csp-lda: C6, C7" in capsys.readouterr().err


def test_run_with_a_channel_map(models, live_outlet, stream_name, capsys):
    live_outlet(stream_name, channels=("C0", "C1", "C2", "C3", "C4", "C5", "Fz", "Cz"))

    status = main(
        [
            "run",
            "--stream",
            stream_name,
            "--model",
            "toy",
            "--registry",
            str(models),
            "--channel-map",
            "C6=Fz,C7=Cz",
            "--duration",
            "1.5",
            "--quiet",
        ]
    )

    assert status == 0 and "published" in capsys.readouterr().out


def test_run_refuses_a_model_failing_its_hash(models, stream_name, capsys):
    record = ModelRegistry(models).resolve("toy")
    (models / record.file).write_bytes(b"changed")

    status = main(["run", "--stream", stream_name, "--model", "toy", "--registry", str(models)])

    assert status == 1 and "differs from" in capsys.readouterr().err
