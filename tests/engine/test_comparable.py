"""Metrics on one scale: log loss and AUROC equal scikit-learn's on any probabilities, and a comparison of
configurations that train with other losses reports them for each seed as scikit-learn does on that seed's
probabilities; each configuration's own loss keeps its name, in the rows and the CSV columns."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import log_loss as sklearn_log_loss
from sklearn.metrics import roc_auc_score

from clf_tui.engine import RunConfig, Trainer
from clf_tui.engine.comparable import comparable_metrics, log_loss, macro_auroc
from clf_tui.engine.compare import compare
from clf_tui.engine.comparison import Comparison, loss_column, loss_label
from clf_tui.render.compare_report import box_plots, comparison_table
from rich.console import Console

CUBIC = RunConfig(dataset="cubic", hidden=(8,), epochs=6, device="cpu")
IRIS = RunConfig(dataset="iris", hidden=(8,), epochs=6, batch_size=16, device="cpu")


def binary_case(rng: np.random.Generator, dtype: type, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    y_true = rng.integers(0, 2, n)
    y_prob = rng.uniform(size=n).astype(dtype)
    y_prob[:10], y_prob[10:20] = 0.0, 1.0  # as mse's clipped outputs give: certain, and sometimes wrong
    y_prob[20:40] = np.round(y_prob[20:40], 1)  # ties
    return y_true, y_prob


def multiclass_case(rng: np.random.Generator, dtype: type, n: int = 300, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    y_true = rng.integers(0, k, n)
    y_prob = rng.dirichlet(np.ones(k), size=n)
    y_prob[:10] = np.eye(k)[rng.integers(0, k, 10)]  # one-hot rows, some on the wrong class
    y_prob = y_prob.astype(dtype)
    return y_true, y_prob / y_prob.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(5))
def test_log_loss_and_auroc_are_scikit_learns(dtype: type, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true, y_prob = binary_case(rng, dtype)
    assert log_loss(y_true, y_prob) == pytest.approx(sklearn_log_loss(y_true, y_prob), rel=1e-6)
    binary = comparable_metrics(y_true, y_prob, 2)
    assert binary["auroc"] == pytest.approx(roc_auc_score(y_true, y_prob), abs=1e-12)
    assert binary["log_loss"] == log_loss(y_true, y_prob)
    assert math.isfinite(binary["log_loss"])  # a probability of 0 for the true class is clipped, as scikit-learn's
    y_true, y_prob = multiclass_case(rng, dtype)
    assert log_loss(y_true, y_prob) == pytest.approx(sklearn_log_loss(y_true, y_prob), rel=1e-6)
    auroc = roc_auc_score(y_true, y_prob, multi_class="ovr", average="macro")
    assert macro_auroc(y_true, y_prob) == pytest.approx(auroc, abs=1e-12)
    assert set(comparable_metrics(y_true, y_prob, 4)) == {"accuracy", "macro_f1", "auroc", "log_loss"}


def comparison_of(configs: list[RunConfig], n_seeds: int) -> Comparison:
    comparison = list(compare(configs, n_seeds))[-1].comparison
    assert comparison is not None
    return comparison


@pytest.mark.parametrize("configs", [
    [CUBIC, CUBIC.replace(loss="mse"), CUBIC.replace(loss="bce", optimizer="sgd", lr=0.5)],
    [IRIS, IRIS.replace(loss="mse", optimizer="momentum", lr=0.05), IRIS.replace(loss="nll")],
], ids=["binary", "multiclass"])
def test_every_seed_is_measured_as_scikit_learn_measures_its_probabilities(configs: list[RunConfig]) -> None:
    comparison = comparison_of(configs, 3)
    for runs in comparison.configs:
        for run in runs.runs:
            single = Trainer.from_config(runs.config.replace(seed=run.seed))
            single.train(runs.config.epochs)
            y_true, y_prob = single.evaluate()
            final = run.final()
            assert final["val_log_loss"] == pytest.approx(sklearn_log_loss(y_true, y_prob), rel=1e-5)
            multi_class = {} if y_prob.ndim == 1 else {"multi_class": "ovr", "average": "macro"}
            assert final["val_auroc"] == pytest.approx(roc_auc_score(y_true, y_prob, **multi_class), abs=1e-12)
        curve = runs.mean_metric_curve("log_loss")
        assert curve[-1] == pytest.approx(np.mean([run.final()["val_log_loss"] for run in runs.runs]))


def test_each_own_loss_keeps_its_name_in_the_rows_and_the_table() -> None:
    weighted = CUBIC.replace(pos_weight="auto", epochs=2)
    comparison = comparison_of([CUBIC.replace(loss="mse", epochs=2), CUBIC.replace(epochs=2), weighted], 2)
    assert comparison.loss_labels == ("mse", "bce_logits", "bce_logits pos_weight=auto")
    assert loss_label(weighted, "binary") == "bce_logits pos_weight=auto"
    assert loss_column("train_loss", "bce_logits pos_weight=auto") == "train_loss_bce_logits_pos_weight_auto"
    rows = comparison.rows()
    mse_row, weighted_row = rows[0], rows[-1]
    assert mse_row["loss"] == "mse" and "train_loss_bce_logits" not in mse_row and "train_loss" not in mse_row
    assert mse_row["train_loss_mse"] == comparison.configs[0].runs[0].train_losses[-1]
    assert weighted_row["val_loss_bce_logits_pos_weight_auto"] == comparison.configs[2].runs[1].val_losses[-1]
    assert all("val_log_loss" in row for row in rows)
    epoch_rows = comparison.epoch_rows()
    assert "train_loss_mse" in epoch_rows[0] and "train_loss_bce_logits" in epoch_rows[4]  # 2 seeds x 2 epochs each
    assert all("train_loss" not in row and "val_log_loss" in row for row in epoch_rows)

    console = Console(width=200, record=True)
    console.print(comparison_table(comparison))
    lines = console.export_text().splitlines()
    own = {line.split(")")[0] + ")": line.split(")")[1].split() for line in lines if line.startswith("train loss (")}
    mean, std = comparison.configs[0].mean_std("train_loss")
    assert own["train loss (mse)"] == f"{mean:.3f} ± {std:.3f}".split()  # one cell: mse's, under its column
    assert set(own) == {"train loss (mse)", "train loss (bce_logits)", "train loss (bce_logits pos_weight=auto)"}
    assert not any(line.startswith(("val loss", "train loss ")) and "(" not in line for line in lines)
    assert any(line.startswith("log loss ") for line in lines)
    titles = [line for line in box_plots(comparison, 78) if "across" in line]
    assert titles == ["validation accuracy across 2 seeds", "validation AUROC across 2 seeds",
                      "validation log loss across 2 seeds"]
