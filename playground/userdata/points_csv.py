"""Points from a CSV file, and points back to CSV.

* Three columns, taken in order as x1, x2, label -- whatever the header calls them. A
  fourth column headed ``split`` (train / test, as the Playground's dataset export
  writes) is allowed and not used: an upload is split afresh by the training share.
* The header is optional: a first row in which no cell is a number is a header.
* Separated by commas, semicolons or tabs (found from the first row). With semicolons or
  tabs a decimal comma (``1,5``) is read as a decimal point, as spreadsheets write it.
* UTF-8 (a byte-order mark is fine); blank lines and trailing separators are ignored.
* A label column of whole numbers with 2..10 distinct values means classes (re-numbered
  0..K-1 in sorted order; the original values are kept as ``class_names``); any other
  label column is a regression target.
* x1 and x2 are centred and scaled by one common factor (the picture keeps its aspect)
  to fit inside ±5.5; regression targets are scaled to [-1, 1].
"""

import csv
import io
import math
import re

import numpy as np

from playground.core.errors import PlaygroundError
from playground.userdata.points import (
    DATA_HALF_WIDTH,
    MAX_BYTES,
    MAX_FILE_CLASSES,
    MAX_ROWS,
    MIN_ROWS,
    Task,
    UserData,
    fit_targets,
    printable,
    read_only,
    shown,
    size_text,
)

_DELIMITERS = {"\t": "tabs", ";": "semicolons", ",": "commas"}  # preference order on ties
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?", re.ASCII)
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.ASCII | re.IGNORECASE)
_DEFAULT_COLUMNS = ("x1", "x2", "label")
SPLIT_COLUMN = "split"  # the export's fourth column: which points were train or test


def read_points_csv(
    data: bytes,
    *,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_BYTES,
    name: str = "data.csv",
) -> UserData:
    """Read points x1, x2 and a label from CSV bytes (see the module docstring for the rules).

    ``name`` only labels the result's ``source`` ("upload: name").
    """
    text = _decode(data, max_bytes)
    delimiter = _sniff_delimiter(text)
    header, rows = _split_rows(text, delimiter, max_rows)
    columns = _column_names(header)
    decimal_comma = delimiter != ","
    raw = np.array(
        [
            [_number(cell, line, columns, i, decimal_comma) for i, cell in enumerate(cells)]
            for line, cells in rows
        ],
        dtype=np.float64,
    ).reshape(-1, 3)
    if len(raw) < MIN_ROWS:
        raise PlaygroundError(
            f"the file has only {len(raw)} data row{'s' if len(raw) != 1 else ''}; "
            f"at least {MIN_ROWS} are needed"
        )
    x, x_scale, x_shift = _fit_points(raw[:, :2])
    task, y, class_names, y_scale, y_shift = _fit_labels(raw[:, 2], columns[2])
    return UserData(
        x=read_only(x),
        y=read_only(y),
        task=task,
        n_classes=len(class_names) or 1,
        class_names=class_names,
        x_scale=x_scale,
        x_shift=read_only(x_shift),
        y_scale=y_scale,
        y_shift=y_shift,
        source=f"upload: {name}",
        column_names=columns,
    )


def _decode(data: bytes, max_bytes: int) -> str:
    """Bytes -> text, refusing what is too large, binary or not UTF-8."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise PlaygroundError(f"expected the file's bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_bytes:
        raise PlaygroundError(
            f"the file is too large ({size_text(len(data))}); the limit is {size_text(max_bytes)}"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PlaygroundError("the file is UTF-16 text; save it as 'CSV UTF-8' and try again")
    if b"\x00" in data:
        raise PlaygroundError("the file looks binary (it contains NUL bytes), not a CSV text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise PlaygroundError(
            f"the file is not UTF-8 text (unreadable byte at position {err.start}); "
            "it may be binary. Save it as 'CSV UTF-8' and try again"
        ) from None
    if not text.strip():
        raise PlaygroundError("the file is empty")
    return text


def _has_split(cells: list[str]) -> bool:
    return len(cells) == 4 and cells[3].strip().lower() == SPLIT_COLUMN


def _sniff_delimiter(text: str) -> str:
    """The separator of the first non-blank line: the one that splits it into 3 cells
    (or 4, the last headed "split")."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    for delimiter in _DELIMITERS:
        cells = first.split(delimiter)
        if len(cells) == 3 or _has_split(cells):
            return delimiter
    # No separator gives 3 cells: take the most frequent, so the error names its count.
    best = max(_DELIMITERS, key=first.count)
    return best if first.count(best) else ","


