"""What a newcomer meets on the live path: models by name or path, integrity, streams, maps."""

import hashlib
import json

import onnx
import pytest

from bci_app.cli import main
from bci_app.models.registry import ModelRegistry
from decoders import registry as decoders
from decoders.card import DecoderCard
from decoders.checkpoint import save_decoder

pytestmark = pytest.mark.lsl


@pytest.fixture
def checkpoint(tmp_path, make_trials):
    decoder = decoders.create("csp-lda", n_components=2, band=[4.0, 30.0])
    decoder.fit(make_trials(40, 0), make_trials(20, 1))
    return save_decoder(decoder, DecoderCard.for_decoder(decoder), tmp_path / "toy-run")


@pytest.fixture
def models(tmp_path, model_files):
    ModelRegistry(tmp_path / "models").register(model_files["band"], "toy")
    return str(tmp_path / "models")


def flip_a_weight_byte(source, target):
    """Write ``source`` with one byte of its first weight tensor flipped."""
    data = bytearray(source.read_bytes())
    weights = next(t.raw_data for t in onnx.load(str(source)).graph.initializer if t.raw_data)
    offset = bytes(data).index(weights) + len(weights) // 2
    data[offset] ^= 0x01
    target.write_bytes(bytes(data))
    return target


def test_export_registers_by_default_and_says_how_to_run_it(checkpoint, tmp_path, capsys):
    models = tmp_path / "models"

    assert main(["export", str(checkpoint), "--registry", str(models)]) == 0

    printed = capsys.readouterr().out
    assert f"registered as toy-run:1 in {models}" in printed
    assert f"run it with: bci-app run --stream STREAM --model toy-run --registry {models}" in (
        printed
    )
    assert (checkpoint / "model.onnx").is_file()
    record = ModelRegistry(models).resolve("toy-run")
    assert record.origin == str((checkpoint / "model.onnx").resolve())
    assert record.content_sha256 and len(record.content_sha256) == 64


def test_an_unregistered_file_given_to_run_says_how_to_register_it(checkpoint, tmp_path, capsys):
    output, models = tmp_path / "m.onnx", str(tmp_path / "models")
    assert main(["export", str(checkpoint), "-o", str(output), "--no-register"]) == 0
    assert f"not registered; to run it: bci-app models add {output} --name NAME" in (
        capsys.readouterr().out
    )

    status = main(["run", "--stream", "any", "--model", str(output), "--registry", models])

    assert status == 1
    assert capsys.readouterr().err.strip() == (
        f"bci-app: error: {output}: is not in the model registry {models} (the live path runs "
        f"registered, hash-checked models only): register it with `bci-app models add {output} "
        "--name NAME` and run it with `--model NAME`"
    )
    status = main(["run", "--stream", "any", "--model", "absent.onnx", "--registry", models])
    assert status == 1
    assert "absent.onnx: no such file, and no model of that name (registered: none)" in (
        capsys.readouterr().err
    )


def test_a_model_changed_after_export_is_refused_at_add_and_at_load(
    model_files, tmp_path, live_outlet, stream_name, capsys
):
    models = tmp_path / "models"
    tampered = flip_a_weight_byte(model_files["band"], tmp_path / "tampered.onnx")

    status = main(["models", "add", str(tampered), "--name", "mi", "--registry", str(models)])

    assert status == 1
    err = capsys.readouterr().err
    assert f"bci-app: error: {tampered}: changed after export: its content hash" in err
    assert "(graph, weights or card modified); refusing it: re-export the decoder" in err
    assert ModelRegistry(models).records() == []
    # A registered file replaced together with its manifest hash is refused at load.
    record = ModelRegistry(models).register(model_files["band"], "mi")
    (models / record.file).write_bytes(tampered.read_bytes())
    manifest = json.loads((models / "manifest.json").read_text())
    manifest["models"][0]["sha256"] = hashlib.sha256(tampered.read_bytes()).hexdigest()
    (models / "manifest.json").write_text(json.dumps(manifest))
    live_outlet(stream_name)
    status = main(["run", "--stream", stream_name, "--model", "mi", "--registry", str(models)])
    assert status == 1 and "mi:1: changed after export" in capsys.readouterr().err
    assert main(["models", "verify", "--registry", str(models)]) == 1
    assert "mi:1: FAILED: mi:1: changed after export" in capsys.readouterr().out


