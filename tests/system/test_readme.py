"""Every command of the README's "Command line" block does what its comment says.

Each line ends in ``# <words>: <key> <op> <number>``; the test runs the lines in order
(in a scratch folder, through the command line's ``main`` in this process), reads the
printed JSON (or the ``key: value`` lines without --json) and checks the claim.
"""

import contextlib
import io
import json
import operator
import re
import shlex
from pathlib import Path

import pytest

from playground import cli

ROOT = Path(__file__).resolve().parents[2]
CLAIM = re.compile(
    r"#\s*(?P<words>.+):\s*(?P<key>\w+)\s*(?P<op>>=|<=|==)\s*(?P<value>-?[\d.]+)\s*$"
)
OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq}


def command_lines() -> list[str]:
    """The lines of the first ```bash block under "## Command line"."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Command line", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def parse_output(stdout: str) -> dict:
    try:
        return json.loads(stdout.strip().splitlines()[-1])
    except json.JSONDecodeError:
        pairs = (line.split(": ", 1) for line in stdout.splitlines() if ": " in line)
        out = {}
        for k, v in pairs:
            try:
                out[k] = json.loads(v)
            except json.JSONDecodeError:
                out[k] = v
        return out


def test_the_readme_lists_commands_with_claims():
    lines = command_lines()
    assert len(lines) >= 5
    assert all(CLAIM.search(line) for line in lines), lines


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``python -m playground ...`` in this process (its ``main``, as ``__main__`` calls
    it): the exit code, stdout and stderr. Ten new processes would each import JAX and the
    package again; ``tests/system/test_cli.py`` runs the command as a process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow
def test_every_readme_command_does_what_it_says(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the files the commands save and read
    for line in command_lines():
        command, _, comment = line.partition("  #")
        claim = CLAIM.search("#" + comment)
        argv = shlex.split(command)
        assert argv[:3] == [".venv/bin/python", "-m", "playground"], line
        code, stdout, stderr = run_cli(argv[3:])
        assert code == 0, f"{line}\n{stderr}"
        out = parse_output(stdout)
        key, op, value = claim["key"], claim["op"], float(claim["value"])
        assert key in out, (line, out)
        got = float(out[key])
        print(f"\n{command.strip()}\n  {key} = {got} ({claim['words']})")
        assert OPS[op](got, value), f"{line}: {key} is {got}"


@pytest.mark.parametrize("line", ["x # words: test_accuracy >= 0.95", "x # a: regions >= 100"])
def test_the_claim_pattern(line):
    assert CLAIM.search(line)
