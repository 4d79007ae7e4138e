"""RLEEGNet's module: csp space keeps time, the stream step equals the window, ONNX parity."""

import numpy as np
import pytest
import torch

from decoders.models.rl.csp_space import CspSpace, fit_ovr_csp, n_csp_filters
from decoders.models.rl.qnetwork import QNetwork, RleegnetModule, RleegnetStream, pooling

N_CHANNELS, N_TIMES = 5, 103


def module() -> RleegnetModule:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    front = CspSpace(N_CHANNELS, 4)
    data = rng.normal(size=(30, N_CHANNELS, N_TIMES)) * 1e-5
    front.fit(data, np.arange(30) % 4, n_classes=4, n_components=1)
    qnet = QNetwork(4, 4, N_TIMES, kernel=6, pools=pooling(7))
    with torch.no_grad():  # batch-norm statistics as after training
        for norm in (qnet.norm1, qnet.norm2):
            norm.running_mean.normal_()
            norm.running_var.uniform_(0.5, 2.0)
    return RleegnetModule(front, qnet).eval()


def test_ovr_csp_keeps_the_time_axis_with_one_block_per_class():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(40, 6, 50))
    labels = np.arange(40) % 3
    data[labels == 2, 1] *= 4
    filters = fit_ovr_csp(data, labels, n_classes=3, n_components=2)
    assert filters.shape == (n_csp_filters(6, 3, 2), 6) == (6, 6)
    assert n_csp_filters(6, 2, 2) == 2  # two classes: a single CSP problem
    assert n_csp_filters(3, 4, 5) == 12  # components capped at the channel count
    front = CspSpace(6, 6)
    front.fit(data * 1e-5, labels, 3, 2)
    sources = front(torch.as_tensor(data * 1e-5, dtype=torch.float32))
    assert sources.shape == (40, 6, 50)
    assert torch.allclose(sources.std(dim=(0, 2)), torch.ones(6), atol=0.02)


def test_block_by_block_equals_whole_window():
    network = module()
    stream = RleegnetStream(network).eval()
    qnet = network.qnet
    assert (stream.block_samples, qnet.n_steps) == (6, 17)  # pools (3, 2); oldest sample dropped
    windows = torch.randn(3, N_CHANNELS, N_TIMES) * 1e-5
    newest = windows[..., N_TIMES - qnet.n_steps * stream.block_samples :]
    state = stream.initial_state(3)
    with torch.no_grad():
        for start in range(0, newest.shape[-1], stream.block_samples):
            q_values, *state = stream(newest[..., start : start + stream.block_samples], *state)
        assert torch.allclose(q_values, network(windows), atol=1e-5)
    with pytest.raises(ValueError, match="a streaming block holds 6 samples, got 5"):
        stream(windows[..., :5], *stream.initial_state(3))


@pytest.mark.slow
@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_window_and_step_graphs_export_with_parity(dynamo, tmp_path):
    import onnxruntime

    network = module()
    stream = RleegnetStream(network).eval()
    names = ["block", *stream.state_names]
    batch = torch.export.Dim("batch", min=1, max=64)
    examples = {
        "window": ((torch.zeros(2, N_CHANNELS, N_TIMES),), ["window"]),
        "step": ((torch.zeros(2, N_CHANNELS, 6), *stream.initial_state(2)), names),
    }
    for kind, (example, input_names) in examples.items():
        target = network if kind == "window" else stream
        path = tmp_path / f"{kind}.onnx"
        if dynamo:
            shapes = ({0: batch},) * len(example)  # forward(block, h1, h2, h, c): flat
            program = torch.onnx.export(
                target, example, dynamo=True, input_names=input_names, dynamic_shapes=shapes
            )
            program.save(str(path))
        else:
            axes = {name: {0: "batch"} for name in input_names}
            torch.onnx.export(
                target, example, str(path), dynamo=False, input_names=input_names, dynamic_axes=axes
            )
    rng = np.random.default_rng(2)
    windows = torch.as_tensor(rng.normal(size=(3, N_CHANNELS, N_TIMES)) * 1e-5, dtype=torch.float32)
    (onnx_q,) = onnxruntime.InferenceSession(str(tmp_path / "window.onnx")).run(
        None, {"window": windows.numpy()}
    )
    assert np.abs(onnx_q - network(windows).detach().numpy()).max() < 1e-4
    state = tuple(
        torch.as_tensor(rng.normal(size=s.shape), dtype=torch.float32)
        for s in stream.initial_state(3)
    )
    block = windows[..., :6]
    with torch.no_grad():
        expected = stream(block, *state)
    feeds = {name: value.numpy() for name, value in zip(names, (block, *state), strict=True)}
    session = onnxruntime.InferenceSession(str(tmp_path / "step.onnx"))
    for onnx_value, torch_value in zip(session.run(None, feeds), expected, strict=True):
        assert np.abs(onnx_value - torch_value.numpy()).max() < 1e-4
