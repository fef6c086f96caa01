"""User data: CSV files and formulas in, one UserData out; everything bad is a PlaygroundError."""

import ast
import builtins
import contextlib
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from playground.core.errors import PlaygroundError
from playground.userdata.formula import (
    DOMAIN_HALF_WIDTH,
    FORMULA_EXAMPLES,
    MAX_FORMULA_CHARS,
    Formula,
    formula_dataset,
    parse_formula,
)
from playground.userdata.points import DATA_HALF_WIDTH, UserData
from playground.userdata.points_csv import points_to_csv, read_points_csv

PROPERTY = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


def csv_bytes(rows, header="x1,x2,label", sep=",", newline="\n") -> bytes:
    lines = ([header] if header else []) + [sep.join(str(v) for v in row) for row in rows]
    return (newline.join(lines) + newline).encode()


def grid_rows(n=20, labels=(0, 1)):
    """n distinct points, labels cycling through ``labels``."""
    return [(i * 0.5, (i % 7) - 3.0, labels[i % len(labels)]) for i in range(n)]


def error_of(data: bytes, **kwargs) -> str:
    with pytest.raises(PlaygroundError) as info:
        read_points_csv(data, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------------------- CSV: good files


def test_reads_a_plain_binary_csv():
    data = read_points_csv(csv_bytes(grid_rows()), name="mine.csv")
    assert isinstance(data, UserData)
    assert data.x.shape == (20, 2) and data.x.dtype == np.float32
    assert data.y.shape == (20,) and data.y.dtype == np.int32
    assert data.task == "binary" and data.n_classes == 2
    assert data.class_names == ("0", "1")
    assert data.source == "upload: mine.csv"
    assert data.column_names == ("x1", "x2", "label")


def test_points_are_centred_and_fit_inside_the_margin_keeping_aspect():
    rows = [(100 + i, 1000 + 3 * (i % 2), i % 2) for i in range(20)]  # x1 spans 19, x2 spans 3
    data = read_points_csv(csv_bytes(rows))
    assert np.abs(data.x).max() <= DATA_HALF_WIDTH
    assert np.isclose(np.abs(data.x[:, 0]).max(), DATA_HALF_WIDTH)  # the wider axis fills
    assert np.isclose(data.x_scale, DATA_HALF_WIDTH / 9.5)  # one factor for both axes
    assert np.allclose(data.x_shift, [109.5, 1001.5])
    assert np.allclose(data.unscale_x(data.x), np.array(rows, float)[:, :2], atol=1e-4)


def test_note_says_what_was_done():
    rows = [(100 + i, 1000 + 3 * (i % 2), (-1, 1)[i % 2]) for i in range(20)]
    note = read_points_csv(csv_bytes(rows, header="a,b,kind")).note
    assert "a, b centred (minus 109.5, 1002)" in note and "scaled by 0.5789" in note
    assert "kind values -1, 1 are classes 0 to 1" in note
    assert formula_dataset("x1 > x2", n_points=50, noise=0.0, seed=0).note == ""
    assert "into [-1, 1]" in formula_dataset("x1 * x2", n_points=50, noise=0.0, seed=0).note


def test_negative_labels_become_sorted_class_indices_with_names_kept():
    data = read_points_csv(csv_bytes(grid_rows(labels=(1, -1))))
    assert data.class_names == ("-1", "1")
    assert list(data.y[:2]) == [1, 0]


def test_three_to_ten_whole_number_labels_are_multiclass():
    data = read_points_csv(csv_bytes(grid_rows(30, labels=(5, 7, 9, 11))))
    assert data.task == "multiclass" and data.n_classes == 4
    assert data.class_names == ("5", "7", "9", "11")
    assert set(data.y.tolist()) == {0, 1, 2, 3}


def test_whole_numbers_written_as_floats_are_still_classes():
    data = read_points_csv(csv_bytes(grid_rows(labels=("0.0", "1.0"))))
    assert data.task == "binary" and data.class_names == ("0", "1")


def test_fractional_or_many_valued_labels_are_regression_scaled_to_plus_minus_one():
    rows = [(i, -i * 0.5, i * 1.5 + 10) for i in range(20)]  # 20 distinct values
    data = read_points_csv(csv_bytes(rows))
    assert data.task == "regression" and data.n_classes == 1 and data.class_names == ()
    assert data.y.dtype == np.float32
    assert data.y.min() == -1 and data.y.max() == 1
    assert np.allclose(data.unscale_y(data.y), [r[2] for r in rows], atol=1e-5)


def test_header_is_optional():
    with_header = read_points_csv(csv_bytes(grid_rows()))
    without = read_points_csv(csv_bytes(grid_rows(), header=None))
    assert np.array_equal(with_header.x, without.x)
    assert np.array_equal(with_header.y, without.y)


def test_header_names_are_kept_but_columns_are_taken_in_order():
    data = read_points_csv(csv_bytes(grid_rows(), header="label,height,x1"))
    assert data.column_names == ("label", "height", "x1")
    assert np.array_equal(data.y, read_points_csv(csv_bytes(grid_rows())).y)


def test_semicolon_separator_with_decimal_commas():
    rows = [(f"{i},5", f"{-i},25", i % 2) for i in range(12)]
    data = read_points_csv(csv_bytes(rows, header="a;b;c", sep=";"))
    assert np.allclose(data.unscale_x(data.x)[:, 0], [i + 0.5 for i in range(12)], atol=1e-5)


def test_tab_separator():
    data = read_points_csv(csv_bytes(grid_rows(), header="x1\tx2\ty", sep="\t"))
    assert data.task == "binary" and len(data.x) == 20


def test_byte_order_mark_windows_line_endings_and_trailing_blank_lines():
    plain = read_points_csv(csv_bytes(grid_rows()))
    messy = b"\xef\xbb\xbf" + csv_bytes(grid_rows(), newline="\r\n") + b"\r\n\r\n  \r\n"
    data = read_points_csv(messy)
    assert data.column_names == ("x1", "x2", "label")  # the BOM is not part of the name
    assert np.array_equal(plain.x, data.x) and np.array_equal(plain.y, data.y)


def test_quoted_cells_spaces_and_trailing_separators_are_fine():
    text = "x1, x2, label,\n" + "".join(f'"{i}", {i % 3} ,{i % 2},\n' for i in range(12))
    data = read_points_csv(text.encode())
    assert len(data.x) == 12


def test_arrays_are_read_only():
    data = read_points_csv(csv_bytes(grid_rows()))
    with pytest.raises(ValueError):
        data.x[0, 0] = 1.0


# ---------------------------------------------------------------------------- CSV: bad files


def test_empty_file():
    assert "empty" in error_of(b"")
    assert "empty" in error_of(b"\xef\xbb\xbf \n\n")


def test_only_a_header():
    assert "no data rows" in error_of(b"x1,x2,label\n")


def test_binary_garbage():
    assert "binary" in error_of(bytes(range(256)) * 4)
    assert "UTF-8" in error_of(b"\x89PNG\r\n\x1a\n\xff\xd8\xff")


def test_utf16_is_named():
    assert "UTF-16" in error_of("x1,x2,label\n1,2,0\n".encode("utf-16"))


def test_wrong_column_count_names_the_row_and_the_count():
    rows = grid_rows()
    text = csv_bytes(rows).decode().splitlines()
    text[5] = "1,2,3,4"  # file line 6
    message = error_of("\n".join(text).encode())
    assert "row 6" in message and "4 columns" in message


def test_two_columns_are_refused():
    message = error_of(b"1,2\n3,4\n")
    assert "row 1" in message and "2 columns" in message


def test_a_non_number_names_row_and_column():
    text = csv_bytes(grid_rows()).decode().splitlines()
    text[3] = "1.5,abc,0"  # file line 4
    message = error_of("\n".join(text).encode())
    assert "row 4" in message and "x2" in message and "abc" in message


def test_a_non_number_uses_the_header_name():
    text = "a,height,c\n" + "\n".join(f"{i},{i},{i % 2}" for i in range(11)) + "\n1,tall,0\n"
    message = error_of(text.encode())
    assert "row 13" in message and "height" in message


def test_nan_and_inf_are_refused_with_row_and_column():
    for bad in ("nan", "NaN", "inf", "-Infinity"):
        text = csv_bytes(grid_rows()).decode().splitlines()
        text[2] = f"1,2,{bad}"
        message = error_of("\n".join(text).encode())
        assert "row 3" in message and "label" in message and "NaN or infinity" in message


def test_overflowing_number_is_refused():
    text = csv_bytes(grid_rows()).decode().replace("0.5,", "1e999,", 1)
    assert "too large" in error_of(text.encode())


def test_empty_cell_is_refused():
    text = csv_bytes(grid_rows()).decode().replace("0.5,", ",", 1)
    message = error_of(text.encode())
    assert "empty" in message and "x1" in message


def test_only_one_class():
    message = error_of(csv_bytes(grid_rows(labels=(1,))))
    assert "one class" in message


def test_too_few_rows():
    message = error_of(csv_bytes(grid_rows(5)))
    assert "5 data rows" in message and "10" in message


def test_too_many_rows():
    message = error_of(csv_bytes(grid_rows(101)), max_rows=100)
    assert "too many rows" in message and "100" in message


def test_too_large():
    message = error_of(b"1,2,3\n" * 1000, max_bytes=1000)
    assert "too large" in message


def test_all_points_in_one_place():
    assert "same x1 and x2" in error_of(csv_bytes([(1, 2, i % 2) for i in range(12)]))


def test_not_bytes():
    with pytest.raises(PlaygroundError):
        read_points_csv("x1,x2,label")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- CSV: properties


@PROPERTY
@given(st.binary(max_size=600))
def test_arbitrary_bytes_raise_only_playground_errors(data):
    with contextlib.suppress(PlaygroundError):
        read_points_csv(data)


csv_alphabet = st.sampled_from([*'0123456789.,;\t\n\r -+eEnaif"x', "nan", "inf", "1e400"])


@PROPERTY
@given(st.lists(csv_alphabet, max_size=300).map("".join))
def test_csv_like_text_raises_only_playground_errors(text):
    try:
        data = read_points_csv(text.encode())
    except PlaygroundError:
        return
    assert np.isfinite(data.x).all() and np.abs(data.x).max() <= DATA_HALF_WIDTH


coordinates = st.floats(-1e6, 1e6, width=32, allow_subnormal=False)


@st.composite
def point_sets(draw, labels):
    """(x, y): 10..60 float32 points that are not all in one place, labels drawn from labels."""
    n = draw(st.integers(10, 60))
    x = np.array(draw(st.lists(st.tuples(coordinates, coordinates), min_size=n, max_size=n)))
    x = x.astype(np.float32).reshape(n, 2)
    assume(np.ptp(x, axis=0).max() > 0)
    y = np.array(draw(st.lists(labels, min_size=n, max_size=n)))
    return x, y


@st.composite
def class_sets(draw):
    values = draw(st.lists(st.integers(-1000, 1000), min_size=2, max_size=10, unique=True))
    x, y = draw(point_sets(st.sampled_from(values)))
    assume(len(np.unique(y)) >= 2)
    return x, y.astype(draw(st.sampled_from([np.int32, np.int64])))


def close_to(back: np.ndarray, x: np.ndarray) -> bool:
    # Points come back through a float32 in ±5.5: good to float32 precision of the range.
    return np.allclose(back, x, rtol=0, atol=2e-6 * float(np.abs(x).max()))


@PROPERTY
@given(class_sets(), st.sampled_from([None, ("a", "b", "c"), ("x", "x 2", "colour, name")]))
def test_class_datasets_round_trip(points, header):
    x, y = points
    values = np.unique(y)
    data = read_points_csv(points_to_csv(x, y, header=header))
    assert close_to(data.unscale_x(data.x), x)
    labels = np.array([int(name) for name in data.class_names])[data.y]
    assert np.array_equal(labels, y)
    assert data.task == ("binary" if len(values) == 2 else "multiclass")


@PROPERTY
@given(point_sets(st.floats(-1e3, 1e3, width=32, allow_subnormal=False)))
def test_regression_datasets_round_trip(points):
    x, y = points
    y = y.astype(np.float32)
    assume(not np.all(y == np.round(y)) and np.ptp(y) > 1e-3 * np.abs(y).max())
    data = read_points_csv(points_to_csv(x, y))
    assert data.task == "regression"
    assert close_to(data.unscale_x(data.x), x)
    assert np.allclose(data.unscale_y(data.y), y, rtol=0, atol=1e-5 * float(np.abs(y).max()))


def test_round_trip_of_a_formula_dataset():
    made = formula_dataset("x1**2 + x2**2 < 9", n_points=200, noise=0.0, seed=3)
    back = read_points_csv(points_to_csv(made.x, made.y))
    assert np.allclose(back.unscale_x(back.x), made.x, atol=1e-5)
    assert np.array_equal(back.y, made.y) and back.class_names == made.class_names


def test_points_to_csv_refuses_bad_shapes_and_numeric_headers():
    with pytest.raises(PlaygroundError):
        points_to_csv(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(PlaygroundError):
        points_to_csv(np.zeros((3, 2)), np.zeros(3), header=("1", "2", "3"))
    with pytest.raises(PlaygroundError):
        points_to_csv(np.full((3, 2), np.nan), np.zeros(3))


# ---------------------------------------------------------------------------- formulas: good


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("x1*x2", "regression"),
        ("sin(3*x1) > x2", "binary"),
        ("x1**2 + x2**2 < 4", "binary"),
        ("x1 > 0 and x2 > 0", "binary"),
    ],
)
def test_spec_examples(text, task):
    formula = parse_formula(text)
    assert formula.task == task
    data = formula_dataset(formula, n_points=500, noise=0.0, seed=0)
    assert data.task == task and data.x.shape == (500, 2) and data.source.startswith("formula:")
    assert np.abs(data.x).max() <= DOMAIN_HALF_WIDTH
    if task == "binary":
        assert data.y.dtype == np.int32 and set(data.y.tolist()) == {0, 1}
        assert data.n_classes == 2 and data.class_names == ("0", "1")
    else:
        assert data.y.dtype == np.float32 and data.y.min() == -1 and data.y.max() == 1


