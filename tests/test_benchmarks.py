"""Tests of the benchmark tasks: simulators, fixed observations and reference posteriors.

Every reference sampler is checked against an independent brute-force answer
(closed form, grid integration or importance sampling from the prior) with
tolerances that a wrong reference (missing branch, truncation, mode or prior)
fails.
"""

import json

import numpy as np
import pytest
from scipy.stats import norm

from sklearn_sbi.benchmarks import (
    SLCP,
    TASKS,
    GaussianLinear,
    GaussianMixture,
    MultimodalGaussian,
    TwoMoons,
    get_task,
    run_benchmark,
)
from sklearn_sbi.benchmarks.__main__ import main
from sklearn_sbi.simulations import Simulations


def as_arrays(X):
    return X.to_dict() if isinstance(X, Simulations) else {"X": X}


def assert_same_data(first, second):
    first, second = as_arrays(first), as_arrays(second)
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def weighted_moments(points, weights):
    weights = weights / weights.sum()
    mean = weights @ points
    return mean, np.sqrt(weights @ (points - mean) ** 2)


# -- the generic task contract -----------------------------------------------------------


@pytest.fixture(params=sorted(TASKS))
def task(request):
    return get_task(request.param)


def test_simulate_shapes_and_reproducibility(task):
    X, y = task.simulate(7, random_state=3)
    assert y.shape == (7, task.n_params) == (7, len(task.param_names))
    assert len(X) == 7
    if isinstance(X, np.ndarray):
        assert X.shape == (7, task.n_features)
    X_again, y_again = task.simulate(7, random_state=3)
    np.testing.assert_array_equal(y, y_again)
    assert_same_data(X, X_again)
    assert not np.array_equal(task.simulate(7, random_state=4)[1], y)
    assert task.prior_sample(5, random_state=0).shape == (5, task.n_params)


def test_observations_are_fixed_seeded_simulations(task):
    X_obs, y_obs = task.observations
    assert y_obs.shape == (10, task.n_params)
    assert len(X_obs) == 10
    fresh_X, fresh_y = type(task)().observations
    np.testing.assert_array_equal(fresh_y, y_obs)
    assert_same_data(fresh_X, X_obs)
    X_third, y_third = task.simulate(1, random_state=1_000_003)
    np.testing.assert_array_equal(y_third, y_obs[2:3])
    assert_same_data(X_third, X_obs[2:3])


def test_reference_posterior_shape_and_reproducibility(task):
    X_obs, _ = task.observations
    draws = task.reference_posterior(X_obs[1], n_samples=50, random_state=0)
    assert draws.shape == (50, task.n_params)
    assert np.isfinite(draws).all()
    np.testing.assert_array_equal(
        draws, task.reference_posterior(X_obs[1], n_samples=50, random_state=0)
    )


def test_reference_posterior_rejects_several_observations(task):
    X_obs, _ = task.observations
    with pytest.raises(ValueError, match=r"X_obs\[i\]"):
        task.reference_posterior(X_obs[:3], n_samples=5)


def test_simulator_matches_the_task(task):
    sims = task.simulator.sample(6, random_state=0)
    assert isinstance(sims, Simulations) and len(sims) == 6
    X, _ = task.simulate(6, random_state=0)
    for name, value in as_arrays(X).items():
        field = "x" if name == "X" else name
        assert sims[field].shape == value.shape


def test_get_task_rejects_unknown_names():
    with pytest.raises(ValueError, match="two_moons"):
        get_task("three_moons")


def test_bad_arguments_raise_clear_errors():
    task = TwoMoons()
    with pytest.raises(ValueError, match="n_samples"):
        task.reference_posterior([0.0, 0.0], n_samples=0)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        task.simulate_data(np.zeros(2))
    with pytest.raises(RuntimeError, match="impossible"):
        task.reference_posterior([0.6, 0.0], n_samples=10)  # beyond the half ring's reach
    with pytest.raises(TypeError, match="Simulations"):
        MultimodalGaussian().reference_posterior(np.zeros(4), n_samples=5)


# -- simulators against their definitions --------------------------------------------------


def test_gaussian_linear_simulator_noise():
    theta = np.tile(np.linspace(-0.5, 0.5, 10), (20_000, 1))
    noise = GaussianLinear().simulate_data(theta, random_state=0) - theta
    np.testing.assert_allclose(noise.var(axis=0), 0.1, rtol=0.05)
    np.testing.assert_allclose(noise.mean(axis=0), 0.0, atol=0.01)


