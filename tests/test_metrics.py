"""Diagnostics metrics and scorers against analytic answers on a conjugate Gaussian model."""

import numpy as np
import pandas as pd
import pytest
from conjugate_gaussian import (
    PARAM_NAMES,
    POSTERIOR_SD,
    SHRINKAGE,
    ConjugatePosterior,
    fitted,
    simulate,
)
from scipy import stats
from scipy.spatial.distance import pdist
from sklearn.model_selection import GridSearchCV

from sklearn_sbi.metrics import (
    _energy,
    calibration_error,
    calibration_scorer,
    coverage,
    energy_score,
    energy_scorer,
    log_prob_scorer,
    normalized_rmse,
    posterior_contraction,
    posterior_z_score,
    sbc_ranks,
)
from sklearn_sbi.metrics._calibration import default_calibration_levels
from sklearn_sbi.metrics._sbc import rank_chi2_test

N_OBS = 1000
N_SAMPLES = 199  # 200 possible ranks: 20 equal bins of 10


@pytest.fixture(scope="module")
def data():
    return simulate(N_OBS, seed=1)


def draws(data, scale=1.0, shift=0.0, seed=2):
    x, _ = data
    return fitted(scale, shift).sample(x, N_SAMPLES, random_state=seed)


def expected_coverage(levels, scale=1.0, shift=0.0):
    """Coverage of central intervals of N(shift, scale^2) for a standard normal truth."""
    z = stats.norm.ppf((1 + np.asarray(levels)) / 2)
    return stats.norm.cdf(shift + z * scale) - stats.norm.cdf(shift - z * scale)


@pytest.mark.parametrize(
    ("scale", "shift"), [(1.0, 0.0), (1 / 3, 0.0), (3.0, 0.0), (1.0, 1.0)], ids=str
)
def test_coverage_and_calibration_error_match_analytic_values(data, scale, shift):
    samples = draws(data, scale, shift)
    levels = [0.5, 0.8, 0.9, 0.95]
    observed = coverage(samples, data[1], levels=levels)
    assert list(observed.columns) == PARAM_NAMES
    assert np.allclose(observed.index, levels)
    analytic = expected_coverage(levels, scale, shift)
    # binomial standard error at n = 1000 is at most 0.016
    np.testing.assert_allclose(observed.to_numpy(), analytic[:, None].repeat(2, 1), atol=0.05)
    grid = default_calibration_levels()
    analytic_error = np.mean(np.abs(expected_coverage(grid, scale, shift) - grid))
    error = calibration_error(samples, data[1])
    np.testing.assert_allclose(error.to_numpy(), analytic_error, atol=0.025)


def test_calibration_error_separates_good_from_bad(data):
    good = calibration_error(draws(data), data[1])
    assert good.name == "calibration_error" and list(good.index) == PARAM_NAMES
    assert (good < 0.03).all()
    overconfident = calibration_error(draws(data, scale=1 / 3), data[1])
    biased = calibration_error(draws(data, shift=1.0), data[1])
    assert (overconfident > 0.25).all() and (biased > 0.08).all()