def test_examples_constant_parses():
    assert all(isinstance(parse_formula(text), Formula) for text in FORMULA_EXAMPLES)


def test_values_are_right():
    x1, x2 = np.array([1.0, -2.0, 3.0]), np.array([2.0, 2.0, -1.0])
    assert np.allclose(parse_formula("x1*x2").evaluate(x1, x2), [2, -4, -3])
    assert np.array_equal(parse_formula("x1 > 0 and x2 > 0").evaluate(x1, x2), [1, 0, 0])
    assert np.array_equal(parse_formula("not x1 > 0 or x2 < 0").evaluate(x1, x2), [0, 1, 1])
    assert np.array_equal(parse_formula("-3 < x1 < 2").evaluate(x1, x2), [1, 1, 0])
    assert np.allclose(parse_formula("x1 ** -2 + pi - e").evaluate(x1, x2), x1**-2 + np.pi - np.e)
    assert np.allclose(parse_formula("abs(x1) + sqrt(x2**2)").evaluate(x1, x2), [3, 4, 4])
    assert parse_formula("2").evaluate(np.zeros((4, 5)), np.zeros((4, 5))).shape == (4, 5)


def test_text_is_normalised():
    assert parse_formula("  x1*x2\n").text == "x1 * x2"
    assert parse_formula("x1**2+x2**2<4").text == "x1 ** 2 + x2 ** 2 < 4"
    assert parse_formula("x1*x2") == parse_formula("x1 * x2")


