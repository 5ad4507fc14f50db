"""Fast mini-batching of tensors that already sit on the training device."""

from __future__ import annotations

from collections.abc import Iterator

import torch


class TensorBatches:
    """Mini-batches of ``(X, y)`` without a DataLoader.

    Each epoch draws one permutation from ``generator`` (on the CPU, so the order is
    the same on every device) and yields rows gathered by contiguous slices of it;
    no copy of the whole data set is made per epoch. Unshuffled, it yields views.
    """

    def __init__(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        *,
        shuffle: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {batch_size}")
        self.X = X
        self.y = y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator if generator is not None else torch.Generator()

    @property
    def n_samples(self) -> int:
        return len(self.X)

    def __len__(self) -> int:
        return -(-len(self.X) // self.batch_size)

    def to(self, device: torch.device) -> TensorBatches:
        """Move the data to ``device`` (in place) and return self."""
        self.X = self.X.to(device)
        self.y = self.y.to(device)
        return self

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n, size = len(self.X), self.batch_size
        if not self.shuffle:
            for start in range(0, n, size):
                yield self.X[start : start + size], self.y[start : start + size]
            return
        order = torch.randperm(n, generator=self.generator).to(self.X.device, non_blocking=True)
        for start in range(0, n, size):
            index = order[start : start + size]
            yield self.X.index_select(0, index), self.y.index_select(0, index)
