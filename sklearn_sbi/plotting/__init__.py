"""Diagnostic plots in scikit-learn's ``*Display`` style.

Every Display is built with ``from_estimator(estimator, X, y, ...)`` (posterior
draws are sampled for you), ``from_samples(samples, y, ...)`` (draws you
already have) or, for the loss curve, ``from_history(train, validation)``.
Each draws at once and keeps ``figure_`` and ``ax_``: an array of Axes, one
panel per parameter titled by its name (a square grid for
:class:`PairPlotDisplay`, a single panel for :class:`LossCurveDisplay`).
Call ``.plot(ax=...)`` again to redraw on your own Axes.
"""

from sklearn_sbi.plotting._calibration_ecdf import CalibrationECDFDisplay
from sklearn_sbi.plotting._calibration_histogram import CalibrationHistogramDisplay
from sklearn_sbi.plotting._coverage import CoverageDisplay
from sklearn_sbi.plotting._loss_curve import LossCurveDisplay
from sklearn_sbi.plotting._pair_plot import PairPlotDisplay
from sklearn_sbi.plotting._recovery import RecoveryDisplay
from sklearn_sbi.plotting._z_score_contraction import ZScoreContractionDisplay

__all__ = [
    "CalibrationECDFDisplay",
    "CalibrationHistogramDisplay",
    "CoverageDisplay",
    "LossCurveDisplay",
    "PairPlotDisplay",
    "RecoveryDisplay",
    "ZScoreContractionDisplay",
]