def test_not_is_binary():
    assert parse_formula("not x1 > 0").task == "binary"
    assert parse_formula("(x1 > 0) + (x2 > 0)").task == "regression"


def test_dataset_is_seeded_and_noise_moves_labels_not_points():
    a = formula_dataset("x1 > x2", n_points=300, noise=0.0, seed=7)
    b = formula_dataset("x1 > x2", n_points=300, noise=0.0, seed=7)
    noisy = formula_dataset("x1 > x2", n_points=300, noise=0.5, seed=7)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert np.array_equal(a.x, noisy.x) and not np.array_equal(a.y, noisy.y)
    assert not np.array_equal(a.x, formula_dataset("x1 > x2", n_points=300, noise=0, seed=8).x)


def test_regression_targets_map_back():
    data = formula_dataset("x1 + 2*x2", n_points=100, noise=0.0, seed=0)
    assert np.allclose(data.unscale_y(data.y), data.x[:, 0] + 2 * data.x[:, 1], atol=1e-4)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("log(x1)", "log(x1)"),
        ("sqrt(x2) > 1", "sqrt"),
        ("1/x1", "division by zero"),
        ("x1 ** 0.5", "x1 ** 0.5"),
        ("exp(exp(exp(x1)))", "too large"),
    ],
)
def test_undefined_somewhere_in_the_plane(text, words):
    with pytest.raises(PlaygroundError, match="undefined somewhere in the plane") as info:
        formula_dataset(text, n_points=100, noise=0.0, seed=0)
    assert words in str(info.value)


