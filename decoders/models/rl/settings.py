"""Settings of RLEEGNet's DQN training and online adaptation (plain data, no torch)."""

from __future__ import annotations

from dataclasses import dataclass

from decoders.adaptation.trust_region import DRIFT_POLICIES


@dataclass(frozen=True)
class DqnConfig:
    """Settings of :func:`decoders.models.rl.dqn.train_dqn`.

    Parameters
    ----------
    episodes : int
        Most passes over the training trials.
    patience : int
        Stop after this many episodes without a better validation score.
    gamma : float
        Discount of the next trial's value.
    lr : float
        Adam learning rate.
    batch_size : int
        Transitions per replayed minibatch.
    replay_size : int
        Capacity of the experience replay.
    parallel_trials : int
        Trials presented per environment step (one gradient update per step).
    target_sync : int
        Gradient updates between copies of the online network into the target network.
    epsilon_start, epsilon_end, epsilon_decay : float
        Exploration: ``max(end, start * decay ** episode)``.
    seed : int
        Seeds shuffling, exploration and replay sampling.
    """

    episodes: int = 60
    patience: int = 15
    gamma: float = 0.1
    lr: float = 1e-3
    batch_size: int = 32
    replay_size: int = 4096
    parallel_trials: int = 16
    target_sync: int = 25
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay: float = 0.85
    seed: int = 0

    def epsilon(self, episode: int) -> float:
        """Return the exploration rate of ``episode``."""
        return max(self.epsilon_end, self.epsilon_start * self.epsilon_decay**episode)


@dataclass(frozen=True)
class AdaptationSettings:
    """How feedback trials update the Q-network.

    Parameters
    ----------
    max_drift : float
        Largest relative L2 distance ``||theta - theta_ref|| / ||theta_ref||`` allowed.
    policy : str
        ``clip`` (project onto the bound) or ``refuse`` (undo the update) beyond it.
    lr : float
        Adam learning rate of the feedback updates.
    updates : int
        Replayed minibatches per call.
    batch_size : int
        Transitions per minibatch.
    epsilon : float
        Exploration rate when acting on feedback trials.
    memory : int
        Feedback transitions kept for replay.
    history : int
        Updates that can be rolled back.
    """

    max_drift: float = 0.1
    policy: str = "clip"
    lr: float = 5e-4
    updates: int = 20
    batch_size: int = 16
    epsilon: float = 0.1
    memory: int = 256
    history: int = 20

    def __post_init__(self) -> None:
        if self.policy not in DRIFT_POLICIES:
            raise ValueError(f"unknown drift policy {self.policy} (known: {DRIFT_POLICIES})")
        if self.max_drift <= 0:
            raise ValueError(f"max_drift must be positive, got {self.max_drift}")
