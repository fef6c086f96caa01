"""Bring your own data: points from a CSV file, or labels from a formula in x1 and x2.

Both ways end in one :class:`UserData`: float32 points in the plotting plane, labels, the
task, and the scale and shift that were applied, so a page can say what happened to the
numbers and map them back.

CSV files (:func:`read_points_csv`)
    * Three columns, taken in order as x1, x2, label -- whatever the header calls them.
    * The header is optional: a first row in which no cell is a number is a header.
    * Separated by commas, semicolons or tabs (found from the first row). With semicolons or
      tabs a decimal comma (``1,5``) is read as a decimal point, as spreadsheets write it.
    * UTF-8 (a byte-order mark is fine); blank lines and trailing separators are ignored.
    * A label column of whole numbers with 2..10 distinct values means classes (re-numbered
      0..K-1 in sorted order; the original values are kept as ``class_names``); any other
      label column is a regression target.
    * x1 and x2 are centred and scaled by one common factor (the picture keeps its aspect)
      to fit inside ±5.5; regression targets are scaled to [-1, 1].

Formulas (:func:`parse_formula`, :func:`formula_dataset`)
    A formula such as ``x1*x2`` or ``sin(3*x1) > x2`` is parsed with :mod:`ast` and checked
    against a short whitelist (numbers, x1, x2, pi, e, + - * / **, comparisons, and/or/not,
    abs sin cos tan exp log sqrt tanh). It is evaluated by walking the tree with NumPy; the
    text is never turned into code. A comparison or and/or/not at the top gives two classes,
    anything else a regression target.

Every bad input raises :class:`~playground.errors.PlaygroundError` with a plain message.
"""

import ast
import csv
import io
import math
import re
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from playground.core.datasets import DOMAIN as DOMAIN_HALF_WIDTH  # the plane is [-6, 6]²
from playground.core.errors import PlaygroundError

DATA_HALF_WIDTH = 5.5  # uploaded points are scaled into ±5.5: a margin inside the plane
MIN_ROWS = 10
MAX_ROWS = 20_000
MAX_BYTES = 5_000_000
MAX_CLASSES = 10

Task = Literal["binary", "multiclass", "regression"]

FORMULA_EXAMPLES: tuple[str, ...] = (
    "x1*x2",
    "sin(3*x1) > x2",
    "x1**2 + x2**2 < 4",
    "x1 > 0 and x2 > 0",
)


@dataclass(frozen=True, eq=False)
class UserData:
    """A dataset ready for the plane, plus what was done to get it there.

    x: (N, 2) float32 points in the plane, ``x = (raw - x_shift) * x_scale``.
    y: (N,) int32 class indices 0..K-1, or float32 targets in [-1, 1] for regression,
       ``y = (raw - y_shift) * y_scale`` (scale 1 and shift 0 for classes).
    n_classes: K for classes, 1 for regression (one output, as in playground.core.datasets).
    class_names: the original label of each class index, as text (empty for regression).
    column_names: the header's names for x1, x2, label (defaults when there was no header).
    The arrays are read-only.
    """

    x: np.ndarray
    y: np.ndarray
    task: Task
    n_classes: int
    class_names: tuple[str, ...]
    x_scale: float
    x_shift: np.ndarray
    y_scale: float
    y_shift: float
    source: str
    column_names: tuple[str, str, str] = ("x1", "x2", "label")

    @property
    def note(self) -> str:
        """What was done to the numbers, in words for the page ("" when nothing was)."""
        a, b, label = self.column_names
        parts = []
        if self.x_scale != 1 or np.any(self.x_shift != 0):
            sx, sy = self.x_shift
            parts.append(
                f"{a}, {b} centred (minus {sx:.4g}, {sy:.4g}) and scaled by {self.x_scale:.4g}"
            )
        if self.task == "regression" and (self.y_scale != 1 or self.y_shift != 0):
            parts.append(
                f"{label} centred (minus {self.y_shift:.4g}) and scaled by {self.y_scale:.4g} "
                "into [-1, 1]"
            )
        renamed = self.class_names != tuple(map(str, range(self.n_classes)))
        if self.task != "regression" and renamed:
            names, last = ", ".join(self.class_names), self.n_classes - 1
            parts.append(f"{label} values {names} are classes 0 to {last}")
        return "; ".join(parts)

    def unscale_x(self, x: np.ndarray) -> np.ndarray:
        """(..., 2) plane coordinates -> the original units (float64)."""
        return np.asarray(x, np.float64) / self.x_scale + self.x_shift

    def unscale_y(self, y: np.ndarray) -> np.ndarray:
        """Regression outputs in the plane's units -> the original units (float64)."""
        return np.asarray(y, np.float64) / self.y_scale + self.y_shift


