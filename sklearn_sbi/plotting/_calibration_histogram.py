"""Histogram of SBC ranks with the binomial band expected under uniformity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from sklearn_sbi.metrics._sbc import (
    default_n_bins,
    rank_bin_probabilities,
    rank_bins,
    rank_chi2_test,
    sbc_ranks,
)
from sklearn_sbi.metrics._validation import check_levels, check_samples_and_truth
from sklearn_sbi.plotting._base import annotate, display_from_estimator, parameter_panels


class CalibrationHistogramDisplay:
    """Histogram of SBC ranks, one panel per parameter (Talts et al., 2018).

    Ranks of true values among posterior draws are uniform for a calibrated
    posterior: bars stay inside the grey band (pointwise binomial interval of
    each bin's count). A U shape means an over-confident (too narrow)
    posterior, a hump a too wide one, a slope a biased one. Each panel shows
    the p-value of a chi-square uniformity test.

    Parameters
    ----------
    ranks : ndarray of shape (n_obs, n_params)
        Integer ranks in ``{0, ..., n_samples}``.
    n_samples : int
        Number of posterior draws the ranks come from.
    param_names : list of str
        Panel titles.
    n_bins : int, optional
        Number of bins; at most 20 with at least 5 expected counts each by default.
    confidence : float, default=0.99
        Pointwise coverage of the band.

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_ : ndarray of shape (n_params,) of matplotlib Axes
    pvalues_ : ndarray of shape (n_params,)
        Chi-square uniformity p-values shown in the panels.

    See Also
    --------
    CalibrationECDFDisplay : Rank ECDFs with simultaneous bands (more sensitive).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.plotting import CalibrationHistogramDisplay
    >>> rng = np.random.default_rng(0)
    >>> display = CalibrationHistogramDisplay.from_samples(
    ...     rng.normal(size=(100, 50, 1)), rng.normal(size=(100, 1)), param_names=["mu"]
    ... )
    >>> display.ax_[0].get_title()
    'mu'
    """

    def __init__(
        self,
        ranks: np.ndarray,
        n_samples: int,
        *,
        param_names: list[str],
        n_bins: int | None = None,
        confidence: float = 0.99,
    ) -> None:
        self.ranks = ranks
        self.n_samples = n_samples
        self.param_names = param_names
        self.n_bins = n_bins
        self.confidence = confidence

    def plot(self, ax: Any = None, *, n_cols: int | None = None) -> CalibrationHistogramDisplay:
        """Draw one panel per parameter.

        Parameters
        ----------
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        CalibrationHistogramDisplay
            ``self``, with ``figure_``, ``ax_`` and ``pvalues_`` set.
        """
        confidence = float(check_levels(self.confidence, "confidence")[0])
        ranks = np.asarray(self.ranks)
        n_obs, n_params = ranks.shape
        n_bins = default_n_bins(n_obs, self.n_samples) if self.n_bins is None else self.n_bins
        if not 1 <= n_bins <= self.n_samples + 1:
            raise ValueError(f"`n_bins` must be between 1 and n_samples + 1, got {n_bins}.")
        # bin k holds ranks from ceil(k (S + 1) / B); edges in fractional-rank units
        n_ranks = self.n_samples + 1
        edges = np.ceil(np.arange(n_bins + 1) * n_ranks / n_bins) / n_ranks
        probabilities = rank_bin_probabilities(self.n_samples, n_bins)
        tail = (1.0 - confidence) / 2.0
        lower = stats.binom.ppf(tail, n_obs, probabilities)
        upper = stats.binom.ppf(1.0 - tail, n_obs, probabilities)
        _, self.pvalues_ = rank_chi2_test(ranks, self.n_samples, n_bins)

        def draw(panel: Any, j: int) -> None:
            counts = np.bincount(rank_bins(ranks[:, j], self.n_samples, n_bins), minlength=n_bins)
            panel.stairs(counts, edges, fill=True, color="C0", alpha=0.6)
            panel.fill_between(
                edges,
                np.append(lower, lower[-1]),
                np.append(upper, upper[-1]),
                step="post",
                color="grey",
                alpha=0.35,
                zorder=3,
            )
            annotate(panel, f"$\\chi^2$ p = {self.pvalues_[j]:.3f}")

        self.figure_, self.ax_ = parameter_panels(
            self.param_names,
            draw,
            xlabel="fractional rank",
            ylabel="count",
            ax=ax,
            n_cols=n_cols,
            n_panels=n_params,
        )
        return self

    @classmethod
    def from_samples(
        cls,
        samples: Any,
        y: Any,
        *,
        param_names: Sequence[str] | None = None,
        n_bins: int | None = None,
        confidence: float = 0.99,
        ax: Any = None,
        n_cols: int | None = None,
    ) -> CalibrationHistogramDisplay:
        """Plot rank histograms from posterior draws and true values.

        Parameters
        ----------
        samples : array-like of shape (n_obs, n_samples, n_params) or DataFrame
            Posterior draws, one set per observation.
        y : array-like of shape (n_obs, n_params) or DataFrame
            True parameter values (drawn from the prior).
        param_names : sequence of str, optional
            Panel titles; by default taken from DataFrame columns.
        n_bins : int, optional
            Number of bins.
        confidence : float, default=0.99
            Pointwise coverage of the band.
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        CalibrationHistogramDisplay
        """
        checked = check_samples_and_truth(samples, y, param_names=param_names)
        ranks = sbc_ranks(checked.samples, checked.truth).to_numpy()
        display = cls(
            ranks,
            checked.samples.shape[1],
            param_names=checked.param_names,
            n_bins=n_bins,
            confidence=confidence,
        )
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
        n_bins: int | None = None,
        confidence: float = 0.99,
        ax: Any = None,
        n_cols: int | None = None,
    ) -> CalibrationHistogramDisplay:
        """Plot rank histograms of a fitted estimator on held-out simulations.

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
        n_bins : int, optional
            Number of bins.
        confidence : float, default=0.99
            Pointwise coverage of the band.
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        CalibrationHistogramDisplay
        """
        return display_from_estimator(
            cls,
            estimator,
            X,
            y,
            n_samples,
            random_state,
            n_bins=n_bins,
            confidence=confidence,
            ax=ax,
            n_cols=n_cols,
        )
