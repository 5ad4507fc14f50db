"""Optimisers: the trainer's choice of kernel changes speed, not results."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from clf_tui.engine import Trainer
from clf_tui.engine.optimizers import prefer_fused

OPTIMIZERS = {
    "sgd": lambda params: torch.optim.SGD(params, lr=0.1),
    "nesterov": lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda params: torch.optim.Adam(params, lr=0.01),
    "adamw": lambda params: torch.optim.AdamW(params, lr=0.01, weight_decay=0.1, amsgrad=True),
}


def fit(make_optimizer, *, through_trainer: bool) -> list[torch.Tensor]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
    optimizer = make_optimizer(model.parameters())
    if through_trainer:
        Trainer(model, nn.BCEWithLogitsLoss(), optimizer)
        assert all(group["fused"] for group in optimizer.param_groups)
    X = torch.randn(64, 4, generator=torch.Generator().manual_seed(1))
    y = (X.sum(1, keepdim=True) > 0).float()
    for _ in range(50):
        nn.functional.binary_cross_entropy_with_logits(model(X), y).backward()
        optimizer.step()
        optimizer.zero_grad()
    return [p.detach() for p in model.parameters()]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_default_optimiser_runs_fused_and_gives_the_same_weights(name: str) -> None:
    fused = fit(OPTIMIZERS[name], through_trainer=True)
    default = fit(OPTIMIZERS[name], through_trainer=False)
    for ours, theirs in zip(fused, default, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_an_implementation_the_user_chose_is_kept() -> None:
    model = nn.Linear(2, 1)
    chosen = torch.optim.Adam(model.parameters(), foreach=False)
    other = torch.optim.RMSprop(model.parameters())
    for optimizer in (chosen, other):
        prefer_fused(optimizer)
        assert not optimizer.param_groups[0].get("fused")
