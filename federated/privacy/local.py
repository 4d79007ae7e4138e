"""Local differential privacy: DP-SGD at each site, accounted per site.

A round of local training becomes DP-SGD (Abadi et al. 2016): each step takes a Poisson sample
of the site's training trials (each with probability ``q = batch / trials``), computes every
sampled trial's gradient (``torch.func``: the whole network is one function, so layers used
across the site-local and shared parts are handled), and Opacus's ``DPOptimizer`` clips each
trial's gradient to ``dp-clip``, sums them, adds Gaussian noise of ``dp-noise x dp-clip`` and
takes the AdamW step. Neighbouring data sets differ by one trial (add or remove), so all a
site sends (and its personalised model) is (ε, δ)-DP for its trials, whoever reads it.

The site keeps its ledger (``privacy.json`` in its run folder) across rounds and processes;
the noise multiplier is ``dp-noise``, or the one that spends ``target-epsilon`` in ``rounds``
rounds at this site's sampling rate. A round that would exceed the budget is refused with a
message holding :data:`~.accountant.BUDGET_MARKER`, which the server recognises. Batches and
noise are drawn from the operating system's entropy, never from the federation's seed (which
the server knows: a known seed would let it regenerate and subtract the noise).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .accountant import BUDGET_MARKER, Budget, PrivacyLedger, Release, noise_for_budget

if TYPE_CHECKING:
    import torch

    from federated.client.training import RoundSettings
    from federated.config import FederationConfig

LEDGER_NAME = "privacy.json"
MECHANISM = "local DP (DP-SGD at each site: per-trial clipping, Gaussian noise, Poisson batches)"


class PrivacyBudgetSpent(ValueError):
    """A site's round that its privacy budget does not allow (or could never allow)."""


@dataclass(frozen=True)
class LocalPrivacy:
    """One site's DP-SGD settings for this run.

    Parameters
    ----------
    noise_multiplier, clipping_norm : float
        DP-SGD noise (times the norm) and per-trial clipping norm.
    sample_rate : float
        Poisson sampling probability of each trial per step.
    steps : int
        DP-SGD steps per round.
    budget : Budget
        Target ε at δ.
    """

    noise_multiplier: float
    clipping_norm: float
    sample_rate: float
    steps: int
    budget: Budget

    @classmethod
    def for_site(cls, config: FederationConfig, n_trials: int) -> LocalPrivacy:
        """Return the settings of a site with ``n_trials`` training trials."""
        sample_rate = min(1.0, config.batch_size / max(1, n_trials))
        steps = config.local_steps or config.local_epochs * max(1, round(1 / sample_rate))
        budget = Budget(config.target_epsilon, config.dp_delta)
        noise = config.dp_noise or noise_for_budget(
            config.target_epsilon, config.dp_delta, sample_rate, steps * config.rounds
        )
        return cls(noise, config.dp_clip, sample_rate, steps, budget)

    @property
    def release(self) -> Release:
        """Return what one round spends."""
        return Release(self.noise_multiplier, self.sample_rate, self.steps)

    def check(self, ledger: PrivacyLedger, site: str) -> None:
        """Refuse a round the budget does not allow, naming the numbers.

        Raises
        ------
        PrivacyBudgetSpent
            When even one round exceeds the target (with the smallest reachable ε), or when
            the next round would.
        """
        if self.budget.allows(ledger, self.release):
            return
        delta = self.budget.delta
        if not ledger.releases:
            smallest = PrivacyLedger([self.release]).epsilon(delta)
            raise PrivacyBudgetSpent(
                f"site {site}: target-epsilon {self.budget.target_epsilon:g} cannot be reached "
                f"({BUDGET_MARKER}): one round of DP-SGD ({self.steps} steps at sampling rate "
                f"{self.sample_rate:.3g}, noise multiplier {self.noise_multiplier:g}) already "
                f"spends ε = {smallest:.3g} at δ = {delta:g}; the smallest reachable ε with "
                f"these settings is {smallest:.3g} (raise dp-noise, lower local-steps or "
                "batch-size, or set dp-noise to 0 for the noise that spends the target)"
            )
        raise PrivacyBudgetSpent(
            f"site {site}: {BUDGET_MARKER} spent: ε = {ledger.epsilon(delta):.3g} at δ = "
            f"{delta:g} after {len(ledger.releases)} round(s); one more would exceed "
            f"target-epsilon {self.budget.target_epsilon:g}"
        )

    def report(self, ledger: PrivacyLedger, site: str) -> dict[str, Any]:
        """Return the site's account (history and its model's card)."""
        return {
            "mechanism": "local",
            "description": MECHANISM,
            "unit": "trial",
            "site": site,
            "clipping": "per trial",
            "clipping_norm": self.clipping_norm,
            "noise_multiplier": self.noise_multiplier,
            "sampling_rate": self.sample_rate,
            "steps_per_round": self.steps,
            "rounds": len(ledger.releases),
            "delta": self.budget.delta,
            "epsilon": ledger.epsilon(self.budget.delta),
            "target_epsilon": self.budget.target_epsilon or None,
            "accountant": "RDP (Opacus)",
            "ledger": ledger.to_dict(),
        }


