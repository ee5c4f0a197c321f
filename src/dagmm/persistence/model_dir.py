"""A fitted model on disk: one directory, nothing pickled, replaced in one atomic step.

Layout (format 2)::

    MODEL_DIR/
        config.json          format name and version, library and torch versions,
                             class name, constructor parameters, fitted scalars,
                             the name of the data folder and the sha256 of every
                             array file in it
        data-<hex>/          one folder per save, never changed once written
            <name>.safetensors   named groups of arrays (fitted arrays, weights, ...)
        .lock                taken by writers, so two saves at once queue up

A save writes a new ``data-<hex>`` folder, then replaces ``config.json``
(one atomic rename: the switch), then removes data folders older than the
previous one. A reader reads ``config.json`` once and then the files it
names; if a writer removed them meanwhile, the reader starts again (a few
times), so a load returns one complete model or a clear
:class:`~dagmm.exceptions.ModelFileError`, never parts of two models. An
interrupted save leaves the previous model in place; its unfinished data
folder is removed by the next save. Only ``config.json``, ``.lock`` and the
data folders belong to dagmm: anything else in the directory (notes, reports)
is kept.

Format 1 directories (``config.json`` and the ``.safetensors`` files side by
side, dagmm before 0.2) still load, and a save over one converts it.

The checksums prove integrity, not origin: they sit unkeyed in
``config.json``, so anyone who can write the directory can change a file and
its checksum together. Load models only from places you trust; loading never
unpickles or runs code, and every value is validated (see the estimators'
``load``), but a tampered model can still score wrongly.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load as load_safetensors
from safetensors.numpy import save_file

from dagmm._version import __version__
from dagmm.exceptions import ModelFileError
from dagmm.persistence.atomic import (
    atomic_write,
    fsync_dir,
    fsync_file,
    sweep_leftovers,
)

try:  # POSIX; elsewhere two saves at once are not serialised
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

FORMAT_NAME = "dagmm-model"
FORMAT_VERSION = 2
CONFIG_FILE = "config.json"
LOCK_FILE = ".lock"
_SUFFIX = ".safetensors"
_DATA_DIR = re.compile(r"data-[0-9a-f]{16}")
#: Reads restarted because a writer replaced the model meanwhile, before giving up.
READ_ATTEMPTS = 20
#: Deepest JSON nesting a config may have (real configs nest 4 levels).
MAX_CONFIG_DEPTH = 32
#: Largest config.json read (real ones are a few kB plus the training history).
MAX_CONFIG_BYTES = 64 << 20


class _Replaced(Exception):
    """The model changed while it was being read; read it again."""


def _sha256(data: bytes | Path) -> str:
    if isinstance(data, Path):
        data = data.read_bytes()
    return hashlib.sha256(data).hexdigest()


def _save_error(target: Path, exc: OSError) -> ModelFileError:
    where = f" ({exc.filename})" if exc.filename else ""
    return ModelFileError(
        f"cannot save model to '{target}': {exc.strerror or exc}{where}; "
        "check the path, the permissions and the free space"
    )


@contextlib.contextmanager
def _writer_lock(target: Path) -> Iterator[None]:
    """Hold ``target/.lock`` exclusively (two saves of one model run one after the other)."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(target / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _legacy_leftovers(target: Path) -> list[Path]:
    """Previous models kept by an interrupted replace of dagmm before 0.2, newest first."""
    if not target.parent.is_dir():
        return []
    found = [
        entry
        for entry in target.parent.glob(f".{glob.escape(target.name)}.replaced-*")
        if (entry / CONFIG_FILE).is_file()
    ]
    return sorted(found, key=lambda entry: entry.stat().st_mtime, reverse=True)



def _recover_interrupted_replace(target: Path) -> Path | None:
    """Put back the model an interrupted replace (dagmm before 0.2) left hidden beside ``target``.

    Returns the folder to read: ``target`` when the rename worked, the hidden
    copy when it could not be renamed, None when there is nothing to recover.
    """
    leftovers = _legacy_leftovers(target)
    if not leftovers:
        return None
    try:
        os.rename(leftovers[0], target)
    except OSError:
        return target if (target / CONFIG_FILE).is_file() else leftovers[0]
    return target


