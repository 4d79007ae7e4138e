"""Stepwise decoding equals whole-window decoding, and both graphs export to ONNX."""

import numpy as np
import pytest
import torch

from decoders.models.spiking.binning import TimeBins
from decoders.models.spiking.lif_net import LifNetwork, LifStream
from decoders.models.spiking.rwkv import RwkvStream, SpikingRwkv

N_CHANNELS, N_TIMES = 5, 103
BINS = TimeBins.for_window(N_TIMES, 16)  # 7 samples per step, 14 steps, oldest 5 dropped
PARTS = TimeBins.for_window(N_TIMES, 4, sub_bins=3)  # 4 steps of 3 parts of 8 samples
FEATURES = ("mean", "rms", "slope")


def networks(bins=BINS):
    torch.manual_seed(0)
    return {
        "lif": (LifNetwork(N_CHANNELS, 3, bins, hidden=16, encoding="dense"), LifStream),
        "lif-delays": (LifNetwork(N_CHANNELS, 3, bins, hidden=16, max_delay=4), LifStream),
        "lif-channel": (LifNetwork(N_CHANNELS, 3, bins, hidden=16, encoding="channel"), LifStream),
        "rwkv": (SpikingRwkv(N_CHANNELS, 3, bins, width=8, n_blocks=2), RwkvStream),
        "lif-parts": (LifNetwork(N_CHANNELS, 3, PARTS, hidden=16, features=FEATURES), LifStream),
    }


def run_stream(stream, windows):
    bins = stream.network.input.bins
    state = stream.initial_state(len(windows))
    newest = windows[..., N_TIMES - bins.used_samples :]
    for start in range(0, bins.used_samples, bins.bin_samples):
        output, *state = stream(newest[..., start : start + bins.bin_samples], *state)
    return output


@pytest.mark.parametrize("kind", ["lif", "lif-delays", "lif-channel", "rwkv", "lif-parts"])
def test_block_by_block_equals_whole_window(kind):
    network, stream_class = networks()[kind]
    network.eval()
    windows = torch.randn(4, N_CHANNELS, N_TIMES) * 3
    with torch.no_grad():
        whole = network(windows)
        stepped = run_stream(stream_class(network), windows)
        assert network.synaptic_layers(windows)[1].inputs[0].sum() > 0  # spikes happen
    assert torch.allclose(stepped, whole, atol=1e-5)


def test_stream_refuses_blocks_of_another_length():
    network, stream_class = networks()["lif"]
    stream = stream_class(network.eval())
    with pytest.raises(ValueError, match="a streaming block holds 7 samples, got 6"):
        stream(torch.zeros(1, N_CHANNELS, 6), *stream.initial_state(1))


def export(module, example, names, path, dynamo):
    dims = {0: torch.export.Dim("batch", min=1, max=64)}
    if dynamo:
        shapes = (dims,) if len(example) == 1 else (dims, tuple(dims for _ in example[1:]))
        program = torch.onnx.export(
            module, example, dynamo=True, input_names=names, dynamic_shapes=shapes
        )
        program.save(str(path))
    else:
        axes = {name: {0: "batch"} for name in names}
        torch.onnx.export(
            module, example, str(path), dynamo=False, input_names=names, dynamic_axes=axes
        )


@pytest.mark.slow
@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("kind", ["lif-delays", "rwkv"])
def test_window_and_step_graphs_export_with_parity(kind, dynamo, tmp_path):
    import onnxruntime

    bins, n_times = TimeBins(4, 6), 26  # few steps: the window graph unrolls them
    network, stream_class = networks(bins)[kind]
    network.eval()
    stream = stream_class(network).eval()
    rng = np.random.default_rng(0)
    export(network, (torch.zeros(2, N_CHANNELS, n_times),), ["window"], tmp_path / "w.onnx", dynamo)
    names = ["block", *stream.state_names]
    example = (torch.zeros(2, N_CHANNELS, bins.bin_samples), *stream.initial_state(2))
    export(stream, example, names, tmp_path / "s.onnx", dynamo)

    windows = torch.as_tensor(rng.normal(size=(3, N_CHANNELS, n_times)) * 3, dtype=torch.float32)
    session = onnxruntime.InferenceSession(str(tmp_path / "w.onnx"))
    (onnx_window,) = session.run(None, {"window": windows.numpy()})
    assert np.abs(onnx_window - network(windows).detach().numpy()).max() < 1e-4

    # A step from a state reached after some blocks of a real stream, batch of 3.
    state = stream.initial_state(3)
    with torch.no_grad():
        for start in range(0, 3 * bins.bin_samples, bins.bin_samples):
            _, *state = stream(windows[..., start : start + bins.bin_samples], *state)
        block = windows[..., -bins.bin_samples :]
        expected = stream(block, *state)
    session = onnxruntime.InferenceSession(str(tmp_path / "s.onnx"))
    feeds = {name: value.numpy() for name, value in zip(names, (block, *state), strict=True)}
    for onnx_value, torch_value in zip(session.run(None, feeds), expected, strict=True):
        assert np.abs(onnx_value - torch_value.numpy()).max() < 1e-4
