"""Report plots stay readable on heavy-tailed energies and say what they leave out."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from dagmm.reporting import energy_histogram_figure, f1_threshold_figure, figure_png  # noqa: E402
from dagmm.reporting.plots import energy_axis  # noqa: E402


def heavy_tailed(seed: int = 0):
    """Normal rows near 0-10, anomalies up to ~24,000 (as on KDDCUP)."""
    rng = np.random.default_rng(seed)
    normal = rng.normal(3.0, 2.0, 5000)
    anomalies = np.exp(rng.uniform(np.log(15), np.log(24000), 200))
    energy = np.r_[normal, anomalies]
    return energy, np.r_[np.zeros(5000, bool), np.ones(200, bool)]


def test_heavy_tails_get_a_log_axis_over_every_row():
    energy, _ = heavy_tailed()
    axis = energy_axis(energy, {"model threshold": 9.0})
    assert axis.scale == "symlog"
    assert axis.lower <= energy.min() and axis.upper >= energy.max()
    assert "every row shown" in axis.note and "nothing clipped" in axis.note
    edges = axis.bin_edges()
    # Log bins: the bulk of normal rows (0-10) spreads over many bins, not the first one.
    counts, _ = np.histogram(energy[:5000], bins=edges)
    assert (counts > 0).sum() >= 10
    assert counts.max() < 0.5 * 5000


def test_light_tails_stay_linear_and_say_what_is_clipped():
    energy = np.random.default_rng(1).normal(0.0, 1.0, 2000)
    axis = energy_axis(energy, {"model threshold": 1.5})
    assert axis.scale == "linear"
    assert "rows below" in axis.note and "rows above" in axis.note
    assert "counted in the end bins" in axis.note
    assert axis.lower <= 1.5 <= axis.upper


def test_thresholds_outside_the_data_are_kept_in_view():
    energy = np.random.default_rng(2).normal(0.0, 1.0, 500)
    axis = energy_axis(energy, {"t": 40.0})
    assert axis.upper >= 40.0


@pytest.mark.parametrize("make", [energy_histogram_figure, f1_threshold_figure])
def test_figures_draw_on_both_scales_with_labelled_thresholds(make):
    for energy, labels in (heavy_tailed(), (np.r_[np.zeros(90), np.ones(10) * 3.0]
                                            + np.random.default_rng(3).normal(size=100),
                                            np.r_[np.zeros(90, bool), np.ones(10, bool)])):
        thresholds = {"model threshold": float(np.quantile(energy, 0.9)), "best-F1 threshold":
                      float(np.quantile(energy, 0.95))}  # fmt: skip
        args = (energy, labels, thresholds) if make is energy_histogram_figure else (
            labels, energy, thresholds)  # fmt: skip
        figure = make(*args)
        axes = figure.axes[0]
        legend = [text.get_text() for text in axes.get_legend().get_texts()]
        assert any(text.startswith("model threshold (") for text in legend)
        assert axes.get_xscale() == energy_axis(energy, thresholds).scale
        assert figure_png(figure)[:4] == b"\x89PNG"
