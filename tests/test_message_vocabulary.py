"""Every option a message names exists, in the vocabulary of the caller.

The same bad inputs go through the command line, through FitOptions (the
workflow's Python API) and through TabularPreprocessor; every error and warning
is collected, each option name in it is picked out, and each must be one the
caller can use: a flag of that command, a FitOptions field, or a preprocessor
parameter. (The newcomer was told to use ``datetime_cols`` and
``handle_missing='impute'`` where only ``--datetime-cols``/``--impute`` exist.)
"""

from __future__ import annotations

import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import typer

from dagmm import DAGMM, VAEDetector
from dagmm.cli import app, main
from dagmm.cli.app import _register_commands
from dagmm.tabular import TabularPreprocessor
from dagmm.workflow import FitOptions, TabularDetector, resolve_options
from dagmm.workflow.options import option_names

N = 120
TINY = ["--epochs", "1", "--batch-size", "64", "--comp-hiddens", "8,2", "--est-hiddens", "4,2",
        "--device", "cpu"]  # fmt: skip
TINY_OPTIONS = {"epoch_size": 1, "minibatch_size": 64, "comp_hiddens": (8, 2), "est_hiddens": (4, 2),
                "device": "cpu"}  # fmt: skip


def _params(cls: type) -> set[str]:
    return set(inspect.signature(cls.__init__).parameters) - {"self"}


PREPROCESSOR_NAMES = _params(TabularPreprocessor)
#: What options, config files and the Python workflow call settings: the estimators' names.
OPTION_FIELDS = set(option_names("dagmm")) | set(option_names("vae"))
#: Every Python-side option name a message could mention.
PYTHON_NAMES = PREPROCESSOR_NAMES | OPTION_FIELDS | _params(DAGMM) | _params(VAEDetector)

FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
IDENTIFIER = re.compile(r"(?<![\w'-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w'])")
SETTING = re.compile(r"(?<![\w-])([a-z][a-z0-9_]*)\s?=")


def frame_with_everything(seed: int = 0) -> pd.DataFrame:
    """Ids, dates, hashed categories, a mostly-numeric column and a label-like column."""
    rng = np.random.default_rng(seed)
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, N), unit="s")
    return pd.DataFrame(
        {
            "txnid": [f"t{i:05d}" for i in range(N)],
            "booked": stamps.strftime("%m/%d/%Y %H:%M"),
            "shop": [f"shop{i % 60:02d}" for i in rng.permutation(N)],
            "code": [str(i) for i in range(N - 3)] + ["unknown"] * 3,
            "amount": rng.lognormal(3, 1, N).round(2),
            "label": (rng.random(N) < 0.1).astype(int),
        }
    )


def mentioned(message: str, columns: set[str]) -> tuple[set[str], set[str]]:
    """(flags, Python option names) a message mentions; quoted column names are not options."""
    text = re.sub(r"'[^']*'", "''", message)  # quoted values and column names
    flags = set(FLAG.findall(text))
    names = {name for name in IDENTIFIER.findall(text) if name in PYTHON_NAMES}
    names |= {name for name in SETTING.findall(text) if name in PYTHON_NAMES}
    return flags, names - columns


def command_flags() -> dict[str, set[str]]:
    _register_commands()
    group = typer.main.get_command(app)
    flags: dict[str, set[str]] = {}

    def walk(command, path):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
            return
        names = {"--help"}
        for param in command.params:
            names |= {o for o in [*param.opts, *param.secondary_opts] if o.startswith("--")}
        flags[" ".join(path)] = names

    walk(group, [])
    return flags


# ------------------------------------------------------------------ scenarios


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("vocabulary")
    frame = frame_with_everything()
    paths = {"all": root / "all.csv", "gaps": root / "gaps.csv", "dates": root / "dates.csv"}
    frame.to_csv(paths["all"], index=False)
    gaps = frame.copy()
    gaps["amount"] = gaps["amount"].astype(object)
    gaps.loc[[2, 5], "amount"] = None
    gaps.to_csv(paths["gaps"], index=False)
    bad_dates = frame.copy()
    bad_dates.loc[4, "booked"] = "13/45/2024 10:00"
    bad_dates.to_csv(paths["dates"], index=False)
    return paths


def cli_scenarios(files: dict[str, Path], out: Path) -> list[tuple[str, list[str]]]:
    data, model = str(files["all"]), str(out / "model")
    fit = ["fit", data, "--out", model, "-q", *TINY]
    return [
        ("fit", fit),  # warnings: ids, dates, hashed, mostly numeric, label-like
        ("fit", ["fit", str(files["gaps"]), "--out", str(out / "m2"), "-q", *TINY]),
        ("score", ["score", str(files["gaps"]), "--model", model, "--out", str(out / "s.csv")]),
        ("evaluate", ["evaluate", data, "--model", model, "--label-col", "label",
                      "--out", str(out / "r")]),
        ("fit", [*fit[:4], "--drop-cols", "amont"]),
        ("fit", [*fit[:4], "--id-cols", "shop", "--drop-cols", "shop"]),
        ("fit", ["fit", str(files["dates"]), "--out", model, "--datetime-cols", "booked"]),
        ("fit", [*fit[:4], "--contamination", "0.1", "--threshold-fpr", "0.01"]),
        ("fit", [*fit[:4], "--threshold-f1"]),
        ("fit", [*fit[:4], "--normal-label", "ok"]),
        ("fit", [*fit[:4], "--learning-rate", "-1"]),
        ("fit", [*fit[:4], "--comp-hiddens", "8,x"]),
        ("fit", [*fit[:4], "--label-col", "label", "--validation-fraction", "2"]),
        ("tune", ["tune", data, "--out", str(out / "t")]),
        ("score", ["score", data, "--model", model, "--out", str(out / "s2.csv"),
                   "--contamination", "0.1", "--threshold-fpr", "0.1"]),
    ]  # fmt: skip


