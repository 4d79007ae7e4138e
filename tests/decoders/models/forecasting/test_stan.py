"""STAN: attention shapes, the adversarial term, training on preictal-like windows."""

import numpy as np
import pytest
import torch

from decoders import registry
from decoders.datasets.trials import TrialSet
from decoders.models.forecasting.adversarial import (
    Critic,
    adversarial_term,
    critic_loss,
    gradient_penalty,
    pairs,
)
from decoders.models.forecasting.network import StanNetwork


def test_tokens_and_attention_have_the_shapes_of_channels_by_patches():
    network = StanNetwork(n_channels=5, n_times=100, n_classes=2, patch=16, dim=8, heads=2, depth=3)
    x = torch.randn(3, 5, 100)

    tokens = network.tokens(x)
    maps = network.attention_maps(x)

    assert tokens.shape == (3, 5, 6, 8)  # 100 samples: the last 6 whole patches of 16
    assert network(x).shape == (3, 2) and network.encode(x).shape == (3, 8)
    assert len(maps) == 3
    for block in maps:
        assert block["spatial"].shape == (3, 6, 2, 5, 5)  # batch, patches, heads, ch x ch
        assert block["temporal"].shape == (3, 5, 2, 6, 6)  # batch, channels, heads, p x p
        for weights in block.values():
            assert torch.allclose(weights.sum(-1), torch.ones(()), atol=1e-5)
    assert all(m.last_weights is None for b in network.blocks for m in (b.spatial, b.temporal))


def test_spatial_attention_mixes_channels_and_temporal_attention_mixes_patches():
    torch.manual_seed(0)
    network = StanNetwork(n_channels=4, n_times=64, n_classes=2, patch=16, dim=8, heads=2, depth=1)
    network.eval()
    block = network.blocks[0]
    tokens = torch.randn(1, 4, 4, 8)
    changed = tokens.clone()
    changed[0, 2, 3] += 1.0  # one channel, one patch

    spatial = block.spatial(changed.permute(0, 2, 1, 3).reshape(4, 4, 8)) - block.spatial(
        tokens.permute(0, 2, 1, 3).reshape(4, 4, 8)
    )
    temporal = block.temporal(changed.reshape(4, 4, 8)) - block.temporal(tokens.reshape(4, 4, 8))

    # spatial: only patch 3 changes, in every channel; temporal: only channel 2, in every patch
    assert spatial[:3].abs().max() == 0 and (spatial[3].abs().sum(-1) > 0).all()
    assert temporal[[0, 1, 3]].abs().max() == 0 and (temporal[2].abs().sum(-1) > 0).all()


def test_the_gradient_penalty_of_a_linear_critic_is_its_weight_norm_minus_one_squared():
    critic = torch.nn.Linear(4, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 0.0, 4.0, 0.0]]))  # norm 5
    true, predicted = torch.randn(10, 4), torch.randn(10, 4)

    penalty = gradient_penalty(lambda u: critic(u).squeeze(-1), true, predicted)

    assert penalty.item() == pytest.approx(16.0)


def test_the_critic_learns_to_tell_true_from_predicted_labels_and_the_term_reaches_the_encoder():
    torch.manual_seed(0)
    critic = Critic(dim=3, n_classes=2, hidden=16)
    optimizer = torch.optim.Adam(critic.parameters(), lr=1e-2, betas=(0.5, 0.9))
    z = torch.randn(64, 3)
    onehot = torch.nn.functional.one_hot(torch.arange(64) % 2, 2).float()
    blurred = torch.full((64, 2), 0.5)  # a forecaster that hedges
    distances = []
    for _ in range(100):
        loss, distance = critic_loss(critic, pairs(z, onehot), pairs(z, blurred), 10.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        distances.append(distance.item())
    assert distances[-1] > 0.1 > abs(distances[0])

    encoder = torch.nn.Linear(5, 3)
    x = torch.randn(8, 5)
    representation = encoder(x)
    logits = torch.randn(8, 2, requires_grad=True)
    term = adversarial_term(
        critic, pairs(representation, onehot[:8]), pairs(representation, logits.softmax(1))
    )
    term.backward()
    assert encoder.weight.grad.abs().sum() > 0 and logits.grad.abs().sum() > 0


def _preictal_like(n, seed, sfreq=64.0, n_times=128):
    """Class 1 ('preictal'): a 12 Hz rhythm shared by channels 0-2 (synchrony and power)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    data = rng.standard_normal((n, 6, n_times))
    t = np.arange(n_times) / sfreq
    common = np.sin(2 * np.pi * 12 * t[None] + rng.uniform(0, 6.3, (n, 1)))
    data[labels == 1, :3] += 1.2 * common[labels == 1, None, :]
    names = tuple(f"E{i}" for i in range(6))
    return TrialSet(
        data * 1e-5, labels, ("interictal", "preictal"), sfreq, names, ("eeg",) * 6, "t"
    )


@pytest.mark.slow
def test_stan_learns_preictal_windows_with_and_without_its_adversarial_term():
    train, valid, test = _preictal_like(160, 0), _preictal_like(40, 1), _preictal_like(80, 2)
    accuracies = {}
    for weight in (0.0, 0.1):
        decoder = registry.create(
            "stan",
            dim=16,
            heads=2,
            depth=2,
            patch_s=0.5,
            batch_size=16,
            max_epochs=15,
            patience=15,
            adversarial_weight=weight,
        ).fit(train, valid)
        accuracies[weight] = np.mean(decoder.predict_proba(test.data).argmax(1) == test.labels)
        assert len(decoder.history_.epochs) == 15
        assert ("wasserstein" in decoder.history_.epochs[-1]) and (
            weight == 0.0 or decoder.history_.epochs[-1]["wasserstein"] != 0.0
        )
    assert min(accuracies.values()) > 0.85, accuracies
    assert decoder.card_extra()["parameters"] == sum(
        p.numel() for p in decoder.module_.parameters()
    )
    maps = decoder.attention_maps(test.data[:2])
    assert maps[0]["spatial"].shape == (2, 4, 2, 6, 6)
