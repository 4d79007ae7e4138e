"""Online adaptation of a Q-network from labelled feedback trials, within a trust region.

Each feedback trial is a one-step episode: the agent acts on it (epsilon-greedily), gets the
reward of its action, and the transition is kept in a bounded feedback memory; a few
replayed minibatches then update the Q-network (batch-norm statistics frozen). After every
update the relative L2 distance of the parameters from the reference weights (those the
adaptation started from) is checked against ``max_drift``: beyond it the update is either
projected back onto the trust-region boundary (``clip``) or undone (``refuse``). Every
accepted update can be rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from .dqn import epsilon_greedy, rewards
from .settings import AdaptationSettings

if TYPE_CHECKING:
    from torch import Tensor


@dataclass(frozen=True)
class AdaptationReport:
    """What one call of ``partial_fit`` did.

    Parameters
    ----------
    n_trials : int
        Feedback trials received.
    accuracy_before : float
        Greedy accuracy on them before the update.
    mean_reward : float
        Mean reward of the actions taken on them.
    proposed_drift, drift : float
        Relative distance from the reference before and after enforcing the bound.
    clipped, refused : bool
        Whether the update was projected onto the bound, or undone.
    """

    n_trials: int
    accuracy_before: float
    mean_reward: float
    proposed_drift: float
    drift: float
    clipped: bool
    refused: bool


class FeedbackMemory:
    """The last ``capacity`` feedback transitions (state, action taken, reward)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.states: Tensor | None = None
        self.actions = torch.zeros(0, dtype=torch.long)
        self.rewards = torch.zeros(0)

    def __len__(self) -> int:
        return len(self.actions)

    def add(self, states: Tensor, actions: Tensor, reward: Tensor) -> None:
        """Append transitions, dropping the oldest beyond capacity."""
        self.states = states if self.states is None else torch.cat([self.states, states])
        self.actions = torch.cat([self.actions, actions])
        self.rewards = torch.cat([self.rewards, reward])
        self.states = self.states[-self.capacity :]
        self.actions, self.rewards = self.actions[-self.capacity :], self.rewards[-self.capacity :]

    def sample(self, batch_size: int, generator: torch.Generator) -> tuple[Tensor, ...]:
        """Return a minibatch drawn with replacement."""
        picks = torch.randint(len(self), (batch_size,), generator=generator)
        return self.states[picks], self.actions[picks], self.rewards[picks]


class TrustRegionAdapter:
    """Feedback updates of a Q-network bounded around reference weights, with rollback.

    Parameters
    ----------
    qnet : torch.nn.Module
        The Q-network to adapt (in place); its current weights become the reference.
    settings : AdaptationSettings
        Bound, policy and update settings.
    seed : int
        Seeds exploration and replay sampling.
    """

    def __init__(self, qnet: torch.nn.Module, settings: AdaptationSettings, seed: int = 0) -> None:
        from decoders.adaptation.trust_region import TrustRegion

        self.qnet = qnet
        self.settings = settings
        self.region = TrustRegion(qnet, settings.max_drift, settings.policy, settings.history)
        self.memory = FeedbackMemory(settings.memory)
        self.generator = torch.Generator().manual_seed(seed)

    def drift(self) -> float:
        """Return the relative L2 distance of the parameters from the reference."""
        return self.region.drift()

    @property
    def depth(self) -> int:
        """Return how many updates can be rolled back."""
        return self.region.depth

    def update(self, states: Tensor, labels: Tensor) -> AdaptationReport:
        """Act on the feedback trials, learn from their rewards, enforce the trust region."""
        settings = self.settings
        self.qnet.eval()  # frozen batch-norm statistics and no dropout
        with torch.no_grad():
            q_values = self.qnet(states)
        accuracy_before = float((q_values.argmax(dim=1) == labels).float().mean())
        actions = epsilon_greedy(q_values, settings.epsilon, self.generator)
        reward = rewards(actions, labels)
        self.memory.add(states, actions, reward)
        self.region.snapshot()
        optimizer = torch.optim.Adam(self.qnet.parameters(), lr=settings.lr)
        for _ in range(settings.updates):
            batch_states, batch_actions, batch_rewards = self.memory.sample(
                settings.batch_size, self.generator
            )
            q_taken = self.qnet(batch_states).gather(1, batch_actions[:, None])[:, 0]
            loss = F.smooth_l1_loss(q_taken, batch_rewards)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        bound = self.region.enforce()
        return AdaptationReport(
            n_trials=len(labels),
            accuracy_before=accuracy_before,
            mean_reward=float(reward.mean()),
            proposed_drift=bound.proposed_drift,
            drift=bound.drift,
            clipped=bound.clipped,
            refused=bound.refused,
        )

    def rollback(self, steps: int = 1) -> None:
        """Undo the last ``steps`` accepted updates (ValueError when there are fewer)."""
        self.region.rollback(steps)
