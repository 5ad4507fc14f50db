"""Decision regions: the grid covers the data, and the contour drawn on it follows the model's real boundary."""

from __future__ import annotations

import math
import numpy as np
import pytest

from clf_tui.engine import DataError, RunConfig, Trainer
from clf_tui.engine.regions import RegionGrid, contour_cells, grid_probabilities


@pytest.fixture(scope="module")
def separable_logistic(tmp_path_factory: pytest.TempPathFactory) -> Trainer:
    """A logistic regression trained on two well separated clouds of points, oblique to both axes."""
    rng = np.random.default_rng(3)
    n = 150
    centres = np.array([[-2.0, 1.5], [2.0, -1.0]])
    X = np.concatenate([rng.normal(centre, 0.6, size=(n, 2)) for centre in centres])
    y = np.repeat(["left", "right"], n)
    path = tmp_path_factory.mktemp("regions") / "clouds.csv"
    lines = ["a,b,side"] + [f"{a:.5f},{b:.5f},{label}" for (a, b), label in zip(X, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    config = RunConfig(dataset=str(path), target="side", model="logistic", epochs=40, lr=0.05, device="cpu")
    trainer = Trainer.from_config(config)
    trainer.train(config.epochs)
    return trainer


@pytest.mark.parametrize("threshold", [0.5, 0.15, 0.9])
@pytest.mark.parametrize("shape", [(60, 20), (23, 41)])
def test_the_contour_lies_on_the_logistic_boundary_within_one_cell(
    separable_logistic: Trainer, threshold: float, shape: tuple[int, int]
) -> None:
    trainer = separable_logistic
    grid = RegionGrid.covering(trainer.data.X_train, *shape)
    marked = contour_cells(grid_probabilities(trainer, grid), threshold)
    layer = trainer.model[0]
    w = layer.weight.detach().double().numpy()[0]
    b = float(layer.bias.detach()[0])
    gx, gy = np.meshgrid(grid.xs, grid.ys)
    # Signed distance of each cell centre from w.x + b = logit(threshold), in units of w.x.
    level = w[0] * gx + w[1] * gy + b - math.log(threshold / (1 - threshold))
    dx, dy = grid.cell_size
    one_cell = abs(w[0]) * dx + abs(w[1]) * dy  # how far w.x changes across one cell each way
    assert marked.any()
    # Every marked cell is within one cell of the line...
    assert (np.abs(level[marked]) <= one_cell).all()
    # ...and every cell the line runs through is marked, or has a marked neighbour.
    crossed = np.abs(level) <= one_cell / 2
    near_marked = marked.copy()
    near_marked[1:] |= marked[:-1]
    near_marked[:-1] |= marked[1:]
    near_marked[:, 1:] |= marked[:, :-1]
    near_marked[:, :-1] |= marked[:, 1:]
    assert crossed.any()
    assert near_marked[crossed].all()


def test_the_grid_covers_every_row_with_a_margin() -> None:
    X = np.random.default_rng(0).normal(size=(300, 2)) * [3.0, 0.5] + [10.0, -4.0]
    grid = RegionGrid.covering(X, 40, 15)
    assert grid.shape == (15, 40)
    dx, dy = grid.cell_size
    assert grid.xs[0] - dx / 2 < X[:, 0].min() and grid.xs[-1] + dx / 2 > X[:, 0].max()
    assert grid.ys[0] - dy / 2 < X[:, 1].min() and grid.ys[-1] + dy / 2 > X[:, 1].max()
    rows, columns = grid.cells_of(X)
    # Each row falls in the cell whose bounds hold it.
    assert (np.abs(X[:, 0] - grid.xs[columns]) <= dx / 2 + 1e-9).all()
    assert (np.abs(X[:, 1] - grid.ys[rows]) <= dy / 2 + 1e-9).all()
    points = grid.points()
    assert points.shape == (15 * 40, 2) and points.dtype == np.float32
    assert np.allclose(points[41], [grid.xs[1], grid.ys[1]])  # row by row from the lowest


def test_a_constant_feature_still_gets_a_grid() -> None:
    X = np.column_stack([np.linspace(0, 1, 10), np.full(10, 7.0)])
    grid = RegionGrid.covering(X, 5, 4)
    assert grid.ys[0] < 7.0 < grid.ys[-1]


def test_multiclass_probabilities_have_a_class_axis() -> None:
    config = RunConfig(dataset="blobs", n_classes=3, n_samples=120, epochs=2, device="cpu")
    trainer = Trainer.from_config(config)
    trainer.train(2)
    grid = RegionGrid.covering(trainer.data.X_train, 7, 5)
    probabilities = grid_probabilities(trainer, grid)
    assert probabilities.shape == (5, 7, 3)
    assert np.allclose(probabilities.sum(axis=2), 1.0, atol=1e-5)
    assert np.array_equal(probabilities.reshape(-1, 3), trainer.predict_proba(grid.points()))


@pytest.mark.parametrize("n_features", [1, 3, 64])
def test_data_without_two_features_is_refused_with_the_reason(n_features: int) -> None:
    with pytest.raises(DataError, match=f"exactly 2 features; this data has {n_features}"):
        RegionGrid.covering(np.zeros((10, n_features)), 10, 10)


def test_an_empty_split_is_refused() -> None:
    with pytest.raises(DataError, match="at least one row"):
        RegionGrid.covering(np.zeros((0, 2)), 10, 10)


def test_contour_marks_the_nearer_cell_of_each_crossing() -> None:
    probability = np.array([[0.1, 0.45, 0.7, 0.9]])
    assert contour_cells(probability, 0.5).tolist() == [[False, True, False, False]]
    assert contour_cells(probability, 0.65).tolist() == [[False, False, True, False]]
    assert not contour_cells(probability, 0.05).any()
    # A probability equal to the threshold is on the positive side, as in the confusion matrix.
    assert contour_cells(np.array([[0.2], [0.5]]), 0.5).tolist() == [[False], [True]]

