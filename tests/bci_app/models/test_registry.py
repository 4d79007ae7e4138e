import json

import onnx
import pytest

from bci_app.errors import IncompatibleModelError, LiveError, ModelIntegrityError
from bci_app.inference.model import OnnxModel
from bci_app.models.registry import ModelRegistry, default_registry_dir


def test_registering_twice_makes_two_versions_resolved_by_name(tmp_path, model_files):
    registry = ModelRegistry(tmp_path / "models")
    first = registry.register(model_files["band"], "mi")
    second = registry.register(model_files["band2"], "mi")

    assert (first.ref, second.ref) == ("mi:1", "mi:2")
    assert first.decoder == "csp-lda" and first.file == "mi/v0001.onnx"
    assert registry.resolve("mi") == second and registry.resolve("mi:1") == first
    assert registry.names() == ["mi"]
    manifest = json.loads(registry.manifest_path.read_text())
    assert [entry["sha256"] for entry in manifest["models"]] == [first.sha256, second.sha256]
    model = OnnxModel(registry.read_verified(first), first.ref)
    assert model.sha256 == first.sha256


def test_a_file_changed_after_registration_is_refused(tmp_path, model_files):
    registry = ModelRegistry(tmp_path)
    record = registry.register(model_files["band"], "mi")
    path = registry.path(record)
    path.write_bytes(model_files["band2"].read_bytes())  # another valid model, same place

    with pytest.raises(ModelIntegrityError, match=r"v0001\.onnx: sha256 .* differs from .* mi:1"):
        registry.read_verified(record)


def test_a_missing_file_is_named(tmp_path, model_files):
    registry = ModelRegistry(tmp_path)
    record = registry.register(model_files["band"], "mi")
    registry.path(record).unlink()
    with pytest.raises(ModelIntegrityError, match="registered as mi:1 but the file is missing"):
        registry.read_verified(record)


def test_unknown_names_and_versions_list_what_exists(tmp_path, model_files):
    registry = ModelRegistry(tmp_path)
    registry.register(model_files["band"], "mi")
    with pytest.raises(LiveError, match=r"no model named 'ssvep' \(registered: mi\)"):
        registry.resolve("ssvep")
    with pytest.raises(LiveError, match=r"model 'mi' has no version 4 \(1\)"):
        registry.resolve("mi:4")
    with pytest.raises(LiveError, match="NAME:VERSION"):
        registry.resolve("mi:latest")


def test_bad_names_and_foreign_files_are_refused(tmp_path, model_files):
    registry = ModelRegistry(tmp_path)
    with pytest.raises(LiveError, match="model names are letters"):
        registry.register(model_files["band"], "../escape")
    foreign = onnx.load(str(model_files["band"]))
    del foreign.metadata_props[:]
    onnx.save(foreign, str(tmp_path / "foreign.onnx"))
    with pytest.raises(IncompatibleModelError, match=r"no decoder card .* `bci-app export`"):
        registry.register(tmp_path / "foreign.onnx", "foreign")
    with pytest.raises(IncompatibleModelError, match="no such model file"):
        registry.register(tmp_path / "absent.onnx", "absent")
    assert registry.records() == []


def test_a_corrupt_manifest_is_reported(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ModelIntegrityError, match=r"manifest\.json: unreadable manifest"):
        ModelRegistry(tmp_path).records()


def test_a_step_graph_beside_the_model_is_registered_and_verified(tmp_path, recurrent_model):
    source = tmp_path / "source"
    source.mkdir()
    step = recurrent_model.with_name("recurrent.step.onnx")
    (source / "m.onnx").write_bytes(recurrent_model.read_bytes())
    (source / "m.step.onnx").write_bytes(step.read_bytes())
    registry = ModelRegistry(tmp_path / "models")

    record = registry.register(source / "m.onnx", "rec")

    assert record.step_file == "rec/v0001.step.onnx"
    assert registry.read_verified(record, step=True) == step.read_bytes()
    (tmp_path / "models" / record.step_file).write_bytes(b"changed")
    with pytest.raises(ModelIntegrityError, match="differs"):
        registry.read_verified(record, step=True)


def test_a_companion_that_is_no_step_graph_of_the_model_is_refused(
    tmp_path, model_files, recurrent_model
):
    source = tmp_path / "source"
    source.mkdir()
    (source / "m.onnx").write_bytes(model_files["band"].read_bytes())
    (source / "m.step.onnx").write_bytes(model_files["plain"].read_bytes())
    with pytest.raises(IncompatibleModelError, match=r"m\.step\.onnx: is a window graph"):
        ModelRegistry(tmp_path / "models").register(source / "m.onnx", "rec")
    recurrent_step = recurrent_model.with_name("recurrent.step.onnx")
    (source / "m.step.onnx").write_bytes(recurrent_step.read_bytes())
    with pytest.raises(IncompatibleModelError, match="exported from another decoder"):
        ModelRegistry(tmp_path / "models").register(source / "m.onnx", "rec")
    assert ModelRegistry(tmp_path / "models").records() == []


def test_the_manifest_stamp_changes_with_each_registration(tmp_path, model_files):
    registry = ModelRegistry(tmp_path)
    assert registry.stamp() is None
    registry.register(model_files["band"], "mi")
    first = registry.stamp()
    registry.register(model_files["band"], "mi")
    assert registry.stamp() != first


def test_default_directory_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BCI_APP_MODELS", str(tmp_path / "here"))
    assert default_registry_dir() == tmp_path / "here"
    monkeypatch.delenv("BCI_APP_MODELS")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_registry_dir() == tmp_path / "data" / "bci-app" / "models"
