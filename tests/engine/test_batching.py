"""The fast batching paths train exactly as the course's DataLoader loop: the engine's TensorBatches
against a DataLoader drawing the same order, and a user's DataLoader read a whole batch at a time
against its own iteration."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler, TensorDataset

from clf_tui.engine import RunConfig, Trainer, build_model, build_optimizer, loss_spec
from clf_tui.engine.loader_batches import batches


def course_loop(model: nn.Module, loss_fn: nn.Module, optimizer: torch.optim.Optimizer, loader: DataLoader,
                epochs: int) -> list[float]:
    """The course's training loop; the mean loss per row of each epoch."""
    losses = []
    for _ in range(epochs):
        total = 0.0
        for x_batch, y_batch in loader:
            loss = loss_fn(model(x_batch), y_batch)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            total += loss.item() * len(x_batch)
        losses.append(total / len(loader.dataset))
    return losses


class SameOrder(Sampler[int]):
    """A fresh permutation each epoch from a generator seeded as the trainer seeds its own."""

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self):
        return iter(torch.randperm(self.n, generator=self.generator).tolist())

    def __len__(self) -> int:
        return self.n


@pytest.mark.parametrize("batch_size", [7, 64])
def test_epoch_losses_and_weights_equal_a_dataloader_loop_in_the_same_order(batch_size: int) -> None:
    cfg = RunConfig(dataset="moons", n_samples=300, hidden=(16, 16), batch_size=batch_size, epochs=3, device="cpu")
    trainer = Trainer.from_config(cfg)
    trainer.train(cfg.epochs)

    data = trainer.data
    spec = loss_spec(cfg.resolved_loss(data.task), data.n_classes)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, data.n_features, spec.n_outputs(data.n_classes), hidden=cfg.hidden)
    optimizer = build_optimizer(cfg.optimizer, model.parameters(), lr=cfg.lr)
    loss_fn = spec.make()
    targets = spec.target(torch.from_numpy(data.y_train), data.n_classes)
    loader = DataLoader(TensorDataset(torch.from_numpy(data.X_train), targets), batch_size=batch_size,
                        sampler=SameOrder(len(targets), cfg.seed))
    losses = course_loop(model, loss_fn, optimizer, loader, cfg.epochs)

    assert trainer.losses == pytest.approx(losses, rel=1e-6)
    for ours, theirs in zip(trainer.model.parameters(), model.parameters(), strict=True):
        assert torch.equal(ours, theirs)


def dataset(n: int = 103) -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(n, 3, generator=generator)
    return TensorDataset(X, (X[:, 0] > 0).long(), (X[:, :1] > 0).float())


LOADERS = {
    "shuffled, global RNG": dict(batch_size=16, shuffle=True),
    "shuffled, own generator": dict(batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(5)),
    "in order": dict(batch_size=10),
    "drop_last": dict(batch_size=25, shuffle=True, drop_last=True),
    "one batch": dict(batch_size=500, shuffle=True),
}


@pytest.mark.parametrize("options", LOADERS.values(), ids=LOADERS.keys())
def test_two_epochs_give_the_loaders_own_batches_and_leave_the_rng_where_it_leaves_it(options) -> None:
    loader = DataLoader(dataset(), **options)
    torch.manual_seed(1)
    expected = [list(loader) for _ in range(2)]
    rng_after = torch.get_rng_state()
    torch.manual_seed(1)
    if loader.generator is not None:
        loader.generator.manual_seed(5)
    got = [list(batches(loader)) for _ in range(2)]
    assert torch.equal(torch.get_rng_state(), rng_after)
    assert len(got[0]) == len(expected[0]) == len(loader)
    for epoch_got, epoch_expected in zip(got, expected):
        for batch_got, batch_expected in zip(epoch_got, epoch_expected):
            for tensor_got, tensor_expected in zip(batch_got, batch_expected, strict=True):
                assert tensor_got.dtype == tensor_expected.dtype
                assert torch.equal(tensor_got, tensor_expected)


class Doubled(TensorDataset):
    def __getitem__(self, index):
        x, y = super().__getitem__(index)
        return x * 2, y


def test_loaders_that_change_rows_or_batches_keep_their_own_iteration() -> None:
    X, y = torch.ones(8, 2), torch.zeros(8)
    doubled = list(batches(DataLoader(Doubled(X, y), batch_size=4)))
    assert torch.equal(doubled[0][0], torch.full((4, 2), 2.0))
    counted = list(batches(DataLoader(TensorDataset(X, y), batch_size=4, collate_fn=len)))
    assert counted == [4, 4]


def test_a_trainer_on_a_dataloader_trains_exactly_like_the_course_loop() -> None:
    data = dataset(200)
    X, y = data.tensors[0], data.tensors[2]
    train = TensorDataset(X[:160], y[:160])

    def build() -> tuple[nn.Module, torch.optim.Optimizer, DataLoader]:
        torch.manual_seed(7)
        model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
        loader = DataLoader(train, batch_size=32, shuffle=True, generator=torch.Generator())
        # foreach=False: the trainer keeps an implementation the user chose, so the steps match bit for bit.
        return model, torch.optim.Adam(model.parameters(), lr=0.01, foreach=False), loader

    model, optimizer, loader = build()
    loss_fn = nn.BCEWithLogitsLoss()
    torch.manual_seed(42)  # what train(seed=42) seeds: the global RNG and the loader's sampler
    loader.generator.manual_seed(42)
    course_losses = course_loop(model, loss_fn, optimizer, loader, 3)

    trainer_model, trainer_optimizer, trainer_loader = build()
    trainer = Trainer(trainer_model, nn.BCEWithLogitsLoss(), trainer_optimizer)
    trainer.set_loaders(trainer_loader)
    trainer.train(3, seed=42)
    assert trainer.losses == pytest.approx(course_losses, rel=1e-6)
    for ours, theirs in zip(trainer_model.parameters(), model.parameters(), strict=True):
        assert torch.equal(ours, theirs)
