"""Online training: fresh simulations every batch, simulated in the background."""

import os

import numpy as np
import pytest

from sklearn_sbi import AmortizedPosterior, make_posterior_pipeline, make_simulator
from sklearn_sbi.networks import FlowMatching
from sklearn_sbi.preprocessing import Standardize

NOISE = 0.5


def _gaussian_simulator(log_path=None):
    def prior(batch_size, rng):
        return {"theta": rng.normal(size=(batch_size, 2))}

    def likelihood(theta, rng):
        if log_path is not None:  # the log survives the background worker process
            with open(log_path, "a") as log:
                log.write(f"{os.getpid()} {theta.shape[0]}\n")
        return {"x": theta + NOISE * rng.normal(size=theta.shape)}

    return make_simulator([prior, likelihood], batched=True)


def _estimator(**kwargs):
    params = dict(learning_rate=1e-3, random_state=0)
    params.update(kwargs)
    return AmortizedPosterior(FlowMatching(widths=(64, 64, 64)), **params)


def test_online_posterior_matches_analytic():
    est = _estimator().fit_online(
        _gaussian_simulator(), "theta", epochs=40, batches_per_epoch=50, batch_size=128
    )
    x_obs = np.array([[0.5, -1.0], [1.5, 0.2], [-0.3, 0.0]])
    draws = est.sample(x_obs, 4000, random_state=0)
    post_var = 1 / (1 + 1 / NOISE**2)
    exact_mean = x_obs * post_var / NOISE**2
    sd = np.sqrt(post_var)
    assert np.abs(draws.mean(axis=1) - exact_mean).max() / sd < 0.15
    assert np.abs(draws.std(axis=1) / sd - 1).max() < 0.15
    assert est.param_names_ == ["theta[0]", "theta[1]"]
    assert est.n_iter_ <= 40 and len(est.validation_scores_) == est.n_iter_


def test_every_batch_is_fresh_and_simulated_in_background(tmp_path):
    log_path = tmp_path / "calls.log"
    est = _estimator(early_stopping=False)
    est.fit_online(
        _gaussian_simulator(log_path),
        "theta",
        epochs=2,
        batches_per_epoch=3,
        batch_size=16,
        validation_size=32,
    )
    calls = [line.split() for line in log_path.read_text().splitlines()]
    assert [int(n) for _, n in calls] == [32] + [16] * 6
    assert calls[0][0] == str(os.getpid())
    assert {pid for pid, _ in calls[1:]} != {str(os.getpid())}
    assert len({pid for pid, _ in calls[1:]}) == 1


def test_online_training_is_reproducible():
    def run(seed):
        est = _estimator(random_state=seed, early_stopping=False).set_params(
            inference_net__widths=(16,)
        )
        est.fit_online(_gaussian_simulator(), "theta", epochs=2, batches_per_epoch=5, batch_size=32)
        return est.sample(np.zeros((1, 2)), 50, random_state=1)

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.allclose(run(3), run(4))


def test_pipeline_fits_input_steps_on_first_batch():
    pipe = make_posterior_pipeline(
        Standardize(), _estimator(early_stopping=False).set_params(inference_net__widths=(16,))
    )
    pipe.fit_online(
        _gaussian_simulator(),
        "theta",
        epochs=1,
        batches_per_epoch=3,
        batch_size=32,
        validation_size=64,
    )
    standardize = pipe.steps[0][1]
    assert hasattr(standardize, "mean_")
    from sklearn_sbi import Simulations

    assert pipe.sample(Simulations(x=np.zeros((2, 2))), 5, random_state=0).shape == (2, 5, 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"batch_size": 1}, "batch_size must be an integer >= 2"),
        ({"validation_size": -1}, "validation_size must be an integer >= 0"),
    ],
)
def test_online_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _estimator().fit_online(_gaussian_simulator(), "theta", **kwargs)
