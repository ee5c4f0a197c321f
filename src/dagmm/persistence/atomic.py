"""The one way dagmm writes a file: complete or not at all, and no leftovers.

Every file the library writes (model configs, score tables, reports, results
files, figures, downloads) goes through :func:`temp_path_for` +
``os.replace``: the content is written to a hidden temporary file beside the
destination (same folder, so the rename is atomic on one file system), flushed
to disk, and renamed over the destination only when complete. Readers see the
old file or the new one, never a part.

A writer that is killed (SIGKILL, power loss) cannot delete its temporary
file. The name records the writer's process id (``.NAME.<pid>-<hex>.tmp``), so
the next write of the same destination removes leftovers of processes that no
longer run (:func:`sweep_leftovers`); a writer still running is never
disturbed.

Change the naming only together with :func:`sweep_leftovers`, which must
recognise every name :func:`temp_path_for` makes.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = [
    "AtomicPath",
    "atomic_write",
    "fsync_dir",
    "fsync_file",
    "replace_dir",
    "sweep_leftovers",
    "temp_path_for",
]

#: Temporary names of dagmm 0.x before process ids were recorded (``.NAME.<12 hex>.tmp``,
#: ``.NAME.<prefix>.<random>.tmp``); removed once older than this many seconds.
LEGACY_LEFTOVER_AGE_S = 3600.0


def temp_path_for(target: Path, kind: str = "tmp") -> Path:
    """A fresh hidden name beside ``target`` for writing it: ``.NAME.<pid>-<hex>.<kind>``."""
    return target.parent / f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.{kind}"


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there: go by age instead
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # exists but not ours, or a platform without signals
        return True
    return True


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass  # a leftover we cannot remove is no reason to fail the write


def sweep_leftovers(target: Path, kinds: tuple[str, ...] = ("tmp",)) -> list[Path]:
    """Remove temporary files of ``target`` left by writers that no longer run.

    Parameters
    ----------
    target : Path
        The destination whose leftovers to remove (only names made for it by
        :func:`temp_path_for`, and those of older dagmm versions).
    kinds : tuple of str
        The suffixes to consider (``"tmp"``; the model directory adds its own).

    Returns
    -------
    list of Path
        What was removed.
    """
    folder = target.parent
    if not folder.is_dir():
        return []
    prefix = f".{target.name}."
    ours = re.compile(r"(\d+)-[0-9a-f]{12}\.(" + "|".join(map(re.escape, kinds)) + r")")
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    now = time.time()
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        rest = entry.name[len(prefix):]
        match = ours.fullmatch(rest)
        if match:
            if _process_alive(int(match.group(1))) and not (
                os.name == "nt" and _older_than(entry, now, LEGACY_LEFTOVER_AGE_S)
            ):
                continue
        elif rest.endswith(tuple(f".{kind}" for kind in kinds)) or rest.startswith(
            ("saving-", "replaced-")
        ):
            # dagmm before 0.2 named these without a process id: remove only old ones.
            try:
                if now - entry.lstat().st_mtime < LEGACY_LEFTOVER_AGE_S:
                    continue
            except OSError:
                continue
            if rest.startswith("replaced-"):
                continue  # a previous model kept by an interrupted replace: the loader restores it
        else:
            continue
        _remove(entry)
        removed.append(entry)
    return removed


def _older_than(entry: Path, now: float, seconds: float) -> bool:
    try:
        return now - entry.lstat().st_mtime >= seconds
    except OSError:
        return False


def fsync_file(path: Path) -> None:
    """Flush ``path``'s data to disk (so a crash cannot leave a renamed but empty file)."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename in it) to disk, where the platform allows it."""
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


class AtomicPath:
    """One file written completely or not at all: the primitive every writer uses.

    :meth:`begin` removes leftovers of killed writers of ``target`` and
    returns a fresh temporary path beside it; write that path however you
    like (a stream, pyarrow, ``savefig``), then :meth:`commit` flushes it to
    disk and renames it over ``target``, or :meth:`abort` removes it.
    :func:`atomic_write`, :class:`dagmm.tabular.AtomicTableWriter`, the model
    directory's ``config.json`` and data-set downloads are built on it.

    Parameters
    ----------
    target : path-like
        The destination file. Missing parent folders are created by :meth:`begin`.
    kind : str, default="tmp"
        The temporary file's suffix (downloads use ``"part"``).
    """

    def __init__(self, target: str | os.PathLike, kind: str = "tmp") -> None:
        self.target = Path(target)
        self.kind = kind
        self.temp: Path | None = None

    def begin(self) -> Path:
        """Sweep leftovers and return the temporary path to write (not yet created)."""
        if self.target.is_dir():
            raise IsADirectoryError(f"cannot write '{self.target}': it is a folder; give a file path")
        self.target.parent.mkdir(parents=True, exist_ok=True)
        sweep_leftovers(self.target, kinds=(self.kind,))
        self.temp = temp_path_for(self.target, self.kind)
        return self.temp

    def commit(self) -> Path:
        """Flush the temporary file to disk and rename it over the target."""
        assert self.temp is not None, "begin() first"
        try:
            fsync_file(self.temp)
            os.replace(self.temp, self.target)
        except BaseException:
            self.abort()
            raise
        self.temp = None
        fsync_dir(self.target.parent)
        return self.target

    def abort(self) -> None:
        """Remove the temporary file (the target is untouched)."""
        if self.temp is not None:
            with contextlib.suppress(OSError):
                self.temp.unlink(missing_ok=True)
            self.temp = None


def atomic_write(
    path: str | os.PathLike,
    content: str | bytes | Callable[[IO[bytes]], object],
    *,
    overwrite: bool = True,
) -> Path:
    """Write a file completely or not at all.

    Parameters
    ----------
    path : path-like
        Destination. Missing parent folders are created.
    content : str, bytes or callable
        Text (written as UTF-8), bytes, or a function that writes to the
        binary file object it is given (``figure.savefig``, ``json.dump``...).
    overwrite : bool, default=True
        Whether an existing file at ``path`` may be replaced.

    Returns
    -------
    Path
        The destination.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false.
    IsADirectoryError
        If ``path`` is a folder.

    Notes
    -----
    On any error, including ``KeyboardInterrupt`` (and SIGTERM in the CLI),
    the temporary file is removed and an existing ``path`` is untouched.
    Leftovers of killed writers of the same ``path`` are removed first.
    """
    atomic = AtomicPath(path)
    if not overwrite and atomic.target.exists():
        raise FileExistsError(f"'{atomic.target}' already exists and overwrite=False")
    temp = atomic.begin()
    try:
        with open(temp, "xb") as handle:
            if callable(content):
                content(handle)
            else:
                handle.write(content.encode("utf-8") if isinstance(content, str) else content)
    except BaseException:
        atomic.abort()
        raise
    return atomic.commit()


def replace_dir(complete: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Move a completely written folder ``complete`` to ``target``, replacing any old one.

    For outputs that are folders written by another tool (Spark's Parquet
    parts): write them beside ``target`` first, then call this. An existing
    ``target`` is renamed aside, the new folder renamed into place and the
    old one removed; if the second rename fails the old folder is put back.

    Returns
    -------
    Path
        ``target``.
    """
    source, target = Path(complete), Path(target)
    if not target.exists():
        os.replace(source, target)
    else:
        old = target.parent / f"{target.name}.{uuid.uuid4().hex[:12]}.old"
        os.replace(target, old)
        try:
            os.replace(source, target)
        except BaseException:
            os.replace(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(target.parent)
    return target