def test_two_moons_simulator_noise_is_a_half_ring():
    task = TwoMoons()
    theta = np.tile([0.3, -0.6], (20_000, 1))
    x = task.simulate_data(theta, random_state=0)
    z0, z1 = (theta[:, 0] + theta[:, 1]) / np.sqrt(2), (theta[:, 1] - theta[:, 0]) / np.sqrt(2)
    u, v = x[:, 0] + np.abs(z0) - 0.25, x[:, 1] - z1
    radius, angle = np.hypot(u, v), np.arctan2(v, u)
    assert radius.mean() == pytest.approx(0.1, abs=5e-4)
    assert radius.std() == pytest.approx(0.01, rel=0.03)
    assert np.abs(angle).max() <= np.pi / 2
    assert angle.std() == pytest.approx(np.pi / np.sqrt(12), rel=0.02)


def test_gaussian_mixture_simulator_components():
    theta = np.tile([2.0, -3.0], (40_000, 1))
    noise = GaussianMixture().simulate_data(theta, random_state=0) - theta
    within = (np.abs(noise) < 0.3).all(axis=1).mean()
    expected = 0.5 * (2 * norm.cdf(0.3) - 1) ** 2 + 0.5 * (2 * norm.cdf(3.0) - 1) ** 2
    assert within == pytest.approx(expected, abs=0.01)


def test_slcp_simulator_moments():
    theta = np.array([[0.5, -1.0, 1.2, -0.9, 0.7]])
    draws = SLCP().simulate_data(np.repeat(theta, 20_000, axis=0), random_state=0)
    draws = draws.reshape(-1, 2)
    np.testing.assert_allclose(draws.mean(axis=0), theta[0, :2], atol=0.02)
    np.testing.assert_allclose(draws.std(axis=0), theta[0, 2:4] ** 2, rtol=0.02)
    assert np.corrcoef(draws.T)[0, 1] == pytest.approx(np.tanh(0.7), abs=0.01)


def test_multimodal_simulator_experiments():
    theta = np.tile([0.5, -1.0, 0.4], (5_000, 1))
    X = MultimodalGaussian().simulate_data(theta, random_state=0)
    increments = np.diff(X["observables_b"], axis=1, prepend=0.0)
    for draws in (X["observables_a"], increments):
        np.testing.assert_allclose(draws.mean(axis=(0, 1)), [0.5, -1.0], atol=0.01)
        np.testing.assert_allclose(draws.std(axis=(0, 1)), 0.4, rtol=0.02)
    np.testing.assert_allclose(X["time_b"][3, :, 0], np.linspace(0, 1, 20))


# -- reference posteriors against brute force ----------------------------------------------


def test_gaussian_linear_reference_matches_the_conjugate_posterior():
    task = GaussianLinear()
    x = task.observations[0][4]
    prior_precision = np.linalg.inv(0.1 * np.eye(10))
    noise_precision = np.linalg.inv(0.1 * np.eye(10))
    covariance = np.linalg.inv(prior_precision + noise_precision)
    mean = covariance @ noise_precision @ x
    draws = task.reference_posterior(x, n_samples=40_000, random_state=0)
    standard_error = np.sqrt(np.diag(covariance) / len(draws))
    np.testing.assert_array_less(np.abs(draws.mean(axis=0) - mean), 4 * standard_error)
    np.testing.assert_allclose(np.cov(draws.T), covariance, atol=0.003)


def two_moons_grid_posterior(x, centres):
    """Unnormalized exact posterior density at ``centres (m, 2)`` (change of variables)."""
    z0 = (centres[:, 0] + centres[:, 1]) / np.sqrt(2)
    z1 = (centres[:, 1] - centres[:, 0]) / np.sqrt(2)
    u, v = x[0] + np.abs(z0) - 0.25, x[1] - z1  # the noise point p minus the offset
    radius = np.hypot(u, v)
    # p = (r cos a, r sin a): density N(r; 0.1, 0.01) * (1 / pi) / r, zero when cos a < 0.
    density = norm.pdf(radius, 0.1, 0.01) / (np.pi * radius) * (u >= 0)
    return density * (np.abs(centres) <= 1).all(axis=1)


