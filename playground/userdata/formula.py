"""Targets from a formula in x1 and x2, such as ``x1*x2`` or ``sin(3*x1) > x2``.

The text is parsed with :mod:`ast` and checked against a short whitelist (numbers, x1,
x2, pi, e, + - * / **, comparisons, and/or/not, abs sin cos tan exp log sqrt tanh). It
is evaluated by walking the tree with NumPy; the text is never turned into code. A
comparison or and/or/not at the top gives two classes, anything else a regression target.
"""

import ast
import math
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from playground.core.config import MAX_TEXT
from playground.core.datasets import DOMAIN as DOMAIN_HALF_WIDTH  # the plane is [-6, 6]²
from playground.core.errors import PlaygroundError
from playground.userdata.points import (
    MAX_ROWS,
    MIN_ROWS,
    UserData,
    fit_targets,
    read_only,
    shown,
)

FORMULA_EXAMPLES: tuple[str, ...] = (
    "x1*x2",
    "sin(3*x1) > x2",
    "x1**2 + x2**2 < 4",
    "x1 > 0 and x2 > 0",
)
MAX_FORMULA_CHARS = MAX_TEXT  # one limit for links, the formula box and the parser
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
        f"only x1 and x2 (and the constants pi and e) can be used: found {shown(name)}{hint}"
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
        raise PlaygroundError(f"unknown function {shown(func.id)}; the functions are {allowed}")
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
        f"the formula is undefined somewhere in the plane: {shown(ast.unparse(node), 60)} "
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
        y, y_scale, y_shift = fit_targets(values, message)
        class_names = ()
    return UserData(
        x=read_only(x.astype(np.float32)),
        y=read_only(y),
        task=formula.task,
        n_classes=len(class_names) or 1,
        class_names=class_names,
        x_scale=1.0,
        x_shift=read_only(np.zeros(2)),
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
