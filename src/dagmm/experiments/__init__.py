"""Reproducible studies, as library code behind ``dagmm experiment ...``."""

from dagmm.experiments.mnist_vae import load_zero_six_split, run_mnist_vae

__all__ = ["load_zero_six_split", "run_mnist_vae"]
