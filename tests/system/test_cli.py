"""The CLI contract of DESIGN.md: JSON out, plain one-line errors, exit codes."""

import json
import subprocess
import sys

import numpy as np
import pytest

from playground.userdata.points_csv import points_to_csv


def cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "playground", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_train_prints_one_json_object_and_saves(tmp_path):
    model = tmp_path / "m.npz"
    r = cli(
        "train",
        "--problem",
        "xor",
        "--width",
        "8",
        "--depth",
        "2",
        "--steps",
        "600",
        "--seed",
        "1",
        "--save",
        str(model),
        "--json",
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in ("test_loss", "train_loss", "test_accuracy", "steps_per_s", "device"):
        assert key in out
    assert out["steps"] == 600 and out["test_accuracy"] > 0.9 and out["steps_per_s"] > 0
    assert model.stat().st_size > 0
    r = cli("train", "--problem", "sum", "--depth", "0", "--steps", "300", "--json")
    out = json.loads(r.stdout)
    assert "test_r2" in out and out["params"] == 3 and out["hidden"] == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--width", "0"], "--width"),
        (["--depth", "99"], "--depth"),
        (["--lr", "-1"], "Learning rate must lie between 1e-5 and 10; -1 is out of range"),
        (["--problem", "nope"], "Problem: 'nope' is not one of xor, circle"),
        (["--activation", "swish"], "Activation: 'swish' is not one of relu"),
        (["--steps", "lots"], "invalid int"),
    ],
)
def test_bad_arguments_exit_non_zero_with_one_line(args, words):
    r = cli("train", *args, "--json")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and words in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_formula_and_csv_data_from_the_command_line(tmp_path):
    r = cli(
        "train",
        "--formula",
        "x1**2 + x2**2 < 16",
        "--width",
        "8",
        "--depth",
        "2",
        "--steps",
        "600",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["task"] == "binary" and out["test_accuracy"] > 0.85
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (300, 2))
    csv = tmp_path / "points.csv"
    csv.write_bytes(points_to_csv(x, x[:, 0] - 2 * x[:, 1]))
    r = cli(
        "train",
        "--data",
        str(csv),
        "--depth",
        "0",
        "--steps",
        "400",
        "--lr",
        "0.1",
        "--batch-size",
        "0",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["task"] == "regression" and out["test_r2"] > 0.99


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--formula", "__import__('os').system('id')"], "formula"),
        (["--data", "/no/such/file.csv"], "cannot read"),
    ],
)
def test_hostile_formula_and_missing_file_exit_with_one_line(args, words):
    r = cli("train", *args, "--json")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert words in r.stderr.lower() and len(r.stderr.strip().splitlines()) == 1
