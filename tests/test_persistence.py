"""Safe persistence: bit-identical round trips, pipelines, and clear errors on bad files."""

import json
import os
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sklearn_sbi import AmortizedPosterior, PosteriorPipeline, Simulations, make_posterior_pipeline
from sklearn_sbi.networks import MLP, FlowMatching, FusionEncoder, SetTransformer
from sklearn_sbi.persistence import FORMAT_VERSION, _checksum, load_estimator, save_estimator
from sklearn_sbi.preprocessing import Constrain, Log

METADATA_KEY = "sklearn_sbi"


def _tiny(inference_net="flow_matching", **params):
    params = {"max_epochs": 2, "batch_size": 64, "random_state": 0, **params}
    est = AmortizedPosterior(inference_net, **params)
    return est.set_params(inference_net__widths=(16, 16))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    theta = rng.uniform(0.05, 0.95, size=(200, 2))
    x = theta + 0.1 * rng.normal(size=(200, 2))
    return x, theta


@pytest.fixture(scope="module")
def fitted(data):
    return _tiny().fit(*data)


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model.safetensors"
    fitted.save(path)
    return path


def _assert_same_posterior(original, loaded, X, y, with_log_prob=True):
    np.testing.assert_array_equal(
        loaded.sample(X, 30, random_state=3), original.sample(X, 30, random_state=3)
    )
    if with_log_prob:
        np.testing.assert_array_equal(loaded.log_prob(X, y), original.log_prob(X, y))


def _read(path):
    with safe_open(path, framework="pt") as handle:
        document = json.loads(handle.metadata()[METADATA_KEY])
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    return document, tensors


def _write(path, document, tensors, *, update_checksum=True):
    if update_checksum:
        document["checksum"] = _checksum(tensors)
    save_file(tensors, path, metadata={METADATA_KEY: json.dumps(document)})


@pytest.mark.parametrize(
    "network", ["flow_matching", "consistency", "affine_coupling", "spline_coupling"]
)
def test_round_trip_is_bit_identical(network, data, tmp_path):
    x, theta = data
    est = _tiny(network).fit(x, theta)
    est.save(tmp_path / "est.safetensors")
    loaded = AmortizedPosterior.load(tmp_path / "est.safetensors")
    _assert_same_posterior(
        est, loaded, x[:4], theta[:4], with_log_prob=est.inference_net_.has_log_prob
    )
    np.testing.assert_array_equal(loaded.predict(x[:4]), est.predict(x[:4]))
    assert repr(loaded.get_params()) == repr(est.get_params())
    assert loaded.get_params()["inference_net__widths"] == (16, 16)  # tuple kept
    for name in ("param_names_", "loss_curve_", "validation_scores_", "n_iter_", "best_epoch_"):
        assert getattr(loaded, name) == getattr(est, name)
    assert loaded.field_shapes_ == est.field_shapes_
    assert isinstance(loaded.field_shapes_["X"], tuple)


def test_everything_loads_on_cpu_as_numpy(saved, fitted):
    loaded = AmortizedPosterior.load(saved)
    tensors = [*loaded.network_.parameters(), *loaded.network_.buffers()]
    assert tensors and all(t.device.type == "cpu" for t in tensors)
    assert not loaded.network_.training
    assert isinstance(loaded.target_mean_, np.ndarray)
    assert loaded.target_mean_.dtype == fitted.target_mean_.dtype
    for loaded_moment, moment in zip(
        loaded.input_moments_["X"], fitted.input_moments_["X"], strict=True
    ):
        np.testing.assert_array_equal(loaded_moment, moment)
    assert not hasattr(loaded, "_optimizer_state")


