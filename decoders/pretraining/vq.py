"""Vector quantisation shared by the foundation models: a codebook with straight-through codes.

Vectors (..., dim) are replaced by their nearest code, by Euclidean distance or, with
``cosine``, after l2-normalising vectors and codes (the code is then the unit vector of the
smallest angle). The gradient passes straight through the replacement to the encoder; a
commitment loss ``beta * ||z - sg(q)||^2`` keeps encoder outputs near their codes.

Codes learn in one of two ways:

- ``ema=True`` (default): exponential moving averages of each code's assignment count and
  of the sum of the vectors assigned to it (van den Oord et al. 2017, appendix). The
  statistics of every forward pass of an optimisation step are accumulated, and
  :meth:`VectorQuantizer.update` applies them once per step, after the caller has summed
  them across processes (:meth:`statistics` / :meth:`update`), so a run on several
  processes, or in several micro-batches, updates the codebook exactly as one pass over the
  whole global batch would. Federated aggregation sums the same counts and sums (then
  :meth:`codes_from_averages`).
- ``ema=False``: the codebook is a parameter learned by the codebook loss
  ``||sg(z) - q||^2``.

On the first update the codebook is initialised by k-means on the vectors seen (seeded);
codes whose average usage falls below ``dead_threshold`` are restarted on randomly chosen
recent vectors. Usage and perplexity of the last step are kept for logging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from torch import Tensor


@dataclass(frozen=True)
class Quantized:
    """The output of a quantiser.

    Attributes
    ----------
    vectors : Tensor, shape (..., dim)
        The codes, with straight-through gradients to the input.
    codes : Tensor of int64, shape (...)
        The index of each code.
    loss : Tensor
        Commitment loss (plus the codebook loss when codes are parameters), scalar.
    """

    vectors: Tensor
    codes: Tensor
    loss: Tensor


class VectorQuantizer(torch.nn.Module):
    """A codebook of ``n_codes`` vectors of ``dim`` values.

    Parameters
    ----------
    n_codes, dim : int
        Codebook size and code dimension.
    cosine : bool
        Compare l2-normalised vectors and codes (the "cosine" codebook).
    beta : float
        Weight of the commitment loss.
    ema : bool
        Learn codes by exponential moving averages (else by gradient).
    decay : float
        EMA decay.
    kmeans_iterations : int
        Lloyd iterations of the initialisation (0: keep the random initial codes).
    dead_threshold : float
        A code whose share of the assignments (its EMA count over all counts) falls below
        this fraction of the uniform share ``1 / n_codes`` is restarted.
    seed : int
        Seeds the k-means initialisation and the restarts.
    """

    def __init__(
        self,
        n_codes: int,
        dim: int,
        *,
        cosine: bool = False,
        beta: float = 0.25,
        ema: bool = True,
        decay: float = 0.99,
        kmeans_iterations: int = 10,
        dead_threshold: float = 1e-3,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.n_codes, self.dim = n_codes, dim
        self.cosine, self.beta, self.ema, self.decay = cosine, beta, ema, decay
        self.kmeans_iterations, self.dead_threshold, self.seed = (
            kmeans_iterations,
            dead_threshold,
            seed,
        )
        initial = torch.randn(n_codes, dim, generator=torch.Generator().manual_seed(seed))
        if ema:
            self.register_buffer("codebook", initial)
        else:
            self.codebook = torch.nn.Parameter(initial)
        self.register_buffer("ema_count", torch.ones(n_codes))
        self.register_buffer("ema_sum", initial.clone())
        self.register_buffer("initialised", torch.tensor(False))
        self.register_buffer("restarts", torch.tensor(0))
        # Statistics of the current optimisation step (not saved: a step is never split).
        self._count: Tensor | None = None
        self._sum: Tensor | None = None
        self._seen: Tensor | None = None
        self.usage = 0.0
        self.perplexity = 0.0
        self.frozen = False

    # ------------------------------------------------------------------ assignment
    def normalise(self, vectors: Tensor) -> Tensor:
        """Return ``vectors`` as compared with the codes (unit length for a cosine codebook)."""
        return F.normalize(vectors, dim=-1) if self.cosine else vectors

    def codes_of(self, vectors: Tensor) -> Tensor:
        """Return the index of the nearest code of each vector (..., dim) -> (...)."""
        flat = self.normalise(vectors).reshape(-1, self.dim)
        codebook = self.normalise(self.codebook)
        distances = (
            flat.pow(2).sum(1, keepdim=True)
            - 2.0 * flat @ codebook.T
            + codebook.pow(2).sum(1)[None, :]
        )
        return distances.argmin(dim=1).reshape(vectors.shape[:-1])

    def lookup(self, codes: Tensor) -> Tensor:
        """Return the code vectors of indices ``codes``."""
        return self.normalise(self.codebook)[codes]

    def forward(self, vectors: Tensor, weight: Tensor | None = None) -> Quantized:
        """Quantise ``vectors`` (..., dim); ``weight`` (...) masks vectors out of the losses.

        In training mode (and unless :attr:`frozen`), the assignment statistics are kept for
        :meth:`update`.
        """
        target = self.normalise(vectors)
        codes = self.codes_of(vectors)
        quantised = self.lookup(codes)
        mask = torch.ones(codes.shape, device=vectors.device) if weight is None else weight
        mask = mask.to(vectors.dtype)
        denominator = mask.sum().clamp_min(1.0) * self.dim
        commitment = ((target - quantised.detach()).pow(2).sum(-1) * mask).sum() / denominator
        loss = self.beta * commitment
        if not self.ema:
            codebook_loss = ((target.detach() - quantised).pow(2).sum(-1) * mask).sum()
            loss = loss + codebook_loss / denominator
        if self.training and not self.frozen:
            self._accumulate(target.detach(), codes, mask.detach())
        straight = target + (quantised - target).detach()
        return Quantized(straight, codes, loss)

    # ------------------------------------------------------------------ learning
    def _accumulate(self, vectors: Tensor, codes: Tensor, mask: Tensor) -> None:
        keep = mask.reshape(-1) > 0
        flat = vectors.reshape(-1, self.dim).float()[keep]
        index = codes.reshape(-1)[keep]
        count, total = self.statistics()
        count += torch.bincount(index, minlength=self.n_codes).float()
        total.index_add_(0, index, flat)
        if self._seen is None:  # the first micro-batch of a step seeds k-means and restarts
            self._seen = flat

    def statistics(self) -> tuple[Tensor, Tensor]:
        """Return this step's assignment counts (n_codes,) and vector sums (n_codes, dim)."""
        if self._count is None:
            device = self.codebook.device
            self._count = torch.zeros(self.n_codes, device=device)
            self._sum = torch.zeros(self.n_codes, self.dim, device=device)
        return self._count, self._sum

    def candidates(self) -> Tensor:
        """Return the vectors of this step's first micro-batch (for k-means and restarts)."""
        if self._seen is None:
            return torch.zeros(0, self.dim, device=self.codebook.device)
        return self._seen

    @torch.no_grad()
    def update(
        self,
        count: Tensor | None = None,
        total: Tensor | None = None,
        candidates: Tensor | None = None,
    ) -> None:
        """Apply one optimisation step's statistics to the codebook, then clear them.

        Parameters
        ----------
        count, total : Tensor, optional
            Assignment counts and vector sums of the whole step (default: this process's
            own, :meth:`statistics`); give the sums over processes in data-parallel runs.
        candidates : Tensor, optional
            Vectors to initialise and restart codes from (default: :meth:`candidates`);
            every process must pass the same ones.
        """
        own_count, own_total = self.statistics()
        device = self.codebook.device
        count = (own_count if count is None else count).to(device)
        total = (own_total if total is None else total).to(device)
        candidates = (self.candidates() if candidates is None else candidates).to(device)
        if not bool(self.initialised) and len(candidates):
            self._initialise(candidates)
        elif self.ema and count.sum() > 0:
            self.ema_count.mul_(self.decay).add_(count, alpha=1 - self.decay)
            self.ema_sum.mul_(self.decay).add_(total, alpha=1 - self.decay)
            self.codes_from_averages()
        if count.sum() > 0:
            self._record_usage(count)
            self._restart_dead(candidates)
        self._count = self._sum = self._seen = None

    @torch.no_grad()
    def codes_from_averages(self) -> None:
        """Set every code to its EMA vector sum over its (Laplace-smoothed) EMA count."""
        n = self.ema_count.sum()
        smoothed = (self.ema_count + 1e-5) / (n + self.n_codes * 1e-5) * n
        self.codebook.data.copy_(self.ema_sum / smoothed[:, None])

    def _initialise(self, vectors: Tensor) -> None:
        """Set the codebook by seeded k-means on ``vectors``."""
        generator = torch.Generator().manual_seed(self.seed)
        chosen = torch.randint(len(vectors), (self.n_codes,), generator=generator)
        centres = vectors[chosen.to(vectors.device)].clone()
        for _ in range(self.kmeans_iterations):
            assignment = torch.cdist(vectors, centres).argmin(1)
            sums = torch.zeros_like(centres).index_add_(0, assignment, vectors)
            counts = torch.bincount(assignment, minlength=self.n_codes).float()
            filled = counts > 0
            centres[filled] = sums[filled] / counts[filled, None]
        centres = self.normalise(centres)
        self.codebook.data.copy_(centres)
        self.ema_sum.copy_(centres)
        self.ema_count.fill_(1.0)
        self.initialised.fill_(True)

    def _record_usage(self, count: Tensor) -> None:
        probabilities = count / count.sum()
        entropy = -(probabilities * torch.log(probabilities.clamp_min(1e-12))).sum()
        self.usage = float((count > 0).float().mean())
        self.perplexity = float(torch.exp(entropy))

    def _restart_dead(self, candidates: Tensor) -> None:
        """Move codes whose average usage fell below the threshold onto recent vectors."""
        if not self.ema or not len(candidates):
            return
        share = self.ema_count / self.ema_count.sum()
        dead = torch.nonzero(share < self.dead_threshold / self.n_codes).flatten()
        if not len(dead):
            return
        generator = torch.Generator().manual_seed(self.seed + 1 + int(self.restarts))
        chosen = torch.randint(len(candidates), (len(dead),), generator=generator)
        replacement = self.normalise(candidates[chosen.to(candidates.device)])
        self.codebook.data[dead] = replacement
        self.ema_sum[dead] = replacement
        self.ema_count[dead] = 1.0
        self.restarts.add_(len(dead))
