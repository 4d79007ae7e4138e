"""Experience replay for the DQN: transitions between trials referenced by index."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from torch import Tensor

FIELDS = ("state", "action", "reward", "next_state", "done")


class ReplayBuffer:
    """A circular buffer of (state, action, reward, next state, done) transitions.

    States are indices into a bank of trials kept by the caller, so a transition costs a few
    bytes whatever the trial length.

    Parameters
    ----------
    capacity : int
        Transitions kept; the oldest are overwritten first.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"replay capacity must be positive, got {capacity}")
        self.capacity = capacity
        self.state = torch.zeros(capacity, dtype=torch.long)
        self.action = torch.zeros(capacity, dtype=torch.long)
        self.reward = torch.zeros(capacity)
        self.next_state = torch.zeros(capacity, dtype=torch.long)
        self.done = torch.zeros(capacity, dtype=torch.bool)
        self.size = 0
        self.position = 0

    def __len__(self) -> int:
        return self.size

    def push(
        self, state: Tensor, action: Tensor, reward: Tensor, next_state: Tensor, done: Tensor
    ) -> None:
        """Append a batch of transitions (1-D tensors of equal length)."""
        values = dict(zip(FIELDS, (state, action, reward, next_state, done), strict=True))
        count = min(len(state), self.capacity)
        slots = (self.position + torch.arange(count)) % self.capacity
        for name, value in values.items():
            getattr(self, name)[slots] = value[len(state) - count :]
        self.position = int((self.position + count) % self.capacity)
        self.size = min(self.size + count, self.capacity)

    def sample(self, batch_size: int, generator: torch.Generator) -> tuple[Tensor, ...]:
        """Return ``batch_size`` transitions drawn uniformly with replacement."""
        picks = torch.randint(self.size, (batch_size,), generator=generator)
        return tuple(getattr(self, name)[picks] for name in FIELDS)

    def state_dict(self) -> dict:
        """Return the content as tensors and integers (for resumable checkpoints)."""
        return {
            **{name: getattr(self, name).clone() for name in FIELDS},
            "size": self.size,
            "position": self.position,
        }

    def load_state_dict(self, content: dict) -> None:
        """Restore :meth:`state_dict` output."""
        for name in FIELDS:
            getattr(self, name).copy_(content[name])
        self.size, self.position = int(content["size"]), int(content["position"])
