"""AmortizedPosterior(support=...): rejection of draws outside the prior's box."""

import conjugate_gaussian
import numpy as np
import pytest
from scipy import stats

from sklearn_sbi import AmortizedPosterior
from sklearn_sbi._support import MIN_ACCEPTANCE, check_support, draw_within
from sklearn_sbi.benchmarks import get_task


def _fit_conjugate(support=None) -> AmortizedPosterior:
    x, theta = conjugate_gaussian.simulate(8000, seed=0)
    est = AmortizedPosterior(
        "affine_coupling", support=support, max_epochs=30, batch_size=128, random_state=0
    )
    return est.fit(x, theta)


@pytest.fixture(scope="module")
def cut_posterior():
    """Fitted on an unbounded prior, then cut to ``mu >= 0`` (``nu`` left open).

    The posterior under the prior truncated to a box is the untruncated
    posterior truncated to it, so the exact answer is known: ``mu`` follows a
    normal cut at 0 and ``nu`` the untouched normal.
    """
    est = _fit_conjugate()
    return est.set_params(support=([0.0, -np.inf], np.inf))


def _exact_mu(x: float) -> stats.rv_continuous:
    mean, sd = conjugate_gaussian.SHRINKAGE * x, conjugate_gaussian.POSTERIOR_SD
    return stats.truncnorm(-mean / sd, np.inf, loc=mean, scale=sd)


def test_draws_follow_the_truncated_posterior(cut_posterior):
    # Acceptance is about 0.19, 0.50 and 0.81: several rejection rounds.
    x_obs = np.array([[-0.5, 0.0], [0.0, 1.0], [0.5, -1.0]])
    draws = cut_posterior.sample(x_obs, 4000, random_state=0)
    assert draws.shape == (3, 4000, 2)
    assert draws[..., 0].min() >= 0.0
    for row, (x_mu, x_nu) in enumerate(x_obs):
        assert stats.kstest(draws[row, :, 0], _exact_mu(x_mu).cdf).statistic < 0.05
        exact_nu = stats.norm(conjugate_gaussian.SHRINKAGE * x_nu, conjugate_gaussian.POSTERIOR_SD)
        assert stats.kstest(draws[row, :, 1], exact_nu.cdf).statistic < 0.05


def test_draws_do_not_depend_on_batch_size_or_other_rows(cut_posterior):
    x_obs = np.array([[-0.5, 0.0], [0.0, 1.0], [0.5, -1.0]])
    whole = cut_posterior.sample(x_obs, 500, random_state=3)
    chunked = cut_posterior.sample(x_obs, 500, random_state=3, batch_size=97)
    np.testing.assert_allclose(whole, chunked, atol=1e-6)
    mean_all = cut_posterior.predict(x_obs)
    mean_first = cut_posterior.predict(x_obs[:1])
    np.testing.assert_allclose(mean_all[:1], mean_first, atol=1e-6)
    assert abs(mean_all[0, 0] - _exact_mu(-0.5).mean()) < 0.03


def test_log_prob_is_minus_inf_outside_support(cut_posterior):
    x = np.zeros((3, 2))
    density = cut_posterior.log_prob(x, np.array([[-0.01, 0.0], [0.3, 0.0], [-1.0, 5.0]]))
    assert np.isneginf(density[[0, 2]]).all()
    assert np.isfinite(density[1])


def test_training_parameters_outside_support_are_refused():
    x, theta = conjugate_gaussian.simulate(200, seed=1)
    est = AmortizedPosterior("affine_coupling", support=(-0.5, 0.5), max_epochs=1)
    with pytest.raises(ValueError, match="outside support"):
        est.fit(x, theta)
    assert not hasattr(est, "network_")


@pytest.mark.parametrize(
    "support, match",
    [
        ((0.0,), "pair"),
        ("box", "pair"),
        (1.0, "pair"),
        (((0, 0, 0), 1.0), "pair"),
        ((1.0, 0.0), "low < high"),
        ((np.nan, 1.0), "NaN"),
    ],
)
def test_bad_support_is_explained(support, match):
    with pytest.raises(ValueError, match=match):
        check_support(support, 2)


def test_open_sides_and_per_parameter_bounds():
    low, high = check_support(([-np.inf, 0.0], np.inf), 2)
    np.testing.assert_array_equal(low, [-np.inf, 0.0])
    np.testing.assert_array_equal(high, [np.inf, np.inf])


def _normal_draws(seed: int):
    rng = np.random.default_rng(seed)

    def draw(rows, block, noise):
        return noise(len(rows) * block).reshape(len(rows), block, 1)

    return draw, lambda round_, block: lambda n: rng.standard_normal((n, 1))


def test_rejection_gives_the_truncated_distribution():
    draw, noise_source = _normal_draws(0)
    bounds = check_support((0.5, 3.0), 1)
    draws = draw_within(draw, 4, 5000, bounds, noise_source)
    assert draws.shape == (4, 5000, 1)
    exact = stats.truncnorm(0.5, 3.0)
    for row in draws[..., 0]:
        assert stats.kstest(row, exact.cdf).statistic < 0.03


def test_rejection_gives_up_on_a_box_the_estimate_misses():
    draw, noise_source = _normal_draws(0)
    bounds = check_support((6.0, 7.0), 1)  # P = 1e-9, far below MIN_ACCEPTANCE
    with pytest.raises(ValueError, match="fall inside support"):
        draw_within(draw, 1, 10, bounds, noise_source)
    assert MIN_ACCEPTANCE == pytest.approx(1e-3)


def test_benchmark_tasks_pass_their_prior_box():
    assert get_task("two_moons").support == (-1.0, 1.0)
    assert get_task("gaussian_linear").support is None
    est = get_task("gaussian_mixture").make_estimator("affine_coupling")
    assert est.support == (-10.0, 10.0)
    assert get_task("slcp").make_estimator()[-1].support == (-3.0, 3.0)
    assert get_task("slcp").make_estimator(support=None)[-1].support is None


def test_support_with_open_sides_survives_save_and_load(cut_posterior, tmp_path):
    path = tmp_path / "cut.safetensors"
    cut_posterior.save(path)
    loaded = AmortizedPosterior.load(path)
    assert loaded.support == ([0.0, -np.inf], np.inf)
    x_obs = np.array([[-0.5, 0.0]])
    np.testing.assert_array_equal(
        loaded.sample(x_obs, 200, random_state=1), cut_posterior.sample(x_obs, 200, random_state=1)
    )
