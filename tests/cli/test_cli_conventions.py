"""One convention for every command: help text, flags and error lines."""

from __future__ import annotations

import re

import pytest

from dagmm.cli import main

COMMANDS = [
    ["fit"], ["score"], ["evaluate"], ["tune"], ["demo"], ["benchmark", "paper"],
    ["experiment", "mnist-vae"],
]  # fmt: skip
THREADED = [["fit"], ["score"], ["evaluate"], ["tune"], ["demo"]]


def help_text(capsys, command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    assert main([*command, "--help"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_follows_one_convention(capsys, monkeypatch, command):
    text = help_text(capsys, command, monkeypatch)
    usage = text.strip().splitlines()[0]
    assert usage.startswith(f"Usage: dagmm {' '.join(command)} [OPTIONS]")
    assert "{" not in usage  # arguments by name (DATA), not {data}
    assert "<bool>" not in text  # flags take no value
    assert "(default" not in text  # defaults are written [default: ...]
    flat = " ".join(text.split())
    assert "-q, --quiet" in flat  # every command is quieted the same way
    assert "--no-progress" not in flat and "--progress" not in flat


@pytest.mark.parametrize("command", THREADED, ids=" ".join)
def test_every_training_or_scoring_command_takes_threads(capsys, monkeypatch, command):
    assert "--threads" in help_text(capsys, command, monkeypatch)


def test_defaults_are_shown_for_options_given_without_one(capsys, monkeypatch):
    flat = re.sub(r"-\s+", "-", " ".join(help_text(capsys, ["fit"], monkeypatch).split()))
    for default in ("[default: 100]", "[default: --no-impute]", "[default: auto]"):
        assert default in flat


@pytest.mark.parametrize(
    "args",
    [["demo", "--epochs", "-1"], ["fit", "rows.csv", "--out", "m", "--epochs", "-1"]],
    ids=["demo", "fit"],
)
def test_negative_epochs_is_the_same_one_line_everywhere(capsys, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rows.csv").write_text("a\n1\n2\n")
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: --epochs must be an int in the range [0, inf). Got -1 instead. "
        "(in the command line)"
    ]


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["fit", "x.csv", "-o", "m", "--epoch", "3"], r"No such option: --epoch .*--epochs"),
        (["score", "x.csv"], r"Missing option '--model'"),
        (["fit", "x.csv", "-o", "m", "--epochs", "x"], r"Invalid value for '--epochs'"),
        (["nope"], r"No such command 'nope'"),
    ],
)
def test_usage_errors_are_one_line_with_where_to_look(capsys, args, pattern):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert re.search(pattern, err[0]) and "--help')" in err[0]
