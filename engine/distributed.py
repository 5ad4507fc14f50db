"""Training as one of several processes started by torchrun: the launch, the process group, sharding, gathering."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class Launch:
    """This process's place in a torchrun launch."""

    rank: int
    """Rank among all processes, on every machine (0 to world_size - 1)."""
    world_size: int
    """Processes in the launch, on every machine together."""
    local_rank: int
    """Rank among the processes on this machine; picks the GPU."""

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0, the one process that prints and writes files."""
        return self.rank == 0


def torchrun_launch(environ: Mapping[str, str] = os.environ) -> Launch | None:
    """The launch that torchrun describes in the environment, or None when started on its own."""
    if not all(name in environ for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK")):
        return None
    return Launch(int(environ["RANK"]), int(environ["WORLD_SIZE"]), int(environ["LOCAL_RANK"]))


def rank_device(launch: Launch, device: torch.device) -> torch.device:
    """Where this rank trains: its own GPU, cuda:LOCAL_RANK, when training on CUDA, else the CPU."""
    return torch.device("cuda", launch.local_rank) if device.type == "cuda" else torch.device("cpu")


def join(launch: Launch, device: torch.device) -> str:
    """Join the launch's process group, NCCL between GPUs and gloo between CPUs; returns the backend."""
    if device.type == "cuda":
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", rank=launch.rank, world_size=launch.world_size, device_id=device)
        return "nccl"
    dist.init_process_group("gloo", rank=launch.rank, world_size=launch.world_size)
    return "gloo"


def leave() -> None:
    """Leave the process group, if this process joined one."""
    if dist.is_initialized():
        dist.destroy_process_group()


def wrap_model(model: nn.Module, device: torch.device) -> DistributedDataParallel:
    """``model`` under DistributedDataParallel, which averages the gradients of all ranks in backward."""
    return DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)


def shard_permutation(order: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """This rank's share of an epoch's batch order: every ``world_size``-th entry, from ``rank`` on.

    The order is first padded by wrapping around to its start, so that every rank gets
    the same number of rows and takes the same number of steps: DDP all-reduces the
    gradients at every step, and a rank with one step fewer would leave the others
    waiting for ever. At most ``world_size - 1`` rows, different ones each epoch, are
    seen twice; dropping them instead would leave rows unseen. Striding keeps step k
    of all ranks together on rows ``order[k * B * world_size : (k + 1) * B * world_size]``
    at batch size B, as one process takes them at batch size B * world_size.

    Needs ``len(order) >= world_size``.
    """
    padding = -len(order) % world_size
    return torch.cat([order, order[:padding]])[rank::world_size]


def block_of_rows(n_rows: int, rank: int, world_size: int) -> range:
    """This rank's contiguous block of ``n_rows`` rows; blocks differ in size by one row at most.

    For evaluation, where each row must count once: the blocks of ranks 0, 1, ...
    concatenated are the rows in their order.
    """
    return range(rank * n_rows // world_size, (rank + 1) * n_rows // world_size)


def mean_across_ranks(value: float, device: torch.device) -> float:
    """The mean of ``value`` over all ranks, the same on every rank."""
    total = torch.tensor(value, dtype=torch.float64, device=device)
    dist.all_reduce(total)
    return total.item() / dist.get_world_size()


def sum_across_ranks(total: torch.Tensor, count: int) -> tuple[torch.Tensor, int]:
    """A scalar ``total`` and a ``count``, each summed over all ranks."""
    both = torch.stack([total.double(), torch.tensor(count, dtype=torch.float64, device=total.device)])
    dist.all_reduce(both)
    return both[0], int(both[1])


def gather_rows(rows: torch.Tensor) -> torch.Tensor:
    """Every rank's ``rows`` concatenated in rank order, on every rank; ranks may hold different numbers of rows.

    all_gather needs the same shape on every rank, so each pads its rows to the
    longest rank's and the padding is cut off again after the gather.
    """
    world_size = dist.get_world_size()
    count = torch.tensor([len(rows)], device=rows.device)
    counts = [torch.empty_like(count) for _ in range(world_size)]
    dist.all_gather(counts, count)
    sizes = [int(c) for c in counts]
    padded = rows.new_zeros((max(sizes), *rows.shape[1:]))
    padded[: len(rows)] = rows
    blocks = [torch.empty_like(padded) for _ in range(world_size)]
    dist.all_gather(blocks, padded)
    return torch.cat([block[:size] for block, size in zip(blocks, sizes)])
