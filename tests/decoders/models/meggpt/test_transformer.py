"""MEG-GPT's causal Transformer: no output sees a later token, of its channel or another."""

import pytest
import torch

from decoders.models.meggpt.transformer import CausalTransformer


def model(**overrides):
    torch.manual_seed(0)
    options = {"n_tokens": 12, "n_channels": 5, "width": 16, "depth": 2, "heads": 2}
    return CausalTransformer(**{**options, "dropout": 0.0, **overrides}).eval()


def tokens(batch=2, channels=3, times=20, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 12, (batch, channels, times), generator=generator)


def test_logits_have_one_next_token_distribution_per_channel_and_time():
    logits = model()(tokens(), torch.tensor([4, 0, 2]))
    assert logits.shape == (2, 3, 20, 12)


@pytest.mark.parametrize("cut", [0, 7, 18])
def test_changing_later_tokens_of_any_channel_leaves_earlier_outputs_unchanged(cut):
    network, ids = model(), torch.arange(3)
    original = tokens()
    changed = original.clone()
    changed[:, :, cut + 1 :] = (changed[:, :, cut + 1 :] + 5) % 12
    with torch.no_grad():
        before, after = network(original, ids), network(changed, ids)
    assert torch.allclose(before[:, :, : cut + 1], after[:, :, : cut + 1], atol=1e-5)
    assert not torch.allclose(before[:, :, cut + 1 :], after[:, :, cut + 1 :], atol=1e-3)


def test_a_token_sees_the_other_channels_at_its_own_time():
    network, ids = model(), torch.arange(3)
    original = tokens()
    changed = original.clone()
    changed[:, 2, 5] = (changed[:, 2, 5] + 3) % 12
    with torch.no_grad():
        before, after = network(original, ids), network(changed, ids)
    assert not torch.allclose(before[:, 0, 5], after[:, 0, 5], atol=1e-4)
    assert torch.allclose(before[:, 0, :5], after[:, 0, :5], atol=1e-5)


def test_padding_channels_reach_no_real_channel():
    network, ids = model(), torch.arange(3)
    present = torch.tensor([[True, True, False]] * 2)
    original = tokens()
    changed = original.clone()
    changed[:, 2] = (changed[:, 2] + 4) % 12
    with torch.no_grad():
        before = network(original, ids, present)[:, :2]
        after = network(changed, ids, present)[:, :2]
    assert torch.allclose(before, after, atol=1e-5)


def test_a_width_that_does_not_split_into_heads_is_refused():
    with pytest.raises(ValueError, match="does not split into 3 heads"):
        model(heads=3)
