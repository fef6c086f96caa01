"""The house keeps its layers: imports point down the data flow, never up.

config -> data + params -> train chunk -> snapshot -> figures -> page: ``core`` imports
only itself; ``userdata`` and ``analysis`` sit on the core; ``live`` trains and takes
snapshots over all three; ``lessons`` may use a live run; ``figures`` draw arrays and
results and never see live state; ``ui`` sees everything. Only ``ui``, the pages and the
entry import Streamlit, and pages do no math (no JAX or NumPy).
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "playground"

# Sub-package -> the sub-packages it may import from.
ALLOWED = {
    "core": {"core"},
    "userdata": {"core", "userdata"},
    "analysis": {"core", "analysis"},
    # The live stream's frames are drawn by the figure builders (live.server.frames).
    "live": {"core", "userdata", "analysis", "live", "figures"},
    "lessons": {"core", "userdata", "analysis", "live", "lessons"},
    "figures": {"core", "analysis", "figures"},
    "ui": {
        "core",
        "userdata",
        "analysis",
        "live",
        "lessons",
        "figures",
        "ui",
        "classroom",
    },
    # A class: its store, and the learners' tiles this server publishes to it.
    "classroom": {"core", "analysis", "live", "figures", "classroom"},
    # A client of a running app, from outside: it imports none of it.
    "loadtest": {"loadtest"},
    # Times the layers below against the top-level yardsticks (playground.reference).
    "bench": {"core", "userdata", "analysis", "live", "figures", "bench", "top"},
}
# Single modules a layer may import beyond its table: the wire's schema is types on the
# standard library alone, so the load test reads the app's messages by it without
# importing the app (test_the_wire_schema_stands_alone holds it to that).
ALSO = {"loadtest": {"playground.figures.protocol"}}
WIRE_SCHEMA = PACKAGE / "figures" / "protocol.py"
# Top-level modules (cli, bench, ...) run headless: anything but the Streamlit layer.
TOP_LEVEL = {"core", "userdata", "analysis", "live", "lessons", "figures", "top"}
STREAMLIT_OK = {"ui"}
# The load-test client speaks Streamlit's protocol to a server, so it needs its protobufs.
STREAMLIT_CLIENTS = {"loadtest"}  # layers
PAGE_FORBIDDEN = {"jax", "numpy", "optax"}


def imports(path: Path) -> list[tuple[str, int]]:
    """Every module name a file imports (absolute), with its line, including imports
    inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
            if node.module == "playground":  # from playground import core, ...
                found += [(f"playground.{a.name}", node.lineno) for a in node.names]
    return found


def layer_of(module: str) -> str | None:
    """'core' for playground.core.x, 'top' for playground.cli, None outside the package."""
    parts = module.split(".")
    if parts[0] != "playground":
        return None
    if len(parts) == 1:
        return "top"
    if (PACKAGE / parts[1]).is_dir():
        return parts[1]
    return "top"


def package_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def file_layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else "top"


def test_every_sub_package_is_in_the_table():
    dirs = {p for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert all((d / "__init__.py").exists() for d in dirs), "every folder is a package"
    names = {d.name for d in dirs}
    assert names <= set(ALLOWED), f"add {names - set(ALLOWED)} to ALLOWED with its layer"


def module_of(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (inside functions too); ``from a.b
    import c`` names the module a.b.c where that is a file, else a.b."""
    modules = {module_of(p): p for p in package_files()}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for a in node.names:
                    sub = f"{node.module}.{a.name}"
                    found.add(sub if sub in modules else node.module)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_sees_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert "playground.live.engine.run" in import_graph()["playground.live.server.precompile"]


@pytest.mark.parametrize("path", package_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path):
    layer = file_layer(path)
    allowed = TOP_LEVEL if layer == "top" else ALLOWED[layer]
    wrong = []
    for module, line in imports(path):
        target = layer_of(module)
        if target is not None and target not in allowed and module not in ALSO.get(layer, ()):
            wrong.append(f"line {line}: {module} ({layer} may import {sorted(allowed)})")
        client = layer in STREAMLIT_CLIENTS and module.startswith("streamlit.proto")
        if module.split(".")[0] == "streamlit" and layer not in STREAMLIT_OK and not client:
            wrong.append(f"line {line}: {module} (only ui imports streamlit)")
    assert not wrong, "\n".join(wrong)


def test_the_wire_schema_stands_alone():
    """The schema the load test imports imports nothing but the standard library."""
    names = {module.split(".")[0] for module, _ in imports(WIRE_SCHEMA)}
    assert names <= sys.stdlib_module_names, names - sys.stdlib_module_names


# live/'s rooms, one way: the server serves sessions, a session holds a run of the engine.
# Only the server draws (its frames): the engine and a session sit below the figures.
ROOMS = {"engine": {"engine"}, "session": {"engine", "session"}}


def room_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if parts[:2] == ["playground", "live"] and len(parts) > 2 else None


@pytest.mark.parametrize(
    "path",
    sorted((PACKAGE / "live").rglob("*.py")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_live_rooms_point_one_way(path):
    room = path.relative_to(PACKAGE / "live").parts[0]
    allowed = ROOMS.get(room)
    if allowed is None:
        return  # the server (and live/__init__) may use every room
    wrong = [
        f"line {line}: {module} ({room} may import {sorted(allowed)})"
        for module, line in imports(path)
        if room_of(module) not in (None, *allowed) or layer_of(module) == "figures"
    ]
    assert not wrong, "\n".join(wrong)


def test_the_table_itself_points_down():
    """No layer below the UI may reach the UI, and figures never see the live run."""
    for layer, allowed in ALLOWED.items():
        if layer != "ui":
            assert "ui" not in allowed, layer
    assert "live" not in ALLOWED["figures"] and "lessons" not in ALLOWED["figures"]
    assert room_of("playground.live.session.live_run") == "session"
    assert ALLOWED["core"] == {"core"}


@pytest.mark.parametrize(
    "path",
    [ROOT / "streamlit_app.py", *sorted((ROOT / "app_pages").glob("*.py"))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_pages_are_thin(path):
    """Pages draw widgets and call the package: no array math of their own."""
    wrong = [
        f"line {line}: {module}"
        for module, line in imports(path)
        if module.split(".")[0] in PAGE_FORBIDDEN
    ]
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_violation(tmp_path):
    """The walk finds imports inside functions and ``from playground import x`` too."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f():\n    from playground.ui import live_view\n"
        "from playground import live\nimport streamlit as st\n"
    )
    found = {m for m, _ in imports(bad)}
    assert {"playground.ui", "playground.live", "streamlit"} <= found
    assert {layer_of(m) for m in found} >= {"ui", "live"}
    assert layer_of("playground.ui.live_view") == "ui" and layer_of("playground.cli") == "top"


def test_the_tests_mirror_the_package():
    """tests/<name>/ for every sub-package (its own tests), plus pages/ and system/."""
    tests = ROOT / "tests"
    folders = {p.name for p in tests.iterdir() if p.is_dir() and p.name != "__pycache__"}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert folders - {"pages", "system"} == packages
