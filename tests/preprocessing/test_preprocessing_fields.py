"""Field steps: Rename, Keep, Drop, Concatenate, Broadcast, ExpandDims, AsSet, AsTimeSeries,
Unflatten."""

import numpy as np
import pandas as pd
import pytest

from sklearn_sbi.preprocessing import (
    AsSet,
    AsTimeSeries,
    Broadcast,
    Concatenate,
    Drop,
    ExpandDims,
    Keep,
    Rename,
    Unflatten,
)
from sklearn_sbi.simulations import Simulations


@pytest.fixture
def sims():
    rng = np.random.default_rng(0)
    return Simulations(
        mu=rng.normal(size=(4, 2)),
        obs=rng.normal(size=(4, 20, 2)),
        time=np.broadcast_to(np.linspace(0, 1, 20)[None, :, None], (4, 20, 1)),
        series=rng.normal(size=(4, 20)),
        count=np.arange(4, dtype=np.int64),
    )


def assert_same(a, b):
    assert list(a.keys()) == list(b.keys())
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
        assert a[name].dtype == b[name].dtype


@pytest.mark.parametrize(
    "transformer, fields_out",
    [
        (Rename({"obs": "input_a"}), ["mu", "input_a", "time", "series", "count"]),
        (Concatenate(["obs", "time"], into="input_b"), ["mu", "input_b", "series", "count"]),
        (Concatenate(["mu", "count"], into="flat"), ["flat", "obs", "time", "series"]),
        (Concatenate(["obs", "series"], into="both", axis=1), ["mu", "both", "time", "count"]),
        (Broadcast("mu", to="obs"), ["mu", "obs", "time", "series", "count"]),
        (ExpandDims("series"), ["mu", "obs", "time", "series", "count"]),
        (ExpandDims(["series", "mu"], axis=1), ["mu", "obs", "time", "series", "count"]),
        (AsSet("series"), ["mu", "obs", "time", "series", "count"]),
        (AsTimeSeries(["series", "obs"]), ["mu", "obs", "time", "series", "count"]),
    ],
)
def test_invertible_field_steps_round_trip(sims, transformer, fields_out):
    if isinstance(transformer, Concatenate) and transformer.axis == 1:
        sims = Simulations({**sims.to_dict(), "series": sims["series"][:, :, None].repeat(2, -1)})
    out = transformer.fit_transform(sims)
    assert list(out.keys()) == fields_out
    assert list(transformer.get_feature_names_out()) == fields_out
    assert_same(transformer.inverse_transform(out), sims)


def test_shapes_of_field_steps(sims):
    assert Concatenate(["obs", "time"], into="b").fit_transform(sims)["b"].shape == (4, 20, 3)
    joined = Concatenate(["obs", "time"], into="b").fit_transform(sims)["b"]
    np.testing.assert_array_equal(joined[..., 2:], sims["time"])
    broadcast = Broadcast("mu", to="obs").fit_transform(sims)["mu"]
    assert broadcast.shape == (4, 20, 2)
    np.testing.assert_array_equal(broadcast[:, 7], sims["mu"])
    assert ExpandDims("series", axis=1).fit_transform(sims)["series"].shape == (4, 1, 20)
    assert AsSet("series").fit_transform(sims)["series"].shape == (4, 20, 1)


def test_keep_and_drop(sims):
    kept = Keep(["time", "mu"]).fit(sims)
    assert list(kept.transform(sims).keys()) == ["time", "mu"]
    assert list(Drop("series").fit_transform(sims).keys()) == ["mu", "obs", "time", "count"]
    assert kept.inverse_transform(kept.transform(sims)).keys() == kept.transform(sims).keys()


@pytest.mark.parametrize(
    "transformer",
    [
        Rename({"nope": "a"}),
        Keep(["mu", "nope"]),
        Drop("nope"),
        Concatenate(["obs", "nope"], into="b"),
        Broadcast("nope", to="obs"),
        ExpandDims("nope"),
        AsSet("nope"),
    ],
)
def test_unknown_fields_are_reported_with_the_known_ones(sims, transformer):
    with pytest.raises(KeyError, match=r"unknown fields \['nope'\]; known fields are \['count'"):
        transformer.fit(sims)


def test_bad_field_steps(sims):
    with pytest.raises(ValueError, match="duplicate fields"):
        Rename({"obs": "mu"}).fit(sims)
    with pytest.raises(ValueError, match="already a field"):
        Concatenate(["obs", "time"], into="mu").fit(sims)
    with pytest.raises(ValueError, match="same number of axes"):
        Concatenate(["obs", "mu"], into="b").fit(sims)
    with pytest.raises(ValueError, match="disagree outside axis"):
        Concatenate(["obs", "time"], into="b", axis=1).fit(sims)
    with pytest.raises(ValueError, match="not a data axis"):
        ExpandDims("mu", axis=0).fit(sims)
    with pytest.raises(ValueError, match="must be flat"):
        Broadcast("obs", to="obs").fit(sims)
    with pytest.raises(ValueError, match=r"shape \(n, m\) or \(n, m, d\)"):
        AsSet("obs").fit(Simulations(obs=np.zeros((2, 3, 4, 5))))
    with pytest.raises(ValueError, match="at least one field"):
        Keep([]).fit(sims)


def test_unflatten_reads_rows_as_sets_and_flattens_back():
    X = np.arange(24.0).reshape(3, 8)
    step = Unflatten((4, 2), name="draws").fit(X)
    sims = step.transform(X)
    assert list(sims.keys()) == ["draws"]
    assert sims["draws"].shape == (3, 4, 2)
    np.testing.assert_array_equal(sims["draws"][1, 2], [12.0, 13.0])  # C order: row 1, pair 2
    np.testing.assert_array_equal(step.inverse_transform(sims), X)
    assert step.get_feature_names_out().tolist() == ["draws"]
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(8)])
    fitted = Unflatten((4, 2)).fit(frame)
    assert fitted.feature_names_in_.tolist() == list(frame.columns)
    np.testing.assert_array_equal(fitted.transform(frame)["x"], sims["draws"])


@pytest.mark.parametrize(
    "step, X, match",
    [
        (Unflatten((4, 2)), np.zeros((2, 7)), "7 columns"),
        (Unflatten((0, 2)), np.zeros((2, 8)), "positive ints"),
        (Unflatten(8), np.zeros((2, 8)), "tuple"),
        (Unflatten((4, 2), name=3), np.zeros((2, 8)), "name"),
    ],
)
def test_bad_unflatten_is_explained(step, X, match):
    with pytest.raises((ValueError, TypeError), match=match):
        step.fit(X)


def test_unflatten_checks_what_it_inverts():
    step = Unflatten((4, 2)).fit(np.zeros((2, 8)))
    with pytest.raises(ValueError, match="per-simulation shape"):
        step.inverse_transform(Simulations(x=np.zeros((2, 2, 4))))
    with pytest.raises(KeyError, match="x"):
        step.inverse_transform(Simulations(y=np.zeros((2, 4, 2))))
    with pytest.raises(ValueError, match="8 features"):
        step.transform(np.zeros((2, 6)))
