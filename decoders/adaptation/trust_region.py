"""A module's parameters kept near reference weights: a drift bound, and rollback.

Every online adaptation of a network goes through one: after an update, the relative L2
distance of the parameters from those adaptation began at is checked against ``max_drift``;
beyond it the update is projected back onto the bound (``clip``) or undone (``refuse``).
Each accepted update can be rolled back (the last ``history`` of them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DRIFT_POLICIES = ("clip", "refuse")


@dataclass(frozen=True)
class Enforced:
    """What enforcing the bound did: drift before and after, and whether it acted."""

    proposed_drift: float
    drift: float
    clipped: bool
    refused: bool


class TrustRegion:
    """Reference weights of ``module``'s parameters, a drift bound and undo snapshots.

    Parameters
    ----------
    module : torch.nn.Module
        Adapted in place; its current parameters become the reference.
    max_drift : float
        Largest relative L2 distance ``||theta - theta_ref|| / ||theta_ref||``.
    policy : str
        ``clip`` or ``refuse`` beyond the bound.
    history : int
        Updates that can be rolled back.
    """

    def __init__(
        self, module: torch.nn.Module, max_drift: float, policy: str = "clip", history: int = 20
    ) -> None:
        if policy not in DRIFT_POLICIES:
            raise ValueError(f"unknown drift policy {policy} (known: {DRIFT_POLICIES})")
        if max_drift <= 0:
            raise ValueError(f"max_drift must be positive, got {max_drift}")
        self.module = module
        self.max_drift = max_drift
        self.policy = policy
        self.history = history
        self.reference = self._copy()
        self.snapshots: list[dict[str, torch.Tensor]] = []

    @property
    def depth(self) -> int:
        """Return how many updates can be rolled back."""
        return len(self.snapshots)

    def drift(self) -> float:
        """Return the relative L2 distance of the parameters from the reference."""
        moved = reference = 0.0
        for name, parameter in self.module.named_parameters():
            moved += float(((parameter.detach() - self.reference[name]) ** 2).sum())
            reference += float((self.reference[name] ** 2).sum())
        return (moved / reference) ** 0.5 if reference else moved**0.5

    def snapshot(self) -> None:
        """Keep the current parameters, to roll back to before the next update."""
        self.snapshots.append(self._copy())
        del self.snapshots[: -self.history]

    def enforce(self) -> Enforced:
        """Bound the update made since :meth:`snapshot`: clip it or undo it beyond the bound."""
        proposed = self.drift()
        clipped = refused = False
        if proposed > self.max_drift:
            if self.policy == "clip":
                self._project(self.max_drift / proposed)
                clipped = True
            else:
                self.rollback()
                refused = True
        return Enforced(proposed, self.drift(), clipped, refused)

    def rollback(self, steps: int = 1) -> None:
        """Undo the last ``steps`` accepted updates.

        Raises
        ------
        ValueError
            When fewer updates than ``steps`` can be undone.
        """
        import torch

        if steps < 1 or steps > len(self.snapshots):
            raise ValueError(
                f"cannot roll back {steps} update(s): {len(self.snapshots)} can be undone"
            )
        state = self.snapshots[-steps]
        del self.snapshots[-steps:]
        with torch.no_grad():
            for name, parameter in self.module.named_parameters():
                parameter.copy_(state[name])

    def _copy(self) -> dict[str, torch.Tensor]:
        return {name: p.detach().clone() for name, p in self.module.named_parameters()}

    def _project(self, factor: float) -> None:
        import torch

        with torch.no_grad():
            for name, parameter in self.module.named_parameters():
                reference = self.reference[name]
                parameter.copy_(reference + (parameter - reference) * factor)
