"""The adapter chains of both BayesFlow walkthroughs, as scikit-learn Pipelines of our steps.

Two moons, ``Adapter().to_array().convert_dtype("float64", "float32")
.standardize(exclude="theta").rename("theta", "inference_variables")
.rename("x", "inference_conditions")``:

- ``to_array``: nothing to do, every field of a ``Simulations`` is an array;
- ``convert_dtype``: the estimator casts its inputs to float32 itself;
- ``standardize(exclude="theta")``: ``Standardize(exclude="theta")``;
- the two renames: ``Rename`` (or, as the estimator wants it, ``sims.xy("theta")``,
  which makes ``theta`` the target and ``x`` the conditions).

Multimodal, ``Adapter.create_default(["mu", "sigma"]).rename("observables_a", "input_a")
.concatenate(["observables_b", "time_b"], into="input_b").group([...], "summary_variables")``:

- ``create_default``: ``sims.xy(["mu", "sigma"])`` (``y`` is the (n, 3) parameter table);
- ``rename`` / ``concatenate``: ``Rename`` / ``Concatenate``;
- ``group``: no step, the fields stay named and a ``FusionEncoder`` reads them by name.
"""

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from sklearn_sbi.preprocessing import Concatenate, Rename, Standardize
from sklearn_sbi.simulators import make_simulator


def theta_prior(rng):
    return dict(theta=rng.uniform(-1, 1, 2))


def forward_model(theta, rng):
    alpha = rng.uniform(-np.pi / 2, np.pi / 2)
    r = rng.normal(0.1, 0.01)
    x1 = -np.abs(theta[0] + theta[1]) / np.sqrt(2) + r * np.cos(alpha) + 0.25
    x2 = (-theta[0] + theta[1]) / np.sqrt(2) + r * np.sin(alpha)
    return dict(x=np.array([x1, x2]))


def prior(rng):
    return {"mu": rng.normal(size=2), "sigma": rng.gamma(5, 0.1)}


def likelihood_a(mu, sigma, rng, n_exchangeable=5):
    return {"observables_a": rng.normal(mu, sigma, size=(n_exchangeable, 2))}


def likelihood_b(mu, sigma, rng, n_time_series=20, **kwargs):
    return {
        "observables_b": np.cumsum(rng.normal(mu, sigma, size=(n_time_series, 2)), axis=0),
        "time_b": np.linspace(0.0, 1.0, n_time_series)[:, None],
    }


def shapes(sims):
    return {name: array.shape for name, array in sims.items()}


def test_two_moons_adapter_chain():
    simulator = make_simulator([theta_prior, forward_model])
    assert shapes(simulator.sample(3, random_state=0)) == {"theta": (3, 2), "x": (3, 2)}
    sims = simulator.sample(512, random_state=0)
    adapter = Pipeline(
        [
            ("standardize", Standardize(exclude="theta")),
            ("rename", Rename({"theta": "inference_variables", "x": "inference_conditions"})),
        ]
    )
    out = adapter.fit_transform(sims)
    assert shapes(out) == {"inference_variables": (512, 2), "inference_conditions": (512, 2)}
    np.testing.assert_array_equal(out["inference_variables"], sims["theta"])
    np.testing.assert_allclose(out["inference_conditions"].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out["inference_conditions"].std(axis=0), 1.0)
    back = adapter.inverse_transform(out)
    np.testing.assert_allclose(back["x"], sims["x"])


def test_two_moons_as_the_estimator_reads_it():
    sims = make_simulator([theta_prior, forward_model]).sample(64, random_state=1)
    X, y = sims.xy("theta")
    assert list(y.columns) == ["theta[0]", "theta[1]"] and list(X.keys()) == ["x"]
    conditions = Pipeline([("standardize", Standardize())]).fit_transform(X)
    np.testing.assert_allclose(conditions["x"].std(axis=0), 1.0)


@pytest.fixture
def multimodal():
    return make_simulator([prior, likelihood_a, likelihood_b]).sample(3, random_state=2025)


def test_multimodal_simulator_shapes(multimodal):
    assert shapes(multimodal) == {
        "mu": (3, 2),
        "sigma": (3, 1),
        "observables_a": (3, 5, 2),
        "observables_b": (3, 20, 2),
        "time_b": (3, 20, 1),
    }


def test_multimodal_adapter_chain(multimodal):
    X, y = multimodal.xy(["mu", "sigma"])
    adapter = Pipeline(
        [
            ("rename", Rename({"observables_a": "input_a"})),
            ("concatenate", Concatenate(["observables_b", "time_b"], into="input_b")),
        ]
    )
    out = adapter.fit_transform(X)
    assert y.shape == (3, 3)  # inference_variables (3, 3)
    assert shapes(out) == {"input_a": (3, 5, 2), "input_b": (3, 20, 3)}
    np.testing.assert_array_equal(out["input_b"][..., :2], multimodal["observables_b"])
    np.testing.assert_array_equal(out["input_b"][..., 2:], multimodal["time_b"])
    assert list(adapter.get_feature_names_out()) == ["input_a", "input_b"]
    back = adapter.inverse_transform(out)
    assert shapes(back) == shapes(X)


def test_multimodal_with_standardize_all(multimodal):
    adapter = Pipeline(
        [
            ("rename", Rename({"observables_a": "input_a"})),
            ("concatenate", Concatenate(["observables_b", "time_b"], into="input_b")),
            ("standardize", Standardize()),
        ]
    )
    X, _ = multimodal.xy(["mu", "sigma"])
    out = adapter.fit_transform(X)
    np.testing.assert_allclose(out["input_b"].reshape(-1, 3).mean(axis=0), 0.0, atol=1e-12)
    assert adapter.named_steps["standardize"].mean_["input_a"].shape == (2,)
