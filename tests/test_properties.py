"""Property-based tests: Simulations round trips and invertible transformers."""

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sklearn_sbi.preprocessing import (
    Concatenate,
    Constrain,
    Log,
    NanToNum,
    OneHot,
    Sqrt,
    Standardize,
)
from sklearn_sbi.simulations import Simulations

SETTINGS = settings(max_examples=25, deadline=None)
FINITE = st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False)


@st.composite
def simulations(draw, min_n=1):
    n = draw(st.integers(min_n, 8))
    names = draw(st.lists(st.sampled_from(["a", "b", "theta", "x_obs"]), min_size=1, unique=True))
    fields = {}
    for name in names:
        trailing = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
        fields[name] = draw(hnp.arrays(np.float64, (n, *trailing), elements=FINITE))
    return Simulations(fields)


def assert_same(a, b):
    assert list(a.keys()) == list(b.keys())
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


@SETTINGS
@given(simulations(), st.data())
def test_indexing_matches_numpy_on_every_field(sims, data):
    n = len(sims)
    index = data.draw(hnp.arrays(np.int64, st.integers(0, 2 * n), elements=st.integers(0, n - 1)))
    mask = data.draw(hnp.arrays(np.bool_, n))
    for key in (index, mask, (index, Ellipsis)):
        rows = key[0] if isinstance(key, tuple) else key
        picked = sims[key]
        assert len(picked) == len(sims[next(iter(sims.keys()))][rows])
        for name in sims:
            np.testing.assert_array_equal(picked[name], sims[name][rows])


@SETTINGS
@given(simulations(), st.data())
def test_concat_of_a_split_is_the_original(sims, data):
    cut = data.draw(st.integers(0, len(sims)))
    assert_same(Simulations.concat([sims[:cut], sims[cut:]]), sims)


@SETTINGS
@given(simulations())
def test_pandas_and_npz_round_trips(sims):
    assert_same(Simulations.from_pandas(sims.to_pandas()), sims)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sims.npz"
        sims.save(path)
        assert_same(Simulations.load(path), sims)


def columns(low=-1e3, high=1e3, min_rows=2):
    shape = st.tuples(st.integers(min_rows, 12), st.integers(1, 4))
    elements = st.floats(low, high, allow_nan=False, allow_subnormal=False)
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def bounded(draw):
    """Data with per-column bounds: both, lower only, upper only or none."""
    y = draw(columns(-10, 10))
    kinds = draw(st.lists(st.sampled_from("blun"), min_size=y.shape[1], max_size=y.shape[1]))
    gaps = draw(st.floats(0.01, 5.0))
    lower = [y[:, j].min() - gaps if k in "bl" else None for j, k in enumerate(kinds)]
    upper = [y[:, j].max() + gaps if k in "bu" else None for j, k in enumerate(kinds)]
    return Constrain(lower=lower, upper=upper), y


def invertible_cases():
    return st.one_of(
        bounded(),
        columns(1e-3, 1e3).map(lambda y: (Log(), y)),
        columns(0.0, 1e3).map(lambda y: (Log(p1=True), y)),
        columns(1e-3, 1e3).map(lambda y: (Sqrt(), y)),
        columns().map(lambda y: (Standardize(), y)),
    )


@SETTINGS
@given(invertible_cases())
def test_inverse_undoes_transform(case):
    transformer, y = case
    z = transformer.fit(y).transform(y)
    np.testing.assert_allclose(transformer.inverse_transform(z), y, rtol=1e-7, atol=1e-9)


@SETTINGS
@given(invertible_cases())
def test_log_det_matches_a_finite_difference_jacobian(case):
    transformer, y = case
    transformer.fit(y)
    eps = 1e-6 * np.maximum(np.abs(y), 1e-3)
    slopes = (transformer.transform(y + eps) - transformer.transform(y - eps)) / (2 * eps)
    np.testing.assert_allclose(
        transformer.log_abs_det_jacobian(y),
        np.log(np.abs(slopes)).sum(axis=1),
        rtol=1e-4,
        atol=1e-4,
    )


@SETTINGS
@given(columns(-5, 5), st.data())
def test_nan_to_num_restores_the_missing_entries(y, data):
    missing = data.draw(hnp.arrays(np.bool_, y.shape))
    y = np.where(missing, np.nan, y)
    fill = NanToNum(value=data.draw(FINITE)).fit(y)
    np.testing.assert_array_equal(fill.inverse_transform(fill.transform(y)), y)


@SETTINGS
@given(
    hnp.arrays(
        np.int64, st.tuples(st.integers(1, 12), st.integers(1, 3)), elements=st.integers(-3, 3)
    )
)
def test_one_hot_round_trip(y):
    one_hot = OneHot().fit(y)
    hot = one_hot.transform(y)
    assert (hot.sum(axis=1) == y.shape[1]).all()
    np.testing.assert_array_equal(one_hot.inverse_transform(hot), y)


@SETTINGS
@given(simulations(), st.data())
def test_concatenate_round_trip_on_last_axis(sims, data):
    names = list(sims.keys())
    ndims = {name: sims[name].ndim for name in names}
    chosen = [name for name in names if ndims[name] == ndims[names[0]]]
    middle = {sims[name].shape[1:-1] for name in chosen}
    if len(middle) > 1:
        chosen = [chosen[0]]
    order = data.draw(st.permutations(chosen))
    step = Concatenate(order, into="joined").fit(sims)
    assert_same(step.inverse_transform(step.transform(sims)), sims)
