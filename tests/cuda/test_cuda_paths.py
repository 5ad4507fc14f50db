"""Every path that runs on a device, run on CUDA and held against the CPU: checkpoints across devices, the
command line, the batched compare, the region grid and the range test. They skip without CUDA;
bench/gpu_check.sh runs them where there is one."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from clf_tui.cli import main
from clf_tui.engine import RunConfig, Trainer, compare, find_lr
from clf_tui.engine.regions import RegionGrid, grid_probabilities

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]

DEVICE = "cuda"
PROBABILITY_ATOL = 1e-5
"""The same float32 weights on two devices round differently in the 7th digit, no more."""
TRAINING_RTOL = 1e-3
"""A few epochs trained on two devices: the GPU's reductions run in another order, and Adam carries the rounding."""


def config(**changes: object) -> RunConfig:
    """600 rows of moons for 3 epochs, unless ``changes`` say otherwise."""
    return RunConfig(**{"dataset": "moons", "n_samples": 600, "epochs": 3, **changes})


def trained(device: str, **changes: object) -> Trainer:
    trainer = Trainer.from_config(config(device=device, **changes))
    trainer.train(3)
    return trainer


def test_a_checkpoint_written_on_cuda_evaluates_alike_on_the_cpu_and_trains_on(tmp_path: Path) -> None:
    path = trained(DEVICE).save_checkpoint(tmp_path / "gpu.pt")
    on_cpu, on_gpu = Trainer.from_checkpoint(path, device="cpu"), Trainer.from_checkpoint(path, device=DEVICE)
    (y_cpu, p_cpu), (y_gpu, p_gpu) = on_cpu.evaluate(), on_gpu.evaluate()
    np.testing.assert_array_equal(y_cpu, y_gpu)
    np.testing.assert_allclose(p_cpu, p_gpu, atol=PROBABILITY_ATOL)
    assert on_cpu.device.type == "cpu" and on_cpu.total_epochs == 3
    on_cpu.train(1)
    assert on_cpu.total_epochs == 4


def test_a_run_saved_on_the_cpu_resumes_on_cuda_as_it_would_have_gone_on(tmp_path: Path) -> None:
    whole = Trainer.from_config(config(device="cpu", epochs=5))
    whole.train(5)
    path = trained("cpu").save_checkpoint(tmp_path / "cpu.pt")
    resumed = Trainer.from_checkpoint(path, device=DEVICE)
    resumed.train(2)
    np.testing.assert_allclose(resumed.losses, whole.losses, rtol=TRAINING_RTOL)


def test_the_command_line_trains_on_cuda_and_evaluates_alike_on_both_devices(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["train", "--n-samples", "600", "--epochs", "3", "--device", DEVICE, "--out", str(out)]) == 0
    capsys.readouterr()
    printed = {}
    for device in ("cpu", DEVICE):
        assert main(["eval", str(out / "checkpoint.pt"), "--device", device]) == 0
        printed[device] = re.findall(r"-?\d+\.\d+", capsys.readouterr().out)
    assert printed["cpu"] and len(printed["cpu"]) == len(printed[DEVICE])
    for a, b in zip(printed["cpu"], printed[DEVICE]):  # one unit of the last digit: a metric may round the other way
        assert abs(float(a) - float(b)) <= 1.01 * 10.0 ** -len(a.partition(".")[2])


def test_the_batched_compare_on_cuda_trains_each_seed_as_the_cpu_does() -> None:
    results = {}
    for device in ("cpu", DEVICE):
        *_, ended = compare([config(device=device)], 4)
        results[device] = ended.comparison.configs[0].runs
    for on_cpu, on_gpu in zip(results["cpu"], results[DEVICE]):
        assert on_cpu.seed == on_gpu.seed and on_cpu.end == on_gpu.end
        np.testing.assert_allclose(on_gpu.train_losses, on_cpu.train_losses, rtol=TRAINING_RTOL)
        np.testing.assert_allclose(on_gpu.val_losses, on_cpu.val_losses, rtol=TRAINING_RTOL)


@pytest.mark.parametrize("dataset", ["moons", "blobs"])
def test_the_region_grid_on_cuda_is_the_cpus(dataset: str, tmp_path: Path) -> None:
    path = trained(DEVICE, dataset=dataset).save_checkpoint(tmp_path / "run.pt")
    on_cpu, on_gpu = Trainer.from_checkpoint(path, device="cpu"), Trainer.from_checkpoint(path, device=DEVICE)
    grid = RegionGrid.covering(on_cpu.data.X_train, 60, 40)
    np.testing.assert_allclose(grid_probabilities(on_gpu, grid), grid_probabilities(on_cpu, grid),
                               atol=PROBABILITY_ATOL)


def test_the_range_test_on_cuda_sees_the_cpus_losses(tmp_path: Path) -> None:
    path = trained(DEVICE, batch_size=64).save_checkpoint(tmp_path / "run.pt")
    on_cpu, on_gpu = Trainer.from_checkpoint(path, device="cpu"), Trainer.from_checkpoint(path, device=DEVICE)
    a = find_lr(on_gpu, start_lr=1e-5, end_lr=0.1, n_steps=30)
    b = find_lr(on_cpu, start_lr=1e-5, end_lr=0.1, n_steps=30)
    assert a.lrs == b.lrs
    np.testing.assert_allclose(a.losses, b.losses, rtol=TRAINING_RTOL)
