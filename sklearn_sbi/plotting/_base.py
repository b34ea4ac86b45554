"""Figure layout and estimator sampling shared by every Display."""

from __future__ import annotations

import math
from collections.abc import Callable
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


def display_from_estimator(
    display_cls: Any,
    estimator: Any,
    X: Any,
    y: Any,
    n_samples: int,
    random_state: int | None,
    **kwargs: Any,
) -> Any:
    """The body of every ``Display.from_estimator``: sample, then ``from_samples``.

    Draws ``n_samples`` posterior samples for ``X`` and passes them, ``y``, the
    estimator's parameter names and ``kwargs`` to ``display_cls.from_samples``.
    """
    samples, names = sample_posterior(estimator, X, n_samples, random_state)
    return display_cls.from_samples(samples, y, param_names=names, **kwargs)


def parameter_panels(
    param_names: list[str],
    draw: Callable[[Axes, int], object],
    *,
    xlabel: str,
    ylabel: str,
    ax: Any = None,
    n_cols: int | None = None,
    n_panels: int | None = None,
) -> tuple[Figure, np.ndarray]:
    """One panel per parameter: ``draw(panel, j)``, then the title and axis labels.

    Parameters
    ----------
    param_names : list of str
        Panel titles, one per parameter.
    draw : callable
        Called as ``draw(panel, j)`` for the ``j``-th parameter's Axes.
    xlabel, ylabel : str
        Axis labels of every panel.
    ax : array-like of Axes, optional
        Passed to :func:`panel_grid`.
    n_cols : int, optional
        Passed to :func:`panel_grid`.
    n_panels : int, optional
        Number of panels; ``len(param_names)`` by default.

    Returns
    -------
    figure : Figure
    axes : ndarray of Axes, shape (n_panels,)
    """
    n_panels = len(param_names) if n_panels is None else n_panels
    figure, axes = panel_grid(n_panels, ax=ax, n_cols=n_cols)
    for j, panel in enumerate(axes):
        draw(panel, j)
        panel.set_title(param_names[j])
        panel.set_xlabel(xlabel)
        panel.set_ylabel(ylabel)
    return figure, axes


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
