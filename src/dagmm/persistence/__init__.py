"""Saving and loading fitted models as versioned directories (JSON + safetensors)."""

from dagmm.persistence.model_dir import (
    CONFIG_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    model_files,
    read_model_dir,
    write_model_dir,
)

__all__ = ["CONFIG_FILE", "FORMAT_NAME", "FORMAT_VERSION", "model_files", "read_model_dir", "write_model_dir"]
