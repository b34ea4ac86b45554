"""OneHot and NanToNum on fields and arrays."""

import numpy as np
import pytest

from sklearn_sbi.preprocessing import NanToNum, OneHot
from sklearn_sbi.simulations import Simulations


def test_one_hot_fields_replace_a_singleton_axis_or_add_one():
    sims = Simulations(k=np.array([2, 0, 2, 5]), seq=np.array([[0, 1], [1, 1], [0, 0], [1, 0]]))
    sims = Simulations({**sims.to_dict(), "x": np.zeros(4)})
    one_hot = OneHot().fit(sims)
    assert one_hot.fields_ == ["k", "seq"]
    out = one_hot.transform(sims)
    np.testing.assert_array_equal(out["k"], [[0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert out["seq"].shape == (4, 2, 2)
    np.testing.assert_array_equal(out["seq"][0], [[1, 0], [0, 1]])
    back = one_hot.inverse_transform(out)
    for name in sims:
        np.testing.assert_array_equal(back[name], sims[name])


def test_one_hot_arrays_and_names():
    X = np.array([[1, 10], [2, 10], [1, 30]])
    one_hot = OneHot().fit(X)
    np.testing.assert_array_equal(one_hot.transform(X), [[1, 0, 1, 0], [0, 1, 1, 0], [1, 0, 0, 1]])
    assert list(one_hot.get_feature_names_out()) == ["x0_1", "x0_2", "x1_10", "x1_30"]
    np.testing.assert_array_equal(one_hot.inverse_transform(one_hot.transform(X)), X)
    with pytest.raises(ValueError, match=r"column 1 has values not seen.*\[10, 30\]"):
        one_hot.transform(np.array([[1, 20]]))


def test_nan_to_num_fields_adds_masks_and_inverts():
    x = np.array([[1.0, np.nan], [np.nan, 4.0], [5.0, 6.0]])
    sims = Simulations(x=x, theta=np.arange(3.0))
    fill = NanToNum(fields="x", value=-1.0).fit(sims)
    out = fill.transform(sims)
    assert list(out.keys()) == ["x", "x_mask", "theta"]
    np.testing.assert_array_equal(out["x"], [[1, -1], [-1, 4], [5, 6]])
    np.testing.assert_array_equal(out["x_mask"], [[1, 0], [0, 1], [1, 1]])
    np.testing.assert_array_equal(fill.inverse_transform(out)["x"], x)
    with pytest.raises(ValueError, match="already exist"):
        NanToNum().fit(out)


def test_nan_to_num_arrays():
    X = np.array([[1.0, np.nan], [3.0, 4.0]])
    fill = NanToNum().fit(X)
    np.testing.assert_array_equal(fill.transform(X), [[1, 0, 1, 0], [3, 4, 1, 1]])
    assert list(fill.get_feature_names_out(["a", "b"])) == ["a", "b", "a_mask", "b_mask"]
    np.testing.assert_array_equal(fill.inverse_transform(fill.transform(X)), X)
    plain = NanToNum(mask=False).fit(X)
    np.testing.assert_array_equal(plain.transform(X), [[1, 0], [3, 4]])
    with pytest.raises(ValueError, match="expects 4 columns"):
        fill.inverse_transform(np.zeros((2, 3)))
