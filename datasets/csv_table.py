"""CSV files read by a columnar reader into typed columns: numbers, text (dictionary-encoded), dates and flags.

The reader is pyarrow's, chosen by measuring it beside pandas (its C and pyarrow engines) and
polars on this project's 2-core machine. Reading 200,000 x 20 numbers took 0.14 s with pandas'
C engine, 0.17 s with polars and 0.19 s with pyarrow; 1,000,000 x 32 with four text columns took
1.0, 1.1 and 1.2-1.7 s, each peaking at 0.76-0.88 GB. pyarrow is kept for what it infers and how
it holds text: ISO dates come as dates, "None" stays a value (pandas makes it missing unless told
otherwise), whole numbers with missing cells stay whole, and text is dictionary-encoded, with no
Python object per cell; it imports in 0.14 s against pandas' 0.33 s. polars raises on a stray word
after its first 100 rows. The price is its size on disk, 170 MB against pandas' 89 MB. pyarrow
neither sniffs delimiters nor counts lines, so both are done here: the delimiter from the first
records, in one pass, and the line of a malformed row by the standard csv module, once the reader has
refused it.

Rows are counted from 1 after the header ("row 3" is the third data row), which is exact
whatever the quoting. Nothing here imports pyarrow until a CSV file is read.
"""

from __future__ import annotations

import csv
import mmap
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, overload

import numpy as np

from clf_tui.datasets.labelled import listing
from clf_tui.datasets.tabular import enough_memory
from clf_tui.errors import DataError
from clf_tui.files import require_regular_file

if TYPE_CHECKING:
    import pyarrow as pa

try:
    import resource
except ImportError:  # not on Windows, which has no limit on the address space to heed
    resource = None  # type: ignore[assignment]

DEFAULT_MISSING = ("", "NA", "N/A", "NaN", "nan", "null")
"""The cells that mean "no value" unless told more (``na_values``). Any other word is a value: None too."""
DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024
SNIFF_RECORDS = 50
"""The delimiter is told from the first records of the first SNIFF_BYTES."""
NUMBER_PATTERN = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
"""A cell that reads as a number once trimmed; inf is not one (no feature may be infinite)."""
DATE_PATTERN = r"^(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?|\d{1,2}/\d{1,2}/\d{2,4})$"
MAX_BAD_EXAMPLES = 5
STREAM_BYTES = 64 * 2**20
"""Files larger than this are read block by block, which takes less memory and a little more time."""
STREAM_BLOCK_BYTES = 4 * 2**20
STREAMED_TYPE_ERROR = re.compile(r"^In CSV column #(\d+): CSV conversion error to \w+")


@dataclass(frozen=True, eq=False)
class NumberColumn:
    """A column of numbers as float64, NaN where a cell was missing or did not read as a number."""

    name: str
    values: np.ndarray
    n_missing: int
    """Cells that were missing markers."""
    bad_rows: np.ndarray
    """Rows (from 0) whose cell held text that is not a number: counted as missing, and reported."""
    bad_texts: tuple[str, ...]
    """The first few of those texts."""

    @property
    def is_integer(self) -> bool:
        present = self.values[~np.isnan(self.values)]
        return bool(len(present)) and bool(np.all(present == np.round(present)))


class Words(Sequence[str]):
    """The distinct words of a text column, kept in the reader's array and made Python strings as they are asked
    for. A column of IDs or free text has about one per row: as a tuple of strings, the ID and comment columns of
    a 292 MB export (2.6 million rows) took 900 MB, three times their share of the file."""

    __slots__ = ("array",)
    ITER_WORDS = 65536

    def __init__(self, array: pa.Array) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        if isinstance(index, slice):
            return tuple(self.array.to_pylist()[index]) if index.step else tuple(self.array[index].to_pylist())
        if not -len(self.array) <= index < len(self.array):
            raise IndexError(f"word {index} of {len(self.array)}")
        return self.array[index].as_py()

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self.array), self.ITER_WORDS):
            yield from self.array.slice(start, self.ITER_WORDS).to_pylist()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and not isinstance(other, str) and tuple(self) == tuple(other)

    def __repr__(self) -> str:
        return f"Words({len(self)} words)"


@dataclass(frozen=True, eq=False)
class TextColumn:
    """A column of words: ``codes[i]`` indexes ``values`` (trimmed, distinct), -1 where the cell was missing."""

    name: str
    codes: np.ndarray
    values: Sequence[str]
    n_missing: int
    number_share: float
    """The share of present cells that read as numbers."""
    n_other_words: int
    """How many of the distinct words do not read as numbers."""
    date_share: float
    """The share of present cells that read as dates (2021-03-04, 2021-03-04 10:30, 3/4/2021)."""


