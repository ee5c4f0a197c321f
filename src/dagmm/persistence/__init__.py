"""Saving and loading fitted models as versioned directories (JSON + safetensors).

Also the one atomic file writer (:func:`atomic_write`, :class:`AtomicPath`)
every file dagmm writes goes through.
"""

from dagmm.persistence.atomic import AtomicPath, atomic_write, replace_dir
from dagmm.persistence.model_dir import (
    CONFIG_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    is_model_dir,
    model_files,
    read_model_dir,
    write_model_dir,
)

__all__ = [
    "CONFIG_FILE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "AtomicPath",
    "atomic_write",
    "is_model_dir",
    "model_files",
    "read_model_dir",
    "replace_dir",
    "write_model_dir",
]
