"""SBC rank ECDF with simultaneous confidence bands (Säilynoja et al., 2022)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import stats

from sklearn_sbi.metrics._sbc import fractional_ranks
from sklearn_sbi.metrics._validation import check_levels, check_samples_and_truth
from sklearn_sbi.plotting._base import display_from_estimator, parameter_panels

BAND_SIMULATIONS = 2000
BAND_SEED = 0


def ecdf_grid(n_grid: int) -> np.ndarray:
    """Interior evaluation points ``1/n_grid, ..., (n_grid - 1)/n_grid``."""
    return np.arange(1, n_grid) / n_grid


def ecdf_at(values: np.ndarray, n_grid: int) -> np.ndarray:
    """ECDF of each column of ``values`` (in [0, 1]) at :func:`ecdf_grid` points.

    Returns an array of shape ``(n_grid - 1, n_columns)``.
    """
    n_rows, n_columns = values.shape
    # value <= k / n_grid exactly when ceil(value * n_grid) <= k
    cells = np.clip(np.ceil(values * n_grid).astype(int), 0, n_grid)
    offsets = cells + (n_grid + 1) * np.arange(n_columns)
    counts = np.bincount(offsets.ravel(order="F"), minlength=(n_grid + 1) * n_columns)
    cumulative = np.cumsum(counts.reshape(n_columns, n_grid + 1), axis=1)
    return (cumulative[:, 1:n_grid] / n_rows).T


@lru_cache(maxsize=32)
def simultaneous_ecdf_band(
    n_obs: int,
    n_grid: int,
    confidence: float,
    n_simulations: int = BAND_SIMULATIONS,
    random_state: int = BAND_SEED,
) -> tuple[np.ndarray, np.ndarray]:
    """Simultaneous band for the ECDF of ``n_obs`` uniform values on :func:`ecdf_grid`.

    The ECDF of ``n`` uniform draws at ``z`` is ``Binomial(n, z) / n``. The
    band is the pointwise central binomial interval at a level ``1 - gamma``
    adjusted so that the whole ECDF stays inside with probability
    ``confidence``: ``gamma`` is the ``1 - confidence`` quantile, over
    ``n_simulations`` simulated uniform samples, of the smallest pointwise
    two-sided binomial tail probability along the grid (the simulation method
    of Säilynoja, Bürkner and Vehtari, 2022, Statistics and Computing).

    Parameters
    ----------
    n_obs : int
        Number of ranks (observations).
    n_grid : int
        The grid has ``n_grid - 1`` interior points.
    confidence : float
        Simultaneous coverage probability, e.g. 0.95.
    n_simulations : int, default=2000
        Simulated uniform samples used to calibrate ``gamma``.
    random_state : int, default=0
        Seed of the simulation: the band is deterministic.

    Returns
    -------
    lower, upper : ndarray of shape (n_grid - 1,)
        Band limits for the ECDF (not the difference) at each grid point.
    """
    grid = ecdf_grid(n_grid)
    rng = np.random.default_rng(random_state)
    # Counts of n_obs uniform draws in the n_grid equal cells are multinomial;
    # their cumulative sums are the ECDF counts at the interior grid points.
    cells = rng.multinomial(n_obs, np.full(n_grid, 1.0 / n_grid), size=n_simulations)
    simulated = np.cumsum(cells, axis=1)[:, :-1]
    below = stats.binom.cdf(simulated, n_obs, grid)
    above = stats.binom.sf(simulated - 1, n_obs, grid)
    pointwise = np.minimum(1.0, 2.0 * np.minimum(below, above))
    gamma = np.quantile(pointwise.min(axis=1), 1.0 - confidence)
    lower = stats.binom.ppf(gamma / 2.0, n_obs, grid) / n_obs
    upper = stats.binom.ppf(1.0 - gamma / 2.0, n_obs, grid) / n_obs
    return lower, upper


class CalibrationECDFDisplay:
    """ECDF of fractional SBC ranks minus the uniform CDF, with a simultaneous band.

    For a calibrated posterior the ranks of the true values among posterior
    draws are uniform, so the ECDF difference stays inside the grey band
    (which contains the whole curve with probability ``confidence``). A curve
    below zero in the first half and above in the second (an S, ranks
    crowding the middle) means the posterior is too wide; the mirror image
    means it is too narrow; a curve entirely above (below) zero means the
    posterior overestimates (underestimates) the parameter.

    Parameters
    ----------
    ranks : ndarray of shape (n_obs, n_params)
        Fractional ranks in (0, 1).
    param_names : list of str
        Panel titles.
    confidence : float, default=0.95
        Simultaneous coverage of the band.
    n_grid : int, optional
        The ECDF is evaluated at ``n_grid - 1`` interior points;
        ``min(n_obs, 100)`` by default.

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_ : ndarray of shape (n_params,) of matplotlib Axes
    band_ : tuple of ndarray
        ``(grid, lower, upper)``: the band of the ECDF difference as drawn.

    See Also
    --------
    CalibrationHistogramDisplay : The same ranks as a histogram.
    sklearn_sbi.metrics.sbc_ranks : Integer SBC ranks.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.plotting import CalibrationECDFDisplay
    >>> rng = np.random.default_rng(0)
    >>> display = CalibrationECDFDisplay.from_samples(
    ...     rng.normal(size=(100, 50, 2)), rng.normal(size=(100, 2))
    ... )
    >>> [ax.get_title() for ax in display.ax_]
    ['theta[0]', 'theta[1]']
    """

    def __init__(
        self,
        ranks: np.ndarray,
        *,
        param_names: list[str],
        confidence: float = 0.95,
        n_grid: int | None = None,
    ) -> None:
        self.ranks = ranks
        self.param_names = param_names
        self.confidence = confidence
        self.n_grid = n_grid

    def plot(self, ax: Any = None, *, n_cols: int | None = None) -> CalibrationECDFDisplay:
        """Draw one panel per parameter.

        Parameters
        ----------
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        CalibrationECDFDisplay
            ``self``, with ``figure_``, ``ax_`` and ``band_`` set.
        """
        confidence = float(check_levels(self.confidence, "confidence")[0])
        n_obs = self.ranks.shape[0]
        n_grid = min(n_obs, 100) if self.n_grid is None else int(self.n_grid)
        if n_grid < 2:
            raise ValueError(f"`n_grid` must be at least 2, got {n_grid}.")
        grid = ecdf_grid(n_grid)
        lower, upper = simultaneous_ecdf_band(n_obs, n_grid, confidence)
        self.band_ = (grid, lower - grid, upper - grid)
        difference = ecdf_at(self.ranks, n_grid) - grid[:, None]

        def draw(panel: Any, j: int) -> None:
            panel.fill_between(
                grid,
                self.band_[1],
                self.band_[2],
                color="grey",
                alpha=0.3,
                label=f"{confidence:.0%} simultaneous band",
            )
            panel.plot(grid, difference[:, j], color="C0", label="rank ECDF")
            panel.axhline(0.0, color="black", linewidth=0.8)

        self.figure_, self.ax_ = parameter_panels(
            self.param_names,
            draw,
            xlabel="fractional rank",
            ylabel="ECDF difference",
            ax=ax,
            n_cols=n_cols,
        )
        self.ax_[0].legend(fontsize="small", loc="lower right")
        return self

    @classmethod
    def from_samples(
        cls,
        samples: Any,
        y: Any,
        *,
        param_names: Sequence[str] | None = None,
        confidence: float = 0.95,
        n_grid: int | None = None,
        ax: Any = None,
        n_cols: int | None = None,
    ) -> CalibrationECDFDisplay:
        """Plot rank ECDFs from posterior draws and true values.

        Parameters
        ----------
        samples : array-like of shape (n_obs, n_samples, n_params) or DataFrame
            Posterior draws, one set per observation.
        y : array-like of shape (n_obs, n_params) or DataFrame
            True parameter values (drawn from the prior).
        param_names : sequence of str, optional
            Panel titles; by default taken from DataFrame columns.
        confidence : float, default=0.95
            Simultaneous coverage of the band.
        n_grid : int, optional
            ECDF resolution; ``min(n_obs, 100)`` by default.
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        CalibrationECDFDisplay
        """
        checked = check_samples_and_truth(samples, y, param_names=param_names)
        ranks = fractional_ranks(checked.samples, checked.truth)
        display = cls(ranks, param_names=checked.param_names, confidence=confidence, n_grid=n_grid)
        return display.plot(ax=ax, n_cols=n_cols)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        n_samples: int = 500,
        random_state: int | None = 0,
        confidence: float = 0.95,
        n_grid: int | None = None,
        ax: Any = None,
        n_cols: int | None = None,
    ) -> CalibrationECDFDisplay:
        """Plot rank ECDFs of a fitted estimator on held-out simulations.

        Parameters
        ----------
        estimator : fitted posterior estimator
            Anything with ``sample(X, n_samples, random_state=...)``.
        X : array-like, DataFrame or Simulations
            Held-out observations.
        y : array-like of shape (n_obs, n_params) or DataFrame
            The parameters that generated ``X``.
        n_samples : int, default=500
            Posterior draws per observation.
        random_state : int or None, default=0
            Seed passed to ``estimator.sample``.
        confidence : float, default=0.95
            Simultaneous coverage of the band.
        n_grid : int, optional
            ECDF resolution; ``min(n_obs, 100)`` by default.
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        CalibrationECDFDisplay
        """
        return display_from_estimator(
            cls,
            estimator,
            X,
            y,
            n_samples,
            random_state,
            confidence=confidence,
            n_grid=n_grid,
            ax=ax,
            n_cols=n_cols,
        )
