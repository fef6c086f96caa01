"""The CLI contract of DESIGN.md: JSON out, plain one-line errors, exit codes."""

import json
import subprocess
import sys

import pytest


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
        (["--lr", "-1"], "learning_rate"),
        (["--problem", "nope"], "problem"),
        (["--activation", "swish"], "activation"),
        (["--steps", "lots"], "invalid int"),
    ],
)
def test_bad_arguments_exit_non_zero_with_one_line(args, words):
    r = cli("train", *args, "--json")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and words in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
