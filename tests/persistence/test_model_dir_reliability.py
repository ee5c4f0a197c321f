"""Model directories: nothing lost, nothing mixed, nothing unchecked (issue 12, items 3, 5-10)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from dagmm import DAGMM
from dagmm.exceptions import ModelFileError
from dagmm.persistence import model_dir
from dagmm.persistence.model_dir import model_files

SMALL = dict(comp_hiddens=(6, 1), est_hiddens=(4, 2), minibatch_size=64, epoch_size=2,
             device="cpu", compile=False)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def two_models():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    first = DAGMM(**SMALL, random_state=0, contamination=0.05).fit(X)
    second = DAGMM(**SMALL, random_state=1, contamination=0.2).fit(X * 3)
    return first, second, X[:20]


def _config(path: Path) -> dict:
    return json.loads((path / "config.json").read_text())


def _write_config(path: Path, config: dict) -> None:
    (path / "config.json").write_text(json.dumps(config))


def _replace_array(path: Path, group: str, name: str, value: np.ndarray) -> None:
    """Change one stored array and its checksum together (a consistent tampering)."""
    file = model_files(path)[group]
    arrays = load_file(str(file))
    arrays[name] = value
    save_file(arrays, str(file))
    config = _config(path)
    config["files"][file.name] = model_dir._sha256(file)
    _write_config(path, config)


# ----------------------------------------------------------- 6: foreign files
def test_saving_over_a_model_keeps_other_files(two_models, tmp_path):
    first, second, X = two_models
    path = first.save(tmp_path / "model")
    (path / "NOTES.md").write_text("keep me")
    (path / "data.csv").write_text("a,b\n1,2\n")
    (path / "report").mkdir()
    (path / "report" / "metrics.json").write_text("{}")
    second.save(path)
    assert (path / "NOTES.md").read_text() == "keep me"
    assert (path / "data.csv").read_text() == "a,b\n1,2\n"
    assert (path / "report" / "metrics.json").read_text() == "{}"
    np.testing.assert_array_equal(DAGMM.load(path).energy(X), second.energy(X))


# ------------------------------------------------- 7: interrupted replace
def test_interrupted_switch_keeps_the_previous_model(two_models, tmp_path, monkeypatch):
    first, second, X = two_models
    path = first.save(tmp_path / "model")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(model_dir, "atomic_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        second.save(path)
    monkeypatch.undo()
    np.testing.assert_array_equal(DAGMM.load(path).energy(X), first.energy(X))
    assert len([p for p in path.iterdir() if p.name.startswith("data-")]) == 1


def test_load_recovers_the_model_an_old_interrupted_replace_left_hidden(two_models, tmp_path):
    # dagmm < 0.2 renamed MODEL to .MODEL.replaced-<hex> and was stopped before
    # renaming the new one into place: the path was gone.
    first, _, X = two_models
    path = first.save(tmp_path / "model")
    os.rename(path, tmp_path / ".model.replaced-1a2b3c4d")
    np.testing.assert_array_equal(DAGMM.load(path).energy(X), first.energy(X))
    assert (path / "config.json").is_file()
    assert not (tmp_path / ".model.replaced-1a2b3c4d").exists()


def test_format_1_directories_still_load_and_are_converted_on_save(two_models, tmp_path):
    first, second, X = two_models
    path = first.save(tmp_path / "model")
    # Rewrite as format 1: arrays beside config.json, no data folder.
    config = _config(path)
    for file in model_files(path).values():
        os.replace(file, path / file.name)
    os.rmdir(next(p for p in path.iterdir() if p.name.startswith("data-")))
    config["format_version"] = 1
    del config["data"]
    _write_config(path, config)
    np.testing.assert_array_equal(DAGMM.load(path).energy(X), first.energy(X))
    second.save(path)
    assert not list(path.glob("*.safetensors"))
    np.testing.assert_array_equal(DAGMM.load(path).energy(X), second.energy(X))


# ---------------------------------------------------------------- 8: leftovers
def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_leftovers_of_killed_saves_are_swept_on_the_next_save(two_models, tmp_path):
    first, second, _ = two_models
    path = first.save(tmp_path / "model")
    dead = _dead_pid()
    orphan = path / "data-00112233445566ff"  # a killed save's unfinished data folder
    orphan.mkdir()
    (orphan / "module.safetensors").write_bytes(b"x" * 1000)
    half_config = path / f".config.json.{dead}-0123456789ab.tmp"
    half_config.write_text("{")
    old_staging = tmp_path / ".model.saving-1a2b3c4d"  # dagmm < 0.2
    old_staging.mkdir()
    (old_staging / "module.safetensors").write_bytes(b"y")
    hour_ago = time.time() - 7200
    os.utime(old_staging, (hour_ago, hour_ago))
    running = path / f".config.json.{os.getpid()}-0123456789ac.tmp"  # a live writer's file
    running.write_text("{")
    second.save(path)
    assert not orphan.exists() and not half_config.exists() and not old_staging.exists()
    assert running.exists()


# ------------------------------------------------- 3: replace while reading
_WRITER = textwrap.dedent(
    """
    import sys, time, torch
    torch.set_num_threads(1)
    from dagmm import DAGMM
    first, second = DAGMM.load(sys.argv[1]), DAGMM.load(sys.argv[2])
    end = time.time() + float(sys.argv[4])
    print("ready", flush=True)
    while time.time() < end:
        first.save(sys.argv[3])
        second.save(sys.argv[3])
    """
)


def test_loads_during_replaces_see_one_whole_model(two_models, tmp_path):
    first, second, X = two_models
    first.save(tmp_path / "a")
    second.save(tmp_path / "b")
    target = first.save(tmp_path / "model")
    signature = {
        (float(m.threshold_), float(m.energy(X[:1])[0])): name
        for name, m in (("first", first), ("second", second))
    }
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path / "a"), str(tmp_path / "b"), str(target), "4"],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert writer.stdout.readline().strip() == b"ready"
    seen = {"first": 0, "second": 0}
    loads = 0
    while writer.poll() is None:
        loaded = DAGMM.load(target)  # any exception fails the test
        key = (float(loaded.threshold_), float(loaded.energy(X[:1])[0]))
        assert key in signature, "a load mixed two models"
        seen[signature[key]] += 1
        loads += 1
    assert writer.wait() == 0
    assert loads > 10 and seen["first"] and seen["second"]


def test_two_writers_at_once_queue_up(two_models, tmp_path):
    first, second, X = two_models
    target = tmp_path / "model"
    errors: list[BaseException] = []

    def save_many(model):
        try:
            for _ in range(8):
                model.save(target)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save_many, args=(m,)) for m in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    energies = DAGMM.load(target).energy(X)
    assert any(np.array_equal(energies, m.energy(X)) for m in (first, second))
    assert len([p for p in target.iterdir() if p.name.startswith("data-")]) <= 2


def test_tabular_detector_reads_the_directory_once(monkeypatch, tmp_path):
    import pandas as pd

    from dagmm.estimators import _base as detector_module  # the estimator reads for the pipeline
    from dagmm.workflow import FitOptions, TabularDetector

    frame = pd.DataFrame({"a": np.arange(120.0) % 7, "b": np.arange(120.0) % 5})
    options = FitOptions(epoch_size=1, minibatch_size=64, comp_hiddens=(4, 1), est_hiddens=(3, 2),
                         device="cpu")
    path = TabularDetector.from_options(options).fit(frame).save(tmp_path / "m")
    calls = []
    original = detector_module.read_model_dir

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(detector_module, "read_model_dir", counting)
    monkeypatch.setattr(model_dir, "read_model_dir", counting)
    TabularDetector.load(path)
    assert len(calls) == 1


# ------------------------------------------------- 5: loaded values validated
@pytest.mark.parametrize(
    "group, name, make, match",
    [
        ("fitted", "means_", lambda a: np.where(np.arange(a.size).reshape(a.shape) == 0, np.nan, a),
         "means_ holds NaN"),
        ("fitted", "scaler_scale_", lambda a: np.zeros_like(a), "scaler_scale_ holds a zero"),
        ("fitted", "means_", lambda a: a[:, :1].copy(), r"means_ has shape \(\d+, 1\), expected \(\d+, \d+\)"),
        ("fitted", "covariances_", lambda a: -a, r"covariances_\[0\] is not positive definite"),
        ("fitted", "weights_", lambda a: a * 3, "weights_ must be"),
        ("module", "compression.encoder.0.weight", lambda a: np.concatenate([a, a]),
         "do not match the stored weights"),
    ],
)
def test_tampered_arrays_are_refused(two_models, tmp_path, group, name, make, match):
    first, _, _ = two_models
    path = first.save(tmp_path / "model")
    arrays = load_file(str(model_files(path)[group]))
    if name not in arrays:
        name = next(key for key in arrays if key.endswith("weight"))
    _replace_array(path, group, name, make(arrays[name]))
    with pytest.raises(ModelFileError, match=match):
        DAGMM.load(path)


@pytest.mark.parametrize(
    "section, key, value, match",
    [
        ("params", "contamination", 7, "contamination"),
        ("params", "reg_covar", -1, "reg_covar"),
        ("params", "normalize", "zzz", "normalize"),
        ("params", "no_such_thing", 1, "unknown parameter.*no_such_thing"),
        ("fitted", "threshold_", "NaN", "threshold_ must be a finite number"),
        ("fitted", "n_features_in_", 0, "n_features_in_ must be a positive integer"),
    ],
)
def test_tampered_config_values_are_refused(two_models, tmp_path, section, key, value, match):
    first, _, _ = two_models
    path = first.save(tmp_path / "model")
    config = _config(path)
    config[section][key] = float("nan") if value == "NaN" else value
    (path / "config.json").write_text(json.dumps(config))  # json writes NaN as NaN
    with pytest.raises(ModelFileError, match=match):
        DAGMM.load(path)


# ----------------------------------- 9: declared widths before any allocation
def test_huge_declared_widths_are_refused_before_allocating(two_models, tmp_path):
    first, _, _ = two_models
    path = first.save(tmp_path / "model")
    config = _config(path)
    config["params"]["comp_hiddens"] = [60000, 60000, 1]  # 14 GB for one layer if built
    _write_config(path, config)
    script = textwrap.dedent(
        f"""
        import resource, sys
        from dagmm import DAGMM
        from dagmm.exceptions import ModelFileError
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            DAGMM.load({str(path)!r})
        except ModelFileError as exc:
            print("refused:", exc)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print("grown_kb", grown)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert "refused:" in result.stdout and "do not match the stored weights" in result.stdout
    grown_kb = int(result.stdout.split("grown_kb")[1])
    assert grown_kb < 200_000, result.stdout


