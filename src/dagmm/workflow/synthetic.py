"""Synthetic stand-ins for the tables the workflow is meant for.

:func:`make_transactions` draws a small table of mixed columns (an
identifier, numbers, categories, a boolean, ISO date-times and a text label),
the kind of file ``dagmm fit`` is for; it can hold categories never seen in
another draw, to check how scoring treats them.

:func:`make_creditcard_like` draws a table with the columns of Kaggle's
``creditcard.csv`` (``Time``, ``V1``..``V28``, ``Amount``, ``Class``), so the
credit-card workflow can be run and tested where the real file (which needs a
Kaggle login) is absent. It imitates the real file's broad shape, not its
values: the V columns are heavy-tailed, roughly uncorrelated components whose
spread falls from V1 to V28; normal rows come from a few overlapping clusters;
frauds are shifted along the components that separate frauds in the real data
(V14, V12, V10, V17, V3, V4, V11, ...) by a random strength, so that some frauds
look nearly normal; ``Amount`` is log-normal, ``Time`` spans two days with
fewer transactions at night. Numbers measured on it say nothing about the real
data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CREDITCARD_COLUMNS", "make_creditcard_like", "make_transactions"]

#: Columns of creditcard.csv, in file order.
CREDITCARD_COLUMNS: tuple[str, ...] = ("Time", *(f"V{i}" for i in range(1, 29)), "Amount", "Class")

_N_COMPONENTS = 28
_SECONDS_PER_DAY = 86_400.0
_LATENT, _HIDDEN = 4, 12
# Mean distance of a fraud from the normal surface, before the PCA scaling.
_FRAUD_STRENGTH = 1.6


def _day_night_times(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds in [0, 2 days), with about a third as many transactions at night."""
    times = np.empty(0)
    while times.size < n:  # rejection sampling from a day/night intensity
        candidates = rng.uniform(0.0, 2 * _SECONDS_PER_DAY, size=2 * n)
        hour = (candidates % _SECONDS_PER_DAY) / 3600.0
        intensity = np.where((hour >= 1.0) & (hour < 7.0), 0.3, 1.0)
        times = np.concatenate([times, candidates[rng.uniform(size=candidates.size) < intensity]])
    return np.sort(times[:n]).round()


def make_creditcard_like(
    n_rows: int = 20_000, fraud_fraction: float = 0.005, random_state: int = 0
) -> pd.DataFrame:
    """A synthetic table with the columns and label convention of ``creditcard.csv``.

    Parameters
    ----------
    n_rows : int, default=20000
        Number of transactions.
    fraud_fraction : float, default=0.005
        Fraction of frauds (``Class`` 1); at least one fraud is drawn. The real
        file has 0.17%.
    random_state : int, default=0

    Returns
    -------
    DataFrame
        Columns ``Time`` (seconds, float), ``V1``..``V28``, ``Amount`` and
        ``Class`` (int, 1 = fraud), in time order like the real file.

    Examples
    --------
    >>> frame = make_creditcard_like(1000, random_state=0)
    >>> list(frame.columns[:3]), frame.shape
    (['Time', 'V1', 'V2'], (1000, 31))
    """
    if not isinstance(n_rows, (int, np.integer)) or n_rows < 2:
        raise ValueError(f"n_rows must be an integer >= 2, got {n_rows!r}")
    if not 0.0 < fraud_fraction < 0.5:
        raise ValueError(f"fraud_fraction must be in (0, 0.5), got {fraud_fraction!r}")
    rng = np.random.default_rng(random_state)
    n_fraud = max(1, int(round(fraud_fraction * n_rows)))
    n_normal = n_rows - n_fraud

    # Normal rows lie near a curved low-dimensional surface: a 4-D latent
    # mixture mapped through a random one-hidden-layer tanh map to 28 columns,
    # plus heavy-tailed noise (Student t, 4 dof).
    centers = rng.normal(scale=1.2, size=(3, _LATENT))
    first = rng.normal(scale=0.8, size=(_LATENT, _HIDDEN))
    bias = rng.normal(scale=0.5, size=_HIDDEN)
    second = rng.normal(size=(_HIDDEN, _N_COMPONENTS)) / np.sqrt(_HIDDEN)

    def surface(latent: np.ndarray) -> np.ndarray:
        return np.tanh(latent @ first + bias) @ second  # n x 28

    def draw_latent(n: int, scale: float) -> np.ndarray:
        return centers[rng.choice(3, size=n, p=[0.5, 0.3, 0.2])] + rng.normal(
            scale=scale, size=(n, _LATENT)
        )

    latent = draw_latent(n_normal, 0.7)
    noise = 0.12 * rng.standard_t(df=4, size=(n_normal, _N_COMPONENTS))
    normal = surface(latent) + noise  # n_normal x 28

    # Frauds: from a wider latent spread, pushed off the surface by a random
    # strength along one common direction (some frauds are nearly normal).
    fraud_latent = draw_latent(n_fraud, 1.0)
    direction = rng.normal(size=_N_COMPONENTS)
    direction /= np.linalg.norm(direction)
    strength = rng.gamma(shape=2.0, scale=_FRAUD_STRENGTH / 2.0, size=(n_fraud, 1))
    fraud_noise = 0.15 * rng.standard_t(df=4, size=(n_fraud, _N_COMPONENTS))
    fraud = surface(fraud_latent) + strength * direction + fraud_noise

    # Like the real V columns: principal components of the normal rows,
    # uncorrelated, with spread falling from V1 to V28.
    center = normal.mean(axis=0)
    _, _, components = np.linalg.svd(normal - center, full_matrices=False)
    project = components.T  # 28 x 28, columns sorted by falling variance
    normal_pc = (normal - center) @ project
    spread = np.linspace(1.9, 0.35, _N_COMPONENTS) / normal_pc.std(axis=0)
    normal_pc *= spread
    fraud_pc = ((fraud - center) @ project) * spread

    # Amount rises with the first latent coordinate, as the real Amount correlates with V columns.
    amount_normal = np.exp(3.2 + 0.6 * latent[:, 0] + rng.normal(scale=1.0, size=n_normal))
    # Frauds are often tiny test charges or large amounts.
    amount_fraud = np.where(
        rng.uniform(size=n_fraud) < 0.5,
        rng.uniform(0.0, 2.0, size=n_fraud),
        rng.lognormal(mean=4.8, sigma=1.2, size=n_fraud),
    )
    values = np.vstack([normal_pc, fraud_pc])
    amounts = np.concatenate([amount_normal, amount_fraud]).round(2)
    labels = np.r_[np.zeros(n_normal, dtype=np.int64), np.ones(n_fraud, dtype=np.int64)]
    order = rng.permutation(n_rows)
    frame = pd.DataFrame(values[order], columns=[f"V{i}" for i in range(1, _N_COMPONENTS + 1)])
    frame.insert(0, "Time", _day_night_times(rng, n_rows))
    frame["Amount"] = amounts[order]
    frame["Class"] = labels[order]
    return frame