def test_cli_messages_name_flags_of_the_command(files, tmp_path, capsys):
    flags_of = command_flags()
    global_flags = {"--debug", "--version", "--help"}
    columns = set(frame_with_everything().columns)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    seen = []
    try:
        for command, args in cli_scenarios(files, tmp_path):
            code = main(args)
            err = capsys.readouterr().err
            lines = [line for line in err.splitlines() if line.startswith(("error:", "warning:"))]
            assert lines, (args, err)
            for line in lines:
                flags, names = mentioned(line, columns)
                allowed = flags_of[command] | global_flags
                if "refit" in line:  # "refit the model with --impute": a flag of `dagmm fit`
                    allowed |= flags_of["fit"]
                assert flags <= allowed, (command, line)
                assert not names, f"{command}: Python names {names} in: {line}"
                seen.append(line)
            assert code in (0, 2), err
    finally:
        torch.set_num_threads(threads)
    text = "\n".join(seen)
    for flag in ("--impute", "--datetime-cols", "--id-cols", "--drop-cols", "--label-col",
                 "--max-categories", "--categorical-cols"):  # fmt: skip
        assert flag in text  # the scenarios reach the messages that name them


def python_messages(call) -> list[str]:
    """Warnings and the error (if any) of ``call()``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call()
        except (ValueError, TypeError) as exc:
            return [str(w.message) for w in caught] + [str(exc)]
    return [str(w.message) for w in caught]


def option_scenarios() -> list[tuple[dict, pd.DataFrame]]:
    frame = frame_with_everything()
    gaps = frame.copy()
    gaps["amount"] = gaps["amount"].astype(object)
    gaps.loc[[2, 5], "amount"] = None
    dates = frame.copy()
    dates.loc[4, "booked"] = "13/45/2024 10:00"
    return [
        ({}, frame),
        ({}, gaps),
        ({"drop_cols": ("amont",)}, frame),
        ({"id_cols": ("shop",), "drop_cols": ("shop",)}, frame),
        ({"datetime_cols": ("booked",)}, dates),
    ]


def test_fit_options_messages_name_fit_options_fields():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    columns = set(frame_with_everything().columns)
    text = []
    try:
        for extra, frame in option_scenarios():
            options = FitOptions(**TINY_OPTIONS, **extra)
            for message in python_messages(lambda o=options, f=frame: TabularDetector.from_options(o).fit(f)):
                flags, names = mentioned(message, columns)
                assert names <= OPTION_FIELDS, message
                text.append(message)
        for bad in ({"contamination": 0.1, "threshold_fpr": 0.1}, {"threshold_f1": True},
                    {"learning_rate": -1.0}, {"normal_label": "ok"}, {"epoch_size": -1}):  # fmt: skip
            for message in python_messages(lambda b=bad: resolve_options(b)):
                flags, names = mentioned(message, columns)
                assert names <= OPTION_FIELDS, message
    finally:
        torch.set_num_threads(threads)
    joined = "\n".join(text)
    assert "impute=True" in joined and "datetime_cols" in joined
    assert "handle_missing" not in joined


def test_preprocessor_messages_name_its_parameters():
    columns = set(frame_with_everything().columns)
    for extra, frame in option_scenarios():
        params = {key: list(value) for key, value in extra.items()}
        for message in python_messages(lambda p=params, f=frame: TabularPreprocessor(**p).fit(f)):
            flags, names = mentioned(message, columns)
            assert not flags, message
            assert names <= PREPROCESSOR_NAMES, message


def test_the_extractor_finds_what_it_must():
    flags, names = mentioned(
        "list them in datetime_cols or --drop-cols; pass handle_missing='impute'; "
        "column 'is_fraud' (label_col)", {"is_fraud"}
    )
    assert flags == {"--drop-cols"} and names == {"datetime_cols", "handle_missing", "label_col"}


# ------------------------------------------------------------- label-like names


def test_label_like_columns_warn_and_evaluate_refuses_them(files, tmp_path, capsys):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        code = main(["fit", str(files["all"]), "--out", str(tmp_path / "m"), "-q", *TINY])
        err = capsys.readouterr().err
        assert code == 0
        assert "column 'label' looks like a label but is used as an input feature" in err
        assert "give --label-col label" in err
        code = main(["evaluate", str(files["all"]), "--model", str(tmp_path / "m"),
                     "--label-col", "label", "--out", str(tmp_path / "r")])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2 and "label column 'label' is an input of the model" in err
        assert not (tmp_path / "r").exists()
        # With --label-col the column is no input, and nothing is said.
        code = main(["fit", str(files["all"]), "--out", str(tmp_path / "m2"), "-q",
                     "--label-col", "label", *TINY])  # fmt: skip
        assert code == 0 and "looks like a label" not in capsys.readouterr().err
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize(
    ("name", "label_like"),
    [("label", True), ("Class", True), ("is_fraud", True), ("isFraud", True), ("y", True),
     ("target", True), ("outcome", True), ("anomaly", True), ("Ground Truth", True),
     ("amount", False), ("is_weekend", False), ("classification_code", False), ("yield", False)],
)  # fmt: skip
def test_label_like_names(name, label_like):
    from dagmm.workflow.labels import label_like_columns

    assert (label_like_columns([name]) == [name]) is label_like
