"""Log, Sqrt, Constrain: values, bounds, Jacobians, fields, bad input."""

import numpy as np
import pytest

from sklearn_sbi.preprocessing import Constrain, Log, Sqrt
from sklearn_sbi.simulations import Simulations


def numerical_log_det(transformer, y, eps=1e-6):
    """log|det J| of an entry-wise map from central differences of each column."""
    total = np.zeros(len(y))
    for j in range(y.shape[1]):
        step = np.zeros(y.shape[1])
        step[j] = eps
        slope = (transformer.transform(y + step) - transformer.transform(y - step))[:, j] / (
            2 * eps
        )
        total += np.log(np.abs(slope))
    return total


MIXED = Constrain(lower=[0.0, -1.0, None, None], upper=[1.0, None, 2.0, None])


def mixed_data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [
            rng.uniform(0.01, 0.99, n),
            rng.gamma(2, size=n) - 1,
            2 - rng.gamma(2, size=n),
            rng.normal(size=n),
        ]
    )


@pytest.mark.parametrize(
    "transformer, y",
    [
        (Log(), np.random.default_rng(1).gamma(2.0, size=(30, 3))),
        (Log(p1=True), np.random.default_rng(1).poisson(3.0, size=(30, 2)).astype(float)),
        (Sqrt(), np.random.default_rng(2).gamma(2.0, size=(30, 2)) + 0.1),
        (MIXED, mixed_data()),
        (Constrain(lower=-3.0, upper=5.0), np.random.default_rng(3).uniform(-2.9, 4.9, (30, 2))),
    ],
)
def test_round_trip_and_jacobian(transformer, y):
    z = transformer.fit(y).transform(y)
    assert np.isfinite(z).all()
    np.testing.assert_allclose(transformer.inverse_transform(z), y, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        transformer.log_abs_det_jacobian(y), numerical_log_det(transformer, y), rtol=1e-5, atol=1e-6
    )


def test_constrain_maps_match_their_formulas():
    y = mixed_data(5)
    z = MIXED.fit_transform(y)
    np.testing.assert_allclose(z[:, 0], np.log(y[:, 0] / (1 - y[:, 0])))
    np.testing.assert_allclose(z[:, 1], np.log(y[:, 1] + 1))
    np.testing.assert_allclose(z[:, 2], np.log(2 - y[:, 2]))
    np.testing.assert_array_equal(z[:, 3], y[:, 3])


def test_inverse_stays_strictly_inside_the_bounds():
    constrain = Constrain(lower=[0.0, 1.0], upper=[1.0, None]).fit(np.array([[0.5, 2.0]]))
    extreme = np.array([[-1e4, -1e4], [1e4, 1e4], [40.0, -800.0]])
    y = constrain.inverse_transform(extreme)
    assert (y[:, 0] > 0).all() and (y[:, 0] < 1).all()
    assert (y[:, 1] > 1).all()


def test_fields_mode_transforms_selected_fields():
    sims = Simulations(sigma=np.array([0.5, 2.0, 4.0]), x=np.array([-1.0, 0.0, 1.0]))
    log = Log(fields="sigma").fit(sims)
    out = log.transform(sims)
    np.testing.assert_allclose(out["sigma"].ravel(), np.log([0.5, 2.0, 4.0]))
    np.testing.assert_array_equal(out["x"], sims["x"])
    np.testing.assert_allclose(log.log_abs_det_jacobian(sims), -np.log([0.5, 2.0, 4.0]))
    np.testing.assert_allclose(log.inverse_transform(out)["sigma"], sims["sigma"])


def test_domain_errors():
    with pytest.raises(ValueError, match=r"Log needs strictly positive.*1 entries of X"):
        Log().fit(np.array([[1.0], [0.0]]))
    with pytest.raises(ValueError, match="Sqrt needs non-negative"):
        Sqrt().fit(np.array([[1.0], [4.0]])).transform(np.array([[-1.0]]))
    with pytest.raises(ValueError, match=r"strictly inside.*field 'p'"):
        Constrain(lower=0, upper=1).fit(Simulations(p=np.array([0.5, 1.0])))
    with pytest.raises(ValueError, match=r"Log needs.*field 'x'"):
        Log().fit(Simulations(x=np.array([-1.0, 1.0])))


def test_bad_bounds():
    with pytest.raises(ValueError, match="lower must be below upper"):
        Constrain(lower=1.0, upper=0.0).fit(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="one per column"):
        Constrain(lower=[0.0, 1.0, 2.0]).fit(np.ones((2, 2)) * 5)
    with pytest.raises(ValueError, match="lower must be a number"):
        Constrain(lower="zero").fit(np.ones((2, 2)))
    with pytest.raises(KeyError, match=r"unknown fields \['nope'\]; known fields are \['x'\]"):
        Log(fields="nope").fit(Simulations(x=np.ones(3)))
    with pytest.raises(ValueError, match="must be None for arrays"):
        Log(fields="x").fit(np.ones((3, 1)))
