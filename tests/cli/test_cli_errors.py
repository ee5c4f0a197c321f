"""User errors: one short message naming the problem, exit code 2, no traceback (unless --debug)."""

from __future__ import annotations

import shutil

import pandas as pd

from dagmm.cli import main


def run(capsys, args):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.err


def assert_user_error(code, err, pattern):
    import re

    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) <= 3, err
    assert lines[-1].startswith("error: ")
    assert re.search(pattern, lines[-1]), lines[-1]


def test_missing_data_file(capsys, tmp_path, tiny_args):
    code, err = run(
        capsys, ["fit", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "m"), "-q", *tiny_args]
    )
    assert_user_error(code, err, r"data file '.*nope.csv' does not exist")


def test_unknown_column(capsys, data_dir, tmp_path, tiny_args):
    code, err = run(
        capsys,
        [
            "fit",
            str(data_dir / "train.csv"),
            "--out",
            str(tmp_path / "m"),
            "--drop-cols",
            "ammount",
            "-q",
            *tiny_args,
        ],
    )
    assert_user_error(
        code, err, r"--drop-cols names column\(s\) 'ammount' .*\(did you mean 'amount'\?\)"
    )
    code, err = run(
        capsys,
        [
            "fit",
            str(data_dir / "train.csv"),
            "--out",
            str(tmp_path / "m"),
            "--label-col",
            "Class",
            "-q",
            *tiny_args,
        ],
    )
    assert_user_error(code, err, r"label column 'Class' is not in '.*train.csv'")
    assert not (tmp_path / "m").exists()


def test_empty_data(capsys, tmp_path, tiny_args):
    (tmp_path / "empty.csv").write_text("")
    code, err = run(
        capsys, ["fit", str(tmp_path / "empty.csv"), "--out", str(tmp_path / "m"), "-q", *tiny_args]
    )
    assert_user_error(code, err, r"data file '.*empty.csv' is empty")
    (tmp_path / "header.csv").write_text("amount,merchant\n")
    code, err = run(
        capsys,
        ["fit", str(tmp_path / "header.csv"), "--out", str(tmp_path / "m"), "-q", *tiny_args],
    )
    assert_user_error(code, err, r"no rows")


def test_text_in_one_file_numbers_in_the_other(capsys, data_dir, model_dir, tmp_path):
    frame = pd.read_csv(data_dir / "new.csv").astype({"amount": object})
    frame.loc[5, "amount"] = "twelve"
    frame.to_csv(tmp_path / "text.csv", index=False)
    out = tmp_path / "scores.csv"
    code, err = run(
        capsys,
        ["score", str(tmp_path / "text.csv"), "--model", str(model_dir), "--out", str(out), "-q"],
    )
    assert_user_error(
        code,
        err,
        r"column 'amount' held numbers when the model was fitted but holds text now: e.g. 'twelve' in row 5",
    )
    assert not out.exists()