@pytest.mark.parametrize("x", [(0.0, 0.0), (0.28, 0.15)])
def test_two_moons_reference_matches_a_grid_posterior(x):
    task = TwoMoons()
    x = np.array(x)
    draws = task.reference_posterior(x, n_samples=200_000, random_state=0)
    # Every draw must be producible: noise on the right half ring, theta in the prior.
    z0 = (draws[:, 0] + draws[:, 1]) / np.sqrt(2)
    z1 = (draws[:, 1] - draws[:, 0]) / np.sqrt(2)
    u, v = x[0] + np.abs(z0) - 0.25, x[1] - z1
    assert (u >= -1e-12).all() and (np.abs(draws) <= 1).all()
    assert np.abs(np.hypot(u, v) - 0.1).max() < 0.07
    # Histogram against the density integrated on a fine grid (10 x 10 points per bin).
    edges = [np.linspace(-1, 1, 81)] * 2
    counts, _, _ = np.histogram2d(draws[:, 0], draws[:, 1], bins=edges)
    fine = np.linspace(-1, 1, 801)
    centres = 0.5 * (fine[1:] + fine[:-1])
    grid = np.stack(np.meshgrid(centres, centres, indexing="ij"), axis=-1).reshape(-1, 2)
    density = two_moons_grid_posterior(x, grid).reshape(800, 800)
    expected = density.reshape(80, 10, 80, 10).sum(axis=(1, 3))
    total_variation = 0.5 * np.abs(counts / counts.sum() - expected / expected.sum()).sum()
    assert total_variation < 0.03


def test_gaussian_mixture_reference_matches_a_grid_posterior():
    task = GaussianMixture()
    x = np.array([9.6, -9.3])  # near a corner: the prior truncation matters
    draws = task.reference_posterior(x, n_samples=100_000, random_state=0)
    axis = np.linspace(-10, 10, 2001)
    grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    squared = ((grid - x) ** 2).sum(axis=1)
    density = 0.5 * np.exp(-squared / 2) / (2 * np.pi) + 0.5 * np.exp(-squared / 0.02) / (
        2 * np.pi * 0.01
    )
    mean, sd = weighted_moments(grid, density)
    near = (np.abs(grid - x) < 0.2).all(axis=1)
    near_mass = density[near].sum() / density.sum()
    np.testing.assert_array_less(np.abs(draws.mean(axis=0) - mean), 4 * sd / np.sqrt(len(draws)))
    np.testing.assert_allclose(draws.std(axis=0), sd, rtol=0.02)
    draws_near = (np.abs(draws - x) < 0.2).all(axis=1).mean()
    assert draws_near == pytest.approx(near_mass, abs=0.006)


def test_slcp_reference_matches_importance_sampling_from_the_prior():
    task = SLCP()
    theta_true = np.array([[2.5, -2.0, 1.6, 1.2, -0.8]])  # mean near the prior bound
    x = task.simulate_data(theta_true, random_state=7)[0]
    draws = task.reference_posterior(x, n_samples=20_000, random_state=0)
    # The four sign modes of theta_2, theta_3 are equally likely.
    quadrants = (draws[:, 2] > 0) * 2 + (draws[:, 3] > 0)
    np.testing.assert_allclose(np.bincount(quadrants, minlength=4) / len(draws), 0.25, atol=0.015)
    folded = draws.copy()
    folded[:, 2:4] = np.abs(folded[:, 2:4])
    # Brute force: self-normalized importance sampling of the folded prior, full likelihood.
    rng = np.random.default_rng(1)
    chunks = []
    for _ in range(4):
        theta = rng.uniform(-3, 3, size=(1_000_000, 5))
        theta[:, 2:4] = np.abs(theta[:, 2:4])
        log_weights = task.log_likelihood(theta, x)
        keep = log_weights > log_weights.max() - 30
        chunks.append((theta[keep], log_weights[keep]))
    theta = np.concatenate([c[0] for c in chunks])
    log_weights = np.concatenate([c[1] for c in chunks])
    weights = np.exp(log_weights - log_weights.max())
    effective_size = weights.sum() ** 2 / (weights**2).sum()
    assert effective_size > 1_000  # the check itself is informative
    mean, sd = weighted_moments(theta, weights)
    tolerance = 4 * sd * np.sqrt(1 / effective_size + 1 / len(draws))
    np.testing.assert_array_less(np.abs(folded.mean(axis=0) - mean), tolerance)
    np.testing.assert_allclose(folded.std(axis=0), sd, rtol=0.08)