def _owned(name: str) -> bool:
    return (
        name in (CONFIG_FILE, LOCK_FILE)
        or _DATA_DIR.fullmatch(name) is not None
        or name.startswith(f".{CONFIG_FILE}.")
    )


def _read_config_bytes(path: Path) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ModelFileError(f"'{path}' is larger than {MAX_CONFIG_BYTES >> 20} MB; not a dagmm config")
    return data


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def _json_depth(text: str) -> int:
    """Deepest bracket nesting outside strings (checked before parsing: no RecursionError)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_JSON_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def parse_config(data: bytes, path: Path) -> dict[str, Any]:
    """Parse and check the common structure of ``config.json`` (the header and the files table)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"'{path}' is damaged: not UTF-8 text ({exc})") from None
    if _json_depth(text) > MAX_CONFIG_DEPTH:
        raise ModelFileError(
            f"'{path}' is damaged: JSON nested deeper than {MAX_CONFIG_DEPTH} levels"
        )
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"'{path}' is damaged: not valid JSON ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f"'{path}' is not a dagmm model config: expected \"format\": \"{FORMAT_NAME}\""
        )
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"'{path}' has an invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"'{path}' was written in model format {version} by dagmm "
            f"{config.get('dagmm_version')}; this dagmm {__version__} reads format "
            f"{FORMAT_VERSION} and older: upgrade dagmm"
        )
    files = config.get("files")
    if not isinstance(files, dict) or not files:
        raise ModelFileError(f"'{path}' is damaged: the 'files' table is missing")
    for file_name, checksum in files.items():
        if (
            not file_name.endswith(_SUFFIX)
            or "/" in file_name
            or "\\" in file_name
            or file_name.startswith(".")
        ):
            raise ModelFileError(f"'{path}' lists an unexpected file {file_name!r}")
        if not (isinstance(checksum, str) and re.fullmatch(r"[0-9a-f]{64}", checksum)):
            raise ModelFileError(f"'{path}' has an invalid checksum for {file_name!r}")
    data_dir = config.get("data")
    if version >= 2 and not (isinstance(data_dir, str) and _DATA_DIR.fullmatch(data_dir)):
        raise ModelFileError(f"'{path}' has an invalid data folder {data_dir!r}")
    for key, kind in (("class", str), ("params", dict), ("fitted", dict), ("history", dict)):
        if key in config and not isinstance(config[key], kind):
            raise ModelFileError(
                f"'{path}' is damaged: {key!r} must be a JSON "
                f"{'object' if kind is dict else 'string'}, got {type(config[key]).__name__}"
            )
    return config


def _data_folder(root: Path, config: Mapping[str, Any]) -> Path:
    return root / config["data"] if config.get("format_version", 1) >= 2 else root


