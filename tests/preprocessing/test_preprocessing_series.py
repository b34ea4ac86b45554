"""Difference: increments of time-series fields."""

import numpy as np
import pytest

from sklearn_sbi.preprocessing import Difference
from sklearn_sbi.simulations import Simulations


@pytest.fixture
def walks():
    rng = np.random.default_rng(0)
    steps = rng.normal(size=(5, 20, 2))
    return steps, Simulations(walk=np.cumsum(steps, axis=1), mu=rng.normal(size=(5, 2)))


def test_difference_recovers_the_increments_and_inverts(walks):
    steps, sims = walks
    step = Difference("walk").fit(sims)
    out = step.transform(sims)
    np.testing.assert_allclose(out["walk"], steps, atol=1e-12)
    np.testing.assert_array_equal(out["mu"], sims["mu"])
    assert list(step.get_feature_names_out()) == ["walk", "mu"]
    np.testing.assert_allclose(step.inverse_transform(out)["walk"], sims["walk"], atol=1e-12)


def test_difference_along_another_axis_and_of_flat_series():
    series = np.cumsum(np.ones((2, 3, 4)), axis=2)
    out = Difference("s", axis=-1).fit_transform(Simulations(s=series))["s"]
    np.testing.assert_array_equal(out, np.ones((2, 3, 4)))
    flat = Difference("s").fit_transform(Simulations(s=np.array([[2.0, 5.0, 4.0]])))["s"]
    np.testing.assert_array_equal(flat, [[2.0, 3.0, -1.0]])


def test_nan_padding_at_the_end_stays_padding():
    padded = np.array([[1.0, 3.0, np.nan, np.nan]])
    step = Difference("s").fit(Simulations(s=padded))
    out = step.transform(Simulations(s=padded))["s"]
    np.testing.assert_array_equal(out[:, :2], [[1.0, 2.0]])
    assert np.isnan(out[:, 2:]).all()
    np.testing.assert_array_equal(step.inverse_transform(Simulations(s=out))["s"], padded)


def test_bad_difference_steps(walks):
    _, sims = walks
    with pytest.raises(KeyError, match="unknown fields"):
        Difference("nope").fit(sims)
    with pytest.raises(ValueError, match="not a time axis"):
        Difference("mu", axis=0).fit(sims)
    with pytest.raises(ValueError, match="not a time axis"):
        Difference("walk", axis=3).fit(sims)
    with pytest.raises(ValueError, match="at least one field"):
        Difference([]).fit(sims)
    with pytest.raises(TypeError, match="not numeric"):
        Difference("label").fit(Simulations(label=np.array([["a", "b"]])))
