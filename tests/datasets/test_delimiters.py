"""The delimiter of a CSV file, told from its first records in one pass: right on the usual traps, and quick on any."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow.csv  # noqa: F401  (imported before any clock starts, as the reader imports it on first use)
import pytest

from clf_tui import datasets
from clf_tui.datasets.csv_table import SNIFF_BYTES, TextColumn, read_table
from clf_tui.errors import DataError

SNIFF_LIMIT_S = 1.0
"""Seconds. On the project's 2-core machine, telling the delimiter of these files takes 4 to 8 ms (one pass over
the first 64 kB) and refusing or reading them 50 ms in all. csv.Sniffer, used before, is quadratic in that
sample: it took 3.5 to 4 s over '"a" ,' (53 s where it was first seen) and 13 to 19 s over ' ,"'. A limit of
5 s would have let the first pass on this machine; 1 s is 20 times what the one pass needs and a quarter of
the least the sniffer took, so a loaded or slow machine still passes and only a quadratic scan fails."""


def put(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def words(path: Path, column: str) -> tuple[str, ...]:
    table = read_table(path, text_columns=(column,))
    cells = table.column(column)
    assert isinstance(cells, TextColumn)
    return tuple(cells.values[code] for code in cells.codes)


@pytest.mark.parametrize(("pattern", "size"), [('"a" ,', 100_000), ('"a" ,', 400_000), (' ,"', 100_000)])
def test_a_pathological_line_is_refused_at_once(tmp_path: Path, pattern: str, size: int) -> None:
    # One line of repeated quoted names: the header names the same column again and again, which is refused.
    path = put(tmp_path / "long.csv", pattern * (size // len(pattern)))
    start = time.perf_counter()
    with pytest.raises(DataError, match=r"the header names '.' twice \(columns \d and \d\); rename one"):
        datasets.load(str(path), target="a")
    assert time.perf_counter() - start < SNIFF_LIMIT_S


def test_rows_of_the_pathological_pattern_are_read(tmp_path: Path) -> None:
    # The same cells under a header that names each column once: a quoted a, then a space, read as "a".
    n_columns = 300
    header = ",".join(f"c{i}" for i in range(n_columns)) + ",label"
    rows = [",".join(['"a" '] * n_columns) + f",{'xy'[i % 2]}" for i in range(60)]
    path = put(tmp_path / "rows.csv", "\n".join([header, *rows]) + "\n")
    table = read_table(path, text_columns=("c7",))
    assert table.n_rows == 60 and len(table.names) == n_columns + 1
    assert set(words(path, "c7")) == {"a"}


def test_a_field_longer_than_the_sample_leaves_the_delimiter_clear(tmp_path: Path) -> None:
    # csv.Sniffer gave up on this sample (cut inside the long cell) and the file was read as one column.
    rows = [f"{i}|n{i % 3}|{'ab'[i % 2]}" for i in range(20)]
    rows[5] = "5|" + "z" * 100_000 + "|b"
    path = put(tmp_path / "pipes.csv", "x|note|label\n" + "\n".join(rows) + "\n")
    assert datasets.load(str(path), target="label").class_names == ("a", "b")


def test_semicolons_with_decimal_commas(tmp_path: Path) -> None:
    path = put(tmp_path / "fr.csv", "a;b\n1,5;2,25\n")
    assert read_table(path, text_columns=("a", "b")).names == ("a", "b")
    assert words(path, "a") == ("1,5",) and words(path, "b") == ("2,25",)
    more = put(tmp_path / "fr_rows.csv", "poids;taille;label\n" + "".join(f"{i},5;1,{i}5;{'ab'[i % 2]}\n"
                                                                          for i in range(30)))
    assert read_table(more).names == ("poids", "taille", "label")


def test_tabs_with_commas_in_text(tmp_path: Path) -> None:
    notes = ["likes cats, dogs, and birds", "no, never", "fine", "a, b, c, d, e"] * 5
    path = put(tmp_path / "notes.tsv.csv", "name\tnote\tlabel\n" + "".join(f"n{i}\t{note}\t{'xy'[i % 2]}\n"
                                                                          for i, note in enumerate(notes)))
    assert read_table(path).names == ("name", "note", "label")
    assert words(path, "note") == tuple(notes)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_quoted_fields_hold_the_other_delimiters_and_line_breaks(tmp_path: Path, delimiter: str) -> None:
    comment = 'one, two; three\tfour | five\nsecond line, with a ""quote"" and more, commas'
    quoted = '"' + comment + '"'
    rows = [delimiter.join([str(i), quoted if i % 3 == 0 else "plain", "xy"[i % 2]]) for i in range(12)]
    path = put(tmp_path / "quoted.csv", delimiter.join(["id", "comment", "label"]) + "\r\n" + "\r\n".join(rows) + "\r\n")
    assert read_table(path).names == ("id", "comment", "label")
    assert words(path, "comment")[0] == comment.replace('""', '"')


def test_pipes(tmp_path: Path) -> None:
    path = put(tmp_path / "pipes.csv", "x|note|label\n" + "".join(f"{i}|a, b; c|{'xy'[i % 2]}\n" for i in range(10)))
    assert read_table(path).names == ("x", "note", "label")
    assert words(path, "note") == ("a, b; c",) * 10


def test_a_single_column_reads_as_one(tmp_path: Path) -> None:
    path = put(tmp_path / "one.csv", "label\nx\ny\nx\n")
    assert read_table(path).names == ("label",)


def test_the_sample_ends_inside_a_long_quoted_field(tmp_path: Path) -> None:
    # Each row's quoted text holds more commas and semicolons than the row has tabs, and the first 64 kB end
    # inside one of them: only the tabs outside quotes, in the rows the sample holds whole, tell.
    text = '"' + "x, y; " * 700 + '"'
    rows = [f"{i}\t{text}\t{'ab'[i % 2]}" for i in range(30)]
    path = put(tmp_path / "long_text.csv", "id\ttext\tlabel\n" + "\n".join(rows) + "\n")
    assert path.stat().st_size > SNIFF_BYTES
    assert read_table(path).names == ("id", "text", "label")
