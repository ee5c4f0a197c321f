"""Figures of an evaluation and of a tuning run, as PNG bytes.

Everything uses matplotlib's object API (``Figure`` plus ``FigureCanvasAgg``),
so the global backend and pyplot's state are never touched and the functions
are safe in servers, notebooks and threads. Each ``*_figure`` function returns
a :class:`matplotlib.figure.Figure`; :func:`figure_png` renders it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

__all__ = [
    "MISSING_MATPLOTLIB",
    "EnergyAxis",
    "energy_axis",
    "energy_histogram_figure",
    "f1_threshold_figure",
    "figure_png",
    "latent_figure",
    "matplotlib_available",
    "pr_figure",
    "roc_figure",
    "trials_figure",
]

_NORMAL_COLOR, _ANOMALY_COLOR = "#1f77b4", "#d62728"
_THRESHOLD_STYLES = ("--", ":", "-.")
_SIZE = (6.4, 4.2)
_DPI = 100


#: What to say when the plots cannot be drawn.
MISSING_MATPLOTLIB = "matplotlib is not installed (pip install 'dagmm[plot]')"


def matplotlib_available() -> bool:
    """Whether the figures can be drawn; commands skip them (and say so) when not."""
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(size: tuple[float, float] = _SIZE) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is installed in the test environment
        raise ImportError(f"plots need matplotlib: {MISSING_MATPLOTLIB}") from None
    return Figure(figsize=size, dpi=_DPI, layout="constrained")


def figure_png(figure: Any) -> bytes:
    """Render a figure to PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


#: Energies are heavy-tailed when the rows beyond the 5-95% range reach further than
#: this many times that range; their axis is then symmetric-logarithmic.
HEAVY_TAIL_RATIO = 10.0
#: Histogram bins.
_BINS = 60


@dataclass(frozen=True)
class EnergyAxis:
    """How an energy axis is drawn: its range, scale and what that leaves out.

    ``scale`` is ``"linear"`` or ``"symlog"`` (logarithmic beyond
    ``linthresh`` on both sides of zero, linear within: energies may be
    negative). A symlog axis spans every energy; a linear one the 0.5% to
    99.5% quantiles (widened to the thresholds), and ``note`` says how many
    rows lie beyond it.
    """

    lower: float
    upper: float
    scale: str
    linthresh: float
    note: str

    def apply(self, axes: Any) -> None:
        if self.scale == "symlog":
            from matplotlib.ticker import FuncFormatter

            axes.set_xscale("symlog", linthresh=self.linthresh)
            # Plain numbers (-10, 0, 10, 1000, 1e+04), not a mix of "0" and "10^0".
            axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.set_xlim(self.lower, self.upper)

    def bin_edges(self, bins: int = _BINS) -> np.ndarray:
        """Edges evenly spaced on the axis as drawn (so log bins on a symlog axis)."""
        if self.scale == "linear":
            return np.linspace(self.lower, self.upper, bins + 1)
        forward, inverse = _symlog(self.linthresh), _symlog_inverse(self.linthresh)
        return inverse(np.linspace(forward(self.lower), forward(self.upper), bins + 1))

    def label(self, what: str) -> str:
        if self.scale == "symlog":
            what += f" (log scale beyond ±{self.linthresh:.3g})"
        return what + (f"\n{self.note}" if self.note else "")


def _symlog(linthresh: float) -> Any:
    return lambda x: np.sign(x) * np.log10(1.0 + np.abs(x) / linthresh)


def _symlog_inverse(linthresh: float) -> Any:
    return lambda y: np.sign(y) * linthresh * (10.0 ** np.abs(y) - 1.0)