def test_evaluate_does_not_warn_on_domain_errors():
    with np.errstate(all="raise"), pytest.raises(PlaygroundError):
        parse_formula("log(x1)").evaluate(np.array([-1.0]), np.array([0.0]))


def test_one_class_and_constant_formulas():
    with pytest.raises(PlaygroundError, match="every point falls in one class"):
        formula_dataset("x1 > 100", n_points=100, noise=0.0, seed=0)
    with pytest.raises(PlaygroundError, match="same value everywhere"):
        formula_dataset("pi * 2", n_points=100, noise=0.0, seed=0)
    with pytest.raises(PlaygroundError, match="same value everywhere"):
        formula_dataset("sin(x1)**2 + cos(x1)**2", n_points=100, noise=0.0, seed=0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_points": 5, "noise": 0.0, "seed": 0},
        {"n_points": 10**6, "noise": 0.0, "seed": 0},
        {"n_points": 100, "noise": 0.9, "seed": 0},
        {"n_points": 100, "noise": float("nan"), "seed": 0},
        {"n_points": 100, "noise": 0.0, "seed": -1},
        {"n_points": 10.5, "noise": 0.0, "seed": 0},
    ],
)
def test_dataset_arguments_are_checked(kwargs):
    with pytest.raises(PlaygroundError):
        formula_dataset("x1*x2", **kwargs)


