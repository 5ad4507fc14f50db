"""A user's DataLoader over a TensorDataset, read a whole batch at a time in the loader's own order.

A DataLoader fetches such a batch row by row and stacks the rows again (``default_collate``);
indexing each tensor once with the batch's indices gives the same tensors 2-4x faster at
batch 256 and up. The loader's sampler still draws the order, so runs stay identical.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, TensorDataset, default_collate


def batches(loader: Iterable[Any]) -> Iterator[Any]:
    """One epoch of ``loader``'s batches: gathered by index where that gives the same batches,
    otherwise the loader's own iteration."""
    if _gatherable(loader):
        return _gathered(loader)
    return iter(loader)


def _gatherable(loader: Iterable[Any]) -> bool:
    """A single-process DataLoader that batches a plain TensorDataset with the default collation.

    A subclass of TensorDataset may change what a row is, another collate_fn what a batch is,
    and worker processes the order in which the RNG is drawn; those keep their own path.
    """
    return (
        isinstance(loader, DataLoader)
        and type(loader.dataset) is TensorDataset
        and loader.batch_sampler is not None
        and loader.collate_fn is default_collate
        and loader.num_workers == 0
    )


def _gathered(loader: DataLoader) -> Iterator[list[torch.Tensor]]:
    tensors = loader.dataset.tensors
    # A DataLoader's iterator first draws its workers' base seed from the loader's generator
    # (or the global RNG), then lets the sampler draw the order: draw the same numbers here.
    torch.empty((), dtype=torch.int64).random_(generator=loader.generator)
    for indices in loader.batch_sampler:
        index = torch.as_tensor(indices, dtype=torch.long, device=tensors[0].device)
        yield [tensor.index_select(0, index) for tensor in tensors]
