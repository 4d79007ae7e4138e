"""Real Fourier transforms of a fixed length export without ONNX's DFT operators, with parity."""

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from bci_app.models.format import live_session
from decoders.export.spectral import dft_matrix, translations


@pytest.mark.parametrize(("n", "one_sided"), [(400, True), (7, True), (6, False)])
def test_the_matrix_is_the_real_dft(n, one_sided):
    x = np.random.default_rng(n).standard_normal((3, n))
    spectrum = (x @ dft_matrix(n, one_sided, 0.5).astype(float)).reshape(3, -1, 2)
    expected = 0.5 * (np.fft.rfft(x) if one_sided else np.fft.fft(x))
    np.testing.assert_allclose(spectrum[..., 0] + 1j * spectrum[..., 1], expected, atol=1e-4)


class Spectra(torch.nn.Module):
    """An rfft over the last axis and a centred, normalised STFT, as magnitudes."""

    def __init__(self, n_fft: int, hop: int, window: bool) -> None:
        super().__init__()
        self.n_fft, self.hop, self.window = n_fft, hop, window

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        spectrum = torch.fft.rfft(x, dim=-1, norm="forward").abs()
        batch, channels, n_times = x.shape
        window = torch.hann_window(self.n_fft) if self.window else None
        frames = torch.stft(
            x.reshape(batch * channels, n_times), self.n_fft, self.hop, window=window,
            normalized=True, center=True, return_complex=True,
        ).abs()  # fmt: skip
        return spectrum, frames.reshape(batch, channels, *frames.shape[1:])


def _export(module: torch.nn.Module, n_times: int, folder: Path) -> onnx.ModelProto:
    example = torch.zeros(2, 3, n_times)
    program = torch.export.export(module, (example,), dynamic_shapes=({0: torch.export.Dim("b")},))
    torch.onnx.export(
        program, (example,), str(folder / "spectra.onnx"), dynamo=True, opset_version=20,
        input_names=["window"], custom_translation_table=translations(),
    )  # fmt: skip
    return onnx.load(str(folder / "spectra.onnx"))


@pytest.mark.parametrize("window", [False, True])
def test_non_power_of_two_transforms_export_as_products_with_parity(window, tmp_path):
    module = Spectra(n_fft=100, hop=20, window=window)
    graph = _export(module, 150, tmp_path)
    ops = {node.op_type for node in graph.graph.node}
    assert not ops & {"DFT", "STFT"} and {"MatMul", "Conv"} <= ops
    x = np.random.default_rng(1).standard_normal((1, 3, 150)).astype(np.float32)
    session = live_session(graph.SerializeToString())
    with torch.no_grad():
        expected = [output.numpy() for output in module(torch.from_numpy(x))]
    for got, reference in zip(session.run(None, {"window": x}), expected, strict=True):
        np.testing.assert_allclose(got, reference, rtol=1e-4, atol=1e-5 * np.abs(reference).max())


def test_powers_of_two_keep_onnx_runtimes_fft(tmp_path):
    graph = _export(Spectra(n_fft=64, hop=16, window=False), 128, tmp_path)
    ops = [node.op_type for node in graph.graph.node]
    assert "DFT" in ops and "STFT" in ops
