"""A fitted model on disk: one directory, nothing pickled.

Layout::

    MODEL_DIR/
        config.json          format name and version, library and torch versions,
                             class name, constructor parameters, fitted scalars,
                             and the sha256 of every array file
        <name>.safetensors   named groups of arrays (fitted arrays, network weights, ...)

The directory is written under a temporary name beside its destination and
renamed into place only once every file is complete, so a failed save never
leaves a half-written model behind. Loading checks the format, the version and
each file's checksum, and raises :class:`~dagmm.exceptions.ModelFileError`
(a ``ValueError``) naming the file and what is wrong with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from dagmm._version import __version__
from dagmm.exceptions import ModelFileError

FORMAT_NAME = "dagmm-model"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
_SUFFIX = ".safetensors"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not supported on every platform (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _is_model_dir(path: Path) -> bool:
    try:
        with open(path / CONFIG_FILE, encoding="utf-8") as handle:
            return json.load(handle).get("format") == FORMAT_NAME
    except (OSError, ValueError, AttributeError):
        return False


def write_model_dir(
    path: str | os.PathLike,
    config: Mapping[str, Any],
    array_groups: Mapping[str, Mapping[str, np.ndarray]],
    *,
    overwrite: bool = True,
) -> Path:
    """Write a model directory atomically.

    Parameters
    ----------
    path : path-like
        Destination directory. An existing dagmm model directory (or an empty
        directory) there is replaced when ``overwrite`` is true; anything else
        is never touched.
    config : mapping
        JSON-serialisable content of ``config.json``. The format header
        (format name and version, library and torch versions, time) is added.
    array_groups : mapping of str to mapping of str to ndarray
        Each group is written to ``<group>.safetensors``.
    overwrite : bool, default=True
        Whether an existing model directory at ``path`` may be replaced.

    Returns
    -------
    Path
        The directory written.
    """
    import torch  # local: keeps this module importable for tools that only read configs

    target = Path(path)
    if target.exists():
        if not target.is_dir():
            raise ModelFileError(f"cannot save model to '{target}': a file with that name exists")
        empty = not any(target.iterdir())
        if not empty and not _is_model_dir(target):
            raise ModelFileError(
                f"refusing to save model to '{target}': the directory exists and is not a dagmm "
                "model directory; choose another path or remove it"
            )
        if not empty and not overwrite:
            raise ModelFileError(
                f"cannot save model to '{target}': a model is already there and overwrite=False"
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.saving-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        checksums = {}
        for group, arrays in array_groups.items():
            file_name = group + _SUFFIX
            contiguous = {key: np.ascontiguousarray(value) for key, value in arrays.items()}
            save_file(contiguous, str(staging / file_name))
            checksums[file_name] = _sha256(staging / file_name)
        header = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "dagmm_version": __version__,
            "torch_version": torch.__version__,
            "numpy_version": np.__version__,
            "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "files": checksums,
        }
        full_config = {**header, **dict(config)}
        text = json.dumps(full_config, indent=2, sort_keys=False, allow_nan=False)
        with open(staging / CONFIG_FILE, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        _fsync_dir(staging)
        if target.exists():
            retired = target.parent / f".{target.name}.replaced-{uuid.uuid4().hex[:8]}"
            os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def read_model_dir(
    path: str | os.PathLike, *, expected_class: str | None = None
) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    """Read and validate a model directory written by :func:`write_model_dir`.

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
    if not root.is_dir():
        raise ModelFileError(f"'{root}' is not a model directory: no such directory")
    config_path = root / CONFIG_FILE
    if not config_path.is_file():
        raise ModelFileError(f"'{root}' is not a dagmm model directory: '{CONFIG_FILE}' is missing")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelFileError(f"'{config_path}' is damaged: not valid JSON ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT_NAME:
        raise ModelFileError(
            f"'{config_path}' is not a dagmm model config: expected \"format\": \"{FORMAT_NAME}\""
        )
    version = config.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"'{config_path}' has an invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"'{config_path}' was written in model format {version} by dagmm "
            f"{config.get('dagmm_version')}; this dagmm {__version__} reads format "
            f"{FORMAT_VERSION} and older: upgrade dagmm"
        )
    if expected_class is not None and config.get("class") != expected_class:
        raise ModelFileError(
            f"'{root}' holds a {config.get('class')!r} model, not a {expected_class!r}; "
            f"load it with dagmm.{config.get('class')}.load"
        )
    files = config.get("files")
    if not isinstance(files, dict):
        raise ModelFileError(f"'{config_path}' is damaged: the 'files' table is missing")
    groups: dict[str, dict[str, np.ndarray]] = {}
    for file_name, checksum in files.items():
        if not (isinstance(file_name, str) and file_name.endswith(_SUFFIX)) or "/" in file_name:
            raise ModelFileError(f"'{config_path}' lists an unexpected file {file_name!r}")
        file_path = root / file_name
        if not file_path.is_file():
            raise ModelFileError(f"'{file_path}' is missing from the model directory")
        if _sha256(file_path) != checksum:
            raise ModelFileError(
                f"'{file_path}' is damaged or truncated: its sha256 does not match config.json"
            )
        try:
            groups[file_name[: -len(_SUFFIX)]] = load_file(str(file_path))
        except Exception as exc:  # safetensors raises its own error types
            raise ModelFileError(f"'{file_path}' is not a readable safetensors file ({exc})") from None
    return config, groups
