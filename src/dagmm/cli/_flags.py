"""The one table of the training commands' flags: flag -> option name, help text.

Every flag of ``dagmm fit`` and ``dagmm tune`` that sets a fit option is a row
of :data:`FLAGS`: the flag (which may be shorter than the name, ``--epochs``),
the name it sets (a workflow setting of :class:`~dagmm.workflow.FitOptions`
or an estimator parameter, as a config file spells it), the detectors that
have that parameter, and its help. The commands' ``--help`` is generated from
it (:func:`option`, with the default read from the estimators and the
workflow's overrides), and so is the documentation's table
(:func:`flags_markdown`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import typer

from dagmm.workflow.options import DETECTORS, WORKFLOW_DEFAULTS, FitOptions, detector_class

__all__ = ["FLAGS", "Flag", "flag_of", "flags_markdown", "option"]

_BOTH = tuple(DETECTORS)


@dataclass(frozen=True)
class Flag:
    """One command-line flag of a fit option.

    Attributes
    ----------
    flag : str
        The flag, e.g. ``"--epochs"``.
    name : str
        The option it sets: a workflow setting or an estimator parameter.
    help : str
        What it does (the default is appended from the estimator or the workflow).
    detectors : tuple of str
        The detectors with that parameter; empty for a workflow setting.
    switch : bool
        A boolean with a ``--no-`` form.
    default_text : str, optional
        How to describe a default of None (a rule applied at fit).
    """

    flag: str
    name: str
    help: str
    detectors: tuple[str, ...] = ()
    switch: bool = False
    default_text: str | None = None

    def defaults(self) -> dict[str, Any]:
        """The default for each detector (``{"": value}`` for a workflow setting)."""
        if not self.detectors:
            return {"": getattr(FitOptions(), self.name)}
        out = {}
        for detector in self.detectors:
            params = detector_class(detector)().get_params(deep=False)
            value = WORKFLOW_DEFAULTS.get(self.name, (params[self.name],))[0]
            out[detector] = value
        return out

    def default_help(self) -> str:
        """The default as ``--help`` and the docs show it."""

        def text(value: Any) -> str:
            if value is None:
                return self.default_text or "none"
            if isinstance(value, bool):
                return self.flag if value else f"--no-{self.flag[2:]}"
            if isinstance(value, (tuple, list)):
                return ",".join(str(item) for item in value) or "none"
            return f"{value:g}" if isinstance(value, float) else str(value)

        values = self.defaults()
        shown = {key: text(value) for key, value in values.items()}
        if len(set(shown.values())) == 1:
            return next(iter(shown.values()))
        return "; ".join(f"{detector}: {value}" for detector, value in shown.items())


_WIDTHS = "comma-separated widths"

#: Every fit-option flag of ``dagmm fit`` and ``dagmm tune``, one row per option.
FLAGS: tuple[Flag, ...] = (
    Flag("--detector", "detector", f"Detector to train: {', '.join(DETECTORS)}."),
    Flag("--label-col", "label_col", "Label column; only its normal rows are trained on.",
         default_text="no labels"),
    Flag("--normal-label", "normal_label", "Label value meaning normal.",
         default_text="0, false or 'normal'"),
    Flag("--drop-cols", "drop_cols", "Columns to ignore, comma-separated: A,B."),
    Flag("--id-cols", "id_cols", "Identifier columns, written beside the scores (comma-separated)."),
    Flag("--categorical-cols", "categorical_cols",
         "Columns to one-hot encode whatever their type (comma-separated)."),
    Flag("--datetime-cols", "datetime_cols",
         "Date-time columns, comma-separated: ISO 8601, MM/DD/YYYY HH:MM, DD.MM.YYYY or epoch "
         "seconds (other values are an error)."),
    Flag("--impute", "impute",
         "Fill missing values (median / '__missing__') instead of rejecting them.", switch=True),
    Flag("--max-categories", "max_categories",
         "Most distinct values to one-hot encode; more are hashed."),
    Flag("--contamination", "contamination",
         "Threshold: fraction of training rows flagged (also the estimator's contamination).",
         default_text="0.01 when no other policy"),
    Flag("--threshold-fpr", "threshold_fpr",
         "Threshold: target false-positive rate on the training rows."),
    Flag("--threshold-f1", "threshold_f1",
         "Threshold: best F1 on held-out labelled rows (needs --label-col).", switch=True),
    Flag("--validation-fraction", "validation_fraction",
         "With --threshold-f1: share of normal rows held out with the anomalies."),
    Flag("--seed", "random_state", "Random seed of the model and of every split."),
    Flag("--epochs", "epoch_size", "Training epochs.", _BOTH),
    Flag("--batch-size", "minibatch_size", "Rows per minibatch.", _BOTH,
         default_text="training rows / 32, within 64 to 1024"),
    Flag("--learning-rate", "learning_rate", "Adam learning rate.", _BOTH),
    Flag("--lambda1", "lambda1", "Weight of the sample energy in the loss.", ("dagmm",)),
    Flag("--lambda2", "lambda2", "Weight of the covariance penalty.", ("dagmm",)),
    Flag("--reconstruction-features", "reconstruction_features",
         "Reconstruction features in the mixture input, from relative, cosine, euclidean.",
         ("dagmm",)),
    Flag("--restarts", "n_restarts",
         "Whole trainings from different initialisations; the best reconstructing one is "
         "kept. Rescues runs that fail, more frequent when the training rows hold unlabelled "
         "anomalies.", ("dagmm",)),
    Flag("--dropout", "est_dropout_ratio", "Dropout of the estimation network.", ("dagmm",)),
    Flag("--comp-hiddens", "comp_hiddens",
         f"Compression widths, the last one the latent size ({_WIDTHS}: 60,30,10,1).",
         ("dagmm",), default_text="2L,L with latent size L = features / 3, within 2 to 16"),
    Flag("--est-hiddens", "est_hiddens",
         f"Estimation widths, the last one the number of mixture components ({_WIDTHS}).",
         ("dagmm",)),
    Flag("--encoder-hiddens", "encoder_hiddens",
         f"VAE encoder widths ({_WIDTHS}); the decoder mirrors them.", ("vae",),
         default_text="two layers of 4 x features, within 64 to 512"),
    Flag("--latent-dim", "latent_dim", "VAE latent size.", ("vae",),
         default_text="2 x features within 32 to 64, or features / 5 when larger"),
    Flag("--device", "device", "auto, cpu, cuda or cuda:N.", _BOTH),
    Flag("--threads", "n_jobs", "CPU threads for torch.", _BOTH,
         default_text="1 for small minibatches, more for large ones; torch's own default of "
         "every core is several times slower on a small or busy machine"),
)

_BY_NAME = {row.name: row for row in FLAGS}


def flag_of(name: str) -> str:
    """The flag that sets option ``name`` (``"epoch_size"`` -> ``"--epochs"``)."""
    row = _BY_NAME.get(name)
    return row.flag if row is not None else "--" + name.replace("_", "-")


def option(name: str, help_extra: str = "") -> Any:
    """The Typer option of ``name``: default None ("not given"), help from the table."""
    row = _BY_NAME[name]
    declaration = f"{row.flag}/--no-{row.flag[2:]}" if row.switch else row.flag
    help_text = f"{row.help}{help_extra} [default: {row.default_help()}]"
    extra = {"min": 1} if name == "n_jobs" else {}
    return typer.Option(None, declaration, help=help_text, **extra)


def flags_markdown() -> str:
    """The table as Markdown, for the command-line reference in the docs."""
    lines = [
        "| Flag | Option (config key) | Detectors | Default | What it does |",
        "|---|---|---|---|---|",
    ]
    for row in FLAGS:
        flag = f"`{row.flag}` / `--no-{row.flag[2:]}`" if row.switch else f"`{row.flag}`"
        detectors = ", ".join(row.detectors) if row.detectors else "workflow"
        cells = (flag, f"`{row.name}`", detectors, row.default_help(), row.help)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"

