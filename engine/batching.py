"""Fast mini-batching of tensors that already sit on the training device."""

from __future__ import annotations

from collections.abc import Iterator

import torch


class TensorBatches:
    """Mini-batches of ``(X, y)`` without a DataLoader.

    Each epoch draws one permutation from ``generator`` (on the CPU, so the order is
    the same on every device) and yields rows gathered by contiguous slices of it;
    no copy of the whole data set is made per epoch. Unshuffled, it yields views.

    With ``shard=(rank, world_size)`` it yields only that rank's rows. Shuffled (for
    training), every rank draws the same permutation and takes its strided share,
    padded so that all ranks take the same number of steps (``shard_permutation``).
    Unshuffled (for evaluation), each rank takes a contiguous block and no row
    twice (``block_of_rows``), so the blocks gathered in rank order are the rows.
    """

    def __init__(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        *,
        shuffle: bool = True,
        generator: torch.Generator | None = None,
        shard: tuple[int, int] | None = None,
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
        self.shard = shard

    @property
    def n_samples(self) -> int:
        """Rows of the data set, all ranks' together."""
        return len(self.X)

    def __len__(self) -> int:
        return -(-self._rows_per_epoch() // self.batch_size)

    def _rows_per_epoch(self) -> int:
        """Rows this loader yields an epoch: all of them, or its rank's share."""
        n = len(self.X)
        if self.shard is None:
            return n
        rank, world_size = self.shard
        return -(-n // world_size) if self.shuffle else len(block_of_rows(n, rank, world_size))

    def to(self, device: torch.device) -> TensorBatches:
        """Move the data to ``device`` (in place) and return self."""
        self.X = self.X.to(device)
        self.y = self.y.to(device)
        return self

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n, size = len(self.X), self.batch_size
        if not self.shuffle:
            rows = range(n) if self.shard is None else block_of_rows(n, *self.shard)
            for start in range(rows.start, rows.stop, size):
                stop = min(start + size, rows.stop)
                yield self.X[start:stop], self.y[start:stop]
            return
        order = torch.randperm(n, generator=self.generator)
        if self.shard is not None:
            order = shard_permutation(order, *self.shard)
        order = order.to(self.X.device, non_blocking=True)
        for start in range(0, len(order), size):
            index = order[start : start + size]
            yield self.X.index_select(0, index), self.y.index_select(0, index)


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
