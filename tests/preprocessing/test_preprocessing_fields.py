"""Field steps: Rename, Keep, Drop, Concatenate, Broadcast, ExpandDims, AsSet, AsTimeSeries."""

import numpy as np
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