@dataclass(frozen=True, eq=False)
class DateColumn:
    """A column the reader found to hold dates or times."""

    name: str
    n_missing: int
    n_rows: int


@dataclass(frozen=True, eq=False)
class FlagColumn:
    """A column of true / false as the reader read them: 1.0, 0.0, NaN where missing."""

    name: str
    values: np.ndarray
    n_missing: int


Column = NumberColumn | TextColumn | DateColumn | FlagColumn


@dataclass(frozen=True, eq=False)
class Table:
    """A CSV file's columns in header order; ``n_rows`` data rows."""

    name: str
    columns: tuple[Column, ...]
    n_rows: int

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        return self.columns[self.names.index(name)]


def read_table(path: Path, *, na_values: tuple[str, ...] = (), text_columns: tuple[str, ...] = ()) -> Table:
    """Read the CSV file at ``path``: a header row, then one row per sample.

    ``na_values`` are missing markers besides DEFAULT_MISSING; the columns named in
    ``text_columns`` are read as text whatever they hold (a target whose labels 1 and 01
    must stay apart, a column of codes).

    Raises:
        DataError: the file is not a regular file (a FIFO would never end), cannot be read, is not
            UTF-8, is empty, has a header that is not fit to name columns, has a row that does not
            fit the header, or does not fit in memory.
    """
    path = require_regular_file(path, DataError, "data file")
    with enough_memory(path):
        return _table(path, na_values, text_columns)


def _table(path: Path, na_values: tuple[str, ...], text_columns: tuple[str, ...]) -> Table:
    import pyarrow as pa

    head, cut_off = _head(path)
    delimiter = _sniff_delimiter(head, cut_off=cut_off)
    lines = head.splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.strip())
    header = _header(path, lines[header_at], delimiter)
    missing = tuple(dict.fromkeys((*DEFAULT_MISSING, *na_values)))
    as_text = {name for name in text_columns if name in header}
    try:
        while True:
            try:
                table = _read(path, header, header_at + 1, delimiter, missing, as_text)
                break
            except pa.ArrowInvalid as exc:
                # Streamed, a column's type comes from its first block; a later cell that does not fit
                # it (a stray word among numbers) makes that column text, and the file is read again.
                refused = STREAMED_TYPE_ERROR.match(str(exc))
                if refused is None or header[int(refused.group(1))] in as_text:
                    raise
                as_text.add(header[int(refused.group(1))])
    except pa.ArrowInvalid as exc:
        if "invalid UTF8" in str(exc):
            raise DataError(f"{path} is not UTF-8 text past its first {SNIFF_BYTES // 1024} kB; save it as UTF-8 CSV") from None
        raise DataError(_malformed(path, delimiter, len(header), exc)) from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if table.num_rows == 0:
        raise DataError(f"{path} has a header but no data rows")
    n_rows, columns = table.num_rows, []
    for name in header:
        chunks = table.column(0)
        table = table.remove_column(0)  # the reader's copy goes as each column is converted
        columns.append(_column(path, name, chunks, force_text=name in text_columns))
        del chunks
    return Table(path.name, tuple(columns), n_rows)


def _head(path: Path) -> tuple[str, bool]:
    """The first SNIFF_BYTES of the file as text, the BOM dropped, and whether the file goes on past them;
    DataError if unreadable, empty or not UTF-8."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(SNIFF_BYTES)
            cut_off = bool(handle.read(1))
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if len(raw) < SNIFF_BYTES or exc.start < len(raw) - 3:  # not just a character cut off by the sample's end
            raise DataError(f"{path} is not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x}); "
                            "save it as UTF-8 CSV") from None
        text = raw[:exc.start].decode("utf-8-sig")
    if not text.strip():
        raise DataError(f"{path} is empty; expected a header row, then one row per sample")
    return text, cut_off


def _use_jemalloc() -> None:
    """Have pyarrow allocate with jemalloc, where its build has it, before a large file: what its table frees
    as its columns are converted then serves the next allocations. With pyarrow's default pool a 1,000,000 x
    32 file peaked at 3.3 times its final float32 matrix, with jemalloc at 2.2 times (bench/read_csv.py);
    on small files jemalloc is the slower to start.

    Not where the address space is limited (ulimit -v): there a 99 MB file read with 512 MB to spare from the
    default pool and failed with 1 GB from jemalloc, which when short writes to stderr from background threads
    it cannot start, ahead of the one line the MemoryError becomes.
    """
    import pyarrow as pa

    if resource is not None and resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY:
        return
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:
        pass


def _read(path: Path, header: list[str], skip_rows: int, delimiter: str, missing: tuple[str, ...],
          as_text: set[str]) -> pa.Table:
    """The file's rows as a table, read at once on every thread, or for a large file streamed block by
    block: pyarrow's one-shot reader holds about twice the table besides it while it reads."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    large = path.stat().st_size > STREAM_BYTES
    if large:
        _use_jemalloc()
    read_options = pa_csv.ReadOptions(column_names=header, skip_rows=skip_rows,
                                      **({"block_size": STREAM_BLOCK_BYTES} if large else {}))
    # A file without quotes holds no line break inside a value: the reader may then split it into
    # blocks anywhere, which is faster on several threads.
    parse_options = pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=_has_quotes(path))
    convert_options = pa_csv.ConvertOptions(null_values=list(missing), strings_can_be_null=True,
                                            quoted_strings_can_be_null=True,
                                            column_types={name: pa.string() for name in as_text})
    if not large:
        return pa_csv.read_csv(path, read_options=read_options, parse_options=parse_options,
                               convert_options=convert_options)
    with pa_csv.open_csv(path, read_options=read_options, parse_options=parse_options,
                         convert_options=convert_options) as reader:
        return pa.Table.from_batches(list(reader), schema=reader.schema)