# ---------------------------------------------- 10: damaged config structure
@pytest.mark.parametrize(
    "text, match",
    [
        ("[" * 100_000 + "]" * 100_000, "not a dagmm model config|nested deeper"),
        (None, "nested deeper"),
    ],
)
def test_deeply_nested_config_is_refused(two_models, tmp_path, text, match):
    first, _, _ = two_models
    path = first.save(tmp_path / "model")
    if text is None:
        config = _config(path)
        config["history"] = {"loss": json.loads("[" * 500 + "]" * 500)}
        text = json.dumps(config)
    (path / "config.json").write_text(text)
    with pytest.raises(ModelFileError, match=match):
        DAGMM.load(path)


@pytest.mark.parametrize(
    "key, value, match",
    [
        ("params", [1], "'params' must be a JSON object"),
        ("fitted", "x", "'fitted' must be a JSON object"),
        ("files", ["x"], "'files' table is missing"),
        ("history", {"loss": 3}, "'history' must be a JSON object of lists"),
    ],
)
def test_config_of_the_wrong_shape_is_refused(two_models, tmp_path, key, value, match):
    first, _, _ = two_models
    path = first.save(tmp_path / "model")
    config = _config(path)
    config[key] = value
    _write_config(path, config)
    with pytest.raises(ModelFileError, match=match):
        DAGMM.load(path)


