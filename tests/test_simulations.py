"""Simulations: indexing, xy, pandas round trip, concat, save/load, scikit-learn splitting."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split

from sklearn_sbi.simulations import Simulations, as_simulations


@pytest.fixture
def sims():
    rng = np.random.default_rng(0)
    n = 6
    return Simulations(
        mu=rng.normal(size=(n, 2)),
        sigma=rng.gamma(2.0, size=n),
        x=rng.normal(size=(n, 5, 2)),
        label=np.arange(n),
    )


def test_scalars_per_simulation_become_one_column(sims):
    assert sims.shape == (6,) and len(sims) == 6 and sims.ndim == 1
    assert sims["sigma"].shape == (6, 1)


@pytest.mark.parametrize(
    "key",
    [np.array([4, 1]), np.arange(6) % 2 == 0, slice(1, 4), (np.array([0, 5]), Ellipsis), [2, 3]],
)
def test_indexing_selects_simulations_in_every_field(sims, key):
    rows = key[0] if isinstance(key, tuple) else key
    picked = sims[key]
    assert isinstance(picked, Simulations)
    for name in sims:
        np.testing.assert_array_equal(picked[name], sims[name][rows])


def test_bad_keys(sims):
    with pytest.raises(KeyError, match=r"unknown fields \['nope'\]; known fields are"):
        sims["nope"]
    with pytest.raises(IndexError, match="simulation axis only"):
        sims[0, 1]
    with pytest.raises(IndexError, match="Boolean mask"):
        sims[np.array([True, False])]
    with pytest.raises(ValueError, match="same number of simulations"):
        Simulations(a=np.zeros(3), b=np.zeros(4))


def test_xy_gives_data_fields_and_flat_named_parameter_columns(sims):
    X, y = sims.xy(["mu", "sigma"])
    assert list(X.keys()) == ["x", "label"]
    assert list(y.columns) == ["mu[0]", "mu[1]", "sigma"]
    np.testing.assert_array_equal(y.to_numpy(), np.hstack([sims["mu"], sims["sigma"]]))
    X, y = sims.xy("sigma", data="x")
    assert list(X.keys()) == ["x"] and list(y.columns) == ["sigma"]


def test_xy_bad_input(sims):
    with pytest.raises(ValueError, match="both as parameters and as data"):
        sims.xy("mu", data=["mu", "x"])
    with pytest.raises(ValueError, match=r"must be flat.*'x': \(5, 2\)"):
        sims.xy("x")
    with pytest.raises(KeyError, match=r"xy\(parameters=...\): unknown fields \['theta'\]"):
        sims.xy("theta")


def test_pandas_round_trip_with_set_fields(sims):
    frame = sims.to_pandas()
    assert list(frame.columns) == ["mu[0]", "mu[1]", "sigma", "x", "label"]
    assert frame["x"].dtype == object and frame["x"].iloc[2].shape == (5, 2)
    back = Simulations.from_pandas(frame)
    assert list(back.keys()) == list(sims.keys())
    for name in sims:
        np.testing.assert_array_equal(back[name], sims[name])
        assert back[name].dtype == sims[name].dtype


def test_from_pandas_pads_ragged_sets_with_nan():
    rows = np.empty(2, dtype=object)
    rows[:] = [np.ones((3, 2)), np.ones((1, 2))]
    back = Simulations.from_pandas(pd.DataFrame({"x": rows, "theta": [0.5, 1.5]}))
    assert back["x"].shape == (2, 3, 2)
    assert np.isnan(back["x"][1, 1:]).all() and (back["x"][1, 0] == 1).all()


def test_from_pandas_bad_frames():
    with pytest.raises(ValueError, match="without gaps"):
        Simulations.from_pandas(pd.DataFrame({"a[0]": [1.0], "a[2]": [2.0]}))
    with pytest.raises(ValueError, match="cannot both be present"):
        Simulations.from_pandas(pd.DataFrame({"a": [1.0], "a[0]": [2.0]}))
    rows = np.empty(2, dtype=object)
    rows[:] = [np.ones((3, 2)), np.ones((3, 4))]
    with pytest.raises(ValueError, match="differ beyond their first axis"):
        Simulations.from_pandas(pd.DataFrame({"x": rows}))
    with pytest.raises(TypeError, match="DataFrame"):
        Simulations.from_pandas({"a": [1.0]})


def test_from_pandas_nullable_columns_become_nan():
    frame = pd.DataFrame({"k": pd.array([1, None, 3], dtype="Int64")})
    values = Simulations.from_pandas(frame)["k"].ravel()
    assert np.isnan(values[1]) and values[2] == 3


def test_concat_stacks_simulations(sims):
    joined = Simulations.concat([sims[:2], sims[2:]])
    for name in sims:
        np.testing.assert_array_equal(joined[name], sims[name])


def test_concat_bad_input(sims):
    with pytest.raises(ValueError, match="item 1 has fields"):
        Simulations.concat([sims, sims.select(["mu"])])
    with pytest.raises(ValueError, match="field 'a' has different shapes"):
        Simulations.concat([Simulations(a=np.zeros((2, 3))), Simulations(a=np.zeros((2, 4)))])
    with pytest.raises(ValueError, match="at least one"):
        Simulations.concat([])
    with pytest.raises(TypeError, match="Simulations only"):
        Simulations.concat([sims, {"mu": 1}])


def test_save_load_round_trip_without_pickle(sims, tmp_path):
    path = tmp_path / "sims.npz"
    odd_names = Simulations(file=np.ones(6), allow_pickle=np.zeros((6, 2)))
    for item in (sims, odd_names):
        item.save(path)
        with np.load(path, allow_pickle=False) as archive:
            assert archive.files == list(item.keys())
        back = Simulations.load(path)
        assert list(back.keys()) == list(item.keys())
        for name in item:
            np.testing.assert_array_equal(back[name], item[name])


def test_save_rejects_object_fields(tmp_path):
    objects = Simulations(x=np.array([{"a": 1}, {"b": 2}], dtype=object))
    with pytest.raises(TypeError, match=r"\['x'\] hold Python objects"):
        objects.save(tmp_path / "bad.npz")


def test_repr_lists_fields_shapes_and_dtypes(sims):
    text = repr(sims)
    assert text.startswith("Simulations(n=6")
    assert "x: (5, 2) float64" in text and "label: (1,) int64" in text


def test_as_simulations(sims):
    assert as_simulations(sims) is sims
    from_frame = as_simulations(sims.to_pandas())
    np.testing.assert_array_equal(from_frame["x"], sims["x"])
    with pytest.raises(TypeError, match=r"Simulations\(\*\*d\)"):
        as_simulations(sims.to_dict())
    with pytest.raises(TypeError, match="Expected Simulations"):
        as_simulations(np.zeros((3, 2)))


class FieldRidge(RegressorMixin, BaseEstimator):
    """A minimal estimator that reads one field of a Simulations."""

    def __init__(self, field="x", alpha=1.0):
        self.field = field
        self.alpha = alpha

    def fit(self, X, y):
        assert isinstance(X, Simulations)
        self.ridge_ = Ridge(alpha=self.alpha).fit(X[self.field], y)
        return self

    def predict(self, X):
        assert isinstance(X, Simulations)
        return self.ridge_.predict(X[self.field])


@pytest.fixture
def regression():
    rng = np.random.default_rng(1)
    sims = Simulations(theta=rng.normal(size=(60, 2)), x=rng.normal(size=(60, 3)))
    sims = Simulations(
        theta=sims["x"] @ np.array([[1.0, 0.0], [2.0, 1.0], [0.0, -1.0]]), x=sims["x"]
    )
    return sims.xy("theta")


def test_train_test_split_keeps_rows_aligned(regression):
    X, y = regression
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    assert isinstance(X_train, Simulations) and len(X_train) == len(y_train) == 45
    assert len(X_test) == 15
    expected = X_test["x"] @ np.array([[1.0, 0.0], [2.0, 1.0], [0.0, -1.0]])
    np.testing.assert_allclose(y_test.to_numpy(), expected)


def test_cross_val_score_splits_simulations(regression):
    X, y = regression
    scores = cross_val_score(FieldRidge(alpha=1e-8), X, y, cv=3)
    assert scores.shape == (3,)
    np.testing.assert_allclose(scores, 1.0, atol=1e-6)


def test_grid_search_indexes_simulations(regression):
    X, y = regression
    search = GridSearchCV(FieldRidge(), {"alpha": [1e-6, 1e3]}, cv=3).fit(X, y)
    assert search.best_params_ == {"alpha": 1e-6}
    assert isinstance(search.predict(X[:4]), np.ndarray)


def test_parquet_round_trip_of_set_fields(tmp_path):
    pytest.importorskip("pyarrow")
    rng = np.random.default_rng(0)
    sims = Simulations(mu=rng.normal(size=(4, 2)), obs=rng.normal(size=(4, 5, 2)))
    frame = sims.to_pandas()
    # Parquet stores a per-row array as nested lists; it reads back as arrays of arrays.
    frame["obs"] = frame["obs"].map(lambda cell: cell.tolist())
    frame.to_parquet(tmp_path / "sims.parquet")
    back = Simulations.from_pandas(pd.read_parquet(tmp_path / "sims.parquet"))
    assert back["obs"].shape == (4, 5, 2)
    np.testing.assert_allclose(back["obs"], sims["obs"])
    np.testing.assert_allclose(back["mu"], sims["mu"])
