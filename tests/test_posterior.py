"""AmortizedPosterior: accuracy against analytic posteriors, reproducibility, units, API."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal, pearsonr
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from sklearn_sbi import AmortizedPosterior, make_posterior_pipeline
from sklearn_sbi.networks import ConsistencyModel, FlowMatching


class GaussianLinear:
    """theta ~ N(0, I_d), x = A theta + N(0, noise^2 I): the posterior is Gaussian."""

    def __init__(self, dim: int, noise: float = 0.5, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.A = np.eye(dim) + 0.3 * rng.normal(size=(dim, dim))
        self.noise = noise
        precision = np.eye(dim) + self.A.T @ self.A / noise**2
        self.cov = np.linalg.inv(precision)

    def simulate(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        theta = rng.normal(size=(n, self.A.shape[0]))
        return theta @ self.A.T + self.noise * rng.normal(size=theta.shape), theta

    def posterior_mean(self, x: np.ndarray) -> np.ndarray:
        return x @ (self.cov @ self.A.T / self.noise**2).T

    def log_posterior(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return np.array(
            [
                multivariate_normal(m, self.cov).logpdf(t)
                for m, t in zip(self.posterior_mean(x), theta, strict=False)
            ]
        )


def _fit_gaussian(dim: int) -> tuple[GaussianLinear, AmortizedPosterior]:
    model = GaussianLinear(dim)
    x, theta = model.simulate(10000, seed=1)
    est = AmortizedPosterior(
        FlowMatching(widths=(128, 128, 128)),
        max_epochs=80,
        batch_size=128,
        learning_rate=1e-3,
        random_state=0,
    ).fit(x, theta)
    return model, est


@pytest.fixture(scope="module", params=[2, 5], ids=["dim2", "dim5"])
def fitted_gaussian(request):
    return _fit_gaussian(request.param)


def test_posterior_moments_match_analytic(fitted_gaussian):
    model, est = fitted_gaussian
    x_obs, _ = model.simulate(20, seed=123)
    draws = est.sample(x_obs, 4000, random_state=0)
    sd = np.sqrt(np.diag(model.cov))
    mean_error = np.abs(draws.mean(axis=1) - model.posterior_mean(x_obs)) / sd
    sd_ratio = draws.std(axis=1) / sd
    # Averaged over observations the posterior means sit within 0.1 posterior sd; single
    # observations in the tails of the prior predictive may miss by a little more.
    assert mean_error.mean() < 0.1, mean_error
    assert mean_error.max() < 0.3, mean_error
    assert np.abs(sd_ratio - 1).max() < 0.15, sd_ratio


def test_log_prob_correlates_with_analytic(fitted_gaussian):
    model, est = fitted_gaussian
    x, theta = model.simulate(200, seed=7)
    estimated = est.log_prob(x, theta)
    exact = model.log_posterior(x, theta)
    assert estimated.shape == (200,)
    assert pearsonr(estimated, exact)[0] > 0.95
    assert np.median(np.abs(estimated - exact)) < 0.3


def test_predict_is_posterior_mean(fitted_gaussian):
    model, est = fitted_gaussian
    x, _ = model.simulate(20, seed=11)
    sd = np.sqrt(np.diag(model.cov))
    error = np.abs(est.predict(x) - model.posterior_mean(x)) / sd
    assert error.mean() < 0.1


@pytest.fixture(scope="module")
def small_data():
    model = GaussianLinear(2)
    x, theta = model.simulate(400, seed=3)
    return x, theta


def _small(**kwargs) -> AmortizedPosterior:
    params = dict(max_epochs=3, batch_size=64, random_state=0)
    params.update(kwargs)
    return AmortizedPosterior(FlowMatching(widths=(16, 16), steps=4), **params)


def test_fit_and_sample_are_reproducible(small_data):
    x, theta = small_data
    a = _small().fit(x, theta).sample(x[:3], 50, random_state=5)
    b = _small().fit(x, theta).sample(x[:3], 50, random_state=5)
    np.testing.assert_array_equal(a, b)
    c = _small(random_state=1).fit(x, theta).sample(x[:3], 50, random_state=5)
    assert not np.allclose(a, c)


def test_samples_do_not_depend_on_chunk_size(small_data):
    x, theta = small_data
    est = _small().fit(x, theta)
    whole = est.sample(x[:4], 100, random_state=2)
    chunked = est.sample(x[:4], 100, random_state=2, batch_size=37)
    np.testing.assert_allclose(whole, chunked, rtol=1e-5, atol=1e-6)
    assert whole.shape == (4, 100, 2)


def test_units_follow_y(small_data):
    x, theta = small_data
    base = _small().fit(x, theta).sample(x[:2], 30, random_state=0)
    scaled = _small().fit(x, 1000 * theta + 5).sample(x[:2], 30, random_state=0)
    np.testing.assert_allclose(scaled, 1000 * base + 5, rtol=1e-4, atol=1e-2)


def test_log_prob_includes_target_scaling(small_data):
    x, theta = small_data
    base = _small().fit(x, theta).log_prob(x[:5], theta[:5])
    scaled = _small().fit(x, 1000 * theta).log_prob(x[:5], 1000 * theta[:5])
    np.testing.assert_allclose(scaled, base - 2 * np.log(1000), atol=1e-3)


def test_pickle_and_joblib_round_trip(small_data, tmp_path):
    x, theta = small_data
    est = _small().fit(x, theta)
    expected = est.sample(x[:2], 20, random_state=4)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.sample(x[:2], 20, random_state=4), expected)
    joblib.dump(est, tmp_path / "est.joblib")
    loaded = joblib.load(tmp_path / "est.joblib")
    np.testing.assert_array_equal(loaded.sample(x[:2], 20, random_state=4), expected)
    assert all(p.device.type == "cpu" for p in loaded.network_.parameters())


def test_pandas_names_are_kept(small_data):
    x, theta = small_data
    X = pd.DataFrame(x, columns=["x_a", "x_b"])
    y = pd.DataFrame(theta, columns=["mu", "sigma"])
    est = _small().fit(X, y)
    assert est.param_names_ == ["mu", "sigma"]
    assert list(est.feature_names_in_) == ["x_a", "x_b"]
    frame = est.sample(X.iloc[:2], 5, random_state=0, as_frame=True)
    assert list(frame.columns) == ["mu", "sigma"]
    assert frame.index.names == ["observation", "draw"]
    assert frame.shape == (10, 2)


def test_deep_params_route_to_network():
    est = AmortizedPosterior()
    params = est.get_params(deep=True)
    assert params["inference_net__widths"] == (256, 256, 256, 256, 256)
    est.set_params(inference_net__widths=(8,))
    assert isinstance(est.inference_net, FlowMatching)
    assert clone(est).inference_net.widths == (8,)


def test_pipeline_and_grid_search(small_data):
    x, theta = small_data
    pipe = make_posterior_pipeline(StandardScaler(), _small())
    search = GridSearchCV(
        pipe, {"amortizedposterior__inference_net__widths": [(8,), (16, 16)]}, cv=2
    ).fit(100 * x, theta)
    assert search.best_params_["amortizedposterior__inference_net__widths"] in [(8,), (16, 16)]
    best = search.best_estimator_
    assert best.sample(100 * x[:3], 7, random_state=0).shape == (3, 7, 2)
    assert best.log_prob(100 * x[:3], theta[:3]).shape == (3,)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_early_stopping_keeps_best_epoch(small_data):
    x, theta = small_data
    est = _small(max_epochs=60, n_iter_no_change=2, learning_rate=3e-2)
    est = est.set_params(inference_net__whitening_widths=None).fit(x, theta)
    assert est.n_iter_ < 60
    assert est.stop_reason_ == "early_stopping"
    best = int(np.argmin(est.validation_scores_))
    assert est.best_epoch_ == best
    assert est.n_iter_ == best + 1 + 2


def test_non_finite_loss_stops_with_warning(small_data):
    x, theta = small_data
    with pytest.warns(UserWarning, match="became"):
        est = _small(learning_rate=1e30, max_epochs=5).fit(x, theta)
    assert est.stop_reason_ == "non_finite"
    assert np.isfinite(est.sample(x[:1], 10, random_state=0)).all()


def test_keyboard_interrupt_keeps_best_weights(small_data, monkeypatch):
    x, theta = small_data
    est = _small(max_epochs=50)
    calls = {"n": 0}
    original = FlowMatching.build

    def build(self, *args, **kwargs):
        module = original(self, *args, **kwargs)
        loss = module.loss

        def interrupting_loss(*a, **k):
            calls["n"] += 1
            if calls["n"] > 40:
                raise KeyboardInterrupt
            return loss(*a, **k)

        module.loss = interrupting_loss
        return module

    monkeypatch.setattr(FlowMatching, "build", build)
    with pytest.warns(UserWarning, match="interrupted"):
        est.fit(x, theta)
    assert est.stop_reason_ == "interrupted"
    assert 1 <= est.n_iter_ < 50
    assert est.sample(x[:1], 5, random_state=0).shape == (1, 5, 2)


@pytest.mark.parametrize(
    ("X", "y", "error", "match"),
    [
        (np.array([[np.nan, 1.0]] * 10), np.zeros((10, 1)), ValueError, "NaN in 10 row"),
        (np.ones((10, 2)), np.r_[np.zeros(9), np.inf], ValueError, "inf in 1 row"),
        (np.ones((10, 2)), np.zeros(9), ValueError, "inconsistent numbers of samples"),
        ({"x": np.ones((10, 2))}, np.zeros(10), TypeError, r"Simulations\(\*\*d\)"),
        (np.ones((1, 2)), np.zeros(1), ValueError, "1 sample"),
    ],
)
def test_bad_fit_input_is_explained(X, y, error, match):
    with pytest.raises(error, match=match):
        _small().fit(X, y)


def test_bad_inference_input_is_explained(small_data):
    from sklearn.exceptions import NotFittedError

    x, theta = small_data
    with pytest.raises(NotFittedError):
        _small().sample(x[:1], 5)
    est = _small().fit(x, theta)
    with pytest.raises(ValueError, match="expecting 2 features"):
        est.sample(np.ones((1, 3)), 5)
    with pytest.raises(ValueError, match="n_samples must be >= 1"):
        est.sample(x[:1], 0)
    with pytest.raises(ValueError, match="fitted with 2 parameters"):
        est.log_prob(x[:2], np.ones((2, 3)))


@pytest.mark.parametrize(
    ("target_transform", "low", "high", "scale"),
    [(None, -4000.0, 4000.0, 1000.0), ("constrain", 0.0, 1.0, 1.0)],
    ids=["scaled_by_1000", "constrained_to_unit_interval"],
)
def test_density_integrates_to_one_in_original_units(target_transform, low, high, scale):
    from sklearn_sbi.preprocessing import Constrain

    rng = np.random.default_rng(0)
    if target_transform is None:
        theta = scale * rng.normal(size=(2000, 1))
    else:
        theta = rng.beta(2.0, 2.0, size=(2000, 1))
    x = theta / scale + 0.3 * rng.normal(size=theta.shape)
    est = AmortizedPosterior(
        FlowMatching(widths=(32, 32), log_prob_steps=30),
        target_transform=None if target_transform is None else Constrain(lower=0.0, upper=1.0),
        max_epochs=5,
        random_state=0,
    ).fit(x, theta)
    grid = np.linspace(low, high, 2001)[1:-1, None]
    density = np.exp(est.log_prob(np.repeat(x[:1], len(grid), axis=0), grid))
    assert abs(np.trapezoid(density[:, 0] if density.ndim > 1 else density, grid[:, 0]) - 1) < 0.03
    if target_transform is not None:
        draws = est.sample(x[:5], 500, random_state=0)
        assert ((draws > 0) & (draws < 1)).all()
        assert np.isneginf(est.log_prob(x[:2], np.array([[1.5], [-0.1]]))).all()


@pytest.mark.parametrize(
    "network",
    [
        ConsistencyModel(widths=(16,)),
        ConsistencyModel(widths=(16,), whitening_widths=None),
        FlowMatching(widths=(16,)),
    ],
    ids=["consistency", "consistency_unwhitened", "flow_matching_whitened"],
)
def test_networks_without_comparable_losses_train_every_epoch(small_data, network):
    """The consistency curriculum and whitened flows: no early stopping, the last epoch is kept."""
    x, theta = small_data
    est = AmortizedPosterior(network, max_epochs=6, n_iter_no_change=1, random_state=0)
    est.fit(x, theta)
    assert est.n_iter_ == 6
    assert est.stop_reason_ == "max_epochs"
    assert len(est.validation_scores_) == 6
    assert est.best_epoch_ == 5