def test_model_directory_that_is_not_a_model(capsys, data_dir, model_dir, tmp_path):
    (tmp_path / "not_a_model").mkdir()
    code, err = run(
        capsys,
        [
            "score",
            str(data_dir / "new.csv"),
            "--model",
            str(tmp_path / "not_a_model"),
            "--out",
            str(tmp_path / "s.csv"),
        ],
    )
    assert_user_error(
        code, err, r"'.*not_a_model' is not a dagmm model directory: 'config.json' is missing"
    )
    code, err = run(
        capsys,
        [
            "evaluate",
            str(data_dir / "test.csv"),
            "--model",
            str(tmp_path / "absent"),
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert_user_error(code, err, r"'.*absent' is not a model directory: no such directory")
    damaged = shutil.copytree(model_dir, tmp_path / "damaged")
    from dagmm.persistence import model_files

    model_files(damaged)["module"].write_bytes(b"garbage")
    code, err = run(
        capsys,
        [
            "score",
            str(data_dir / "new.csv"),
            "--model",
            str(damaged),
            "--out",
            str(tmp_path / "s.csv"),
        ],
    )
    assert_user_error(code, err, r"module.safetensors' is damaged or truncated")


def test_unknown_config_key(capsys, data_dir, tmp_path):
    config = tmp_path / "fit.toml"
    config.write_text("lambda_1 = 0.1\n")
    code, err = run(
        capsys,
        ["fit", str(data_dir / "train.csv"), "--out", str(tmp_path / "m"), "--config", str(config)],
    )
    assert_user_error(
        code, err, r"unknown option 'lambda_1' in '.*fit.toml' \(did you mean 'lambda1'\?\)"
    )


def test_bad_option_values(capsys, data_dir, model_dir, tmp_path, tiny_args):
    code, err = run(
        capsys,
        [
            "fit",
            str(data_dir / "train.csv"),
            "--out",
            str(tmp_path / "m"),
            "--contamination",
            "0.1",
            "--threshold-fpr",
            "0.01",
            *tiny_args,
        ],
    )
    assert_user_error(code, err, r"--contamination and --threshold-fpr both set a threshold policy; choose one of "
        r"--contamination, --threshold-fpr and --threshold-f1")
    code, err = run(
        capsys,
        [
            "fit",
            str(data_dir / "train.csv"),
            "--out",
            str(tmp_path / "m"),
            *tiny_args,
            "--comp-hiddens",
            "8,x",
        ],
    )
    assert_user_error(code, err, r"--comp-hiddens = '8,x' in the command line is invalid")
    code, err = run(
        capsys,
        [
            "score",
            str(data_dir / "new.csv"),
            "--model",
            str(model_dir),
            "--out",
            str(tmp_path / "s.csv"),
            "--threshold-fpr",
            "2",
        ],
    )
    assert_user_error(code, err, r"threshold_fpr=2.0 is out of range")


def test_labels_without_normal_rows(capsys, data_dir, tmp_path, tiny_args):
    code, err = run(
        capsys,
        [
            "fit",
            str(data_dir / "train.csv"),
            "--out",
            str(tmp_path / "m"),
            "--label-col",
            "channel",
            "-q",
            *tiny_args,
        ],
    )
    assert_user_error(
        code, err, r"label column 'channel' has no normal rows: .* holds 'phone', 'pos', 'web'"
    )


def test_evaluate_without_a_label_column_in_the_data(capsys, data_dir, model_dir, tmp_path):
    pd.read_csv(data_dir / "test.csv").drop(columns="label").to_csv(
        tmp_path / "unlabelled.csv", index=False
    )
    code, err = run(
        capsys,
        [
            "evaluate",
            str(tmp_path / "unlabelled.csv"),
            "--model",
            str(model_dir),
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert_user_error(code, err, r"has no column\(s\) 'label'")


def test_unknown_option_is_a_usage_error(capsys, data_dir, tmp_path):
    code, err = run(
        capsys, ["fit", str(data_dir / "train.csv"), "--out", str(tmp_path / "m"), "--epoch", "3"]
    )
    assert code == 2
    assert "No such option" in err and "Traceback" not in err


def test_debug_shows_the_exception(capsys, data_dir, tmp_path, tiny_args):
    code = main(
            [
                "--debug",
                "fit",
                str(data_dir / "train.csv"),
                "--out",
                str(tmp_path / "m"),
                "--drop-cols",
                "nope",
                *tiny_args,
            ]
        )
    err = capsys.readouterr().err
    assert code == 2  # the same exit code as without --debug
    assert "Traceback" in err and "DataError: --drop-cols names column" in err


def test_missing_values_are_named_or_imputed(capsys, data_dir, tmp_path, tiny_args):
    frame = pd.read_csv(data_dir / "train.csv")
    frame.loc[[3, 8], "amount"] = None
    frame.loc[5, "merchant"] = None
    frame.to_csv(tmp_path / "gaps.csv", index=False)
    args = ["fit", str(tmp_path / "gaps.csv"), "--out", str(tmp_path / "m"), "-q", *tiny_args]
    code, err = run(capsys, args)
    assert_user_error(
        code, err, r"missing values .* in column\(s\) 'amount' \(2 rows, e.g. row 3\), 'merchant'"
    )
    code, err = run(capsys, [*args, "--impute"])
    assert code == 0, err
