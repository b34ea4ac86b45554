"""Figure layout and estimator sampling shared by every Display."""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sklearn_sbi.metrics._validation import estimator_param_names

PANEL_SIZE = (3.2, 2.8)
MAX_COLUMNS = 4


def panel_grid(
    n_panels: int, *, ax: Any = None, n_cols: int | None = None
) -> tuple[Figure, np.ndarray]:
    """Axes for ``n_panels`` panels: the user's, or a new grid of them.

    Parameters
    ----------
    n_panels : int
        Number of panels (usually one per parameter).
    ax : Axes or array-like of Axes, optional
        Axes to draw on, exactly ``n_panels`` of them (any array shape).
        By default a new figure with a grid of ``n_cols`` columns is made;
        cells left over in the last row are removed.
    n_cols : int, optional
        Columns of a new grid; ``min(n_panels, 4)`` by default.

    Returns
    -------
    figure : Figure
    axes : ndarray of Axes, shape (n_panels,)
    """
    if ax is None:
        n_cols = min(n_panels, MAX_COLUMNS) if n_cols is None else n_cols
        if n_cols < 1:
            raise ValueError(f"`n_cols` must be a positive integer, got {n_cols!r}.")
        n_rows = math.ceil(n_panels / n_cols)
        figure, grid = plt.subplots(
            n_rows,
            n_cols,
            figsize=(PANEL_SIZE[0] * n_cols, PANEL_SIZE[1] * n_rows),
            squeeze=False,
            layout="constrained",
        )
        axes = grid.ravel()
        for unused in axes[n_panels:]:
            unused.remove()
        return figure, axes[:n_panels]
    axes = np.ravel(np.asarray(ax, dtype=object))
    if not all(isinstance(a, Axes) for a in axes):
        raise TypeError("`ax` must be a matplotlib Axes or an array of Axes.")
    if axes.size != n_panels:
        raise ValueError(
            f"`ax` must hold {n_panels} Axes (one per panel), got {axes.size}; "
            "pass `ax=None` to create a new figure."
        )
    return axes[0].figure, axes


def sample_posterior(
    estimator: Any, X: Any, n_samples: int, random_state: int | None
) -> tuple[np.ndarray, list[str] | None]:
    """Posterior draws for ``X`` and the estimator's parameter names (None if absent)."""
    samples = estimator.sample(X, n_samples=n_samples, random_state=random_state)
    return samples, estimator_param_names(estimator)


def annotate(ax: Axes, text: str) -> None:
    """Write ``text`` in the upper-left corner of ``ax``."""
    ax.text(
        0.04,
        0.96,
        text,
        transform=ax.transAxes,
        va="top",
        ha="left",
        fontsize="small",
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
    )