def multimodal_grid_moments(X):
    """Posterior moments of (mu_0, mu_1, sigma) by brute force on a 3-D grid.

    The likelihood of experiment B is evaluated directly as a Gaussian random
    walk (covariance sigma^2 min(i, j)), not by differencing.
    """
    set_draws, walk = X["observables_a"][0], X["observables_b"][0]
    steps = np.arange(1, len(walk) + 1.0)
    walk_precision = np.linalg.inv(np.minimum.outer(steps, steps))
    _, walk_log_det = np.linalg.slogdet(np.minimum.outer(steps, steps))
    rough_mean = walk[-1] / len(walk)
    mu_axis = [np.linspace(m - 0.8, m + 0.8, 81) for m in rough_mean]
    sigma_axis = np.linspace(0.05, 1.5, 300)
    mu_0, mu_1, sigma = np.meshgrid(*mu_axis, sigma_axis, indexing="ij")
    log_density = norm.logpdf(mu_0) + norm.logpdf(mu_1) + 4 * np.log(sigma) - sigma / 0.1
    for dim, mu in enumerate((mu_0, mu_1)):
        log_density += norm.logpdf(set_draws[:, dim][:, None, None, None], mu, sigma).sum(axis=0)
        residual_quadratic = (
            walk[:, dim] @ walk_precision @ walk[:, dim]
            - 2 * mu * (steps @ walk_precision @ walk[:, dim])
            + mu**2 * (steps @ walk_precision @ steps)
        )
        log_density += (
            -len(walk) * np.log(sigma) - 0.5 * walk_log_det - 0.5 * residual_quadratic / sigma**2
        )
    weights = np.exp(log_density - log_density.max()).ravel()
    points = np.stack([mu_0.ravel(), mu_1.ravel(), sigma.ravel()], axis=1)
    return weighted_moments(points, weights)


@pytest.mark.parametrize("index", [0, 7])
def test_multimodal_reference_matches_a_grid_posterior(index):
    task = MultimodalGaussian()
    X_obs, _ = task.observations
    draws = task.reference_posterior(X_obs[index], n_samples=40_000, random_state=0)
    mean, sd = multimodal_grid_moments(X_obs[index])
    np.testing.assert_array_less(np.abs(draws.mean(axis=0) - mean), 4 * sd / np.sqrt(len(draws)))
    np.testing.assert_allclose(draws.std(axis=0), sd, rtol=0.03)


# -- the runner and the command line ------------------------------------------------------


class ReferenceEstimator:
    """A stand-in estimator that samples the task's exact posterior (or its prior)."""

    def __init__(self, task, use_prior=False):
        self.task, self.use_prior = task, use_prior

    def fit(self, X, y):
        self.n_iter_ = 1
        return self

    def sample(self, X, n_samples, random_state=None):
        rng = np.random.default_rng(random_state)
        if self.use_prior:
            return np.stack([self.task.prior_sample(n_samples, rng) for _ in range(len(X))])
        return np.stack(
            [self.task.reference_posterior(X[i], n_samples, rng) for i in range(len(X))]
        )


def test_run_benchmark_scores_exact_and_prior_samples():
    task = GaussianMixture()
    exact = run_benchmark(
        task, ReferenceEstimator(task), 50, n_observations=2, n_posterior_samples=500
    )
    prior = run_benchmark(
        task,
        ReferenceEstimator(task, use_prior=True),
        50,
        n_observations=2,
        n_posterior_samples=500,
    )
    assert exact["c2st_mean"] < 0.58
    assert prior["c2st_mean"] > 0.95
    assert len(exact["c2st"]) == 2 and exact["n_epochs"] == 1
    assert exact["task"] == "gaussian_mixture" and exact["draws_per_second"] > 0
    json.dumps(exact)


def test_run_benchmark_validates_the_number_of_observations():
    task = TwoMoons()
    with pytest.raises(ValueError, match="n_observations"):
        run_benchmark(task, ReferenceEstimator(task), 10, n_observations=11)