def write_model_dir(
    path: str | os.PathLike,
    config: Mapping[str, Any],
    array_groups: Mapping[str, Mapping[str, np.ndarray]],
    *,
    overwrite: bool = True,
) -> Path:
    """Write a model directory; the new model replaces the old one in one atomic step.

    Parameters
    ----------
    path : path-like
        Destination directory. It may not exist, be empty, or hold a dagmm
        model (replaced when ``overwrite`` is true). Only the files dagmm owns
        there are replaced (``config.json``, the data folders, ``.lock``);
        other files in a model directory are kept. A directory holding other
        files and no model is refused.
    config : mapping
        JSON-serialisable content of ``config.json``. The format header
        (format name and version, library and torch versions, time, data
        folder, checksums) is added.
    array_groups : mapping of str to mapping of str to ndarray
        Each group is written to ``<group>.safetensors``.
    overwrite : bool, default=True
        Whether an existing model at ``path`` may be replaced.

    Returns
    -------
    Path
        The directory written.

    Raises
    ------
    ModelFileError
        If ``path`` is a file, a directory of other files, a model with
        ``overwrite=False``, or cannot be written (permissions, disk full).
    """
    import torch  # local: keeps this module importable for tools that only read configs

    target = Path(path)
    if target.exists() and not target.is_dir():
        raise ModelFileError(f"cannot save model to '{target}': a file with that name exists")
    if not target.exists():
        _recover_interrupted_replace(target)
    created = not target.exists()
    try:
        if not created:
            _check_destination(target, overwrite)  # before creating anything in it
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _save_error(target, exc) from None
    try:
        with _writer_lock(target):
            previous, legacy_files = _check_destination(target, overwrite)
            sweep_leftovers(target)  # hidden files of killed dagmm < 0.2 writers
            data_name = f"data-{uuid.uuid4().hex[:16]}"
            data_dir = target / data_name
            data_dir.mkdir()
            try:
                checksums = {}
                for group, arrays in array_groups.items():
                    file_name = group + _SUFFIX
                    contiguous = {key: np.ascontiguousarray(value) for key, value in arrays.items()}
                    save_file(contiguous, str(data_dir / file_name))
                    fsync_file(data_dir / file_name)
                    checksums[file_name] = _sha256(data_dir / file_name)
                fsync_dir(data_dir)
                header = {
                    "format": FORMAT_NAME,
                    "format_version": FORMAT_VERSION,
                    "dagmm_version": __version__,
                    "torch_version": torch.__version__,
                    "numpy_version": np.__version__,
                    "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "data": data_name,
                    "files": checksums,
                }
                text = json.dumps({**header, **dict(config)}, indent=2, allow_nan=False)
                atomic_write(target / CONFIG_FILE, text + "\n")  # the switch
            except BaseException:
                shutil.rmtree(data_dir, ignore_errors=True)
                raise
            _remove_old_data(target, {data_name, *([previous] if previous else [])}, legacy_files)
            for leftover in _legacy_leftovers(target):  # models kept by dagmm < 0.2 replaces
                shutil.rmtree(leftover, ignore_errors=True)
    except BaseException as exc:
        if created and not (target / CONFIG_FILE).exists():  # leave no empty model folder
            with contextlib.suppress(OSError):
                (target / LOCK_FILE).unlink()
                target.rmdir()
        if isinstance(exc, OSError):
            raise _save_error(target, exc) from None
        raise
    return target


def _check_destination(target: Path, overwrite: bool) -> tuple[str | None, list[str]]:
    """Refuse a destination that is not ours to replace; what the model there owns.

    Returns the data folder of the model being replaced (kept one more
    generation, for readers still reading it) and, for a format-1 model, its
    array files (removed after the switch).
    """
    config_path = target / CONFIG_FILE
    if not config_path.is_file():
        foreign = sorted(entry.name for entry in target.iterdir() if not _owned(entry.name))
        if foreign:
            raise ModelFileError(
                f"refusing to save model to '{target}': the directory holds other files "
                f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}) and no dagmm "
                "model; choose another path or empty it"
            )
        return None, []
    try:
        old = parse_config(_read_config_bytes(config_path), config_path)
    except (ModelFileError, OSError):
        raise ModelFileError(
            f"refusing to save model to '{target}': its config.json is not a readable dagmm "
            "model config; choose another path or remove the directory"
        ) from None
    if not overwrite:
        raise ModelFileError(
            f"cannot save model to '{target}': a model is already there and overwrite=False"
        )
    if old["format_version"] >= 2:
        return str(old["data"]), []
    return None, list(old["files"])


def _remove_old_data(target: Path, keep: set[str], legacy_files: list[str]) -> None:
    """After the switch: data folders other than ``keep`` and a format-1 model's arrays go."""
    for entry in target.iterdir():
        if _DATA_DIR.fullmatch(entry.name) and entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)
    for name in legacy_files:
        with contextlib.suppress(OSError):
            (target / name).unlink()