def _read_only(a: np.ndarray) -> np.ndarray:
    a = np.array(a)  # a private copy, so freezing it cannot affect the caller's array
    a.flags.writeable = False
    return a


def _printable(text: str, limit: int) -> str:
    """Text from a file or formula made safe to show: printable, and not too long."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text[: limit - 1] + "…" if len(text) > limit else text


def _show(text: str, limit: int = 30) -> str:
    return f"'{_printable(text, limit)}'"


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 100_000 else f"{n_bytes:,} bytes"


# ---------------------------------------------------------------------------- CSV in


_DELIMITERS = {"\t": "tabs", ";": "semicolons", ",": "commas"}  # preference order on ties
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?", re.ASCII)
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.ASCII | re.IGNORECASE)
_DEFAULT_COLUMNS = ("x1", "x2", "label")


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
        x=_read_only(x),
        y=_read_only(y),
        task=task,
        n_classes=len(class_names) or 1,
        class_names=class_names,
        x_scale=x_scale,
        x_shift=_read_only(x_shift),
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
            f"the file is too large ({_size(len(data))}); the limit is {_size(max_bytes)}"
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


def _sniff_delimiter(text: str) -> str:
    """The separator of the first non-blank line: the one that splits it into 3 cells."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    for delimiter in _DELIMITERS:
        if len(first.split(delimiter)) == 3:
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
    try:
        for fields in reader:
            cells = [cell.strip() for cell in fields]
            while len(cells) > 3 and not cells[-1]:
                cells.pop()  # spreadsheets often leave trailing separators
            if not any(cells):
                continue  # blank line
            line = reader.line_num
            if len(cells) != 3:
                raise PlaygroundError(
                    f"row {line} has {len(cells)} column{'s' if len(cells) != 1 else ''}; "
                    f"expected 3 (x1, x2, label) separated by {_DELIMITERS[delimiter]}"
                )
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
        _printable(cell, 40) or default
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
            raise PlaygroundError(f"{where}: the number {_show(cell)} is too large")
        return value
    if _NON_FINITE.fullmatch(cell):
        raise PlaygroundError(
            f"{where}: {_show(cell)} is NaN or infinity; every value must be a finite number"
        )
    if not cell:
        raise PlaygroundError(f"{where} is empty; every row needs three numbers")
    raise PlaygroundError(f"{where}: {_show(cell)} is not a number")


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


def _fit_targets(raw: np.ndarray, constant_message: str) -> tuple[np.ndarray, float, float]:
    """(N,) raw targets -> (targets in [-1, 1] as float32, scale, shift)."""
    lo, hi = float(raw.min()), float(raw.max())
    shift = lo / 2 + hi / 2
    half = hi / 2 - lo / 2
    if half <= 1e-12 * max(1.0, abs(lo), abs(hi)):  # rounding noise is not a signal
        raise PlaygroundError(constant_message)
    scale = 1.0 / half
    with np.errstate(all="ignore"):
        y = (raw - shift) * scale
    if not (math.isfinite(scale) and np.isfinite(y).all()):
        raise PlaygroundError("the target values span too extreme a range to scale")
    return np.clip(y, -1.0, 1.0).astype(np.float32), scale, shift


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
    if whole and len(values) <= MAX_CLASSES:
        y = np.searchsorted(values, raw).astype(np.int32)  # sorted labels -> 0..K-1
        names = tuple(_label_name(v) for v in values)
        return ("binary" if len(values) == 2 else "multiclass"), y, names, 1.0, 0.0
    message = f"the {column} column has (almost) the same value in every row"
    y, scale, shift = _fit_targets(raw, message)
    return "regression", y, (), scale, shift


