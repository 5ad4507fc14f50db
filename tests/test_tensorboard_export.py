"""`clf-tui train --tensorboard DIR`: the event files read back equal metrics.csv and the engine's PR curves."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import precision_score, recall_score
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData
from tensorboard.util import tensor_util

from clf_tui.cli import main
from clf_tui.engine import RunConfig, Trainer
from clf_tui.engine.metrics import BinaryEval
from clf_tui.tensorboard_export import PR_THRESHOLDS, scalar_tag
from tests.limits import HANG_S

RATE_TOLERANCE = 1e-6
"""TensorBoard stores a PR curve's precision and recall as float32: within 1e-6 of the engine's float64."""


def read_log(log_dir: Path) -> EventAccumulator:
    log = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "tensors": 0})
    log.Reload()
    return log


def metrics_rows(out: Path) -> list[dict[str, str]]:
    with (out / "metrics.csv").open() as handle:
        return list(csv.DictReader(handle))


def assert_scalars_equal_the_csv(log: EventAccumulator, rows: list[dict[str, str]]) -> None:
    """Every column of metrics.csv but the epoch and the final row's own (its threshold and intervals) is a scalar
    series with one point per row, at step = epoch, equal to the CSV's value stored as TensorBoard stores it
    (float32)."""
    columns = [column for column in rows[0]
               if column not in ("epoch", "threshold") and not column.endswith(("_low", "_high"))]
    assert sorted(log.Tags()["scalars"]) == sorted(scalar_tag(column) for column in columns)
    for column in columns:
        logged = [(event.step, event.value) for event in log.Scalars(scalar_tag(column))]
        assert logged == [(int(row["epoch"]), float(np.float32(row[column]))) for row in rows], column


def assert_pr_curve_is_the_engines(log: EventAccumulator, tag: str, epoch: int, is_positive: np.ndarray,
                                   scores: np.ndarray) -> None:
    """At each of TensorBoard's thresholds i / (PR_THRESHOLDS - 1): the counts equal the engine's exactly,
    and precision and recall the engine's and scikit-learn's within RATE_TOLERANCE."""
    (event,) = log.Tensors(tag)
    assert event.step == epoch
    tp, fp, tn, fn, precision, recall = tensor_util.make_ndarray(event.tensor_proto)
    evaluation = BinaryEval(is_positive.astype(np.int8), scores)
    for i in range(PR_THRESHOLDS):
        threshold = i / (PR_THRESHOLDS - 1)
        report = evaluation.at(threshold)
        assert (tp[i], fp[i], tn[i], fn[i]) == (report.tp, report.fp, report.tn, report.fn), threshold
        assert precision[i] == pytest.approx(report.precision, abs=RATE_TOLERANCE)
        assert recall[i] == pytest.approx(report.recall, abs=RATE_TOLERANCE)
        predicted = scores >= scores.dtype.type(threshold)
        assert precision[i] == pytest.approx(precision_score(is_positive, predicted, zero_division=0),
                                             abs=RATE_TOLERANCE)
        assert recall[i] == pytest.approx(recall_score(is_positive, predicted, zero_division=0), abs=RATE_TOLERANCE)


@pytest.mark.parametrize(("dataset", "options"), [
    ("moons", ["--n-samples", "300", "--epochs", "6"]),
    ("iris", ["--epochs", "8", "--hidden", "8"]),
])
def test_the_log_holds_the_csvs_scalars_the_final_pr_curves_and_the_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dataset: str, options: list[str]
) -> None:
    out, log_dir = tmp_path / "run", tmp_path / "tb"
    assert main(["train", "--dataset", dataset, *options, "--device", "cpu", "--out", str(out),
                 "--tensorboard", str(log_dir)]) == 0
    assert f"tensorboard {log_dir}" in capsys.readouterr().out
    log = read_log(log_dir)
    rows = metrics_rows(out)
    assert_scalars_equal_the_csv(log, rows)

    trainer = Trainer.from_checkpoint(out / "checkpoint.pt")
    y_true, y_prob = trainer.evaluate()
    names = trainer.data.class_names
    epoch = int(rows[-1]["epoch"])
    if y_prob.ndim == 1:  # binary: the positive class's curve alone
        assert log.Tags()["tensors"] == [f"pr/{names[1]}"]
        assert_pr_curve_is_the_engines(log, f"pr/{names[1]}", epoch, y_true == 1, y_prob)
    else:  # multiclass: each class against the rest
        assert sorted(log.Tags()["tensors"]) == sorted(f"pr/{name}" for name in names)
        for c, name in enumerate(names):
            assert_pr_curve_is_the_engines(log, f"pr/{name}", epoch, y_true == c, y_prob[:, c])

    hparams = log.PluginTagToContent("hparams")
    settings = HParamsPluginData.FromString(hparams["_hparams_/session_start_info"]).session_start_info.hparams
    config = RunConfig.load(out / "config.toml")
    assert settings["dataset"].string_value == dataset
    assert settings["lr"].number_value == config.lr and settings["epochs"].number_value == config.epochs
    assert settings["hidden"].string_value == ",".join(map(str, config.hidden))
    experiment = HParamsPluginData.FromString(hparams["_hparams_/experiment"]).experiment
    assert sorted(metric.name.tag for metric in experiment.metric_infos) == sorted(log.Tags()["scalars"])


def test_a_resumed_run_continues_the_log_at_its_epochs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, log_dir = tmp_path / "run", tmp_path / "tb"
    assert main(["train", "--n-samples", "200", "--epochs", "3", "--device", "cpu", "--out", str(out),
                 "--tensorboard", str(log_dir)]) == 0
    assert main(["train", "--resume", str(out / "checkpoint.pt"), "--epochs", "2", "--out", str(out),
                 "--tensorboard", str(log_dir)]) == 0
    capsys.readouterr()
    log = read_log(log_dir)
    rows = metrics_rows(out)
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3, 4, 5]
    assert_scalars_equal_the_csv(log, rows)
    assert [event.step for event in log.Tensors("pr/1")] == [3, 5]


def test_a_log_folder_that_cannot_be_made_is_one_line_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder")
    out = tmp_path / "run"
    for log_dir in (in_the_way, in_the_way / "tb"):
        assert main(["train", "--n-samples", "200", "--epochs", "2", "--out", str(out),
                     "--tensorboard", str(log_dir)]) == 2
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1 and f"--tensorboard {log_dir}: cannot write there" in captured.err
        assert "epoch" not in captured.out and not (out / "checkpoint.pt").exists()
    assert in_the_way.read_text() == "not a folder"


def test_without_tensorboard_installed_the_option_says_how_to_install_it_before_anything_runs(
    tmp_path: Path,
) -> None:
    # The real import machinery: a None entry in sys.modules makes `import tensorboard` fail as if it were absent.
    script = (
        "import sys; sys.modules['tensorboard'] = None\n"
        "from clf_tui.cli import main\n"
        f"sys.exit(main(['train', '--n-samples', '200', '--epochs', '2', '--out', {str(tmp_path / 'run')!r}, "
        f"'--tensorboard', {str(tmp_path / 'tb')!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=HANG_S)
    assert result.returncode == 2
    assert result.stderr == ("clf-tui: error: --tensorboard needs the tensorboard package: "
                             "pip install 'clf-tui[tensorboard]'\n")
    assert result.stdout == "" and list(tmp_path.iterdir()) == []
