"""``python -m playground regions FILE.npz --box X0 X1 Y0 Y1 --json`` (DESIGN.md contract).

One hidden layer of H units whose lines are in general position and all cross inside a
big box cuts it into exactly 1 + H + C(H, 2) regions (H = 1, 2, 3, 5, 8, 12 -> 2, 4, 7,
16, 37, 79). Bad files exit with status 2 and one plain line on stderr.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from playground.analysis.lines import first_layer_lines
from playground.cli import main
from playground.core.modelfile import SavedModel, save_model

ROOT = Path(__file__).resolve().parents[2]
BIG = (-100.0, 100.0, -100.0, 100.0)
BOX_ARGS = ["--box", *(f"{v:g}" for v in BIG)]


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "playground", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def general_position_file(tmp_path: Path, hidden: int, seed: int = 0) -> Path:
    """A one-hidden-layer ReLU model whose H lines all cross each other inside BIG.

    The lines are tangents to the unit circle at H spread-out angles: no two parallel, no
    three through one point (a point outside a circle lies on only two of its tangents),
    and every crossing within 2H/π of the origin, so no piece is a sliver.
    """
    rng = np.random.default_rng(seed)
    theta = (np.arange(hidden) + rng.uniform(0.2, 0.8, size=hidden)) * np.pi / hidden
    w = np.stack([np.cos(theta), np.sin(theta)]).astype(np.float32)
    b = -np.ones(hidden, np.float32)
    stats = first_layer_lines(w, b, BIG)
    assert stats.crossing == hidden and stats.pairs_inside == math.comb(hidden, 2)
    params = [(w, b), (rng.normal(size=(hidden, 1)).astype(np.float32), np.zeros(1, np.float32))]
    path = tmp_path / f"h{hidden}.npz"
    path.write_bytes(save_model(SavedModel(params, "relu")))
    return path


def test_one_layer_in_general_position_reaches_the_maximum(tmp_path):
    path = general_position_file(tmp_path, 8)
    r = cli("regions", str(path), *BOX_ARGS, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["regions"] == 1 + 8 + math.comb(8, 2) == 37
    assert out["hidden"] == [8] and out["activation"] == "relu" and out["box"] == list(BIG)


@pytest.mark.parametrize(("hidden", "expected"), [(1, 2), (2, 4), (3, 7), (5, 16), (12, 79)])
def test_course_values(tmp_path, capsys, hidden, expected):
    path = general_position_file(tmp_path, hidden, seed=hidden)
    assert main(["regions", str(path), *BOX_ARGS, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["regions"] == expected


def test_a_file_that_is_not_npz_exits_2_with_one_line(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("x1,x2,label\n0,0,1\n")
    r = cli("regions", str(path), *BOX_ARGS, "--json")
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "npz" in lines[0]


def test_missing_file_and_empty_box_exit_2(tmp_path, capsys):
    assert main(["regions", str(tmp_path / "nope.npz"), "--json"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    path = general_position_file(tmp_path, 2)
    assert main(["regions", str(path), "--box", "1", "0", "0", "1", "--json"]) == 2
    assert "X0 < X1" in capsys.readouterr().err
