"""STAN's adversarial objective: a critic on (representation, label) pairs, WGAN-GP style.

How it was read from the paper (whose text gives "adversarial training with gradient penalty
enables robust discrimination between interictal and preictal states" and no code): a
critic ``D(z, y)`` scores a window's representation ``z`` paired with a label vector ``y``.
It learns to score *true* pairs (``z`` with the one-hot label) above *predicted* pairs
(``z`` with the forecaster's softmax), as the critic of a Wasserstein GAN with gradient
penalty (Gulrajani et al. 2017):

    L_critic = E[D(z, p)] - E[D(z, y)] + lambda * E[(||grad D(u)|| - 1)^2],

``u`` drawn uniformly on the segments between true and predicted pairs. The forecaster
(encoder and head) minimises its class-weighted cross-entropy plus ``weight`` times the
critic's estimate of the Wasserstein distance between the two, ``E[D(z, y)] - E[D(z, p)]``:
it is pushed to predict label distributions the critic cannot tell from the true ones given
the representation, an adversarial, learned loss on top of the cross-entropy (as in
adversarial training for structured prediction). The critic is used only in training; it is
not part of the exported model.
"""

from __future__ import annotations

import torch


class Critic(torch.nn.Module):
    """An MLP scoring (representation, label vector) pairs; no normalisation (WGAN-GP)."""

    def __init__(self, dim: int, n_classes: int, hidden: int = 64) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(dim + n_classes, hidden),
            torch.nn.LeakyReLU(0.2),
            torch.nn.Linear(hidden, hidden),
            torch.nn.LeakyReLU(0.2),
            torch.nn.Linear(hidden, 1),
        )

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """Return one score per pair (n,)."""
        return self.net(pairs).squeeze(-1)


def pairs(representation: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Return (representation, label vector) pairs concatenated (n, dim + n_classes)."""
    return torch.cat([representation, labels], dim=-1)


def gradient_penalty(
    critic: torch.nn.Module,
    true: torch.Tensor,
    predicted: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Return ``E[(||grad D(u)|| - 1)^2]`` at random points ``u`` between the two sets of pairs."""
    mix = torch.rand(true.shape[0], 1, generator=generator, dtype=true.dtype)
    between = (mix * true + (1 - mix) * predicted).detach().requires_grad_(True)
    (gradient,) = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
    return ((gradient.norm(dim=-1) - 1.0) ** 2).mean()


def critic_loss(
    critic: torch.nn.Module,
    true: torch.Tensor,
    predicted: torch.Tensor,
    penalty_weight: float,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the critic's loss and its Wasserstein estimate ``E[D(true)] - E[D(predicted)]``.

    The pairs are detached: this step trains the critic only.
    """
    true, predicted = true.detach(), predicted.detach()
    distance = critic(true).mean() - critic(predicted).mean()
    penalty = gradient_penalty(critic, true, predicted, generator)
    return -distance + penalty_weight * penalty, distance.detach()


def adversarial_term(
    critic: torch.nn.Module, true: torch.Tensor, predicted: torch.Tensor
) -> torch.Tensor:
    """Return the forecaster's adversarial loss ``E[D(true)] - E[D(predicted)]``.

    Gradients reach the forecaster through the representation in both sets of pairs and
    through its predictions; the critic's parameters are not updated by this term's step.
    """
    return critic(true).mean() - critic(predicted).mean()
