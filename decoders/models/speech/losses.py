"""Training losses of the brain module: CLIP-style contrastive, and regression as the ablation."""

from __future__ import annotations

import torch


def clip_loss(estimates: torch.Tensor, targets: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Return the contrastive loss of brain ``estimates`` against the batch's speech ``targets``.

    Each window's score for a candidate segment is its estimate's inner product with the
    candidate's unit-norm embedding (the estimate's own norm acting as an inverse
    temperature); the loss is the cross-entropy of choosing its own segment among the
    batch's. Other windows of the same segment (``keys`` equal: the same sentence heard by
    another listener) are not counted as negatives.

    Parameters
    ----------
    estimates : Tensor, shape (batch, dimension)
        The brain module's outputs.
    targets : Tensor, shape (batch, dimension)
        The segments' embeddings.
    keys : Tensor of int, shape (batch,)
        Which segment each window heard.
    """
    candidates = torch.nn.functional.normalize(targets, dim=1)
    scores = estimates @ candidates.T
    same = keys[:, None] == keys[None, :]
    duplicates = same & ~torch.eye(len(keys), dtype=torch.bool, device=keys.device)
    scores = scores.masked_fill(duplicates, float("-inf"))
    return torch.nn.functional.cross_entropy(scores, torch.arange(len(keys), device=keys.device))


def regression_loss(
    estimates: torch.Tensor, targets: torch.Tensor, keys: torch.Tensor
) -> torch.Tensor:
    """Return the mean squared error to the targets scaled to unit variance per element."""
    scaled = torch.nn.functional.normalize(targets, dim=1) * targets.shape[1] ** 0.5
    return torch.nn.functional.mse_loss(estimates, scaled)


def classification_loss(
    logits: torch.Tensor, labels: torch.Tensor, keys: torch.Tensor
) -> torch.Tensor:
    """Return the cross-entropy of class ``logits`` (``keys`` are the labels again, unused)."""
    return torch.nn.functional.cross_entropy(logits, labels)


LOSSES = {"clip": clip_loss, "mse": regression_loss, "cross-entropy": classification_loss}