def load_ledger(folder: Path) -> PrivacyLedger:
    """Return the ledger kept in a site's run folder (empty when none)."""
    path = Path(folder) / LEDGER_NAME
    return (
        PrivacyLedger.from_dict(json.loads(path.read_text())) if path.is_file() else PrivacyLedger()
    )


def save_ledger(folder: Path, ledger: PrivacyLedger) -> None:
    """Write the ledger into a site's run folder (atomically)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{LEDGER_NAME}.tmp"
    temporary.write_text(json.dumps(ledger.to_dict()))
    temporary.replace(folder / LEDGER_NAME)


def private_round(
    module: torch.nn.Module,
    data: np.ndarray,
    labels: np.ndarray,
    settings: RoundSettings,
    privacy: LocalPrivacy,
) -> float:
    """Train ``module`` in place for one round of DP-SGD; return the mean training loss.

    The round takes ``privacy.steps`` steps; the round's seed sets only the dropout masks.
    """
    import torch
    from opacus.optimizers import DPOptimizer
    from torch.func import functional_call, grad_and_value, vmap

    torch.manual_seed(settings.seed)
    entropy = torch.Generator().manual_seed(secrets.randbits(63))
    x_all = torch.as_tensor(np.asarray(data, dtype=np.float32))
    y_all = torch.as_tensor(labels, dtype=torch.long)
    parameters = {name: p for name, p in module.named_parameters() if p.requires_grad}
    buffers = dict(module.named_buffers())

    def loss_of(weights, x, y):
        logits = functional_call(module, (weights, buffers), (x[None],))
        return torch.nn.functional.cross_entropy(logits, y[None])

    per_trial = vmap(grad_and_value(loss_of), in_dims=(None, 0, 0), randomness="different")
    optimizer = DPOptimizer(
        torch.optim.AdamW(parameters.values(), lr=settings.lr, weight_decay=settings.weight_decay),
        noise_multiplier=privacy.noise_multiplier,
        max_grad_norm=privacy.clipping_norm,
        expected_batch_size=max(1, round(privacy.sample_rate * len(x_all))),
        generator=entropy,
    )
    losses = []
    module.train()
    for _ in range(privacy.steps):
        chosen = torch.rand(len(x_all), generator=entropy) < privacy.sample_rate
        if chosen.any():
            detached = {name: p.detach() for name, p in parameters.items()}
            gradients, values = per_trial(detached, x_all[chosen], y_all[chosen])
            losses.append(float(values.mean()))
        else:  # an empty Poisson sample still takes its noisy step
            gradients = {name: p.new_zeros((0, *p.shape)) for name, p in parameters.items()}
        for name, parameter in parameters.items():
            parameter.grad_sample = gradients[name]
        optimizer.step()
        optimizer.zero_grad()
    module.eval()
    return float(np.mean(losses)) if losses else float("nan")