def test_models_remove_and_list_verbose(model_files, tmp_path, capsys):
    models = str(tmp_path / "models")
    for _ in range(2):
        main(["models", "add", str(model_files["band"]), "--name", "mi", "--registry", models])
    capsys.readouterr()

    assert main(["models", "list", "--verbose", "--registry", models]) == 0
    listed = capsys.readouterr().out
    record = ModelRegistry(tmp_path / "models").resolve("mi:1")
    assert f"content hash  {record.content_sha256}" in listed
    assert f"origin        {model_files['band'].resolve()}" in listed
    assert "input         8 ch @ 128 Hz, 1 s windows" in listed
    assert "preprocessing bandpass" in listed

    assert main(["models", "remove", "mi:1", "--registry", models]) == 0
    assert f"removed mi:1 (csp-lda) from {models}" in capsys.readouterr().out
    remaining = ModelRegistry(tmp_path / "models").records()
    assert [r.ref for r in remaining] == ["mi:2"]
    assert not (tmp_path / "models" / record.file).exists()
    assert main(["models", "remove", "mi:1", "--registry", models]) == 1
    assert "model 'mi' has no version 1 (2)" in capsys.readouterr().err
    assert main(["models", "remove", "mi", "--registry", models]) == 2
    assert "give the version to delete as NAME:VERSION" in capsys.readouterr().err


def test_a_missing_stream_lists_the_visible_ones_and_the_nearest(
    models, live_outlet, stream_name, capsys
):
    live_outlet(stream_name)
    typo = stream_name[:-1] + "x"

    status = main(
        ["run", "--stream", typo, "--model", "toy", "--registry", models, "--timeout", "1"]
    )

    err = capsys.readouterr().err
    assert status == 1
    assert f"no LSL stream with name='{typo}' found within 1 s; visible streams:" in err
    assert f"'{stream_name}' (EEG, 8 ch @ 128 Hz)" in err
    assert f"did you mean '{stream_name}'?" in err


def test_two_runners_of_one_model_are_named(models, live_outlet, stream_name, capsys):
    live_outlet(stream_name)
    both = ["run", "--stream", stream_name, "--model", "toy", "--model", "toy:1"]

    assert main([*both, "--registry", models, "--duration", "1"]) == 1
    assert (
        "toy: a runner of that name already decodes toy:1: name this one (bci-app run: --name, "
        "one per --model)" in capsys.readouterr().err
    )
    status = main(
        [*both, "--name", "latest", "--name", "first", "--registry", models, "--duration", "1.5",
         "--quiet"]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert status == 0
    assert "runner 'latest' publishing bci-app-latest" in printed
    assert "runner 'first' publishing bci-app-first" in printed
    assert "latest (toy:1 on" in printed and "first (toy:1 on" in printed


def test_a_map_across_channel_types_or_with_a_rate_change_needs_to_be_asked_for(
    models, live_outlet, stream_name, tmp_path, capsys
):
    meg = [f"MEG{i}" for i in range(8)]
    live_outlet(stream_name, channels=meg, sfreq=256.0, kind="mag")
    mapping = ",".join(f"C{i}=MEG{i}" for i in range(8))
    command = ["run", "--stream", stream_name, "--model", "toy", "--registry", models,
               "--channel-map", mapping]  # fmt: skip

    assert main(command) == 1
    assert (
        "the channel map feeds 8 model channel(s) from channels of another type: C0 (eeg in "
        "the model) <- MEG0 (mag), C1 (eeg in the model) <- MEG1 (mag)"
    ) in capsys.readouterr().err

    log = tmp_path / "log.jsonl"
    status = main([*command, "--allow-type-change", "--duration", "1.5", "--quiet",
                   "--log", str(log)])  # fmt: skip
    printed = capsys.readouterr().out
    assert status == 0
    assert "  channel map: model channel C0 (eeg) <- stream channel MEG0 (mag)" in printed
    assert "  resampling: stream at 256 Hz -> model at 128 Hz" in printed
    events = [json.loads(line) for line in log.read_text().splitlines()]
    messages = [e["message"] for e in events if e["kind"] == "event"]
    assert "input: resampling: stream at 256 Hz -> model at 128 Hz" in messages
    assert "input: channel map: model channel C7 (eeg) <- stream channel MEG7 (mag)" in messages
    assert any(e["kind"] == "prediction" for e in events)


def test_a_map_of_same_type_channels_with_a_rate_change_needs_to_be_asked_for(
    models, live_outlet, stream_name, capsys
):
    live_outlet(stream_name, channels=[f"E{i}" for i in range(8)], sfreq=256.0)
    mapping = ",".join(f"C{i}=E{i}" for i in range(8))

    status = main(["run", "--stream", stream_name, "--model", "toy", "--registry", models,
                   "--channel-map", mapping])  # fmt: skip

    assert status == 1
    assert (
        "a channel map and a rate change together (256 Hz stream, model at 128 Hz)"
        in capsys.readouterr().err
    )