@pytest.fixture(scope="module")
def workflow_model(tmp_path_factory) -> Path:
    import pandas as pd

    from dagmm.workflow import FitOptions, TabularDetector

    frame = pd.DataFrame({"a": np.arange(150.0) % 7, "b": np.arange(150.0) % 5})
    options = FitOptions(epoch_size=1, minibatch_size=64, comp_hiddens=(4, 1), est_hiddens=(3, 2),
                         device="cpu")
    root = tmp_path_factory.mktemp("workflow")
    return TabularDetector.from_options(options).fit(frame).save(root / "model")


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda c: c["pipeline"]["threshold"].update(energy=float("nan")),
         "threshold energy must be a finite number"),
        (lambda c: c.update(pipeline=["x"]), "pipeline section: it must be a JSON object"),
        (lambda c: c.update(params=[1]), "'params' must be a JSON object"),
        (lambda c: c["pipeline"].update(preprocessor=3), "'preprocessor' must be a JSON object"),
        (lambda c: c["pipeline"].update(label_col={"x": 1}), "'label_col' must be"),
    ],
)
def test_damaged_workflow_configs_are_one_clear_error(workflow_model, tmp_path, capsys, edit,
                                                      match):
    import shutil

    from dagmm.cli import main
    from dagmm.workflow import TabularDetector

    copy = Path(shutil.copytree(workflow_model, tmp_path / "copy"))
    config = _config(copy)
    edit(config)
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match=match):
        TabularDetector.load(copy)
    data = tmp_path / "new.csv"
    data.write_text("a,b\n1,2\n3,4\n")
    code = main(["score", str(data), "--model", str(copy), "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err


def test_deeply_nested_config_is_exit_2_in_the_cli(workflow_model, tmp_path, capsys):
    import shutil

    from dagmm.cli import main

    copy = Path(shutil.copytree(workflow_model, tmp_path / "copy"))
    (copy / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    data = tmp_path / "new.csv"
    data.write_text("a,b\n1,2\n")
    code = main(["score", str(data), "--model", str(copy), "--out", str(tmp_path / "s.csv")])
    assert code == 2 and "nested deeper" in capsys.readouterr().err