def _label_name(value: float) -> str:
    return str(int(value)) if abs(value) < 1e15 and value == round(value) else f"{value:g}"


# ---------------------------------------------------------------------------- CSV out


def points_to_csv(
    x: np.ndarray, y: np.ndarray, header: tuple[str, str, str] | None = _DEFAULT_COLUMNS
) -> bytes:
    """(N, 2) points and (N,) labels -> UTF-8 CSV bytes that :func:`read_points_csv` reads.

    Numbers are written in the shortest form that gives back the same value in their own
    dtype. ``header=None`` writes no header row.
    """
    x, y = np.asarray(x), np.asarray(y)
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
        writer.writerow(header)
    # str() of a NumPy scalar is the shortest text that round-trips in that scalar's dtype.
    writer.writerows((str(a), str(b), str(c)) for (a, b), c in zip(x, y, strict=True))
    return out.getvalue().encode("utf-8")


# ---------------------------------------------------------------------------- formulas


MAX_FORMULA_CHARS = 500
MAX_FORMULA_NODES = 200
MAX_FORMULA_DEPTH = 30
MAX_LITERAL = 1e9
MAX_EXPONENT = 10

_VARIABLES = ("x1", "x2")
_CONSTANTS = {"pi": math.pi, "e": math.e}
_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "abs": np.abs,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "tanh": np.tanh,
}
_BINARY: dict[type, Callable] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.Pow: np.power,
}
_COMPARE: dict[type, Callable] = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}
_UNARY = (ast.USub, ast.UAdd, ast.Not)
# Refused operators, with what to write instead where there is something.
_REFUSED_OPS: dict[type, str] = {
    ast.BitXor: "^ is not allowed; write powers with **, e.g. x1**2",
    ast.BitAnd: "& is not allowed; use 'and'",
    ast.BitOr: "| is not allowed; use 'or'",
    ast.Invert: "~ is not allowed; use 'not'",
    ast.Mod: "% (remainder) is not allowed",
    ast.FloorDiv: "// (floor division) is not allowed; use /",
    ast.MatMult: "@ (matrix product) is not allowed",
    ast.LShift: "<< is not allowed",
    ast.RShift: ">> is not allowed",
    ast.Is: "'is' is not allowed; use ==",
    ast.IsNot: "'is not' is not allowed; use !=",
    ast.In: "'in' is not allowed",
    ast.NotIn: "'not in' is not allowed",
}
_REFUSED_NODES: dict[type, str] = {
    ast.Attribute: "attribute access (like a.b) is not allowed",
    ast.Subscript: "subscripts (like a[0]) are not allowed",
    ast.Slice: "slices are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.IfExp: "'a if condition else b' is not allowed",
    ast.NamedExpr: "the walrus operator := is not allowed",
    ast.Starred: "starred arguments (*) are not allowed",
    ast.List: "lists [...] are not allowed",
    ast.Tuple: "tuples (a, b) are not allowed",
    ast.Set: "sets {...} are not allowed",
    ast.Dict: "dictionaries {...} are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}
# Operator and context nodes are part of their parent; they do not count towards the size.
_TOKEN_NODES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


@dataclass(frozen=True)
class Formula:
    """A checked formula in x1 and x2; build it with :func:`parse_formula`.

    text: the formula written back in a normal form (``ast.unparse``).
    task: "binary" when the top level is a comparison or and/or/not, else "regression".
    """

    text: str
    task: Literal["binary", "regression"]
    _tree: ast.expr = field(repr=False, compare=False)

    def evaluate(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        """Values at the points (x1, x2) (broadcast together) as float64; 0/1 for "binary".

        Raises PlaygroundError where the formula is undefined or overflows at a point.
        """
        try:
            a, b = np.broadcast_arrays(np.asarray(x1, np.float64), np.asarray(x2, np.float64))
        except (TypeError, ValueError):
            raise PlaygroundError("x1 and x2 must be numbers of matching shapes") from None
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            raise PlaygroundError("x1 and x2 must be finite numbers")
        env = {"x1": a, "x2": b, **_CONSTANTS}
        with np.errstate(all="ignore"):  # domain errors become NaN/inf, checked per node
            values = _evaluate(self._tree, env)
        return np.broadcast_to(np.asarray(values, np.float64), a.shape).copy()


def parse_formula(text: str) -> Formula:
    """Check a formula against the whitelist and return it, or raise PlaygroundError."""
    if not isinstance(text, str):
        raise PlaygroundError("the formula must be text")
    if len(text) > MAX_FORMULA_CHARS:
        raise PlaygroundError(f"the formula is too long (more than {MAX_FORMULA_CHARS} characters)")
    _check_characters(text)
    text = " ".join(text.split())  # one line, no indentation: all the parser needs
    if not text:
        raise PlaygroundError("the formula is empty; try for example x1*x2")
    tree = _parse(text)
    _check_size(tree)
    _check(tree)
    return Formula(text=ast.unparse(tree), task=_task_of(tree), _tree=tree)


def _check_characters(text: str) -> None:
    """Plain keyboard characters only: look-alike letters would make 'x1' mean something else."""
    for position, ch in enumerate(text, start=1):
        if ch in "'\"":
            raise PlaygroundError("quotes are not allowed: a formula holds no text (strings)")
        if ch == "\\":
            raise PlaygroundError("backslashes are not allowed in a formula")
        if not (" " <= ch <= "~" or ch in "\t\r\n"):
            label = unicodedata.name(ch, f"U+{ord(ch):04X}")
            raise PlaygroundError(
                f"only plain keyboard characters (ASCII) can be used: found {ch!r} ({label}) "
                f"at position {position}"
            )


def _parse(text: str) -> ast.expr:
    # ast.parse only builds a syntax tree; nothing in the text is run.
    try:
        with warnings.catch_warnings(action="ignore"):  # e.g. "invalid decimal literal"
            return ast.parse(text, mode="eval").body
    except SyntaxError as err:
        where = f" (at character {err.offset})" if err.offset else ""
        raise PlaygroundError(f"the formula is not valid: {err.msg}{where}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError):
        raise PlaygroundError("the formula is not valid") from None


def _check_size(tree: ast.expr) -> None:
    """Refuse large or deep trees before anything recurses over them."""
    count, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_FORMULA_NODES:
            raise PlaygroundError(
                f"the formula is too complicated (more than {MAX_FORMULA_NODES} parts)"
            )
        if depth > MAX_FORMULA_DEPTH:
            raise PlaygroundError(
                f"the formula is nested too deeply (more than {MAX_FORMULA_DEPTH} levels)"
            )
        stack.extend(
            (child, depth + 1)
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, _TOKEN_NODES)
        )


def _check(node: ast.AST) -> None:
    """Raise PlaygroundError naming the first thing outside the whitelist."""
    if isinstance(node, ast.Constant):
        _check_literal(node.value)
    elif isinstance(node, ast.Name):
        _check_name(node.id)
    elif isinstance(node, ast.BinOp):
        _check_op(node.op)
        if isinstance(node.op, ast.Pow):
            _check_exponent(node.right)
        _check(node.left)
        _check(node.right)
    elif isinstance(node, ast.UnaryOp):
        _check_op(node.op)
        _check(node.operand)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            _check_op(op)
        for value in (node.left, *node.comparators):
            _check(value)
    elif isinstance(node, ast.Call):
        _check_call(node)
    else:
        name = type(node).__name__
        raise PlaygroundError(_REFUSED_NODES.get(type(node), f"{name} is not allowed"))


def _check_literal(value: object) -> None:
    if isinstance(value, str | bytes):
        raise PlaygroundError("text in quotes (strings) is not allowed in a formula")
    if isinstance(value, complex):
        raise PlaygroundError("complex numbers (like 2j) are not allowed")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlaygroundError(f"{value!r} is not allowed; use numbers, x1 and x2")
    if not abs(value) <= MAX_LITERAL:  # also catches a float literal that overflowed to inf
        raise PlaygroundError(f"numbers larger than {MAX_LITERAL:g} are not allowed")


def _check_name(name: str) -> None:
    if name in _VARIABLES or name in _CONSTANTS:
        return
    if name in _FUNCTIONS:
        raise PlaygroundError(f"{name} is a function: give it brackets, e.g. {name}(x1)")
    hint = f" (did you mean {name.lower()}?)" if name.lower() in _VARIABLES else ""
    raise PlaygroundError(
        f"only x1 and x2 (and the constants pi and e) can be used: found {_show(name)}{hint}"
    )


def _check_op(op: ast.AST) -> None:
    if type(op) in _BINARY or type(op) in _COMPARE or isinstance(op, _UNARY):
        return
    raise PlaygroundError(
        _REFUSED_OPS.get(type(op), f"the operator {type(op).__name__} is not allowed")
    )


def _check_exponent(node: ast.expr) -> None:
    """Powers need a plain number up to 10 as exponent: 9**9**9 must not even start."""
    value = _signed_number(node)
    if value is None or not abs(value) <= MAX_EXPONENT:
        raise PlaygroundError(
            f"the exponent after ** must be a plain number from -{MAX_EXPONENT} to {MAX_EXPONENT}"
        )


def _signed_number(node: ast.expr) -> int | float | None:
    if isinstance(node, ast.Constant):
        value = node.value
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _signed_number(node.operand)
        if value is None:
            return None
        return -value if isinstance(node.op, ast.USub) else value
    return None


def _check_call(node: ast.Call) -> None:
    func = node.func
    if not isinstance(func, ast.Name):
        _check(func)  # names the refused thing (attribute, lambda, ...)
        raise PlaygroundError("only the listed functions can be called, by name")
    allowed = ", ".join(_FUNCTIONS)
    if func.id not in _FUNCTIONS:
        raise PlaygroundError(f"unknown function {_show(func.id)}; the functions are {allowed}")
    if node.keywords:
        raise PlaygroundError("keyword arguments (like x=1) are not allowed")
    if any(isinstance(arg, ast.Starred) for arg in node.args):
        raise PlaygroundError("starred arguments (*) are not allowed")
    if len(node.args) != 1:
        raise PlaygroundError(f"{func.id} takes exactly one argument, e.g. {func.id}(x1)")
    _check(node.args[0])


def _task_of(tree: ast.expr) -> Literal["binary", "regression"]:
    is_not = isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not)
    return "binary" if isinstance(tree, ast.Compare | ast.BoolOp) or is_not else "regression"


# Why a node can fail, for the message.
_FAILURE_HINTS = {
    "log": "log needs numbers greater than 0",
    "sqrt": "sqrt needs numbers of at least 0",
    "tan": "tan is infinite at odd multiples of pi/2",
    "exp": "exp gives numbers too large",
}


def _evaluate(node: ast.AST, env: dict) -> np.ndarray:
    """Walk a checked tree with NumPy; every value is float64 (0/1 for truth values)."""
    if isinstance(node, ast.Constant):
        return np.float64(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.BinOp):
        out = _BINARY[type(node.op)](_evaluate(node.left, env), _evaluate(node.right, env))
    elif isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, env)
        if isinstance(node.op, ast.Not):
            return np.equal(value, 0).astype(np.float64)
        out = -value if isinstance(node.op, ast.USub) else +value
    elif isinstance(node, ast.BoolOp):
        truths = [np.not_equal(_evaluate(v, env), 0) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        return combine.reduce(np.broadcast_arrays(*truths)).astype(np.float64)
    elif isinstance(node, ast.Compare):
        left, result = _evaluate(node.left, env), np.True_
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(right_node, env)
            result = np.logical_and(result, _COMPARE[type(op)](left, right))
            left = right
        return np.asarray(result).astype(np.float64)
    else:  # ast.Call, the only node left after _check
        out = _FUNCTIONS[node.func.id](_evaluate(node.args[0], env))
    _require_finite(node, out, env)
    return out


def _require_finite(node: ast.AST, value: np.ndarray, env: dict) -> None:
    """Stop at the first part of the formula that turns finite numbers into NaN or inf."""
    finite = np.isfinite(value)
    if np.all(finite):
        return
    bad = ~np.broadcast_to(finite, env["x1"].shape)
    i = int(np.argmax(bad.ravel())) if bad.size else 0
    at = ""
    if env["x1"].size:
        at = f" at x1={env['x1'].ravel()[i]:.3g}, x2={env['x2'].ravel()[i]:.3g}"
    if isinstance(node, ast.Call):
        hint = _FAILURE_HINTS.get(node.func.id, "the numbers grow too large")
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        hint = "division by zero"
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        hint = "a negative number to a fractional power, 0 to a negative power, or overflow"
    else:
        hint = "the numbers grow too large"
    raise PlaygroundError(
        f"the formula is undefined somewhere in the plane: {_show(ast.unparse(node), 60)} "
        f"fails{at} ({hint})"
    )


def formula_dataset(formula: Formula | str, *, n_points: int, noise: float, seed: int) -> UserData:
    """Sample ``n_points`` uniform points in ±DOMAIN_HALF_WIDTH and label them by the formula.

    noise in [0, 0.5] works as in TensorFlow Playground: the points stay where they are, but
    each is labelled by the formula at a nudged position, point + N(0, s²) per coordinate with
    s = noise * DOMAIN_HALF_WIDTH / 2 (so 0.5 gives s = 1.5), kept inside the plane.
    A comparison gives classes 0/1; anything else a target scaled to [-1, 1]. Seeded: the same
    arguments give the same data, and the points do not move when only the noise changes.
    """
    if isinstance(formula, str):
        formula = parse_formula(formula)
    if not isinstance(formula, Formula):
        raise PlaygroundError("expected a formula")
    if isinstance(n_points, bool) or not isinstance(n_points, int | np.integer):
        raise PlaygroundError("the number of points must be a whole number")
    if not MIN_ROWS <= n_points <= MAX_ROWS:
        raise PlaygroundError(f"the number of points must be from {MIN_ROWS} to {MAX_ROWS:,}")
    if isinstance(noise, bool) or not isinstance(noise, int | float) or not 0 <= noise <= 0.5:
        raise PlaygroundError("noise must be a number from 0 to 0.5")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise PlaygroundError("the seed must be a whole number of at least 0")

    _check_on_grid(formula)
    rng = np.random.default_rng(int(seed))
    d = DOMAIN_HALF_WIDTH
    x = rng.uniform(-d, d, size=(int(n_points), 2))
    nudged = np.clip(x + rng.normal(0.0, noise * d / 2, size=x.shape), -d, d)
    values = formula.evaluate(nudged[:, 0], nudged[:, 1])
    if formula.task == "binary":
        y, y_scale, y_shift, class_names = _formula_classes(values), 1.0, 0.0, ("0", "1")
    else:
        message = "the formula gives the same value everywhere; it needs x1 or x2 to vary"
        y, y_scale, y_shift = _fit_targets(values, message)
        class_names = ()
    return UserData(
        x=_read_only(x.astype(np.float32)),
        y=_read_only(y),
        task=formula.task,
        n_classes=len(class_names) or 1,
        class_names=class_names,
        x_scale=1.0,
        x_shift=_read_only(np.zeros(2)),
        y_scale=y_scale,
        y_shift=y_shift,
        source=f"formula: {formula.text}",
    )


def _formula_classes(values: np.ndarray) -> np.ndarray:
    y = (values != 0).astype(np.int32)
    if y.min() == y.max():
        side = "true" if y[0] else "false"
        raise PlaygroundError(
            f"every point falls in one class (the formula is {side} at every sampled point); "
            f"move the boundary into the plane, x1 and x2 from -{DOMAIN_HALF_WIDTH:g} to "
            f"{DOMAIN_HALF_WIDTH:g}"
        )
    return y


def _check_on_grid(formula: Formula) -> None:
    """Evaluate on a grid through 0 first, so 1/x1 or log(x1) fail whatever the seed."""
    ticks = np.linspace(-DOMAIN_HALF_WIDTH, DOMAIN_HALF_WIDTH, 41)
    g1, g2 = np.meshgrid(ticks, ticks)
    formula.evaluate(g1, g2)
