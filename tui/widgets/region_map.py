"""RegionMap: a model's decision regions over two-feature data, its contour at the threshold, and the points by class."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Literal

import numpy as np
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from clf_tui.engine.regions import RegionGrid, contour_cells

from .. import formatting

CLASS_COLORS = ("#4e8ff0", "#f0a030", "#4cc072", "#d8607a", "#a67ce8", "#50c8d0", "#c8c850", "#e07e4a")
CLASS_MARKS = "ox+*#%@&"
CONTOUR_MARK = "•"
CONTOUR_COLOR = "#ffffff"
MIN_TINT, MAX_TINT = 0.12, 0.55
"""How much of a class's colour a cell takes: MIN_TINT where the model is undecided, MAX_TINT where it is sure."""
TINT_LEVELS = 8
MAX_MARKED_SHARE = 0.3
"""Points in more than this share of the map's cells are thinned, the more the more cells they are in."""
CONTOUR, BLANK = -1, -2
PLAIN_SHADES = " ░▒▓"
"""Without colours (in a text file), each class's region is shaded with its own character."""
PointSet = Literal["validation", "training"]


class RegionMap(Widget):
    """Shades each cell by the class the model predicts there, more strongly the surer it is, marks the
    contour P(positive) = threshold, and draws the points of one split on top, a class's mark in its
    colour (the most frequent class where several share a cell). Where points would cover more than
    MAX_MARKED_SHARE of the cells, the marks are thinned (``thin_marks``) and the legend says so.

    The probabilities come as a grid from the engine (``show``); a grid of another resolution than
    the pane is drawn nearest-cell, so a replayed epoch shows after a resize too. The last line
    gives the axes' ranges; the border says what is drawn.
    """

    DEFAULT_CSS = """
    RegionMap {
        border: round $primary-darken-2;
        border-title-color: $text-primary;
        border-subtitle-color: $text-muted;
    }
    """

    threshold: reactive[float] = reactive(0.5, init=False)
    positive: reactive[int] = reactive(1, init=False)
    """Multiclass: whose P(class) = threshold the contour follows."""

    class Resized(Message):
        """The pane changed size (it is shown, hidden or resized), so the grid to compute may change too."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "decision regions"
        self.points: PointSet = "validation"
        self._grid: RegionGrid | None = None
        self._probability: np.ndarray | None = None
        self._note = "Train a model to see its decision regions."
        self._data: tuple[dict[PointSet, tuple[np.ndarray, np.ndarray]], tuple[str, ...], tuple[str, ...]] | None = None
        self._lines: list[Strip] | None = None

    # -- what to draw -------------------------------------------------------------

    @property
    def available(self) -> bool:
        """Whether the data has the two features a map needs (known once data is set)."""
        return self._data is not None

    @property
    def grid(self) -> RegionGrid | None:
        return self._grid

    def set_data(self, X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                 class_names: tuple[str, ...], feature_names: tuple[str, ...]) -> None:
        """The points to draw; data without exactly two features gets a note saying why there is no map."""
        self.clear()
        self.set_class(X_train.shape[1] != 2, "-unavailable")
        if X_train.shape[1] != 2:
            self._data = None
            self._note = (f"Decision regions need data with exactly 2 features; this data has {X_train.shape[1]}. "
                          "Try moons, circles, blobs, xor, spiral, gaussians or cubic.")
        else:
            self._data = ({"training": (X_train, y_train), "validation": (X_val, y_val)}, class_names, feature_names)
            self._note = "Train a model to see its decision regions."
        self._changed()

    def show(self, grid: RegionGrid, probability: np.ndarray, epoch: int | None, note: str = "") -> None:
        """Draw ``probability`` over ``grid``: (ny, nx) P(class 1), or (ny, nx, k); ``note`` goes in the subtitle."""
        self._grid = grid
        self._probability = np.asarray(probability, dtype=np.float32)
        self.border_subtitle = Text(" · ".join(part for part in (f"epoch {epoch}" if epoch else "", note) if part))
        self._changed()

    def clear(self) -> None:
        self._grid = self._probability = None
        self.border_subtitle = ""
        self._changed()

    def explain(self, note: str) -> None:
        """No map, and ``note`` saying why, where the data could have one (a cross-validation holds no model)."""
        if self.available:
            self._note = note
            self.clear()

    def watch_threshold(self) -> None:
        self._changed()

    def watch_positive(self) -> None:
        self._changed()

    def toggle_points(self) -> PointSet:
        self.points = "training" if self.points == "validation" else "validation"
        self._changed()
        return self.points

    def _changed(self) -> None:
        self._lines = None
        self._update_title()
        self.refresh()

    def _update_title(self) -> None:
        if self._data is None or self._probability is None:
            self.border_title = "decision regions"
            return
        class_names = self._data[1]
        multiclass = self._probability.ndim == 3
        subject = f"P({class_names[self._shown_class()]})" if multiclass else "P"
        self.border_title = Text(f"regions · {CONTOUR_MARK} {subject} = {formatting.threshold(self.threshold)} "
                                 f"· {self.points}")

    # -- drawing -------------------------------------------------------------------

    def on_resize(self) -> None:
        self._lines = None
        self.post_message(self.Resized())

    def render_line(self, y: int) -> Strip:
        if self._lines is None:
            self._lines = self._render_lines()
        return self._lines[y] if y < len(self._lines) else Strip.blank(self.size.width, self.rich_style)

    def _render_lines(self) -> list[Strip]:
        width, height = self.size
        if width < 1 or height < 1:
            return []
        if self._data is None or self._probability is None or self._grid is None or height < 2:
            text = Text(self._note, style="dim")
            console = self.app.console
            return [_strip(line, width, console, self.rich_style) for line in text.wrap(console, width)][:height]
        map_height = height - 1
        sides, levels, fronts, thinned = self._cells(width, map_height)
        style = self._cell_styles()
        lines = []
        for row in range(map_height - 1, -1, -1):  # the top line shows the highest values of the second feature
            segments = [
                style(int(side), int(level), int(front))
                for side, level, front in zip(sides[row], levels[row], fronts[row], strict=True)
            ]
            lines.append(Strip(Segment.simplify(segments), width))
        lines.append(_strip(self._legend(thinned), width, self.app.console, self.rich_style))
        return lines

    def plain_text(self, width: int, height: int) -> str | None:
        """The map at ``width`` x ``height`` in plain characters, for a text file: points and contour as on
        screen, each class's region shaded with its own character; then the legend. None without a map."""
        if self._data is None or self._probability is None or self._grid is None:
            return None
        sides, _, fronts, thinned = self._cells(width, height)
        rows = []
        for row in range(height - 1, -1, -1):
            chars = [
                CLASS_MARKS[front % len(CLASS_MARKS)] if front >= 0
                else CONTOUR_MARK if front == CONTOUR
                else PLAIN_SHADES[side % len(PLAIN_SHADES)]
                for side, front in zip(sides[row], fronts[row], strict=True)
            ]
            rows.append("".join(chars).rstrip())
        class_names = self._data[1]
        shades = "  ".join(f"{PLAIN_SHADES[i % len(PLAIN_SHADES)]!r} predicted {name}"
                           for i, name in enumerate(class_names))
        return "\n".join([*rows, self._legend(thinned).plain, f"regions: {shades}"])

    def _cells(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """Per cell of a ``width`` x ``height`` map: the class predicted, the tint level (how sure), and what it
        shows on top (a point's class, CONTOUR or BLANK); and whether points were left out to keep the shading."""
        probability = _resample(self._probability, height, width)
        sides, confidence = self._sides(probability)
        contour = contour_cells(self._positive_probability(probability), self.threshold)
        all_marks = self._point_marks(width, height)
        marks = thin_marks(all_marks, sides)
        levels = np.rint(confidence * (TINT_LEVELS - 1)).astype(np.int64)
        fronts = np.where(marks >= 0, marks, np.where(contour, CONTOUR, BLANK))
        return sides, levels, fronts, bool((marks != all_marks).any())

    def _cell_styles(self) -> Callable[[int, int, int], Segment]:
        """A cell's segment from its predicted class, its tint level and what it shows; each built once per draw."""
        background = self.background_colors[1]
        tints = [Color.parse(color) for color in CLASS_COLORS]

        @cache
        def segment(side: int, level: int, front: int) -> Segment:
            tint = MIN_TINT + (MAX_TINT - MIN_TINT) * level / (TINT_LEVELS - 1)
            cell = background.blend(tints[side % len(tints)], tint).rich_color
            if front == CONTOUR:
                return Segment(CONTOUR_MARK, Style(color=CONTOUR_COLOR, bgcolor=cell))
            if front == BLANK:
                return Segment(" ", Style(bgcolor=cell))
            return Segment(CLASS_MARKS[front % len(CLASS_MARKS)],
                           Style(color=CLASS_COLORS[front % len(CLASS_COLORS)], bgcolor=cell, bold=True))

        return segment

    def _sides(self, probability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The class predicted in each cell and how sure, in [0, 1]: by the threshold for binary, argmax otherwise."""
        if probability.ndim == 2:
            positive = probability >= self.threshold
            span = np.where(positive, 1.0 - self.threshold, self.threshold)
            confidence = np.abs(probability - self.threshold) / np.maximum(span, 1e-9)
            return positive.astype(np.int64), np.clip(confidence, 0.0, 1.0)
        k = probability.shape[2]
        top = probability.max(axis=2)
        return probability.argmax(axis=2), np.clip((top - 1 / k) / (1 - 1 / k), 0.0, 1.0)

    def _positive_probability(self, probability: np.ndarray) -> np.ndarray:
        return probability if probability.ndim == 2 else probability[:, :, self._shown_class()]

    def _shown_class(self) -> int:
        """``positive``, or the last class of a grid with fewer (until the app's own catches up)."""
        assert self._probability is not None
        return min(self.positive, self._probability.shape[2] - 1) if self._probability.ndim == 3 else 1

    def _point_marks(self, width: int, height: int) -> np.ndarray:
        """Per cell, the class whose points are most frequent there, or -1 where there are none."""
        assert self._data is not None and self._grid is not None
        X, y = self._data[0][self.points]
        view = self._grid.resized(width, height)
        rows, columns = view.cells_of(X)
        n_classes = len(self._data[1])
        cells = (rows * width + columns) * n_classes + y
        counts = np.bincount(cells, minlength=height * width * n_classes).reshape(height, width, n_classes)
        return np.where(counts.any(axis=2), counts.argmax(axis=2), -1)

    def _legend(self, thinned: bool) -> Text:
        assert self._data is not None and self._grid is not None
        _, class_names, feature_names = self._data
        legend = Text(no_wrap=True, overflow="crop")
        for i, name in enumerate(class_names):
            legend.append(f"{CLASS_MARKS[i % len(CLASS_MARKS)]} ", style=f"bold {CLASS_COLORS[i % len(CLASS_COLORS)]}")
            legend.append(f"{name}  ")
        if thinned:  # before the ranges, which a narrow pane crops
            legend.append("(thinned: errors and a sample)  ", style="dim")
        (x_low, x_high), (y_low, y_high) = self._grid.x_bounds, self._grid.y_bounds
        legend.append(f"→ {feature_names[0]} {x_low:.3g}…{x_high:.3g}  ↑ {feature_names[1]} {y_low:.3g}…{y_high:.3g}",
                      style="dim")
        return legend


def thin_marks(marks: np.ndarray, sides: np.ndarray, max_share: float = MAX_MARKED_SHARE) -> np.ndarray:
    """``marks`` (a class per cell, -1 for none) thinned where they would hide the regions' shading.

    Marks in up to ``max_share`` of the cells are all kept. Beyond that, the more cells are marked the fewer
    keep a mark (B² / marked for a budget of B cells), so that inside a dense cloud of points most cells show
    their shading, and a map full of points marks a tenth of it. Cells whose points' class differs from the
    class predicted there (``sides``) are kept first: they are the errors, the few cells that say most. The rest
    are kept at random, the same cells at each draw of one size, so that marks do not flicker as the threshold
    moves.
    """
    budget = max_share * marks.size
    marked = marks >= 0
    n_marked = int(marked.sum())
    if n_marked <= budget:
        return marks
    target = budget * budget / n_marked
    wrong = marked & (marks != sides)
    chance = np.random.default_rng(0).random(marks.shape)
    n_wrong = int(wrong.sum())
    if n_wrong >= target:
        keep = wrong & (chance < target / n_wrong)
    else:
        right = marked & ~wrong
        keep = wrong | (right & (chance < (target - n_wrong) / int(right.sum())))
    return np.where(keep, marks, -1)


def _strip(text: Text, width: int, console: Console, base: Style) -> Strip:
    """One line of text on the ``base`` style, cut or padded to ``width`` cells."""
    return Strip(text.render(console)).adjust_cell_length(width).apply_style(base)


def _resample(probability: np.ndarray, height: int, width: int) -> np.ndarray:
    """The grid at ``height`` x ``width`` cells, each taking the value of the grid cell nearest its centre."""
    ny, nx = probability.shape[:2]
    rows = ((np.arange(height) + 0.5) * ny / height).astype(np.int64)
    columns = ((np.arange(width) + 0.5) * nx / width).astype(np.int64)
    return probability[rows][:, columns]
