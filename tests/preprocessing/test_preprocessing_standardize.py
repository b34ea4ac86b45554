"""Standardize: pooled, frozen moments on fields; per-column on arrays."""

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from sklearn_sbi.preprocessing import Standardize
from sklearn_sbi.simulations import Simulations


@pytest.fixture
def sims():
    rng = np.random.default_rng(0)
    return Simulations(
        theta=rng.normal(3.0, 2.0, size=(200, 2)),
        x=rng.normal([1.0, -5.0], [0.5, 4.0], size=(200, 7, 2)),
        k=rng.integers(0, 3, size=200),
    )


def test_moments_are_pooled_over_batch_and_set_axes(sims):
    standardize = Standardize().fit(sims)
    assert standardize.fields_ == ["theta", "x"]
    np.testing.assert_allclose(standardize.mean_["x"], sims["x"].mean(axis=(0, 1)))
    np.testing.assert_allclose(standardize.scale_["x"], sims["x"].std(axis=(0, 1)))
    z = standardize.transform(sims)
    np.testing.assert_allclose(z["x"].mean(axis=(0, 1)), 0.0, atol=1e-12)
    np.testing.assert_allclose(z["x"].std(axis=(0, 1)), 1.0)
    np.testing.assert_array_equal(z["k"], sims["k"])


def test_statistics_are_frozen_after_fit(sims):
    standardize = Standardize(include="x").fit(sims)
    shifted = Simulations(x=sims["x"] + 100.0)
    z = standardize.transform(shifted)
    np.testing.assert_allclose(z["x"].mean(axis=(0, 1)), 100.0 / standardize.scale_["x"], rtol=1e-3)
    np.testing.assert_allclose(standardize.mean_["x"], sims["x"].mean(axis=(0, 1)))


def test_include_exclude_and_inverse(sims):
    standardize = Standardize(exclude="theta").fit(sims)
    z = standardize.transform(sims)
    np.testing.assert_array_equal(z["theta"], sims["theta"])
    back = standardize.inverse_transform(z)
    np.testing.assert_allclose(back["x"], sims["x"])
    assert list(standardize.get_feature_names_out()) == ["theta", "x", "k"]


def test_nan_padding_is_ignored_and_kept(sims):
    x = sims["x"].copy()
    x[:, 5:] = np.nan
    standardize = Standardize().fit(Simulations(x=x))
    np.testing.assert_allclose(standardize.mean_["x"], np.nanmean(x, axis=(0, 1)))
    assert np.isnan(standardize.transform(Simulations(x=x))["x"][:, 5:]).all()


def test_arrays_match_standard_scaler_and_keep_float32():
    X = np.random.default_rng(2).normal(4.0, 3.0, size=(50, 3)).astype(np.float32)
    standardize = Standardize().fit(X)
    np.testing.assert_allclose(
        standardize.transform(X), StandardScaler().fit_transform(X), rtol=1e-5
    )
    assert standardize.transform(X).dtype == np.float32
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    assert list(Standardize().fit(frame).get_feature_names_out()) == ["a", "b", "c"]


def test_log_abs_det_jacobian_is_minus_sum_log_scale(sims):
    standardize = Standardize().fit(sims["theta"])
    expected = -np.log(sims["theta"].std(axis=0)).sum()
    np.testing.assert_allclose(standardize.log_abs_det_jacobian(sims["theta"][:4]), expected)
    on_fields = Standardize(include="x").fit(sims)
    per_row = -7 * np.log(on_fields.scale_["x"]).sum()
    np.testing.assert_allclose(on_fields.log_abs_det_jacobian(sims[:3]), per_row)


def test_bad_input(sims):
    with pytest.raises(
        KeyError, match=r"unknown fields \['y'\]; known fields are \['k', 'theta', 'x'\]"
    ):
        Standardize(include="y").fit(sims)
    with pytest.raises(ValueError, match="ColumnTransformer"):
        Standardize(exclude="a").fit(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="fitted on Simulations"):
        Standardize().fit(sims).transform(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="fitted on a 2-D array"):
        Standardize().fit(np.zeros((3, 2))).transform(sims)
    with pytest.raises(TypeError, match=r"Simulations\(\*\*d\)"):
        Standardize().fit(sims.to_dict())