_MERCHANTS = ("grocer", "fuel", "travel", "online", "pharmacy")
_UNSEEN_MERCHANTS = ("casino", "jeweller")
_CHANNELS = ("web", "pos", "phone")


def make_transactions(
    n_rows: int = 400,
    anomaly_fraction: float = 0.05,
    *,
    unseen_categories: bool = False,
    random_state: int = 0,
) -> pd.DataFrame:
    """A table of card transactions with mixed column types and a text label.

    Columns: ``txn_id`` (identifier text), ``amount`` (float), ``items``
    (int), ``merchant`` and ``channel`` (text categories), ``foreign``
    (bool), ``placed_at`` (ISO 8601 text) and ``label`` (``"normal"`` or
    ``"fraud"``). Frauds are large foreign online or travel purchases with
    many items, at night.

    Parameters
    ----------
    n_rows : int, default=400
    anomaly_fraction : float, default=0.05
        Share of frauds (at least one).
    unseen_categories : bool, default=False
        Give some rows merchants that no draw without this flag contains.
    random_state : int, default=0

    Examples
    --------
    >>> make_transactions(5).columns.tolist()
    ['txn_id', 'amount', 'items', 'merchant', 'channel', 'foreign', 'placed_at', 'label']
    """
    rng = np.random.default_rng(random_state)
    n_fraud = max(1, int(round(anomaly_fraction * n_rows)))
    fraud = np.zeros(n_rows, dtype=bool)
    fraud[rng.choice(n_rows, size=n_fraud, replace=False)] = True
    merchant = rng.choice(_MERCHANTS, size=n_rows, p=[0.35, 0.2, 0.1, 0.25, 0.1]).astype(object)
    merchant[fraud] = rng.choice(["online", "travel"], size=n_fraud)
    if unseen_categories:
        unseen = rng.uniform(size=n_rows) < 0.1
        merchant[unseen] = rng.choice(_UNSEEN_MERCHANTS, size=int(unseen.sum()))
    amount = rng.lognormal(3.0, 0.6, size=n_rows)
    amount[fraud] = rng.lognormal(6.5, 0.4, size=n_fraud)
    items = rng.integers(1, 5, size=n_rows)
    items[fraud] = rng.integers(8, 15, size=n_fraud)
    foreign = rng.uniform(size=n_rows) < 0.05
    foreign[fraud] = True
    hours = rng.normal(14.0, 3.0, size=n_rows).clip(6, 23)
    hours[fraud] = rng.uniform(1.0, 5.0, size=n_fraud)
    days = rng.integers(0, 28, size=n_rows)
    placed = pd.Timestamp("2024-03-01") + pd.to_timedelta(days * 24.0 + hours, unit="h")
    return pd.DataFrame(
        {
            "txn_id": [f"t{random_state}-{i:06d}" for i in range(n_rows)],
            "amount": amount.round(2),
            "items": items,
            "merchant": merchant,
            "channel": rng.choice(_CHANNELS, size=n_rows),
            "foreign": foreign,
            "placed_at": placed.strftime("%Y-%m-%d %H:%M:%S"),
            "label": np.where(fraud, "fraud", "normal"),
        }
    )
