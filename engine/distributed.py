"""Training as one of several processes started by torchrun: the launch, the process group, sharding, gathering."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .batching import TensorBatches
from clf_tui.errors import ClfError, DataError

if TYPE_CHECKING:
    from .trainer import Trainer


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


@contextmanager
def distributing(trainer: Trainer, launch: Launch) -> Iterator[Trainer]:
    """``trainer`` as one rank of ``launch`` within the ``with`` block.

    Enter it once loaders and device are set. It joins the launch's process group,
    moves to this rank's device (cuda:LOCAL_RANK when on CUDA) and wraps the model
    in DistributedDataParallel. Every rank draws the same batch order from the same
    seed and trains on its share, ``batch_size`` rows per rank and step. Validation
    splits the rows between the ranks and gathers them back, so every rank gets the
    losses and metrics one process would. Checkpoints hold the unwrapped model's
    weights. Leaving the block unwraps the model and leaves the group.

    Raises ClfError unless both loaders are TensorBatches, the training one shuffled;
    DataError if a split has fewer rows than the launch has processes.
    """
    _check_shardable(trainer, launch.world_size)
    device = rank_device(launch, trainer.device)
    if device != trainer.device:
        trainer.to(device)
    backend = join(launch, device)
    device_note = trainer.device_note
    try:
        trainer.model = wrap_model(trainer.model, device)
        _shard_loaders(trainer, (launch.rank, launch.world_size))
        trainer.launch = launch
        trainer.device_note += f"; rank {launch.rank} of {launch.world_size} processes, {backend}"
        yield trainer
    finally:
        # Unwrap before leaving: DDP's reducer, were it to drop the group last, would tear
        # the group down holding the GIL while gloo's worker thread may still wait for the
        # GIL to free its last collective, and both would wait for ever.
        trainer.model = trainer.unwrapped_model
        _shard_loaders(trainer, None)
        trainer.launch = None
        trainer.device_note = device_note
        leave()


def _shard_loaders(trainer: Trainer, shard: tuple[int, int] | None) -> None:
    for loader in (trainer.train_loader, trainer.val_loader):
        if loader is not None:
            loader.shard = shard


def _check_shardable(trainer: Trainer, world_size: int) -> None:
    """Refuse loaders that ``world_size`` ranks cannot share in step."""
    train, val = trainer.train_loader, trainer.val_loader
    if not (isinstance(train, TensorBatches) and train.shuffle and isinstance(val, (TensorBatches, type(None)))):
        raise ClfError("training on several processes needs the engine's TensorBatches as loaders, "
                       "shuffled for training, so that every rank takes its share in the same number of steps")
    for split, loader in (("training", train), ("validation", val)):
        if loader is not None and loader.n_samples < world_size:
            raise DataError(f"the {split} split has {loader.n_samples} rows, fewer than the {world_size} "
                            "processes that share it; start fewer processes or use more data")
