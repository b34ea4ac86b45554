"""Tests of the classifier two-sample test against analytic Bayes accuracies."""

import numpy as np
import pytest
from scipy.stats import norm

from sklearn_sbi.metrics._c2st import c2st

N = 600


def gaussian_pair(shift, dim=2, n=N, seed=0):
    rng = np.random.default_rng(seed)
    samples = rng.normal(size=(n, dim))
    samples[:, 0] += shift
    return samples, rng.normal(size=(n, dim))


def test_same_distribution_scores_about_one_half():
    assert abs(c2st(*gaussian_pair(0.0)) - 0.5) < 0.05


def test_well_separated_distributions_score_about_one():
    assert c2st(*gaussian_pair(8.0)) > 0.98


def test_partial_overlap_matches_the_bayes_accuracy():
    # Equal-variance Gaussians one sd apart: the best classifier is right with
    # probability Phi(1/2) = 0.691.
    assert c2st(*gaussian_pair(1.0, n=1500)) == pytest.approx(norm.cdf(0.5), abs=0.035)


def test_z_scoring_with_the_reference_makes_units_irrelevant():
    samples, reference = gaussian_pair(1.0)
    in_small_units = c2st(samples, reference)
    in_large_units = c2st(1e4 + 1e3 * samples, 1e4 + 1e3 * reference)
    assert in_large_units == pytest.approx(in_small_units, abs=0.01)


def test_reproducible_for_a_fixed_random_state():
    samples, reference = gaussian_pair(0.5, n=200)
    assert c2st(samples, reference, random_state=3) == c2st(samples, reference, random_state=3)


@pytest.mark.parametrize(
    ("samples", "reference", "message"),
    [
        (np.zeros((2, 10, 2)), np.zeros((2, 10, 2)), r"samples\[0\]"),
        (np.zeros((10, 2)), np.zeros((12, 2)), "same shape"),
        (np.full((10, 2), np.nan), np.zeros((10, 2)), "NaN"),
        (np.zeros((3, 2)), np.zeros((3, 2)), "n_folds=5"),
    ],
)
def test_bad_sample_sets_raise_clear_errors(samples, reference, message):
    with pytest.raises(ValueError, match=message):
        c2st(samples, reference)


def test_bad_hyperparameters_raise():
    samples, reference = gaussian_pair(0.0, n=20)
    with pytest.raises(ValueError, match="n_folds"):
        c2st(samples, reference, n_folds=1)
    with pytest.raises(TypeError, match="hidden_factor"):
        c2st(samples, reference, hidden_factor=2.5)