def _split_rows(
    text: str, delimiter: str, max_rows: int
) -> tuple[list[str] | None, list[tuple[int, list[str]]]]:
    """Text -> (header cells or None, [(line number, 3 cells)]), checking the shape."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    first = True
    width = 3  # 4 when the header names a split column
    try:
        for fields in reader:
            cells = [cell.strip() for cell in fields]
            while len(cells) > width and not cells[-1]:
                cells.pop()  # spreadsheets often leave trailing separators
            if not any(cells):
                continue  # blank line
            line = reader.line_num
            if first and _has_split(cells) and not any(_looks_numeric(c) for c in cells):
                width = 4
            if len(cells) != width:
                expected = "3 (x1, x2, label)" if width == 3 else "4 (x1, x2, label, split)"
                raise PlaygroundError(
                    f"row {line} has {len(cells)} column{'s' if len(cells) != 1 else ''}; "
                    f"expected {expected} separated by {_DELIMITERS[delimiter]}"
                )
            cells = cells[:3]
            if first and not any(_looks_numeric(cell) for cell in cells):
                header = cells
            else:
                rows.append((line, cells))
                if len(rows) > max_rows:
                    raise PlaygroundError(
                        f"the file has too many rows (more than {max_rows:,}); "
                        "use a sample of the data"
                    )
            first = False
    except csv.Error as err:
        raise PlaygroundError(f"could not read row {reader.line_num} as CSV: {err}") from None
    if not rows:
        raise PlaygroundError(
            "the file has a header row but no data rows" if header else "the file has no data rows"
        )
    return header, rows


def _looks_numeric(cell: str) -> bool:
    """True for anything meant as a number (NaN and inf too), so it is not taken as a header."""
    return bool(
        _NUMBER.fullmatch(cell) or _DECIMAL_COMMA.fullmatch(cell) or _NON_FINITE.fullmatch(cell)
    )


def _column_names(header: list[str] | None) -> tuple[str, str, str]:
    if header is None:
        return _DEFAULT_COLUMNS
    names = [
        printable(cell, 40) or default
        for cell, default in zip(header, _DEFAULT_COLUMNS, strict=True)
    ]
    return names[0], names[1], names[2]


def _number(cell: str, line: int, columns: tuple[str, ...], i: int, decimal_comma: bool) -> float:
    """One cell -> a finite float, or an error naming the row and the column."""
    where = f"row {line}, column {columns[i]}"
    if decimal_comma and _DECIMAL_COMMA.fullmatch(cell):
        cell = cell.replace(",", ".")
    if _NUMBER.fullmatch(cell):
        value = float(cell)
        if not math.isfinite(value):
            raise PlaygroundError(f"{where}: the number {shown(cell)} is too large")
        return value
    if _NON_FINITE.fullmatch(cell):
        raise PlaygroundError(
            f"{where}: {shown(cell)} is NaN or infinity; every value must be a finite number"
        )
    if not cell:
        raise PlaygroundError(f"{where} is empty; every row needs three numbers")
    raise PlaygroundError(f"{where}: {shown(cell)} is not a number")


def _fit_points(raw: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """(N, 2) raw points -> (points in ±5.5 as float32, scale, shift)."""
    lo, hi = raw.min(axis=0), raw.max(axis=0)
    shift = lo / 2 + hi / 2  # halves first: max - min could overflow
    half = float(np.max(hi / 2 - lo / 2))
    if half == 0:
        raise PlaygroundError("every point has the same x1 and x2; the points must spread out")
    scale = DATA_HALF_WIDTH / half
    with np.errstate(all="ignore"):
        x = (raw - shift) * scale
    if not (math.isfinite(scale) and np.isfinite(x).all()):
        raise PlaygroundError("the x1, x2 values span too extreme a range to scale into the plane")
    x = np.clip(x, -DATA_HALF_WIDTH, DATA_HALF_WIDTH).astype(np.float32)  # rounding margin
    return x, scale, shift


def _fit_labels(
    raw: np.ndarray, column: str
) -> tuple[Task, np.ndarray, tuple[str, ...], float, float]:
    """Label column -> (task, y, class names, y_scale, y_shift)."""
    values = np.unique(raw)
    if len(values) == 1:
        raise PlaygroundError(
            f"the {column} column holds one value only ({_label_name(values[0])}), so there is "
            "only one class; the data needs at least two classes or varying targets"
        )
    whole = bool(np.all(raw == np.round(raw)))
    if whole and len(values) <= MAX_FILE_CLASSES:
        y = np.searchsorted(values, raw).astype(np.int32)  # sorted labels -> 0..K-1
        names = tuple(_label_name(v) for v in values)
        return ("binary" if len(values) == 2 else "multiclass"), y, names, 1.0, 0.0
    message = f"the {column} column has (almost) the same value in every row"
    y, scale, shift = fit_targets(raw, message)
    return "regression", y, (), scale, shift


def _label_name(value: float) -> str:
    return str(int(value)) if abs(value) < 1e15 and value == round(value) else f"{value:g}"


# ---------------------------------------------------------------------------- CSV out


def points_to_csv(
    x: np.ndarray,
    y: np.ndarray,
    header: tuple[str, str, str] | None = _DEFAULT_COLUMNS,
    *,
    test: np.ndarray | None = None,
) -> bytes:
    """(N, 2) points and (N,) labels -> UTF-8 CSV bytes that :func:`read_points_csv` reads.

    Numbers are written in the shortest form that gives back the same value in their own
    dtype. ``header=None`` writes no header row. ``test``: (N,) bools; when given, a
    fourth column "split" says "train" or "test" for every point (it needs the header).
    """
    x, y = np.asarray(x), np.asarray(y)
    if test is not None:
        test = np.asarray(test, bool)
        if test.shape != (len(x),) or header is None:
            raise PlaygroundError("the split column needs a header and one value per point")
    if y.dtype.kind == "b":
        y = y.astype(np.int32)
    if x.ndim != 2 or x.shape[1] != 2 or y.shape != (len(x),):
        raise PlaygroundError(f"expected points (N, 2) and labels (N,), got {x.shape}, {y.shape}")
    if x.dtype.kind not in "iuf" or y.dtype.kind not in "iuf":
        raise PlaygroundError("points and labels must be numbers")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise PlaygroundError("points and labels must be finite numbers (no NaN or infinity)")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header is not None:
        if len(header) != 3 or any(_looks_numeric(str(h).strip()) for h in header):
            raise PlaygroundError("the header needs three names that are not numbers")
        writer.writerow([*header, SPLIT_COLUMN] if test is not None else header)
    # str() of a NumPy scalar is the shortest text that round-trips in that scalar's dtype.
    rows = ([str(a), str(b), str(c)] for (a, b), c in zip(x, y, strict=True))
    if test is not None:
        rows = ([*r, "test" if t else "train"] for r, t in zip(rows, test, strict=True))
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