def _has_quotes(path: Path) -> bool:
    """Whether the file holds a double quote anywhere (a file that cannot be mapped is taken to)."""
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return mapped.find(b'"') >= 0
    except (OSError, ValueError):
        return True


def _sniff_delimiter(head: str, *, cut_off: bool) -> str:
    """The delimiter of the sample ``head``: the one of DELIMITERS found the same non-zero number of times,
    outside quotes, in the most records (the header's included); ties go to the first in DELIMITERS, and a
    sample without any (a single column) gives ",". ``cut_off``: the file goes on past the sample, whose last
    record, unfinished, is then left out.

    One pass over at most SNIFF_RECORDS records. csv.Sniffer was quadratic: its quote patterns scan to the
    end of the sample from every delimiter, and 64 kB of '"a" ,' took it seconds.
    """
    records = _delimiter_counts(head, cut_off=cut_off)
    best, best_score = ",", 0
    for at, delimiter in enumerate(DELIMITERS):
        found = Counter(counts[at] for counts in records if counts[at])
        score = max(found.values(), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _delimiter_counts(head: str, *, cut_off: bool) -> list[list[int]]:
    """How many of each of DELIMITERS every record of ``head`` holds outside quotes, for its first
    SNIFF_RECORDS records that are not blank. Quotes as RFC 4180 has them: a double quote opens or closes a
    quoted stretch (two in a row, an escaped quote, close and reopen it), and a line break inside one
    belongs to the record."""
    records: list[list[int]] = []
    counts = [0] * len(DELIMITERS)
    quoted = content = False
    for char in head:
        if char == '"':
            quoted = not quoted
            content = True
        elif quoted:
            continue
        elif char == "\n" or char == "\r":
            if content:
                records.append(counts)
                if len(records) == SNIFF_RECORDS:
                    return records
            counts, content = [0] * len(DELIMITERS), False
        else:
            at = DELIMITERS.find(char)
            if at >= 0:
                counts[at] += 1
            content = content or char != " "
    if content and not (cut_off and records):  # the sample's last record, unless the sample cut it short
        records.append(counts)
    return records


def _header(path: Path, line: str, delimiter: str) -> list[str]:
    """The column names in the header ``line``. One nameless column may stand first (a row index)."""
    try:
        cells = next(csv.reader([line], delimiter=delimiter, skipinitialspace=True))
    except (StopIteration, csv.Error) as exc:
        raise DataError(f"{path}: the header row cannot be read ({exc}); is it a CSV text file?") from None
    columns = [cell.strip() for cell in cells]
    first_at: dict[str, int] = {}
    for position, name in enumerate(columns, start=1):
        if not name and position > 1:
            raise DataError(f"{path}: column {position} of the header has no name; name it")
        if name in first_at:
            raise DataError(f"{path}: the header names {name!r} twice (columns {first_at[name]} and {position}); "
                            "rename one")
        first_at[name] = position
    return columns


def _malformed(path: Path, delimiter: str, n_columns: int, exc: Exception) -> str:
    """The message for a file the reader refused: the first row that does not fit the header, by its line."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter, skipinitialspace=True)
            for cells in reader:
                if reader.line_num > 1 and any(cell.strip() for cell in cells) and len(cells) != n_columns:
                    return (f"{path}: line {reader.line_num} has {len(cells)} fields but the header has {n_columns}; "
                            "check its delimiters and quotes")
    except csv.Error as csv_exc:
        return f"{path}: line {reader.line_num}: {csv_exc}; is it a CSV text file?"
    detail = " ".join(str(exc).split())
    return f"{path} is not a CSV file this reader can read ({detail}); check its delimiters and quotes"


def _column(path: Path, name: str, chunks: pa.ChunkedArray, *, force_text: bool) -> Column:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = chunks.type
    n_missing = chunks.null_count
    if pa.types.is_null(kind):  # every cell missing
        return TextColumn(name, np.full(len(chunks), -1, dtype=np.int32), (), n_missing, 0.0, 0, 0.0)
    if not force_text:
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            values = _numpy(chunks.cast(pa.float64()), np.float64, np.nan)
            return NumberColumn(name, values, n_missing, np.empty(0, dtype=np.int64), ())
        if pa.types.is_boolean(kind):
            return FlagColumn(name, _numpy(chunks.cast(pa.float64()), np.float64, np.nan), n_missing)
        if pa.types.is_temporal(kind):
            return DateColumn(name, n_missing, len(chunks))
    text = pc.utf8_trim_whitespace(chunks.cast(pa.string()))
    for chunk in text.chunks:
        try:
            chunk.validate(full=True)
        except pa.ArrowInvalid:
            raise DataError(f"{path}: column {name!r} holds text that is not UTF-8; save the file as UTF-8 CSV") from None
    encoded = text.combine_chunks().dictionary_encode()
    codes = _numpy(encoded.indices.cast(pa.int32()), np.int32, -1)
    words = encoded.dictionary
    present = len(chunks) - n_missing
    counts = np.bincount(codes[codes >= 0], minlength=len(words)) if present else np.zeros(len(words), dtype=np.int64)
    is_number = _flags(pc.match_substring_regex(words, NUMBER_PATTERN))
    is_date = _flags(pc.match_substring_regex(words, DATE_PATTERN))
    number_share = float(counts[is_number].sum() / present) if present else 0.0
    date_share = float(counts[is_date].sum() / present) if present else 0.0
    return TextColumn(name, codes, Words(words), n_missing, number_share, int((~is_number).sum()),
                      date_share)


def _numpy(array: pa.Array | pa.ChunkedArray, dtype: type[np.generic], fill: float) -> np.ndarray:
    """A numeric arrow array as a (read-only) NumPy array, its nulls ``fill``.

    Not ``to_numpy()``: wherever pandas is installed, that imports it, which takes 0.2 s.
    """
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if array.null_count:
        array = array.fill_null(fill)
    itemsize = np.dtype(dtype).itemsize
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * itemsize)


def _flags(array: pa.Array) -> np.ndarray:
    """A boolean arrow array (nulls false) as NumPy booleans."""
    import pyarrow as pa

    return _numpy(array.cast(pa.int8()), np.int8, 0).astype(bool)


def as_numbers(column: TextColumn) -> NumberColumn:
    """A text column read as numbers: cells that are not numbers count as missing, and are reported."""
    import pyarrow as pa
    import pyarrow.compute as pc

    words = column.values.array if isinstance(column.values, Words) else pa.array(column.values, type=pa.string())
    is_number = pc.match_substring_regex(words, NUMBER_PATTERN)
    parsed = _numpy(pc.if_else(is_number, words, None).cast(pa.float64()), np.float64, np.nan)
    by_word = np.append(parsed, np.nan)  # code -1 (missing) takes the last entry
    values = by_word[column.codes]
    bad = (column.codes >= 0) & np.isnan(values)
    bad_rows = np.flatnonzero(bad)
    bad_words = Counter(column.codes[bad_rows[:1000]].tolist())
    texts = tuple(column.values[code] for code, _ in bad_words.most_common(MAX_BAD_EXAMPLES))
    return NumberColumn(column.name, values, column.n_missing, bad_rows, texts)


def as_text(column: NumberColumn | FlagColumn) -> TextColumn:
    """A column of numbers or flags as words (the numbers as they would be written: 3, 2.5), for one-hot encoding."""
    values = column.values
    present = ~np.isnan(values)
    distinct, inverse = np.unique(values[present], return_inverse=True)
    word = (lambda value: "true" if value else "false") if isinstance(column, FlagColumn) else _number_word
    words = tuple(word(value) for value in distinct.tolist())
    codes = np.full(len(values), -1, dtype=np.int32)
    codes[present] = inverse
    return TextColumn(column.name, codes, words, int((~present).sum()), 1.0, 0, 0.0)


def _number_word(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def describe_bad_cells(column: NumberColumn) -> str:
    """'3 cells are not numbers (rows 4, 17, 250: 'abc')', or '' when there are none."""
    n = len(column.bad_rows)
    if not n:
        return ""
    rows = ", ".join(str(row + 1) for row in column.bad_rows[:3]) + (", ..." if n > 3 else "")
    cells = "1 cell is not a number" if n == 1 else f"{n} cells are not numbers"
    return f"{cells} (row{'s' if n > 1 else ''} {rows}: {listing(column.bad_texts, 3)})"