# ---------------------------------------------------------------------------- formulas: attacks


DANGEROUS_MODULES = {"os", "posix", "subprocess", "sys", "shutil", "socket", "importlib"}


@pytest.fixture
def nothing_runs(monkeypatch):
    """Fail if parsing runs code, opens files, starts processes or imports system modules."""
    calls = []
    real = {name: getattr(builtins, name) for name in ("eval", "exec", "open", "compile")}
    real_import = builtins.__import__

    def spy(name):
        def wrapper(*args, **kwargs):
            calls.append(name)
            return real[name](*args, **kwargs)

        return wrapper

    def checked_compile(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:  # building a tree is fine, making code is not
            calls.append("compile")
        return real["compile"](source, filename, mode, flags, *args, **kwargs)

    def checked_import(name, *args, **kwargs):
        if name.partition(".")[0] in DANGEROUS_MODULES:
            calls.append(f"import {name}")
        return real_import(name, *args, **kwargs)

    def refuse(*args, **kwargs):
        calls.append("process")
        raise AssertionError("a process was started")

    for name in ("eval", "exec", "open"):
        monkeypatch.setattr(builtins, name, spy(name))
    monkeypatch.setattr(builtins, "compile", checked_compile)
    monkeypatch.setattr(builtins, "__import__", checked_import)
    monkeypatch.setattr(os, "system", refuse)
    monkeypatch.setattr(os, "popen", refuse)
    yield calls
    monkeypatch.undo()
    assert calls == [], f"parsing ran {calls}"


ATTACKS = {
    "import": ("__import__('os').system('id')", "quotes"),
    "import without quotes": ("__import__(os).system(id)", "attribute"),
    "dunder attribute": ("x1.__class__", "attribute"),
    "lambda": ("(lambda: 1)()", "lambda"),
    "comprehension": ("[x for x in (1,)]", "comprehension"),
    "tower of powers": ("9**9**9", "exponent"),
    "huge power": ("2**1000", "exponent"),
    "huge literal": ("1" * 400, "larger than"),
    "float overflow literal": ("1e999", "larger than"),
    "long expression": ("x1+" * 34_000 + "x1", "too long"),
    "cyrillic x": ("х1 * x2", "CYRILLIC"),
    "fullwidth digits": ("x1 * ２", "FULLWIDTH"),
    "fullwidth x": ("ｘ1", "FULLWIDTH"),
    "eval": ("eval(x1)", "unknown function"),
    "open": ("open(x1)", "unknown function"),
    "keyword args": ("sin(x=1)", "keyword"),
    "starred args": ("sin(*x1)", "starred"),
    "double starred": ("sin(**x1)", "keyword"),
    "two args": ("sin(x1, x2)", "one argument"),
    "string": ("'abc'", "quotes"),
    "f-string": ("f'{x1}'", "quotes"),
    "bytes": ("b'x'", "quotes"),
    "walrus": ("(y := 1)", "walrus"),
    "subscript": ("x1[0]", "subscript"),
    "unknown name": ("y * 2", "found 'y'"),
    "capital X": ("X1", "did you mean x1"),
    "bare function": ("sin", "brackets"),
    "caret": ("x1^2", "**"),
    "if expression": ("x1 if x2 else 1", "if"),
    "tuple": ("x1, x2", "tuple"),
    "dict": ("{1: 2}", "dictionar"),
    "complex": ("2j * x1", "complex"),
    "True": ("True", "True"),
    "ellipsis": ("...", "Ellipsis"),
    "modulo": ("x1 % 2", "%"),
    "is": ("x1 is x2", "'is'"),
    "in": ("x1 in x2", "'in'"),
    "await": ("await x1", "await"),
    "backslash": ("x1 \\\n+ x2", "backslash"),
    "control character": ("x1\x00", "ASCII"),
    "deep nesting": ("(" * 240 + "x1" + ")" * 240, "not valid"),
    "deep unary": ("-" * 100 + "x1", "nested too deeply"),
    "many parts": ("1<" * 240 + "1", "too complicated"),
    "syntax error": ("x1 +", "not valid"),
    "empty": ("   ", "empty"),
    "variable power": ("x1**x2", "exponent"),
}


@pytest.mark.parametrize(("text", "words"), ATTACKS.values(), ids=ATTACKS.keys())
def test_attacks_are_refused_with_a_message_naming_them(nothing_runs, text, words):
    with pytest.raises(PlaygroundError) as info:
        parse_formula(text)
    assert words in str(info.value)


def test_the_length_limit_is_what_it_says():
    assert parse_formula("x1" + " " * (MAX_FORMULA_CHARS - 2)).text == "x1"
    with pytest.raises(PlaygroundError, match="too long"):
        parse_formula("x1" + " " * (MAX_FORMULA_CHARS - 1))


def test_not_text():
    with pytest.raises(PlaygroundError):
        parse_formula(b"x1")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- formulas: properties


@PROPERTY
@given(st.text(max_size=80))
def test_arbitrary_text_raises_only_playground_errors(text):
    with contextlib.suppress(PlaygroundError):
        parse_formula(text)


formula_alphabet = st.sampled_from(
    [
        "x1",
        "x2",
        "pi",
        "e",
        "1",
        "0",
        "2.5",
        "(",
        ")",
        "+",
        "-",
        "*",
        "/",
        "**",
        "<",
        ">=",
        "==",
        " and ",
        " or ",
        "not ",
        "sin",
        "log",
        "sqrt",
        "exp",
        ",",
        "9",
        "[",
        ".",
        "_",
    ]
)


@PROPERTY
@given(st.lists(formula_alphabet, max_size=30).map("".join))
def test_formula_like_text_never_escapes(text):
    """Tokens glued at random: parsing and evaluating raise only PlaygroundError."""
    try:
        values = parse_formula(text).evaluate(np.linspace(-6, 6, 9), np.linspace(6, -6, 9))
    except PlaygroundError:
        return
    assert values.shape == (9,) and np.isfinite(values).all()


leaves = st.one_of(
    st.sampled_from(["x1", "x2", "pi", "e"]),
    st.floats(-100, 100, allow_nan=False).map(lambda v: repr(round(v, 3))),
    st.tuples(st.sampled_from(["x1", "x2"]), st.integers(0, 3)).map(lambda t: f"{t[0]}**{t[1]}"),
)


def expressions_up_to(depth: int) -> st.SearchStrategy[str]:
    """Formulas of bounded depth that are finite everywhere on the plane."""
    if depth == 0:
        return leaves
    inner = expressions_up_to(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda t: f"({''.join(t)})"),
        st.tuples(st.sampled_from(["sin", "cos", "tanh", "abs", "-"]), inner).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
    )


