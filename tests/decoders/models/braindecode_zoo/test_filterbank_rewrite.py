"""FIR filter banks as one matrix product (or convolution) compute what braindecode's FFT
convolutions compute."""

import pytest
import torch

from decoders.models.braindecode_zoo import filterbank_rewrite
from decoders.models.braindecode_zoo.filterbank_rewrite import (
    LinearFilterBank,
    linear_filter_banks,
)


@pytest.fixture(params=["matrix", "convolution"])
def form(request, monkeypatch) -> str:
    """Both forms of the bank: the Toeplitz matrix and, over its size limit, the convolution."""
    if request.param == "convolution":
        monkeypatch.setattr(filterbank_rewrite, "MAX_MATRIX_VALUES", 0)
    return request.param


def test_bands_of_different_lengths_filter_as_the_fft_convolution(form):
    from braindecode.modules import FilterBankLayer

    bank = FilterBankLayer(4, 200.0, band_filters=[(4.0, 8.0), (20.0, 30.0)], verbose=False)
    lengths = {len(taps) for taps in bank.fir_list}
    assert len(lengths) == 2 and max(lengths) > 150  # taps longer than the window, unequal
    rewritten = LinearFilterBank(list(bank.fir_list), 150)
    assert (rewritten.matrix is not None) == (form == "matrix")
    x = torch.randn(3, 4, 150)
    with torch.no_grad():
        expected, got = bank(x), rewritten(x)
    assert got.shape == expected.shape == (3, 2, 4, 150)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5 * expected.abs().max())


def test_even_and_asymmetric_taps_keep_the_same_mode_alignment(form):
    from torchaudio.functional import fftconvolve

    taps = [torch.randn(6), torch.randn(9), torch.randn(2)]
    x = torch.randn(2, 3, 40)
    expected = torch.stack([fftconvolve(x, t.expand(1, 3, -1), mode="same") for t in taps], 1)
    with torch.no_grad():
        got = LinearFilterBank(taps, 40)(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_another_window_length_is_refused():
    with pytest.raises(ValueError, match="filters 40 samples, not 41"):
        LinearFilterBank([torch.randn(5)], 40)(torch.randn(1, 2, 41))


@pytest.mark.parametrize("architecture", ["FBCNet", "IFNet"])
def test_a_filter_bank_network_gives_the_same_outputs_and_is_left_unchanged(architecture):
    import braindecode.models

    torch.manual_seed(0)
    network = getattr(braindecode.models, architecture)(
        n_chans=4, n_outputs=3, n_times=200, sfreq=200.0
    ).eval()
    before = {name: value.clone() for name, value in network.state_dict().items()}
    rewritten = linear_filter_banks(network)
    x = torch.randn(2, 4, 200)
    with torch.no_grad():
        torch.testing.assert_close(rewritten(x), network(x), rtol=1e-4, atol=1e-5)
    assert all(torch.equal(before[name], value) for name, value in network.state_dict().items())


def test_networks_without_a_zero_phase_fir_bank_are_not_rewritten():
    from braindecode.models import FBCNet, ShallowFBCSPNet

    shallow = ShallowFBCSPNet(n_chans=4, n_outputs=2, n_times=200, sfreq=200.0)
    causal = FBCNet(
        n_chans=4, n_outputs=2, n_times=200, sfreq=200.0, filter_parameters={"phase": "forward"}
    )
    assert linear_filter_banks(shallow) is None
    assert linear_filter_banks(causal) is None