def is_model_dir(path: str | os.PathLike) -> bool:
    """Whether a save may replace the directory ``path``: it holds a model, or only our files."""
    target = Path(path)
    if (target / CONFIG_FILE).is_file():
        return True
    return all(_owned(entry.name) for entry in target.iterdir())


def model_files(path: str | os.PathLike) -> dict[str, Path]:
    """The array files of the model at ``path`` now, by group name (for tools and tests)."""
    root = Path(path)
    config_path = root / CONFIG_FILE
    config = parse_config(_read_config_bytes(config_path), config_path)
    folder = _data_folder(root, config)
    return {name[: -len(_SUFFIX)]: folder / name for name in config["files"]}


def read_model_dir(
    path: str | os.PathLike, *, expected_class: str | None = None
) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    """Read and check a model directory written by :func:`write_model_dir`.

    Reads ``config.json`` once and then every array file it names. If the
    model is replaced while being read, the read starts over (up to
    :data:`READ_ATTEMPTS` times), so the result is always one complete model.

    Parameters
    ----------
    path : path-like
        The model directory.
    expected_class : str, optional
        When given, the class name recorded in the config must match it.

    Returns
    -------
    config : dict
        The parsed ``config.json``.
    array_groups : dict of str to dict of str to ndarray
        Every array file listed in the config, by group name.

    Raises
    ------
    ModelFileError
        If the directory or a file is missing, unreadable, damaged, of another
        format or of a newer format version.
    """
    root = Path(path)
    if not root.exists():
        recovered = _recover_interrupted_replace(root)
        if recovered is not None:
            root = recovered
    if root.exists() and not root.is_dir():
        raise ModelFileError(f"'{root}' is a file, not a model directory")
    if not root.is_dir():
        raise ModelFileError(f"'{root}' is not a model directory: no such directory")
    for attempt in range(READ_ATTEMPTS):
        try:
            return _read_once(root, expected_class)
        except _Replaced:
            time.sleep(0.005 * (attempt + 1))
    raise ModelFileError(
        f"'{root}' was replaced {READ_ATTEMPTS} times while being read; try again when "
        "nothing is saving to it"
    )


def _read_once(
    root: Path, expected_class: str | None
) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    config_path = root / CONFIG_FILE
    try:
        raw = _read_config_bytes(config_path)
    except FileNotFoundError:
        raise ModelFileError(
            f"'{root}' is not a dagmm model directory: '{CONFIG_FILE}' is missing"
        ) from None
    except OSError as exc:
        raise ModelFileError(f"cannot read '{config_path}': {exc.strerror or exc}") from None
    config = parse_config(raw, config_path)
    if expected_class is not None and config.get("class") != expected_class:
        raise ModelFileError(
            f"'{root}' holds a {config.get('class')!r} model, not a {expected_class!r}; "
            f"load it with dagmm.{config.get('class')}.load"
        )
    folder = _data_folder(root, config)
    groups: dict[str, dict[str, np.ndarray]] = {}
    for file_name, checksum in config["files"].items():
        file_path = folder / file_name
        try:
            data = file_path.read_bytes()
        except FileNotFoundError:
            _raise_if_replaced(config_path, raw)
            raise ModelFileError(f"'{file_path}' is missing from the model directory") from None
        except OSError as exc:
            _raise_if_replaced(config_path, raw)
            raise ModelFileError(f"cannot read '{file_path}': {exc.strerror or exc}") from None
        if _sha256(data) != checksum:
            _raise_if_replaced(config_path, raw)
            raise ModelFileError(
                f"'{file_path}' is damaged or truncated: its sha256 does not match config.json"
            )
        try:
            groups[file_name[: -len(_SUFFIX)]] = load_safetensors(data)
        except Exception as exc:  # safetensors raises its own error types
            raise ModelFileError(f"'{file_path}' is not a readable safetensors file ({exc})") from None
    return config, groups


def _raise_if_replaced(config_path: Path, raw: bytes) -> None:
    try:
        now = _read_config_bytes(config_path)
    except OSError:
        raise _Replaced from None
    if now != raw:
        raise _Replaced
