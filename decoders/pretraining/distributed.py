"""Data-parallel processes launched by ``torchrun``: who this process is, and collectives.

``torchrun`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous address in each
process's environment; :func:`start` joins the process group (gloo on CPU, NCCL on GPUs).
A single process (no ``torchrun``) is a world of one, and every collective is the identity.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class World:
    """The place of this process among the data-parallel processes."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Return True for the process that writes checkpoints, logs and the card."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Return True when more than one process trains."""
        return self.size > 1


def from_environment() -> World:
    """Return the world ``torchrun`` described in the environment (a world of one without)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    return World(
        rank=int(os.environ.get("RANK", "0")),
        size=size,
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )


def start(world: World, device: torch.device, timeout_s: float = 600.0) -> None:
    """Join the process group of ``world`` (gloo on CPU, NCCL on CUDA); nothing for one process."""
    import torch.distributed as dist

    if not world.distributed or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, timeout=timedelta(seconds=timeout_s))


def stop(world: World) -> None:
    """Leave the process group."""
    import torch.distributed as dist

    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def all_sum(tensor: torch.Tensor, world: World) -> torch.Tensor:
    """Return the sum of ``tensor`` over the processes (in place for the collective)."""
    import torch.distributed as dist

    if world.distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def from_main(tensor: torch.Tensor, world: World) -> torch.Tensor:
    """Return rank 0's ``tensor`` on every process (its shape may differ on the others)."""
    import torch
    import torch.distributed as dist

    if not world.distributed:
        return tensor
    shape = torch.tensor(list(tensor.shape), dtype=torch.long, device=tensor.device)
    length = torch.tensor([len(shape)], device=tensor.device)
    dist.broadcast(length, 0)
    if world.rank != 0:
        shape = torch.zeros(int(length), dtype=torch.long, device=tensor.device)
    dist.broadcast(shape, 0)
    if world.rank != 0:
        tensor = torch.zeros(tuple(shape.tolist()), dtype=tensor.dtype, device=tensor.device)
    tensor = tensor.contiguous()
    dist.broadcast(tensor, 0)
    return tensor


def barrier(world: World) -> None:
    """Wait until every process reaches this point."""
    import torch.distributed as dist

    if world.distributed:
        dist.barrier()
