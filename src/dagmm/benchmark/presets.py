"""Named DAGMM configurations: the paper's networks and training schedules.

Each preset is a plain dict of :class:`dagmm.DAGMM` constructor keyword
arguments (Zong et al., 2018, Sec. 4.2 and Appendix):

============  ==================  ===========  =======  =====
preset        compression         estimation   epochs   batch
============  ==================  ===========  =======  =====
kddcup        60-30-10-1          10-4         200      1024
thyroid       12-4-1              10-2         20,000   1024
arrhythmia    10-2                10-2         10,000   128
kddcup-rev    60-30-10-1          10-4         400      1024
============  ==================  ===========  =======  =====

All use tanh activations, dropout 0.5 in the estimation network, Adam with
learning rate 1e-4, lambda1 = 0.1 and lambda2 = 0.005. The last estimation
width is the number of mixture components K.

Presets leave out data-dependent settings (``normalize``, ``contamination``)
and per-run ones (``random_state``, ``device``, ``verbose``): the benchmark
sets those from the protocol. They are stored read-only; :func:`get_preset`
returns a fresh copy that may be edited freely. This module is the one place
to tune them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from dagmm.benchmark._util import unknown_name_message

__all__ = ["PRESETS", "QUICK_EPOCHS", "get_preset", "n_components"]

#: Epochs of the ``quick`` variant of every preset (smoke runs, not results).
QUICK_EPOCHS = 2

_SHARED: dict[str, Any] = {
    "comp_activation": "tanh",
    "est_activation": "tanh",
    "est_dropout_ratio": 0.5,
    "learning_rate": 1e-4,
    "lambda1": 0.1,
    "lambda2": 0.005,
}

_KDDCUP: dict[str, Any] = {
    **_SHARED,
    "comp_hiddens": (60, 30, 10, 1),
    "est_hiddens": (10, 4),
    "epoch_size": 200,
    "minibatch_size": 1024,
}


def _freeze(params: dict[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(params)


#: Read-only presets, keyed by name. Use :func:`get_preset` for an editable copy.
PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "kddcup": _freeze(dict(_KDDCUP)),
        "thyroid": _freeze(
            {
                **_SHARED,
                "comp_hiddens": (12, 4, 1),
                "est_hiddens": (10, 2),
                "epoch_size": 20_000,
                "minibatch_size": 1024,
            }
        ),
        "arrhythmia": _freeze(
            {
                **_SHARED,
                "comp_hiddens": (10, 2),
                "est_hiddens": (10, 2),
                "epoch_size": 10_000,
                "minibatch_size": 128,
            }
        ),
        "kddcup-rev": _freeze({**_KDDCUP, "epoch_size": 400}),
    }
)


def get_preset(name: str, quick: bool = False) -> dict[str, Any]:
    """Return an editable copy of a preset's DAGMM keyword arguments.

    Parameters
    ----------
    name : str
        A key of :data:`PRESETS`.
    quick : bool, default=False
        Train for :data:`QUICK_EPOCHS` epochs only (smoke runs).

    Returns
    -------
    dict
        Keyword arguments for :class:`dagmm.DAGMM`.

    Examples
    --------
    >>> params = get_preset("arrhythmia", quick=True)
    >>> params["comp_hiddens"], params["epoch_size"]
    ((10, 2), 2)
    """
    try:
        params = copy.deepcopy(dict(PRESETS[name]))
    except KeyError:
        raise ValueError(unknown_name_message("preset", name, list(PRESETS))) from None
    if quick:
        params["epoch_size"] = min(params["epoch_size"], QUICK_EPOCHS)
    return params


def n_components(params: Mapping[str, Any]) -> int:
    """Number of mixture components K of a preset: its last estimation width."""
    return int(params["est_hiddens"][-1])