def test_loading_never_unpickles_and_keeps_the_global_rng(saved, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("load must not unpickle")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    AmortizedPosterior.load(saved)
    assert torch.equal(torch.get_rng_state(), before)


def test_dataframe_names_are_kept(data, tmp_path):
    x, theta = data
    X = pd.DataFrame(x, columns=["first", "second"])
    y = pd.DataFrame(theta, columns=["mu", "sigma"])
    est = _tiny().fit(X, y)
    est.save(tmp_path / "frame.safetensors")
    loaded = AmortizedPosterior.load(tmp_path / "frame.safetensors")
    assert list(loaded.feature_names_in_) == ["first", "second"]
    assert loaded.feature_names_in_.dtype == object
    assert loaded.param_names_ == ["mu", "sigma"]
    pd.testing.assert_frame_equal(
        loaded.sample(X[:2], 5, random_state=0, as_frame=True),
        est.sample(X[:2], 5, random_state=0, as_frame=True),
    )
    with pytest.raises(ValueError, match="feature names"):
        loaded.sample(X[:2].rename(columns={"first": "other"}), 5)


@pytest.mark.parametrize(
    "transform", [Constrain(lower=0, upper=1), Constrain(lower=[0.0, None]), Log()]
)
def test_target_transform_round_trip(transform, data, tmp_path):
    x, theta = data
    est = _tiny(target_transform=transform).fit(x, theta)
    est.save(tmp_path / "constrained.safetensors")
    loaded = AmortizedPosterior.load(tmp_path / "constrained.safetensors")
    assert type(loaded.target_transform_) is type(transform)
    assert loaded.target_transform_.get_params() == transform.get_params()
    _assert_same_posterior(est, loaded, x[:3], theta[:3])


def test_y_1d_and_random_state_instance_round_trip(data, tmp_path):
    x, theta = data
    est = _tiny(random_state=np.random.RandomState(7)).fit(x, theta[:, 0])
    est.save(tmp_path / "one.safetensors")
    loaded = AmortizedPosterior.load(tmp_path / "one.safetensors")
    assert loaded.predict(x[:3]).shape == (3,)
    np.testing.assert_array_equal(loaded.predict(x[:3]), est.predict(x[:3]))
    assert isinstance(loaded.random_state, np.random.RandomState)


def _set_data(n=160, set_size=6, seed=0):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(n, 2))
    obs = theta[:, None, :] + rng.normal(size=(n, set_size, 2))
    return Simulations(obs=obs, flat=theta[:, :1] + rng.normal(size=(n, 1))), theta


@pytest.mark.parametrize(
    "summary_net",
    [
        SetTransformer(summary_dim=4, embed_dim=8, num_heads=2, num_layers=1),
        FusionEncoder(
            [
                ("sets", SetTransformer(summary_dim=4, embed_dim=8, num_heads=2), "obs"),
                ("flat", MLP(widths=(8,), output_dim=3), "flat"),
            ],
            head=MLP(widths=(8,), output_dim=4),
        ),
    ],
    ids=["set_transformer", "fusion"],
)
def test_summary_network_round_trip(summary_net, tmp_path):
    X, theta = _set_data()
    est = _tiny(summary_net=summary_net).fit(X, theta)
    est.save(tmp_path / "summary.safetensors")
    loaded = AmortizedPosterior.load(tmp_path / "summary.safetensors")
    assert repr(loaded.summary_net) == repr(summary_net)
    np.testing.assert_array_equal(loaded.embed(X[:5]), est.embed(X[:5]))
    _assert_same_posterior(est, loaded, X[:3], theta[:3])


def test_pipeline_round_trip(data, tmp_path):
    x, theta = data
    pipe = make_posterior_pipeline(StandardScaler(), _tiny()).fit(100 * x, theta)
    pipe.save(tmp_path / "pipe.safetensors")
    loaded = PosteriorPipeline.load(tmp_path / "pipe.safetensors")
    assert [name for name, _ in loaded.steps] == ["standardscaler", "amortizedposterior"]
    np.testing.assert_array_equal(loaded[0].scale_, pipe[0].scale_)
    np.testing.assert_array_equal(
        loaded.sample(100 * x[:3], 20, random_state=1), pipe.sample(100 * x[:3], 20, random_state=1)
    )
    np.testing.assert_array_equal(
        loaded.log_prob(100 * x[:3], theta[:3]), pipe.log_prob(100 * x[:3], theta[:3])
    )
    with pytest.raises(TypeError, match=r"holds a PosteriorPipeline, not a AmortizedPosterior"):
        AmortizedPosterior.load(tmp_path / "pipe.safetensors")


def test_partial_fit_after_load_starts_a_fresh_optimizer(saved, data):
    x, theta = data
    loaded = AmortizedPosterior.load(saved)
    loaded.partial_fit(x, theta)
    assert np.isfinite(loaded.loss_curve_[-1])


def test_save_replaces_the_file_atomically(fitted, tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"old contents")
    fitted.save(path)
    assert os.listdir(tmp_path) == ["model.safetensors"]
    assert AmortizedPosterior.load(path).param_names_ == fitted.param_names_


# ---------------------------------------------------------------------- errors
def test_saving_unfitted_raises_not_fitted(tmp_path):
    with pytest.raises(NotFittedError):
        _tiny().save(tmp_path / "x.safetensors")
    with pytest.raises(NotFittedError):
        make_posterior_pipeline(StandardScaler(), _tiny()).save(tmp_path / "x.safetensors")
    assert not os.listdir(tmp_path)


