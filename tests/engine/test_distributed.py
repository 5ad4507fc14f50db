"""Training on several processes: how ranks share the rows, and a real 2-process torchrun run on the CPU."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.data import DataLoader, TensorDataset

from clf_tui.engine import ClfError, DataError, RunConfig, TensorBatches, Trainer, read_checkpoint
from clf_tui.engine.batching import block_of_rows, shard_permutation
from clf_tui.engine.distributed import Launch, torchrun_launch
from clf_tui.engine.metrics import summary
from tests.limits import HANG_S

EPOCHS = 4
# 322 training rows share evenly between 2 ranks (no padding, so the run equals one
# process at twice the batch); 81 validation rows do not (blocks of 40 and 41).
RUN_OPTIONS = ("--n-samples", "403", "--epochs", str(EPOCHS), "--batch-size", "16")


@pytest.mark.parametrize("world_size", [1, 2, 3, 4])
@pytest.mark.parametrize("n_rows", [8, 9, 10, 11])
def test_shards_of_a_permutation_are_equal_and_interleave_back_into_it(n_rows: int, world_size: int) -> None:
    order = torch.randperm(n_rows)
    shares = [shard_permutation(order, rank, world_size) for rank in range(world_size)]
    assert len({len(share) for share in shares}) == 1  # every rank takes the same number of steps
    padding = -n_rows % world_size
    # Step by step the ranks together take the order as it runs, then the padding from its start.
    interleaved = torch.stack(shares, dim=1).flatten()
    assert torch.equal(interleaved, torch.cat([order, order[:padding]]))


@pytest.mark.parametrize("world_size", [1, 2, 3, 4])
@pytest.mark.parametrize("n_rows", [4, 9, 81])
def test_blocks_of_rows_cover_the_rows_once_in_order(n_rows: int, world_size: int) -> None:
    blocks = [block_of_rows(n_rows, rank, world_size) for rank in range(world_size)]
    assert [row for block in blocks for row in block] == list(range(n_rows))
    assert max(map(len, blocks)) - min(map(len, blocks)) <= 1


def test_sharded_batches_give_each_rank_a_disjoint_share_of_the_same_order() -> None:
    X, y = torch.arange(22.0).reshape(11, 2), torch.arange(11)
    ranks = [TensorBatches(X, y, 2, generator=torch.Generator().manual_seed(3), shard=(rank, 2)) for rank in range(2)]
    taken = [torch.cat([y_batch for _, y_batch in loader]) for loader in ranks]
    assert len(ranks[0]) == len(ranks[1]) == 3 and len(taken[0]) == len(taken[1]) == 6
    order = torch.randperm(11, generator=torch.Generator().manual_seed(3))
    assert torch.equal(torch.stack(taken, dim=1).flatten(), torch.cat([order, order[:1]]))

    evaluation = [TensorBatches(X, y, 4, shuffle=False, shard=(rank, 2)) for rank in range(2)]
    assert torch.equal(torch.cat([y_batch for loader in evaluation for _, y_batch in loader]), y)


def test_a_launch_is_read_from_torchruns_environment() -> None:
    assert torchrun_launch({}) is None
    launch = torchrun_launch({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"})
    assert launch == Launch(rank=3, world_size=4, local_rank=1) and not launch.is_main


def test_distribute_refuses_what_ranks_cannot_share_before_joining_a_group() -> None:
    trainer = Trainer.from_config(RunConfig(n_samples=20))
    with (
        pytest.raises(DataError, match="validation split has 4 rows, fewer than the 8 processes"),
        trainer.distribute(Launch(rank=0, world_size=8, local_rank=0)),
    ):
        pass
    X, y = torch.zeros(8, 2), torch.zeros(8, 1)
    trainer.set_loaders(DataLoader(TensorDataset(X, y), batch_size=4))
    with (
        pytest.raises(ClfError, match="needs the engine's TensorBatches"),
        trainer.distribute(Launch(rank=0, world_size=2, local_rank=0)),
    ):
        pass


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs torch.distributed with gloo")
def test_two_processes_train_like_one_with_twice_the_batch_and_only_rank_0_writes(tmp_path: Path) -> None:
    out, log_dir = tmp_path / "run", tmp_path / "tb"
    env = {name: value for name, value in os.environ.items() if name not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    # --standalone: a rendezvous on a free local port, so parallel test runs do not clash.
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "clf_tui", "train", *RUN_OPTIONS, "--out", str(out), "--tensorboard", str(log_dir)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=HANG_S, env=env)
    assert result.returncode == 0, result.stderr
    # One set of progress lines and files: rank 1 printed and wrote nothing of its own.
    assert len(re.findall(r"^epoch \d+/", result.stdout, flags=re.MULTILINE)) == EPOCHS
    assert result.stdout.count("checkpoint  ") == 1 and "rank 0 of 2 processes, gloo" in result.stdout
    assert sorted(path.name for path in out.iterdir()) == ["checkpoint.pt", "config.toml", "metrics.csv"]
    assert len(list(log_dir.iterdir())) == 1  # rank 0's TensorBoard event file
    with (out / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    recorded = rows[-1]
    log = EventAccumulator(str(log_dir))
    log.Reload()
    assert [event.step for event in log.Scalars("loss/train")] == [int(row["epoch"]) for row in rows]

    # The checkpoint (plain weights, no DDP prefix) loads in one process, which gets the
    # metrics that the two ranks gathered: the same rows, in the same order, with the same weights.
    trainer = Trainer.from_checkpoint(out / "checkpoint.pt")
    y_true, y_prob = trainer.evaluate()
    one_process = summary(y_true, y_prob, trainer.n_classes)
    assert float(recorded["val_accuracy"]) == one_process["accuracy"]
    assert float(recorded["val_auroc"]) == pytest.approx(one_process["auroc"], rel=1e-9)
    assert float(recorded["val_average_precision"]) == pytest.approx(one_process["average_precision"], rel=1e-9)
    data = trainer.data
    outputs = torch.from_numpy(trainer.predict(data.X_val))
    val_loss = trainer.loss_fn(outputs, trainer.spec.target(torch.from_numpy(data.y_val), data.n_classes)).item()
    # float32 losses summed per rank's block instead of over all rows at once
    assert float(recorded["val_loss"]) == pytest.approx(val_loss, rel=1e-6)

    # Each step of the two ranks together took the rows that one process takes at batch 32:
    # disjoint shares that cover the epoch's order. Only the sums' rounding differs.
    state = read_checkpoint(out / "checkpoint.pt")
    reference = Trainer.from_config(RunConfig.load(out / "config.toml").replace(batch_size=32))
    reference.train(EPOCHS)
    assert state["history"]["loss"] == pytest.approx(reference.losses, rel=1e-5)
    assert state["history"]["val_loss"] == pytest.approx(reference.val_losses, rel=1e-5)
    for name, weights in reference.model.state_dict().items():
        torch.testing.assert_close(state["model_state"][name], weights, rtol=1e-5, atol=1e-6)
