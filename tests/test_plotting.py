"""Diagnostic Displays: layout, titles, inputs, and the statistics behind the bands."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conjugate_gaussian import PARAM_NAMES, fitted, simulate
from scipy import stats

from sklearn_sbi.plotting import (
    CalibrationECDFDisplay,
    CalibrationHistogramDisplay,
    CoverageDisplay,
    LossCurveDisplay,
    PairPlotDisplay,
    RecoveryDisplay,
    ZScoreContractionDisplay,
)
from sklearn_sbi.plotting._calibration_ecdf import ecdf_at, ecdf_grid, simultaneous_ecdf_band
from sklearn_sbi.plotting._loss_curve import moving_average

PANEL_DISPLAYS = [
    RecoveryDisplay,
    CalibrationECDFDisplay,
    CalibrationHistogramDisplay,
    ZScoreContractionDisplay,
    CoverageDisplay,
]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    return simulate(200, seed=5)


def titles(axes):
    return [ax.get_title() for ax in np.ravel(axes)]


@pytest.mark.parametrize("display_class", PANEL_DISPLAYS)
def test_from_estimator_draws_one_titled_panel_per_parameter(display_class, data):
    x, y = data
    display = display_class.from_estimator(fitted(), x, y, n_samples=100)
    assert display.ax_.shape == (2,)
    assert len(display.figure_.axes) == 2
    assert titles(display.ax_) == PARAM_NAMES
    assert all(ax.has_data() for ax in display.ax_)
    display.figure_.canvas.draw()  # renders with Agg


@pytest.mark.parametrize("display_class", PANEL_DISPLAYS)
def test_from_samples_uses_given_axes_and_names(display_class, data):
    x, y = data
    samples = fitted().sample(x, 50, random_state=0)
    theta = np.column_stack([y.to_numpy(), y.to_numpy()[:, :1]])
    three = np.concatenate([samples, samples[..., :1]], axis=2)
    figure, axes = plt.subplots(1, 3)
    display = display_class.from_samples(three, theta, param_names=["a", "b", "c"], ax=axes)
    assert display.figure_ is figure
    assert titles(display.ax_) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="3 Axes"):
        display.plot(ax=axes[:2])


def test_new_grid_removes_unused_cells(data):
    x, y = data
    samples = np.repeat(fitted().sample(x, 50, random_state=0), 3, axis=2)[..., :5]
    theta = np.repeat(y.to_numpy(), 3, axis=1)[:, :5]
    display = CoverageDisplay.from_samples(samples, theta, n_cols=3)
    assert len(display.figure_.axes) == 5
    assert titles(display.ax_) == [f"theta[{i}]" for i in range(5)]


def test_loss_curve_from_estimator_and_history():
    display = LossCurveDisplay.from_estimator(fitted())
    assert display.ax_.shape == (1,) and titles(display.ax_) == ["Loss"]
    assert [line.get_label() for line in display.ax_[0].get_lines()] == ["training", "validation"]
    smoothed = LossCurveDisplay.from_history([4.0, 3.0, 2.0, 1.0], smoothing=2)
    lines = smoothed.ax_[0].get_lines()
    assert len(lines) == 2  # raw (faint) and smoothed training curve
    np.testing.assert_allclose(lines[1].get_ydata(), [4.0, 3.5, 2.5, 1.5])
    with pytest.raises(AttributeError, match="from_history"):
        LossCurveDisplay.from_estimator(object())
    with pytest.raises(ValueError, match="smoothing"):
        LossCurveDisplay.from_history([1.0, 2.0], smoothing=0)


def test_moving_average_shrinks_its_window_at_the_start():
    np.testing.assert_allclose(
        moving_average(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 3), [1.0, 1.5, 2.0, 3.0, 4.0]
    )


def test_recovery_annotates_r2_and_nrmse(data):
    x, y = data
    display = RecoveryDisplay.from_estimator(fitted(), x, y, n_samples=100)
    text = display.ax_[0].texts[0].get_text()
    assert "R^2" in text and "NRMSE" in text
    assert display.r2.shape == (2,) and np.all(display.r2 > 0.6)  # prior var 1, posterior 0.2


def test_ecdf_at_matches_direct_counts():
    values = np.random.default_rng(0).uniform(size=(57, 3))
    grid = ecdf_grid(10)
    direct = np.mean(values[None, :, :] <= grid[:, None, None], axis=1)
    np.testing.assert_allclose(ecdf_at(values, 10), direct)


def test_simultaneous_band_has_its_nominal_coverage():
    n_obs, n_grid = 100, 50
    lower, upper = simultaneous_ecdf_band(n_obs, n_grid, 0.95)
    fresh = np.random.default_rng(123).uniform(size=(n_obs, 4000))
    ecdf = ecdf_at(fresh, n_grid)
    inside = np.all((ecdf >= lower[:, None]) & (ecdf <= upper[:, None]), axis=0)
    assert 0.93 <= inside.mean() <= 0.97  # binomial sd of the estimate: 0.0035
    pointwise = stats.binom.interval(0.95, n_obs, ecdf_grid(n_grid))
    assert np.all(upper - lower >= (pointwise[1] - pointwise[0]) / n_obs)


def test_ecdf_leaves_the_band_for_an_overconfident_posterior(data):
    x, y = data
    exact = CalibrationECDFDisplay.from_estimator(fitted(), x, y, n_samples=100)
    narrow = CalibrationECDFDisplay.from_estimator(fitted(scale=1 / 3), x, y, n_samples=100)

    def leaves(display):
        _, low, high = display.band_
        curve = display.ax_[0].get_lines()[0].get_ydata()
        return bool(np.any((curve < low) | (curve > high)))

    assert not leaves(exact)
    assert leaves(narrow)


def test_histogram_reports_uniformity_p_values(data):
    x, y = data
    exact = CalibrationHistogramDisplay.from_estimator(fitted(), x, y, n_samples=99)
    narrow = CalibrationHistogramDisplay.from_estimator(fitted(scale=1 / 3), x, y, n_samples=99)
    assert np.all(exact.pvalues_ > 0.01) and np.all(narrow.pvalues_ < 1e-6)
    assert "p =" in exact.ax_[0].texts[0].get_text()


def test_pair_plot_lower_triangle_with_reference_and_truth(data):
    x, y = data
    reference = fitted().sample(x[[0]], 300, random_state=1)[0]
    display = PairPlotDisplay.from_estimator(
        fitted(), x[[0]], y.iloc[0], n_samples=300, reference=reference
    )
    assert display.ax_.shape == (2, 2)
    visible = [ax for ax in display.figure_.axes if ax.get_visible()]
    assert len(visible) == 3
    assert display.ax_[0, 0].get_title() == "mu" and display.ax_[1, 1].get_title() == "nu"
    labels = display.ax_[0, 0].get_legend_handles_labels()[1]
    assert sorted(labels) == ["posterior", "reference", "true value"]
    display.figure_.canvas.draw()


def test_pair_plot_accepts_a_named_frame_and_rejects_many_observations(data):
    x, _ = data
    frame = pd.DataFrame(fitted().sample(x[[0]], 100, random_state=0)[0], columns=["a", "b"])
    display = PairPlotDisplay.from_samples(frame)
    assert titles(np.diag(display.ax_)) == ["a", "b"]
    with pytest.raises(ValueError, match="one observation"):
        PairPlotDisplay.from_samples(fitted().sample(x[:3], 10, random_state=0))
    with pytest.raises(ValueError, match="one observation"):
        PairPlotDisplay.from_estimator(fitted(), x[:3])
    with pytest.raises(ValueError, match="one true value per parameter"):
        PairPlotDisplay.from_samples(frame, [0.0, 1.0, 2.0])
