"""Every command that writes checks its --out before any work (reading, training)."""

from __future__ import annotations

import pytest

from dagmm.cli import main


def _error(capsys, args):
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


@pytest.fixture
def places(tmp_path):
    """A file that is not a model, a folder of someone else's files, a data path never read."""
    a_file = tmp_path / "transactions.csv"
    a_file.write_text("amount\n1\n")
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_text("x")
    # The data path does not exist: an error about --out proves nothing was read first.
    return {"file": a_file, "folder": folder, "absent": tmp_path / "absent.csv"}


def commands(places, where):
    data = str(places["absent"])
    return {
        "fit": ["fit", data, "--out", where],
        "tune": ["tune", data, "--label-col", "label", "--out", where],
        "score": ["score", data, "--model", str(places["absent"]) + "-model", "--out", where],
        "evaluate": ["evaluate", data, "--model", "m", "--out", where],
        "benchmark": ["benchmark", "paper", "--datasets", "thyroid", "--out", where],
        "experiment": ["experiment", "mnist-vae", "--quick", "--out", where],
        "demo": ["demo", "--out", where],
    }


@pytest.mark.parametrize(
    "command", ["fit", "tune", "score", "evaluate", "benchmark", "experiment", "demo"]
)
def test_an_existing_file_or_foreign_folder_is_refused_before_any_work(capsys, places, command):
    for kind in ("file", "folder"):
        target = places[kind]
        if command == "score" and kind == "file":
            target = target.with_suffix(".json")  # a .csv file is a valid scores destination
            target.write_text("{}")
        line = _error(capsys, commands(places, str(target))[command])
        assert "--out" in line and str(target) in line, line
        assert "absent.csv" not in line  # the data was not looked at
    assert (places["folder"] / "holiday.jpg").read_text() == "x"
    assert places["file"].read_text() == "amount\n1\n"


def test_score_refuses_to_write_over_its_input(capsys, model_dir, data_dir, tmp_path):
    data = tmp_path / "new.csv"
    data.write_bytes((data_dir / "new.csv").read_bytes())
    before = data.read_bytes()
    line = _error(capsys, ["score", str(data), "--model", str(model_dir), "--out", str(data)])
    assert "is the input" in line and "destroy" in line
    assert data.read_bytes() == before


def test_score_needs_a_table_extension(capsys, model_dir, data_dir, tmp_path):
    line = _error(
        capsys,
        ["score", str(data_dir / "new.csv"), "--model", str(model_dir), "--out",
         str(tmp_path / "scores.txt")],
    )
    assert "no table extension" in line and ".csv" in line


def test_out_under_a_file_is_refused(capsys, places):
    line = _error(capsys, commands(places, str(places["file"] / "model"))["fit"])
    assert "is a file, not a folder" in line


def test_a_report_folder_written_before_is_accepted(capsys, model_dir, data_dir, tmp_path):
    report = tmp_path / "report"
    args = ["evaluate", str(data_dir / "test.csv"), "--model", str(model_dir), "-q",
            "--out", str(report)]
    assert main(args) == 0
    assert main(args) == 0  # the same command again overwrites its own report
    capsys.readouterr()


def test_fit_file_checks_out_before_reading(tmp_path):
    from dagmm.exceptions import DataError
    from dagmm.workflow import fit_file

    (tmp_path / "x.csv").write_text("a\n1\n")
    with pytest.raises(DataError, match="out '.*x.csv' is a file"):
        fit_file(tmp_path / "missing.csv", tmp_path / "x.csv")


# ------------------------------------------------------------ missing extras, exit codes


def test_evaluate_without_matplotlib_writes_metrics_and_names_the_skipped_plots(
    capsys, monkeypatch, model_dir, data_dir, tmp_path
):
    for name in ("matplotlib", "matplotlib.figure"):
        monkeypatch.setitem(__import__("sys").modules, name, None)
    report = tmp_path / "report"
    code = main(["evaluate", str(data_dir / "test.csv"), "--model", str(model_dir), "-q",
                 "--out", str(report)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (report / "metrics.json").is_file() and (report / "report.html").is_file()
    assert not list(report.glob("*.png"))
    warning = next(line for line in captured.err.splitlines() if line.startswith("warning:"))
    assert "matplotlib is not installed" in warning and "energy_histogram.png" in warning
    assert "pip install 'dagmm[plot]'" in warning
    assert "without plots" in captured.out


def test_a_missing_extra_is_a_user_error_also_with_debug(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(__import__("sys").modules, "pyarrow", None)
    data = tmp_path / "rows.parquet"
    data.write_bytes(b"PAR1")
    args = ["fit", str(data), "--out", str(tmp_path / "m"), "-q"]
    line = _error(capsys, args)
    assert "pip install" in line and "dagmm[" in line
    assert main(["--debug", *args]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_debug_keeps_the_exit_code_of_a_user_error(capsys, tmp_path):
    args = ["fit", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "m")]
    assert main(args) == 2
    assert main(["--debug", *args]) == 2
    assert "Traceback" in capsys.readouterr().err
