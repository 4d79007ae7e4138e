"""MEG-GPT's tokeniser: one token per sample, and tokens decode back into the waveform."""

import math

import pytest
import torch

from decoders.models.meggpt.tokeniser import Tokeniser, variance_explained


def tokeniser(**overrides):
    options = {
        "n_tokens": 32,
        "code_dim": 4,
        "width": 16,
        "layers": 2,
        "kernel": 5,
        "token_kernel": 7,
        "beta": 0.25,
        "decay": 0.9,
        "dead_threshold": 0.5,
        "seed": 0,
    }
    return Tokeniser(**{**options, **overrides})


def signals(n=32, times=100, seed=0):
    """Standardised sums of two sinusoids (5-15 Hz at 100 Hz) with random phases."""
    generator = torch.Generator().manual_seed(seed)
    time = torch.arange(times) / 100.0
    freqs = 5 + 10 * torch.rand(n, 2, 1, generator=generator)
    phases = 2 * math.pi * torch.rand(n, 2, 1, generator=generator)
    x = torch.sin(2 * math.pi * freqs * time + phases).sum(1)
    return (x - x.mean(-1, keepdim=True)) / x.std(-1, keepdim=True)


def test_every_sample_gets_one_token_of_the_vocabulary():
    model = tokeniser()
    x = signals(5, 80)
    tokens = model.tokens(x)
    assert tokens.shape == x.shape and tokens.dtype == torch.long
    assert int(tokens.min()) >= 0 and int(tokens.max()) < model.n_tokens
    assert model.decode(tokens).shape == x.shape


def test_trained_tokens_decode_back_into_unseen_waveforms():
    torch.manual_seed(0)
    model = tokeniser()
    train, unseen = signals(64, seed=0), signals(16, seed=1)
    weight = torch.ones(len(train))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    with torch.no_grad():
        before = variance_explained(unseen, model.decode(model.tokens(unseen)))
    for _ in range(150):
        optimizer.zero_grad()
        reconstruction, commitment = model.losses(train, weight)
        (reconstruction + commitment).backward()
        optimizer.step()
        model.quantizer.update()
    model.eval()
    with torch.no_grad():
        tokens = model.tokens(unseen)
        round_trip = model.decode(tokens)
        assert torch.allclose(round_trip, model.reconstruct(model(unseen).vectors), atol=1e-5)
    after = variance_explained(unseen, round_trip)
    assert after > 0.8 and after > before + 0.3
    assert len(torch.unique(tokens)) >= 4  # the waveform is spelt with several tokens


def test_variance_explained_is_one_for_a_copy_and_zero_for_the_mean():
    x = signals(3)
    assert variance_explained(x, x) == pytest.approx(1.0)
    assert variance_explained(x, x.mean(-1, keepdim=True).expand_as(x)) == pytest.approx(0.0)


def test_even_kernels_are_refused():
    with pytest.raises(ValueError, match="kernels must be odd"):
        tokeniser(token_kernel=6)
