"""How the detectors' network widths are given, checked and chosen from the input width.

Every detector takes its widths the same way: a sequence of positive integers
per network (``comp_hiddens``, ``est_hiddens`` for :class:`~dagmm.DAGMM`;
``encoder_hiddens``, ``decoder_hiddens`` and ``latent_dim`` for
:class:`~dagmm.VAEDetector`), with None meaning "chosen from the number of
input features at fit" by the rule below. The rules live here, once: the file
workflow (``dagmm fit``) passes None too, so ``DAGMM()`` and ``dagmm fit``
build the same network for the same input width.

The two rules differ on purpose. DAGMM's mixture is fitted on the latent code,
so the code stays narrow (a third of the input, at most 16 dimensions); the
VAE's Mahalanobis score needs more latent directions than the data use (see
:func:`default_vae_architecture`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral
from typing import Any

__all__ = [
    "check_widths",
    "default_comp_hiddens",
    "default_minibatch_size",
    "default_vae_architecture",
]


def check_widths(name: str, value: Any) -> tuple[int, ...]:
    """``value`` as a tuple of positive integers; a ValueError naming ``name`` otherwise."""
    widths = tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else None
    if not widths or not all(
        isinstance(w, Integral) and not isinstance(w, bool) and w >= 1 for w in widths
    ):
        raise ValueError(
            f"{name}={value!r} is invalid: expected a non-empty sequence of positive integers, "
            "e.g. (60, 30, 10, 1)"
        )
    return tuple(int(w) for w in widths)


def default_comp_hiddens(n_features: int) -> tuple[int, int]:
    """DAGMM's compression widths when ``comp_hiddens`` is None: ``(2L, L)``.

    The latent size L is ``ceil(n_features / 3)`` clipped to [2, 16]; the
    hidden width ``2L`` is clipped to [8, 64]. For 10 features this gives
    (8, 4), for 118 (32, 16). The paper's one-dimensional code (tuned for
    KDDCUP) reconstructs heterogeneous tables too poorly for the energy to
    separate anomalies; the paper's networks stay available as presets
    (``DAGMM.from_preset("paper-kddcup")``).
    """
    latent = int(min(max(math.ceil(n_features / 3), 2), 16))
    return (int(min(max(2 * latent, 8), 64)), latent)


def default_minibatch_size(n_rows: int) -> int:
    """Rows per step when ``minibatch_size`` is None: ``n_rows // 32`` within [64, 1024].

    About 32 optimiser steps an epoch on small tables (with 1,024 rows per
    step a table of 2,000 rows would get two), DAGMM's usual 1,024 on large ones.
    """
    return int(min(1024, max(64, n_rows // 32)))


def default_vae_architecture(n_features: int) -> tuple[tuple[int, ...], int]:
    """VAEDetector's encoder widths and latent size when they are left as None.

    Two hidden layers of four times the input width, clipped to [64, 512];
    a latent size of twice the input width, clipped to [32, 64], or a fifth
    of the input width (at most 160) when that is larger. The decoder
    mirrors the encoder. For 6 features this gives 6-64-64-32, for 30
    features 30-120-120-60, for MNIST's 784 pixels 784-512-512-157.

    The latent space is deliberately wider than a narrow table needs: the KL
    term collapses the dimensions the data do not use onto the prior, and the
    posterior means of those dimensions stay near zero for rows like the
    training rows but move for rows unlike them. The Mahalanobis distance,
    which divides by their tiny training variance, picks that up; with a
    latent size below the input width, rows far from the data can be encoded
    right inside the training codes.

    Returns
    -------
    encoder_hiddens : tuple of int
    latent_dim : int
    """
    width = min(max(4 * n_features, 64), 512)
    latent = max(min(max(2 * n_features, 32), 64), min(math.ceil(n_features / 5), 160))
    return (width, width), latent
