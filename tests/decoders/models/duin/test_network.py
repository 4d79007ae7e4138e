"""Du-IN's encoder: what its tokens keep of the input."""

import torch

from decoders.models.duin.pretraining import DuINPretraining, encoder_of


def test_encoded_tokens_keep_the_amplitude_of_their_patch():
    """A louder patch gives a larger encoded token (responses are amplitude changes).

    A final layer norm over each token set every token to unit scale, which left the
    classifier's head nothing of a word's high-gamma power.
    """
    config = DuINPretraining.configuration("tiny")
    torch.manual_seed(0)
    encoder = encoder_of(config).eval()
    patch = config["patch"]
    quiet = torch.randn(4, config["n_channels"], 10 * patch)
    loud = quiet.clone()
    loud[..., 3 * patch : 4 * patch] *= 4.0
    with torch.no_grad():
        scale = [encoder(x)[:, 3].norm(dim=-1) for x in (quiet, loud)]
    assert (scale[1] > 2.0 * scale[0]).all()