def energy_axis(energy: np.ndarray, thresholds: Mapping[str, float]) -> EnergyAxis:
    """Choose the scale and range that show where the rows and the thresholds are.

    On heavy-tailed energies (a few rows far beyond the bulk, as on KDDCUP or
    credit-card data, where the largest energies are thousands of times the
    typical ones) a linear axis puts every normal row in its first pixel: the
    axis is then symmetric-logarithmic and spans every energy.
    """
    energy = np.asarray(energy, dtype=np.float64)
    values = [float(v) for v in thresholds.values() if np.isfinite(v)]
    low, q5, q25, q75, q95, high = np.quantile(energy, [0.0, 0.05, 0.25, 0.75, 0.95, 1.0])
    core = max(q95 - q5, np.finfo(np.float64).tiny)
    if max(high - q95, q5 - low) > HEAVY_TAIL_RATIO * core:
        lower, upper = min([low, *values]), max([high, *values])
        linthresh = float(max(q75 - q25, core / 10.0, 1e-6 * max(abs(low), abs(high)), 1e-12))
        note = f"every row shown (energies {low:.4g} to {high:.4g}), nothing clipped"
        return EnergyAxis(float(lower), float(upper), "symlog", linthresh, note)
    lower, upper = np.quantile(energy, [0.005, 0.995])
    lower, upper = min([lower, *values]), max([upper, *values])
    if upper <= lower:
        upper = lower + 1.0
    below, above = int(np.sum(energy < lower)), int(np.sum(energy > upper))
    parts = []
    if below:
        parts.append(f"{below} row{'s' if below != 1 else ''} below {lower:.4g}")
    if above:
        parts.append(f"{above} row{'s' if above != 1 else ''} above {upper:.4g}")
    note = (" and ".join(parts) + " counted in the end bins") if parts else ""
    return EnergyAxis(float(lower), float(upper), "linear", 1.0, note)


def _threshold_lines(axes: Any, thresholds: Mapping[str, float]) -> None:
    # At most three thresholds are drawn, one line style each, their value in the legend.
    for (name, value), style in zip(thresholds.items(), _THRESHOLD_STYLES, strict=False):
        axes.axvline(
            value, color="black", linestyle=style, linewidth=1.2, label=f"{name} ({value:.4g})"
        )


def energy_histogram_figure(
    energy: np.ndarray, is_anomaly: np.ndarray, thresholds: Mapping[str, float]
) -> Any:
    """Histograms of the energy of normal and anomalous rows, each scaled to its own total.

    The axis is chosen by :func:`energy_axis`: logarithmic on heavy-tailed
    energies (every row shown), else linear over the 0.5% to 99.5% quantiles
    with the rows beyond them counted in the end bins, which the axis label
    says. The thresholds are always in view.
    """
    energy = np.asarray(energy, dtype=np.float64)
    is_anomaly = np.asarray(is_anomaly, dtype=bool)
    axis = energy_axis(energy, thresholds)
    bins = axis.bin_edges()
    figure = _figure()
    axes = figure.add_subplot()
    for mask, label, color in (
        (~is_anomaly, "normal", _NORMAL_COLOR),
        (is_anomaly, "anomaly", _ANOMALY_COLOR),
    ):
        if mask.any():
            clipped = np.clip(energy[mask], axis.lower, axis.upper)
            weights = np.full(clipped.size, 1.0 / clipped.size)
            axes.hist(
                clipped,
                bins=bins,
                weights=weights,
                alpha=0.55,
                color=color,
                label=f"{label} ({int(mask.sum())} rows)",
            )
    _threshold_lines(axes, thresholds)
    axis.apply(axes)
    axes.set_yscale("log")
    axes.set_xlabel(axis.label("energy (higher = more anomalous)"))
    axes.set_ylabel("share of the class's rows")
    axes.set_title("Energy by class")
    axes.legend(fontsize="small")
    return figure


def roc_figure(is_anomaly: np.ndarray, energy: np.ndarray, auroc: float) -> Any:
    """ROC curve of the energies, with the chance diagonal."""
    fpr, tpr, _ = roc_curve(np.asarray(is_anomaly, dtype=int), energy)
    figure = _figure((4.8, 4.2))
    axes = figure.add_subplot()
    axes.plot(fpr, tpr, color=_ANOMALY_COLOR, label=f"AUROC {auroc:.4f}")
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="chance")
    axes.set_xlabel("false-positive rate")
    axes.set_ylabel("true-positive rate (recall)")
    axes.set_title("ROC curve")
    axes.legend(loc="lower right", fontsize="small")
    return figure


