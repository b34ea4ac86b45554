"""AmortizedPosterior with summary networks on Simulations: the multimodal walkthrough's API."""

import pickle

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from sklearn_sbi import AmortizedPosterior, Simulations, make_simulator
from sklearn_sbi.networks import (
    MLP,
    DeepSet,
    FlowMatching,
    FusionEncoder,
    SetTransformer,
    TimeSeriesTransformer,
)


def prior(rng):
    return {"mu": rng.normal(size=2), "sigma": rng.gamma(5, 0.1)}


def likelihood_a(mu, sigma, rng, n_exchangeable=5):
    return {"input_a": rng.normal(mu, sigma, size=(n_exchangeable, 2))}


def likelihood_b(mu, sigma, rng, n_time_series=20):
    return {
        "observables_b": np.cumsum(rng.normal(mu, sigma, size=(n_time_series, 2)), axis=0),
        "time_b": np.linspace(0.0, 1.0, n_time_series)[:, None],
        "flat_c": np.array([mu[0] + 0.1 * rng.normal()]),
    }


@pytest.fixture(scope="module")
def data():
    sims = make_simulator([prior, likelihood_a, likelihood_b]).sample(240, random_state=0)
    return sims.xy(["mu", "sigma"])


def _fusion(**kwargs):
    return FusionEncoder(
        [
            ("a", SetTransformer(summary_dim=4, embed_dim=8, num_heads=2, num_layers=1), "input_a"),
            (
                "b",
                TimeSeriesTransformer(
                    summary_dim=4, time_axis=-1, embed_dim=8, num_heads=2, num_layers=1
                ),
                ["observables_b", "time_b"],
            ),
        ],
        head=MLP(widths=(16,), output_dim=6),
        **kwargs,
    )


def _posterior(summary_net=None, **kwargs):
    params = dict(max_epochs=2, batch_size=32, random_state=0)
    params.update(kwargs)
    return AmortizedPosterior(
        FlowMatching(widths=(16, 16), steps=3, log_prob_steps=3),
        summary_net=_fusion() if summary_net is None else summary_net,
        **params,
    )


def test_fused_posterior_fits_samples_and_embeds(data):
    X, y = data
    est = _posterior().fit(X, y)
    assert est.param_names_ == ["mu[0]", "mu[1]", "sigma"]
    assert est.sample(X[:3], 7, random_state=0).shape == (3, 7, 3)
    assert est.embed(X[:4]).shape == (4, 6)
    assert set(est.summary_net_.named_encoders) == {"a", "b"}
    # The flat field nobody reads passes straight through to the inference network.
    assert est.network_.passthrough == ["flat_c"]
    assert est.inference_net_.n_conditions == 6 + 1


def test_remainder_drop_drops_unread_flat_fields(data):
    X, y = data
    est = _posterior(summary_net=_fusion(remainder="drop")).fit(X, y)
    assert est.network_.passthrough == []
    assert est.inference_net_.n_conditions == 6


def test_sets_need_a_summary_network(data):
    X, y = data
    with pytest.raises(ValueError, match="need a summary network"):
        AmortizedPosterior(max_epochs=1).fit(X, y)


def test_padded_sets_of_other_lengths_are_accepted(data):
    X, y = data
    est = _posterior(summary_net=DeepSet(summary_dim=4)).fit(X.select(["input_a"]), y)
    longer = np.full((2, 8, 2), np.nan)
    longer[:, :5] = X["input_a"][:2]
    padded = est.sample(Simulations(input_a=longer), 20, random_state=0)
    plain = est.sample(Simulations(input_a=X["input_a"][:2]), 20, random_state=0)
    np.testing.assert_allclose(padded, plain, rtol=1e-4, atol=1e-5)


def test_grid_search_routes_nested_summary_params(data):
    X, y = data
    search = GridSearchCV(_posterior(), {"summary_net__a__summary_dim": [2, 4]}, cv=KFold(2)).fit(
        X, y
    )
    assert search.best_params_["summary_net__a__summary_dim"] in (2, 4)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    fitted_dims = search.best_estimator_.summary_net.get_params()["a__summary_dim"]
    assert fitted_dims == search.best_params_["summary_net__a__summary_dim"]


def test_object_column_dataframe_works_like_simulations(data):
    X, y = data
    frame = X.to_pandas()
    assert frame["input_a"].dtype == object
    scores = cross_val_score(_posterior(), frame, y, cv=KFold(2))
    reference = cross_val_score(_posterior(), X, y, cv=KFold(2))
    np.testing.assert_allclose(scores, reference, rtol=1e-5)


def test_pickle_round_trip_with_summary_network(data):
    X, y = data
    est = _posterior().fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(
        restored.sample(X[:2], 10, random_state=3), est.sample(X[:2], 10, random_state=3)
    )
    np.testing.assert_array_equal(restored.embed(X[:2]), est.embed(X[:2]))
