"""Figures and a self-contained HTML report for evaluations and tuning runs.

Plots need matplotlib (``pip install 'dagmm[plot]'``); it is imported only
when a figure is drawn.
"""

from dagmm.reporting.html import Figure, Table, render_report, write_atomic
from dagmm.reporting.plots import (
    MISSING_MATPLOTLIB,
    energy_histogram_figure,
    f1_threshold_figure,
    figure_png,
    latent_figure,
    matplotlib_available,
    pr_figure,
    roc_figure,
    trials_figure,
)

__all__ = [
    "MISSING_MATPLOTLIB",
    "Figure",
    "Table",
    "energy_histogram_figure",
    "f1_threshold_figure",
    "figure_png",
    "latent_figure",
    "matplotlib_available",
    "pr_figure",
    "render_report",
    "roc_figure",
    "trials_figure",
    "write_atomic",
]