def test_unsavable_step_is_named(data, tmp_path):
    x, theta = data
    pipe = make_posterior_pipeline(FunctionTransformer(lambda v: 2 * v), _tiny()).fit(x, theta)
    with pytest.raises(TypeError, match=r"func is a function, which cannot be saved"):
        pipe.save(tmp_path / "x.safetensors")
    assert not os.listdir(tmp_path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="No saved estimator"):
        AmortizedPosterior.load(tmp_path / "nothing.safetensors")


def test_newer_format_version_is_refused(saved, tmp_path):
    document, tensors = _read(saved)
    document["format_version"] = FORMAT_VERSION + 1
    _write(tmp_path / "newer.safetensors", document, tensors)
    with pytest.raises(ValueError, match=r"format version 2.*Upgrade sklearn-sbi"):
        AmortizedPosterior.load(tmp_path / "newer.safetensors")


def test_other_formats_are_refused(saved, tmp_path):
    _, tensors = _read(saved)
    save_file(tensors, tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="not an sklearn-sbi estimator"):
        AmortizedPosterior.load(tmp_path / "plain.safetensors")
    document, _ = _read(saved)
    document["format"] = "something-else"
    _write(tmp_path / "other.safetensors", document, tensors)
    with pytest.raises(ValueError, match="not an sklearn-sbi file"):
        AmortizedPosterior.load(tmp_path / "other.safetensors")


def _without_fitted(document, tensors):
    del document["estimator"]["fitted"]["param_names_"]


def _without_array(document, tensors):
    del tensors["array:0"]


def _without_weight(document, tensors):
    del tensors[next(key for key in tensors if key.startswith("network:"))]


def _without_estimator(document, tensors):
    del document["estimator"]


def _narrower_network(document, tensors):
    document["estimator"]["params"]["inference_net"]["params"]["widths"] = {"__tuple__": [8, 8]}


def _foreign_class(document, tensors):
    document["estimator"]["class"] = "os.system"


def _unknown_encoding(document, tensors):
    document["estimator"]["fitted"]["n_iter_"] = {"__lambda__": "print(1)"}


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (_without_fitted, "does not match its architecture"),
        (_without_array, "tensor 'array:0' is missing"),
        (_without_weight, "Missing key"),
        (_without_estimator, r"misses the entries \['estimator'\]"),
        (_narrower_network, "size mismatch"),
        (_foreign_class, r"only classes from \['sklearn_sbi.', 'sklearn.'\]"),
        (_unknown_encoding, "unknown encoding '__lambda__'"),
    ],
)
def test_damaged_contents_raise_value_error(edit, match, saved, tmp_path):
    document, tensors = _read(saved)
    edit(document, tensors)
    _write(tmp_path / "damaged.safetensors", document, tensors)
    with pytest.raises(ValueError, match=match):
        AmortizedPosterior.load(tmp_path / "damaged.safetensors")


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[: len(blob) // 2],
        lambda blob: blob[:-7],
        lambda blob: blob[:5],
        lambda blob: b"",
        lambda blob: np.random.default_rng(0).bytes(len(blob)),
        lambda blob: blob[:-40] + bytes(b ^ 0xFF for b in blob[-40:]),
        lambda blob: blob.replace(b"format_version", b"format_versiom"),
        lambda blob: blob.replace(b'class\\":', b'class\\";', 1),
    ],
    ids=["half", "tail", "head", "empty", "random", "flipped", "renamed_key", "bad_json"],
)
def test_corrupted_files_raise_value_error(damage, saved, tmp_path):
    path = tmp_path / "corrupted.safetensors"
    blob = saved.read_bytes()
    assert damage(blob) != blob
    path.write_bytes(damage(blob))
    with pytest.raises(ValueError, match=r"corrupted\.safetensors"):
        load_estimator(path)


def test_checksum_mismatch_is_reported(saved, tmp_path):
    document, tensors = _read(saved)
    key = next(key for key in tensors if key.startswith("network:"))
    tensors[key] = tensors[key] + 1.0
    _write(tmp_path / "tampered.safetensors", document, tensors, update_checksum=False)
    with pytest.raises(ValueError, match="do not match the checksum"):
        load_estimator(tmp_path / "tampered.safetensors")


def test_save_estimator_function_api(data, tmp_path):
    x, theta = data
    est = AmortizedPosterior(FlowMatching(widths=(8,)), max_epochs=1, random_state=0)
    est.fit(x, theta)
    save_estimator(est, tmp_path / "f.safetensors")
    loaded = load_estimator(tmp_path / "f.safetensors", expected_class=AmortizedPosterior)
    _assert_same_posterior(est, loaded, x[:2], theta[:2])
