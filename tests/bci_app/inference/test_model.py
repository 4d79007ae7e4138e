import numpy as np
import onnx
import onnxruntime
import pytest

from bci_app.errors import IncompatibleModelError
from bci_app.inference.model import OnnxModel
from bci_app.models.format import KEY_CONTENT, content_hash, highest_opset


def _sealed(model):
    """Return ``model``'s bytes with its content hash rewritten, as an export would seal it."""
    for prop in model.metadata_props:
        if prop.key == KEY_CONTENT:
            prop.value = content_hash(model)
    return model.SerializeToString()


def _with_opset(path, version):
    model = onnx.load(str(path))
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            entry.version = version
    return _sealed(model)


def test_predict_matches_a_plain_onnx_runtime_session(model_files, make_trials):
    data = model_files["band"].read_bytes()
    model = OnnxModel(data, "band")
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    windows = make_trials(5, 3).data.astype(np.float32)

    for window in windows:
        expected = session.run(None, {"window": window[None]})[0][0]
        assert np.array_equal(model.predict(window), expected)
    assert model.card.ch_names == tuple(f"C{i}" for i in range(8)) and model.card.hop == 13
    assert model.opset == 20 and "csp-lda" in repr(model)
    assert model.optimization in ("extended", "all")


def test_an_opset_this_runtime_does_not_know_is_refused(model_files):
    data = _with_opset(model_files["band"], 99)
    with pytest.raises(
        IncompatibleModelError,
        match=rf"new\.onnx: uses ONNX opset 99; this runtime runs opsets 7 to {highest_opset()}",
    ):
        OnnxModel(data, "new.onnx")


def test_an_opset_too_old_is_refused(model_files):
    with pytest.raises(IncompatibleModelError, match="uses ONNX opset 6"):
        OnnxModel(_with_opset(model_files["band"], 6), "old.onnx")


def test_a_file_that_is_not_onnx_is_refused():
    with pytest.raises(IncompatibleModelError, match=r"junk\.onnx: is not a readable ONNX file"):
        OnnxModel(b"\x00not a model", "junk.onnx")


def test_a_graph_runtime_cannot_load_is_refused(model_files):
    model = onnx.load(str(model_files["band"]))
    model.graph.node[0].op_type = "NoSuchOperator"
    with pytest.raises(IncompatibleModelError, match=r"broken\.onnx: ONNX Runtime .* cannot load"):
        OnnxModel(_sealed(model), "broken.onnx")