expressions = expressions_up_to(3)
conditions = st.one_of(
    expressions,
    st.tuples(expressions, st.sampled_from(["<", ">", "<=", ">="]), expressions).map(" ".join),
    st.tuples(expressions, st.sampled_from(["and", "or"]), expressions).map(
        lambda t: f"{t[0]} > 0 {t[1]} {t[2]} < 1"
    ),
)


@PROPERTY
@given(conditions, st.integers(1, 50))
def test_grammar_formulas_parse_and_evaluate_to_finite_arrays(text, n):
    formula = parse_formula(text)
    assert parse_formula(formula.text) == formula  # the normal form is stable
    rng = np.random.default_rng(n)
    x1, x2 = rng.uniform(-6, 6, size=(2, n))
    values = formula.evaluate(x1, x2)
    assert values.shape == (n,) and values.dtype == np.float64
    assert np.isfinite(values).all()
    if formula.task == "binary":
        assert set(np.unique(values)) <= {0.0, 1.0}


def test_the_dataset_export_with_its_split_column_reads_back():
    rng = np.random.default_rng(3)
    x = rng.uniform(-5, 5, (40, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    test = np.arange(40) >= 25
    text = points_to_csv(x, y, test=test)
    lines = text.decode().splitlines()
    assert lines[0] == "x1,x2,label,split" and lines[1].endswith(",train")
    assert lines[-1].endswith(",test") and sum(line.endswith(",test") for line in lines) == 15
    back = read_points_csv(text)
    assert len(back.x) == 40 and back.task == "binary"
    np.testing.assert_array_equal(back.y, y)
    # A fourth column is only taken when its header says "split".
    with pytest.raises(PlaygroundError, match="row 1 has 4 columns"):
        read_points_csv(b"x1,x2,label,other\n" + b"1,2,0,a\n" * 12)
    with pytest.raises(PlaygroundError, match="expected 4"):
        read_points_csv(b"x1,x2,label,split\n" + b"1,2,0\n" * 12)
    with pytest.raises(PlaygroundError, match="needs a header"):
        points_to_csv(x, y, header=None, test=test)
