"""Posterior z-score against posterior contraction, per observation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from sklearn_sbi.metrics._accuracy import posterior_contraction, posterior_z_score
from sklearn_sbi.metrics._validation import check_samples_and_truth
from sklearn_sbi.plotting._base import display_from_estimator, parameter_panels


class ZScoreContractionDisplay:
    """Posterior z-score against posterior contraction, one point per observation.

    Ideal posteriors sit at the right (contraction near 1: the data are
    informative) with z-scores mostly within +-2 around 0. Large ``|z|`` with
    high contraction means over-confident; a shifted cloud means bias; low
    contraction means the parameter is poorly identified (Schad et al., 2021).

    Parameters
    ----------
    contraction : ndarray of shape (n_obs, n_params)
        Posterior contraction per observation.
    z_score : ndarray of shape (n_obs, n_params)
        Posterior z-score per observation.
    param_names : list of str
        Panel titles.

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_ : ndarray of shape (n_params,) of matplotlib Axes

    See Also
    --------
    sklearn_sbi.metrics.posterior_z_score
    sklearn_sbi.metrics.posterior_contraction

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.plotting import ZScoreContractionDisplay
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.normal(size=(40, 2))
    >>> samples = truth[:, None, :] + 0.3 * rng.normal(size=(40, 100, 2))
    >>> display = ZScoreContractionDisplay.from_samples(samples, truth)
    >>> len(display.ax_)
    2
    """

    def __init__(
        self, contraction: np.ndarray, z_score: np.ndarray, *, param_names: list[str]
    ) -> None:
        self.contraction = contraction
        self.z_score = z_score
        self.param_names = param_names

    def plot(self, ax: Any = None, *, n_cols: int | None = None) -> ZScoreContractionDisplay:
        """Draw one panel per parameter.

        Parameters
        ----------
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        ZScoreContractionDisplay
            ``self``, with ``figure_`` and ``ax_`` set.
        """

        def draw(panel: Any, j: int) -> None:
            panel.scatter(self.contraction[:, j], self.z_score[:, j], s=8, alpha=0.6, color="C0")
            panel.axhline(0.0, color="black", linewidth=0.8)
            panel.set_xlim(min(-0.05, self.contraction[:, j].min() - 0.05), 1.05)

        self.figure_, self.ax_ = parameter_panels(
            self.param_names,
            draw,
            xlabel="posterior contraction",
            ylabel="posterior z-score",
            ax=ax,
            n_cols=n_cols,
        )
        return self

    @classmethod
    def from_samples(
        cls,
        samples: Any,
        y: Any,
        *,
        prior_variance: float | ArrayLike | None = None,
        param_names: Sequence[str] | None = None,
        ax: Any = None,
        n_cols: int | None = None,
    ) -> ZScoreContractionDisplay:
        """Plot z-scores and contraction from posterior draws and true values.

        Parameters
        ----------
        samples : array-like of shape (n_obs, n_samples, n_params) or DataFrame
            Posterior draws, one set per observation.
        y : array-like of shape (n_obs, n_params) or DataFrame
            True parameter values.
        prior_variance : float or array-like of shape (n_params,), optional
            Prior variance for the contraction; the variance of ``y`` by default.
        param_names : sequence of str, optional
            Panel titles; by default taken from DataFrame columns.
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        ZScoreContractionDisplay
        """
        checked = check_samples_and_truth(samples, y, param_names=param_names)
        contraction = posterior_contraction(
            checked.samples, checked.truth, prior_variance=prior_variance, aggregation=None
        )
        z_score = posterior_z_score(checked.samples, checked.truth, aggregation=None)
        display = cls(contraction.to_numpy(), z_score.to_numpy(), param_names=checked.param_names)
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
        prior_variance: float | ArrayLike | None = None,
        ax: Any = None,
        n_cols: int | None = None,
    ) -> ZScoreContractionDisplay:
        """Plot z-scores and contraction of a fitted estimator on held-out simulations.

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
        prior_variance : float or array-like of shape (n_params,), optional
            Prior variance for the contraction; the variance of ``y`` by default.
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        ZScoreContractionDisplay
        """
        return display_from_estimator(
            cls,
            estimator,
            X,
            y,
            n_samples,
            random_state,
            prior_variance=prior_variance,
            ax=ax,
            n_cols=n_cols,
        )