def test_command_line_end_to_end(tmp_path, capsys):
    path = tmp_path / "result.json"
    main(
        [
            "--task", "two_moons", "--net", "flow_matching", "--simulations", "300",
            "--observations", "1", "--posterior-samples", "200", "--max-epochs", "1",
            "--json", str(path),
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert "C2ST" in printed and "draws/s" in printed and "s/epoch" in printed
    result = json.loads(path.read_text())
    assert result["n_epochs"] == 1 and len(result["c2st"]) == 1
    assert 0.0 <= result["c2st_mean"] <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("index", range(10))
def test_slcp_reference_on_every_observation_matches_importance_sampling(index):
    # Brute force with a proposal that concentrates near the posterior: a Gaussian
    # mixture fitted to the reference draws (covariances doubled) plus 10 % prior,
    # both on the whole space and truncated to the folded prior box. Self-normalized
    # importance sampling with the full likelihood is exact for any such proposal.
    from sklearn.mixture import GaussianMixture as Mixture

    task = SLCP()
    x = task.observations[0][index]
    folded = task.reference_posterior(x, n_samples=40_000, random_state=0)
    folded[:, 2:4] = np.abs(folded[:, 2:4])
    mixture = Mixture(10, random_state=0).fit(folded)
    mixture.covariances_ *= 2.0
    mixture.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(mixture.covariances_))
    rng = np.random.default_rng(1)
    theta = np.concatenate([mixture.sample(900_000)[0], rng.uniform(-3, 3, size=(100_000, 5))])
    theta = theta[(np.abs(theta) <= 3).all(axis=1) & (theta[:, 2:4] >= 0).all(axis=1)]
    log_proposal = np.logaddexp(
        np.log(0.9) + mixture.score_samples(theta), np.log(0.1) - 5 * np.log(6.0)
    )
    log_weights = task.log_likelihood(theta, x) - log_proposal
    weights = np.exp(log_weights - log_weights.max())
    assert weights.sum() ** 2 / (weights**2).sum() > 50_000
    mean, sd = weighted_moments(theta, weights)
    np.testing.assert_array_less(np.abs(folded.mean(axis=0) - mean), 0.05 * sd)
    np.testing.assert_allclose(folded.std(axis=0), sd, rtol=0.05)


def test_reference_draws_do_not_share_the_model_noise_stream():
    from sklearn_sbi.benchmarks._runner import _reference_rng

    model_noise = np.random.default_rng(0).standard_normal(100)
    for observation in range(3):
        reference_noise = _reference_rng(0, observation).standard_normal(100)
        assert abs(np.corrcoef(model_noise, reference_noise)[0, 1]) < 0.3
    assert not np.array_equal(
        _reference_rng(0, 0).standard_normal(5), _reference_rng(0, 1).standard_normal(5)
    )


def test_make_estimator_wraps_the_task_adapter_and_summary_network():
    from sklearn_sbi import AmortizedPosterior, PosteriorPipeline
    from sklearn_sbi.preprocessing import Difference

    flat = get_task("two_moons").make_estimator("spline_coupling", max_epochs=3)
    assert isinstance(flat, AmortizedPosterior)
    assert flat.inference_net == "spline_coupling" and flat.max_epochs == 3
    multimodal = get_task("multimodal_gaussian")
    pipeline = multimodal.make_estimator(random_state=0)
    assert isinstance(pipeline, PosteriorPipeline)
    assert isinstance(pipeline[0], Difference) and pipeline[0].fields == "observables_b"
    assert pipeline[-1].summary_net.get_params()["head__output_dim"] == 6
    assert pipeline[-1].support == ([-np.inf, -np.inf, 0.0], np.inf)


def test_slcp_estimator_reads_its_draws_as_a_set():
    from sklearn_sbi.networks import DeepSet
    from sklearn_sbi.preprocessing import Unflatten

    task = get_task("slcp")
    pipeline = task.make_estimator(max_epochs=1, random_state=0)
    assert isinstance(pipeline[0], Unflatten) and pipeline[0].shape == (4, 2)
    assert isinstance(pipeline[-1].summary_net, DeepSet)
    pipeline[-1].set_params(inference_net__widths=(16,), summary_net__hidden_dim=8)
    X, y = task.simulate(300, random_state=0)
    pipeline.fit(X, y)
    X_obs, _ = task.observations
    draws = pipeline.sample(X_obs[:2], 50, random_state=0)
    assert draws.shape == (2, 50, 5)
    assert np.abs(draws).max() <= 3.0
    # The draws are exchangeable: permuting them leaves the summary unchanged.
    swapped = X_obs[:1].reshape(1, 4, 2)[:, [2, 0, 3, 1]].reshape(1, 8)
    embed = pipeline[-1].embed
    np.testing.assert_allclose(
        embed(pipeline[0].transform(X_obs[:1])), embed(pipeline[0].transform(swapped)), atol=1e-5
    )


def test_run_benchmark_accepts_a_pipeline():
    task = get_task("multimodal_gaussian")
    pipeline = task.make_estimator(max_epochs=1, batch_size=64, random_state=0)
    pipeline[-1].set_params(
        inference_net__widths=(16,),
        summary_net__a__embed_dim=8,
        summary_net__a__num_heads=2,
        summary_net__b__embed_dim=8,
        summary_net__b__num_heads=2,
    )
    result = run_benchmark(task, pipeline, 200, n_observations=1, n_posterior_samples=100)
    assert result["n_epochs"] == 1 and result["net"] == "FlowMatching"
    assert 0.5 <= result["c2st_mean"] <= 1.0
