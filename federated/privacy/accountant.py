"""The privacy account: releases of the Gaussian mechanism, composed by Rényi DP (Opacus).

A release is ``steps`` applications of a Gaussian mechanism whose noise has ``noise_multiplier``
times the sensitivity (the clipping norm) as standard deviation, each on a Poisson sample of
the protected units taken with probability ``sample_rate`` (1: every unit every time, no
amplification by sampling): a round of central DP is one step at rate 1 (every site takes
part); a round of local DP is a site's DP-SGD steps at rate ``batch / trials``. Their Rényi
divergences add up (Mironov 2017, Mironov et al. 2019) and convert to (ε, δ) as Opacus's RDP
accountant does (Balle et al. 2020's conversion, over its grid of orders).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from federated.config import FederationConfigError

BUDGET_MARKER = "privacy budget"
"""Words every budget refusal holds (the server recognises them in a site's error reply)."""


@dataclass(frozen=True)
class Release:
    """``steps`` Gaussian mechanisms of one noise multiplier at one sampling rate."""

    noise_multiplier: float
    sample_rate: float
    steps: int


@dataclass
class PrivacyLedger:
    """The releases spent so far (what a checkpoint or a site's state keeps)."""

    releases: list[Release] = field(default_factory=list)

    @property
    def steps(self) -> int:
        """Return the mechanisms applied so far."""
        return sum(release.steps for release in self.releases)

    def epsilon(self, delta: float) -> float:
        """Return the ε spent at ``delta`` (0 before any release)."""
        return epsilon_of(self.releases, delta)

    def with_release(self, release: Release) -> PrivacyLedger:
        """Return the ledger after one more release (this one unchanged)."""
        return PrivacyLedger([*self.releases, release])

    def add(self, release: Release) -> None:
        """Record a release."""
        self.releases.append(release)

    def to_dict(self) -> dict:
        """Return plain JSON data."""
        return {"releases": [asdict(release) for release in self.releases]}

    @classmethod
    def from_dict(cls, data: dict | None) -> PrivacyLedger:
        """Read :meth:`to_dict`'s data (None: an empty ledger)."""
        return cls([Release(**item) for item in (data or {}).get("releases", [])])


def epsilon_of(releases: Iterable[Release], delta: float) -> float:
    """Return the ε of composed ``releases`` at ``delta`` (Opacus's RDP accountant)."""
    from opacus.accountants import RDPAccountant

    history = [(r.noise_multiplier, r.sample_rate, r.steps) for r in releases if r.steps]
    if not history:
        return 0.0
    accountant = RDPAccountant()
    accountant.history = history
    return float(accountant.get_epsilon(delta=delta))


def noise_for_budget(target_epsilon: float, delta: float, sample_rate: float, steps: int) -> float:
    """Return the smallest noise multiplier (to 0.01 in ε) spending at most ``target_epsilon``.

    ``steps`` mechanisms at ``sample_rate`` (Opacus's binary search over the RDP accountant).
    """
    from opacus.accountants.utils import get_noise_multiplier

    return float(
        get_noise_multiplier(
            target_epsilon=target_epsilon,
            target_delta=delta,
            sample_rate=sample_rate,
            steps=steps,
            accountant="rdp",
        )
    )


@dataclass(frozen=True)
class Budget:
    """A target ε at δ (``target_epsilon`` 0: no budget, every release allowed)."""

    target_epsilon: float
    delta: float

    def allows(self, ledger: PrivacyLedger, release: Release) -> bool:
        """Return True when ``release`` keeps the ledger within the budget."""
        if not self.target_epsilon:
            return True
        return ledger.with_release(release).epsilon(self.delta) <= self.target_epsilon + 1e-9

    def check_reachable(self, release: Release, mechanism: str, who: str) -> None:
        """Refuse a budget that even one release of these settings exceeds.

        Raises
        ------
        FederationConfigError
            Naming the smallest ε reachable with these settings (one release's).
        """
        if self.allows(PrivacyLedger(), release):
            return
        smallest = epsilon_of([release], self.delta)
        raise FederationConfigError(
            f"{who}: target-epsilon {self.target_epsilon:g} cannot be reached ({BUDGET_MARKER}): "
            f"one round of {mechanism} with noise multiplier {release.noise_multiplier:g}"
            f"{_sampling(release)} already spends ε = {smallest:.3g} at δ = {self.delta:g}; the "
            f"smallest reachable ε with these settings is {smallest:.3g} (raise dp-noise, or "
            "set it to 0 for the noise that spends target-epsilon in `rounds` rounds)"
        )


def _sampling(release: Release) -> str:
    if release.sample_rate >= 1:
        return ""
    return f", sampling rate {release.sample_rate:.3g} and {release.steps} step(s) per round"