def test_exact_sampler_ranks_are_uniform(data):
    ranks = sbc_ranks(draws(data), data[1])
    assert ranks.shape == (N_OBS, 2) and list(ranks.columns) == PARAM_NAMES
    assert ranks.to_numpy().min() >= 0 and ranks.to_numpy().max() <= N_SAMPLES
    counts = np.stack([np.bincount(ranks[c] // 10, minlength=20) for c in PARAM_NAMES])
    assert stats.chisquare(counts, axis=1).pvalue.min() > 0.01
    _, pvalue = rank_chi2_test(ranks.to_numpy(), N_SAMPLES, n_bins=20)
    np.testing.assert_allclose(pvalue, stats.chisquare(counts, axis=1).pvalue)


def test_overconfident_ranks_are_rejected(data):
    ranks = sbc_ranks(draws(data, scale=1 / 3), data[1]).to_numpy()
    _, pvalue = rank_chi2_test(ranks, N_SAMPLES)
    assert pvalue.max() < 1e-6


def test_sbc_ranks_count_draws_below_and_break_ties_at_random():
    samples = np.arange(10.0).reshape(1, 10, 1)
    assert sbc_ranks(samples, [[-1.0]]).iloc[0, 0] == 0
    assert sbc_ranks(samples, [[4.5]]).iloc[0, 0] == 5
    tied = np.zeros((4000, 9, 1))  # every draw equals the truth
    ranks = sbc_ranks(tied, np.zeros((4000, 1)), random_state=0).to_numpy().ravel()
    counts = np.bincount(ranks, minlength=10)
    assert stats.chisquare(counts).pvalue > 0.01


def test_coverage_output_forms(data):
    samples = draws(data)
    single = coverage(samples, data[1], levels=0.9)
    assert isinstance(single, pd.Series) and list(single.index) == PARAM_NAMES
    averaged = coverage(samples, data[1], levels=[0.5, 0.9], multioutput="uniform_average")
    assert isinstance(averaged, pd.Series) and len(averaged) == 2
    assert isinstance(coverage(samples, data[1], levels=0.9, multioutput="uniform_average"), float)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        coverage(samples, data[1], levels=[0.5, 1.0])


def test_posterior_contraction_matches_shrinkage(data):
    samples = draws(data)
    exact = posterior_contraction(samples, prior_variance=1.0)
    np.testing.assert_allclose(exact.to_numpy(), SHRINKAGE, atol=0.01)
    from_truth = posterior_contraction(samples, data[1])
    assert list(from_truth.index) == PARAM_NAMES
    np.testing.assert_allclose(from_truth.to_numpy(), SHRINKAGE, atol=0.03)
    per_obs = posterior_contraction(samples, data[1], aggregation=None)
    assert per_obs.shape == (N_OBS, 2)
    wide = posterior_contraction(draws(data, scale=3.0), prior_variance=1.0)
    np.testing.assert_allclose(wide.to_numpy(), 1 - 9 * POSTERIOR_SD**2, atol=0.05)
    with pytest.raises(ValueError, match="y"):
        posterior_contraction(samples)


def test_normalized_rmse_equals_posterior_sd(data):
    samples = draws(data)
    raw = normalized_rmse(samples, data[1], normalize=None)
    np.testing.assert_allclose(raw.to_numpy(), POSTERIOR_SD, rtol=0.06)
    by_std = normalized_rmse(samples, data[1], normalize="std", point_estimate="mean")
    np.testing.assert_allclose(by_std.to_numpy(), POSTERIOR_SD / data[1].std(ddof=0), rtol=0.06)
    by_range = normalized_rmse(samples, data[1], multioutput="uniform_average")
    assert by_range == pytest.approx(np.mean(raw / np.ptp(data[1].to_numpy(), axis=0)))


def test_posterior_z_score_detects_bias_and_overconfidence(data):
    z_exact = posterior_z_score(draws(data), data[1], aggregation=None)
    assert z_exact.shape == (N_OBS, 2)
    np.testing.assert_allclose(z_exact.mean(), 0.0, atol=0.1)
    np.testing.assert_allclose(z_exact.std(), 1.0, atol=0.07)
    np.testing.assert_allclose(posterior_z_score(draws(data, shift=1.0), data[1]), 1.0, atol=0.1)
    z_narrow = posterior_z_score(draws(data, scale=1 / 3), data[1], aggregation=np.std)
    np.testing.assert_allclose(z_narrow, 3.0, atol=0.25)


def gaussian_crps(mean, sd, y):
    """Closed-form energy score (beta = 1) of N(mean, sd^2) at y in one dimension."""
    z = (y - mean) / sd
    return sd * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))


def test_energy_score_matches_closed_form_crps():
    rng = np.random.default_rng(0)
    y = np.array([[-1.0], [0.0], [0.5], [2.0]])
    samples = 2.0 * rng.normal(size=(4, 4000, 1))
    expected = gaussian_crps(0.0, 2.0, y[:, 0])
    np.testing.assert_allclose(energy_score(samples, y), expected, atol=0.03)


def test_energy_score_chunking_matches_direct_pairs(monkeypatch):
    rng = np.random.default_rng(1)
    samples = rng.normal(size=(5, 40, 3))
    y = rng.normal(size=(5, 3))
    direct = [
        np.mean(np.linalg.norm(s - t, axis=1) ** 0.7) - 0.5 * np.mean(pdist(s) ** 0.7)
        for s, t in zip(samples, y, strict=True)
    ]  # pdist lists each pair once: its mean is the mean over i != j
    np.testing.assert_allclose(energy_score(samples, y, beta=0.7), direct)
    monkeypatch.setattr(_energy, "_MAX_ELEMENTS", 50)  # forces row and observation chunks
    np.testing.assert_allclose(energy_score(samples, y, beta=0.7), direct)


def test_energy_score_prefers_the_exact_posterior(data):
    exact = energy_score(draws(data), data[1], aggregation=np.mean)
    for scale, shift in [(1 / 3, 0.0), (3.0, 0.0), (1.0, 1.0)]:
        assert energy_score(draws(data, scale, shift), data[1], aggregation=np.mean) > exact
    with pytest.raises(ValueError, match="beta"):
        energy_score(draws(data), data[1], beta=2.0)


def test_dataframe_inputs_carry_names_and_match_arrays(data):
    samples = draws(data)[:50]
    truth = data[1].iloc[:50]
    tidy = pd.DataFrame(
        samples.reshape(-1, 2),
        index=pd.MultiIndex.from_product([range(50), range(N_SAMPLES)]),
        columns=PARAM_NAMES,
    )
    from_frames = calibration_error(tidy, truth)
    from_arrays = calibration_error(samples, truth.to_numpy(), param_names=PARAM_NAMES)
    pd.testing.assert_series_equal(from_frames, from_arrays)
    unnamed = calibration_error(samples, truth.to_numpy())
    assert list(unnamed.index) == ["theta[0]", "theta[1]"]
    z = posterior_z_score(samples, truth, aggregation=None)
    assert z.index.equals(truth.index)
    assert isinstance(calibration_error(samples, truth, multioutput="uniform_average"), float)


def test_single_parameter_accepts_1d_truth():
    rng = np.random.default_rng(0)
    samples = rng.normal(size=(30, 20, 1))
    y = pd.Series(rng.normal(size=30), name="sigma")
    assert list(normalized_rmse(samples, y).index) == ["sigma"]


@pytest.mark.parametrize(
    ("samples", "y", "message"),
    [
        (np.zeros((4, 10)), np.zeros((4, 1)), r"samples\[\.\.\., None\]"),
        (np.zeros((4, 10, 2)), np.zeros((4, 3)), r"\(4, 2\)"),
        (np.zeros((4, 10, 2)), np.zeros((5, 2)), r"\(4, 2\)"),
        (np.full((4, 10, 1), np.nan), np.zeros((4, 1)), "NaN"),
        (np.zeros((0, 10, 1)), np.zeros((0, 1)), "empty"),
    ],
)
def test_shape_errors_are_clear(samples, y, message):
    with pytest.raises(ValueError, match=message):
        calibration_error(samples, y)


def test_name_and_option_errors(data):
    samples = draws(data)[:10]
    with pytest.raises(ValueError, match="param_names"):
        coverage(samples, data[1].iloc[:10], param_names=["a"])
    renamed = pd.DataFrame(
        samples.reshape(-1, 2),
        index=pd.MultiIndex.from_product([range(10), range(N_SAMPLES)]),
        columns=["a", "b"],
    )
    with pytest.raises(ValueError, match="differ"):
        coverage(renamed, data[1].iloc[:10])
    with pytest.raises(ValueError, match="multioutput"):
        normalized_rmse(samples, data[1].iloc[:10], multioutput="mean")
    with pytest.raises(TypeError, match="aggregation"):
        posterior_z_score(samples, data[1].iloc[:10], aggregation="mean")
    with pytest.raises(TypeError, match="numeric"):
        sbc_ranks(samples, np.full((10, 2), "a"))


def test_scorers_pick_the_exact_posterior_in_grid_search():
    x, y = simulate(600, seed=3)
    for scoring in (log_prob_scorer, energy_scorer, calibration_scorer):
        search = GridSearchCV(
            ConjugatePosterior(),
            {"scale": [1 / 3, 1.0, 3.0], "shift": [0.0, 1.0]},
            scoring=scoring,
            cv=3,
        )
        search.fit(x, y)
        assert search.best_params_ == {"scale": 1.0, "shift": 0.0}, scoring.__name__


def test_scorers_equal_the_metrics(data):
    x, y = data
    estimator = fitted(scale=0.5)
    samples = estimator.sample(x, 100, random_state=0)
    assert log_prob_scorer(estimator, x, y) == pytest.approx(np.mean(estimator.log_prob(x, y)))
    assert energy_scorer(estimator, x, y) == pytest.approx(
        -energy_score(samples, y, aggregation=np.mean)
    )
    assert calibration_scorer(estimator, x, y) == pytest.approx(
        -calibration_error(samples, y).mean()
    )