def pr_figure(is_anomaly: np.ndarray, energy: np.ndarray, auprc: float) -> Any:
    """Precision-recall curve, with the share of anomalies as the chance level."""
    labels = np.asarray(is_anomaly, dtype=int)
    precision, recall, _ = precision_recall_curve(labels, energy)
    figure = _figure((4.8, 4.2))
    axes = figure.add_subplot()
    axes.step(recall, precision, where="post", color=_ANOMALY_COLOR, label=f"AUPRC {auprc:.4f}")
    axes.axhline(labels.mean(), color="grey", linestyle=":", linewidth=1, label="chance")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_title("Precision-recall curve")
    axes.legend(loc="upper right", fontsize="small")
    return figure


def f1_threshold_figure(
    is_anomaly: np.ndarray, energy: np.ndarray, thresholds: Mapping[str, float]
) -> Any:
    """Precision, recall and F1 when flagging ``energy >= t``, against the threshold t."""
    precision, recall, cuts = precision_recall_curve(np.asarray(is_anomaly, dtype=int), energy)
    precision, recall = precision[:-1], recall[:-1]
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    axis = energy_axis(energy, thresholds)
    keep = (cuts >= axis.lower) & (cuts <= axis.upper)
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot(cuts[keep], f1[keep], color="black", label="F1")
    axes.plot(cuts[keep], precision[keep], color=_NORMAL_COLOR, alpha=0.7, label="precision")
    axes.plot(cuts[keep], recall[keep], color=_ANOMALY_COLOR, alpha=0.7, label="recall")
    _threshold_lines(axes, thresholds)
    axis.apply(axes)
    axes.set_ylim(0, 1.02)
    hidden = int(np.sum(~keep))
    what = "energy threshold (flag rows at or above it)"
    if axis.scale == "linear" and hidden:
        what += f"; {hidden} thresholds beyond the axis not drawn"
    axes.set_xlabel(axis.label(what).split("\n")[0])
    axes.set_ylabel("score")
    axes.set_title("Precision, recall and F1 against the threshold")
    axes.legend(fontsize="small")
    return figure


def latent_figure(z: np.ndarray, is_anomaly: np.ndarray, names: Sequence[str]) -> Any:
    """The first two mixture inputs of each row, colored by label (anomalies on top)."""
    z = np.asarray(z, dtype=np.float64)
    is_anomaly = np.asarray(is_anomaly, dtype=bool)
    figure = _figure((5.6, 4.6))
    axes = figure.add_subplot()
    x_index, y_index = (0, 1) if z.shape[1] > 1 else (0, 0)
    for mask, label, color, size in (
        (~is_anomaly, "normal", _NORMAL_COLOR, 6),
        (is_anomaly, "anomaly", _ANOMALY_COLOR, 12),
    ):
        if mask.any():
            axes.scatter(
                z[mask, x_index],
                z[mask, y_index],
                s=size,
                alpha=0.5,
                color=color,
                linewidths=0,
                label=f"{label} ({int(mask.sum())} shown)",
            )
    axes.set_xlabel(str(names[x_index]))
    axes.set_ylabel(str(names[y_index]))
    axes.set_title("Mixture input space")
    axes.legend(fontsize="small", markerscale=2)
    return figure


def trials_figure(
    numbers: Sequence[int], values: Sequence[float | None], states: Sequence[str], metric: str
) -> Any:
    """Validation metric of each tuning trial, with the best so far; pruned trials in grey."""
    figure = _figure()
    axes = figure.add_subplot()
    numbers = np.asarray(numbers)
    values = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    states = np.asarray(states)
    complete = (states == "COMPLETE") & np.isfinite(values)
    pruned = (states == "PRUNED") & np.isfinite(values)
    axes.scatter(
        numbers[complete], values[complete], color=_NORMAL_COLOR, label="complete", zorder=3
    )
    if pruned.any():
        axes.scatter(
            numbers[pruned],
            values[pruned],
            color="grey",
            marker="x",
            label="pruned (last reported value)",
            zorder=2,
        )
    if complete.any():
        best = np.fmax.accumulate(np.where(complete, values, np.nan))
        axes.step(numbers, best, where="post", color="black", linewidth=1.2, label="best so far")
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("trial")
    axes.set_ylabel(f"validation {metric}")
    axes.set_title("Tuning trials")
    axes.legend(fontsize="small")
    return figure
