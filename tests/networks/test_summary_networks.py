"""One suite over every summary network: shapes, invariances, masking, errors, pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

from sklearn_sbi.networks.summary import (
    MLP,
    DeepSet,
    SetTransformer,
    TimeSeriesNetwork,
    TimeSeriesTransformer,
)

SET_ENCODERS = {
    "deep_set": DeepSet(summary_dim=4, hidden_dim=8),
    "deep_set_max_sum": DeepSet(summary_dim=4, hidden_dim=8, pooling=["max", "sum"]),
    "deep_set_moments": DeepSet(summary_dim=8, hidden_dim=8, set_moments=True),
    "set_transformer": SetTransformer(summary_dim=4, embed_dim=8, num_heads=2),
    "set_transformer_isab": SetTransformer(
        summary_dim=4, embed_dim=8, num_heads=2, num_inducing_points=3, num_seeds=2
    ),
}
SERIES_ENCODERS = {
    "ts_transformer_index": TimeSeriesTransformer(summary_dim=4, embed_dim=8, num_heads=2),
    "ts_transformer_time": TimeSeriesTransformer(
        summary_dim=4, time_axis=-1, embed_dim=8, num_heads=2
    ),
    "ts_network_gru": TimeSeriesNetwork(summary_dim=4, conv_channels=(8, 8), hidden_dim=8),
    "ts_network_lstm": TimeSeriesNetwork(
        summary_dim=4,
        conv_channels=(8,),
        kernel_size=5,
        recurrent="lstm",
        hidden_dim=8,
        num_recurrent_layers=2,
    ),
}
ALL_ENCODERS = {**SET_ENCODERS, **SERIES_ENCODERS}
N_FEATURES = 3


def build(spec, length=6, n_features=N_FEATURES, seed=0):
    torch.manual_seed(seed)
    return spec.build_fields({"x": (length, n_features)}).eval()


def encode(module, x):
    with torch.no_grad():
        return module({"x": x})


def random_data(batch, length, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, length, N_FEATURES, generator=generator)


@pytest.fixture(autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.mark.parametrize("name", ALL_ENCODERS)
def test_output_shape_and_fields(name):
    spec = ALL_ENCODERS[name]
    module = build(spec)
    out = encode(module, random_data(5, 6))
    assert out.shape == (5, spec.output_dim) == (5, spec.summary_dim)
    assert torch.isfinite(out).all()
    assert module.fields_read == ["x"]


@pytest.mark.parametrize("name", SET_ENCODERS)
def test_set_encoders_are_permutation_invariant(name):
    module = build(SET_ENCODERS[name])
    x = random_data(4, 6)
    x[1, 4:] = float("nan")  # padded rows move with the permutation too
    permutation = torch.randperm(6, generator=torch.Generator().manual_seed(3))
    expected = encode(module, x)
    shuffled = encode(module, x[:, permutation])
    torch.testing.assert_close(shuffled, expected, atol=1e-5, rtol=1e-5)
    # The summary does depend on the values: a broken constant encoder fails here.
    assert (encode(module, x + 0.5) - expected).abs().max() > 1e-3


@pytest.mark.parametrize("name", SERIES_ENCODERS)
def test_series_encoders_depend_on_order(name):
    module = build(SERIES_ENCODERS[name])
    x = random_data(4, 6)
    reversed_values = x.clone()
    # Reverse the values but keep the last feature (the time stamp for time_axis=-1) in place.
    reversed_values[..., :-1] = x[..., :-1].flip(1)
    reversed_steps = encode(module, reversed_values)
    assert (reversed_steps - encode(module, x)).abs().max() > 1e-4


@pytest.mark.parametrize("name", ALL_ENCODERS)
def test_padding_at_the_end_leaves_summaries_unchanged(name):
    module = build(ALL_ENCODERS[name])
    x = random_data(4, 6)
    longer = torch.cat([x, random_data(4, 3, seed=2)], dim=1)
    longer[:2, 6:] = float("nan")  # simulations 0 and 1 padded, 2 and 3 really longer
    padded = encode(module, longer)
    torch.testing.assert_close(padded[:2], encode(module, x)[:2], atol=1e-5, rtol=1e-5)
    assert (padded[2:] - encode(module, x)[2:]).abs().max() > 1e-4


@pytest.mark.parametrize("name", ALL_ENCODERS)
def test_variable_lengths_in_one_batch(name):
    module = build(ALL_ENCODERS[name])
    lengths = [6, 3, 1, 5]
    x = random_data(len(lengths), 6)
    for row, length in enumerate(lengths):
        x[row, length:] = float("nan")
    batch = encode(module, x)
    for row, length in enumerate(lengths):
        alone = encode(module, x[row : row + 1, :length])
        torch.testing.assert_close(batch[row : row + 1], alone, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ALL_ENCODERS)
def test_a_partly_nan_step_is_padding(name):
    module = build(ALL_ENCODERS[name])
    x = random_data(2, 6)
    padded = torch.cat([x, random_data(2, 2, seed=4)], dim=1)
    padded[:, 6:, 0] = float("nan")  # only one feature NaN: the whole step is padding
    torch.testing.assert_close(encode(module, padded), encode(module, x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ALL_ENCODERS)
def test_gradients_are_finite_with_padding_and_empty_sets(name):
    torch.manual_seed(0)
    module = ALL_ENCODERS[name].build_fields({"x": (6, N_FEATURES)}).train()
    x = random_data(3, 6)
    x[0, 2:] = float("nan")
    x[1] = float("nan")  # an empty set/series gives a finite, uninformative summary
    out = module({"x": x})
    assert torch.isfinite(out).all()
    out.square().sum().backward()
    grads = [p.grad for p in module.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


@pytest.mark.parametrize("name", ALL_ENCODERS)
def test_specs_clone_and_pickle(name):
    spec = ALL_ENCODERS[name]
    assert clone(spec).get_params() == spec.get_params()
    module = build(spec)
    x = random_data(3, 6)
    x[0, 4:] = float("nan")
    restored = pickle.loads(pickle.dumps(module))
    torch.testing.assert_close(encode(restored, x), encode(module, x), atol=0, rtol=0)
    assert pickle.loads(pickle.dumps(spec)).get_params() == spec.get_params()


def test_time_axis_selects_the_time_stamp_feature():
    first = TimeSeriesTransformer(summary_dim=4, time_axis=0, embed_dim=8, num_heads=2)
    last = clone(first).set_params(time_axis=-1)
    module_first, module_last = build(first), build(last)
    assert module_first.encoder.embed.in_features == N_FEATURES - 1
    module_last.load_state_dict(module_first.state_dict())
    x = random_data(4, 6)
    rolled = torch.roll(x, shifts=-1, dims=-1)  # feature 0 becomes the last feature
    torch.testing.assert_close(encode(module_last, rolled), encode(module_first, x))
    shifted_time = x.clone()
    shifted_time[..., 0] += 1.0
    assert (encode(module_first, shifted_time) - encode(module_first, x)).abs().max() > 1e-4


def test_time_series_network_rejects_gaps():
    module = build(SERIES_ENCODERS["ts_network_gru"])
    x = random_data(2, 6)
    x[0, 2] = float("nan")
    with pytest.raises(ValueError, match=r"padding .* at the end"):
        encode(module, x)


def test_set_moments_pass_through_and_leave_a_scale_free_summary():
    module = build(SET_ENCODERS["deep_set_moments"])
    x = random_data(4, 6)
    x[1, 4:] = float("nan")  # a padded set: its moments cover the 4 valid elements
    summary = encode(module, x)
    learned, mean, log_sd = summary[:, :2], summary[:, 2:5], summary[:, 5:]
    valid = x[1, :4]
    torch.testing.assert_close(mean[1], valid.mean(dim=0))
    torch.testing.assert_close(log_sd[1], torch.log(valid.std(dim=0, unbiased=False)))
    # A positive affine map of each feature of each set moves only the moments.
    scale = torch.tensor([0.01, 3.0, 0.2])
    shift = torch.tensor([2.0, -1.0, 0.5])
    moved = encode(module, x * scale + shift)
    torch.testing.assert_close(moved[:, :2], learned, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(moved[:, 2:5], mean * scale + shift)
    # (up to the variance floor of 1e-8, felt at scale 0.01)
    torch.testing.assert_close(moved[:, 5:], log_sd + torch.log(scale), atol=1e-3, rtol=0)
    # The learned part still reads the set's shape.
    assert (encode(module, x**2)[:, :2] - learned).abs().max() > 1e-3


def test_set_moments_need_room_in_the_summary():
    with pytest.raises(ValueError, match=r"summary_dim must exceed 2 x the 3 features"):
        DeepSet(summary_dim=6, set_moments=True).build_fields({"x": (5, 3)})


def test_mlp_encodes_flat_fields_and_rejects_sets():
    spec = MLP(widths=(8, 8), output_dim=3)
    module = spec.build_fields({"stats": (4,), "draws": (5, 2)})
    assert module.fields_read == ["stats"]
    assert module({"stats": torch.randn(2, 4), "draws": torch.randn(2, 5, 2)}).shape == (2, 3)
    with pytest.raises(ValueError, match=r"MLP encodes flat fields.*\(5, 2\).*SetTransformer"):
        spec.build_fields({"draws": (5, 2)}, "draws")
    with pytest.raises(ValueError, match="MLP encodes flat inputs"):
        spec.build(2)(torch.randn(2, 5, 2))


@pytest.mark.parametrize("name", ["deep_set", "set_transformer", "ts_transformer_index"])
def test_structured_encoders_reject_flat_fields(name):
    with pytest.raises(ValueError, match="Use MLP for flat fields"):
        ALL_ENCODERS[name].build_fields({"stats": (4,)}, ["stats"])
    with pytest.raises(ValueError, match="has none"):
        ALL_ENCODERS[name].build_fields({"stats": (4,)})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (SetTransformer(embed_dim=10, num_heads=4), "divisible by num_heads"),
        (SetTransformer(num_inducing_points=0), "num_inducing_points must be an int >= 1"),
        (DeepSet(pooling="median"), "pooling must be one of"),
        (DeepSet(summary_dim=0), "summary_dim must be an int >= 1"),
        (TimeSeriesNetwork(kernel_size=4), "kernel_size must be odd"),
        (TimeSeriesNetwork(recurrent="rnn"), "recurrent must be 'gru' or 'lstm'"),
        (TimeSeriesTransformer(time_axis=5), "time_axis=5"),
        (MLP(widths=(8, 0)), "each of widths"),
    ],
)
def test_bad_hyperparameters_fail_at_build_with_clear_messages(spec, message):
    with pytest.raises(ValueError, match=message):
        spec.build(N_FEATURES)


def test_set_transformer_learns_the_set_mean_through_masking():
    """Gradients flow through masked attention: a tiny model learns the mean of padded sets."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    encoder = SetTransformer(summary_dim=8, embed_dim=16, num_heads=2, num_layers=1)
    model = torch.nn.ModuleDict(
        {"encoder": encoder.build_fields({"x": (8, 2)}), "readout": torch.nn.Linear(8, 2)}
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

    def batch(n):
        mu = rng.normal(size=(n, 1, 2))
        x = mu + 0.5 * rng.normal(size=(n, 8, 2))
        lengths = rng.integers(2, 9, size=n)
        valid = np.arange(8)[None, :] < lengths[:, None]
        x[~valid] = np.nan
        target = np.nanmean(x, axis=1)
        return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(target, dtype=torch.float32)

    def predict(x):
        return model["readout"](model["encoder"]({"x": x}))

    for _ in range(300):
        x, target = batch(64)
        loss = (predict(x) - target).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x_test, target_test = batch(1000)
    with torch.no_grad():
        mse = float((predict(x_test) - target_test).square().mean())
    trivial = float((target_test - target_test.mean(dim=0)).square().mean())
    assert trivial > 0.9  # Var(mu) + sigma^2 / length is about 1.05
    # Measured about 0.001 (seeds 0-3); ignoring the padding mask leaves about 0.01.
    assert mse < 0.005 * trivial


@pytest.mark.parametrize("name", ALL_ENCODERS)
def test_explicit_mask_field_acts_like_nan_padding(name):
    spec = ALL_ENCODERS[name]
    torch.manual_seed(0)
    module = spec.build_fields({"x": (6, N_FEATURES), "x_mask": (6, N_FEATURES)}).eval()
    assert module.fields_read == ["x", "x_mask"]
    nan_padded = random_data(3, 6)
    nan_padded[0, 4:] = float("nan")
    nan_padded[1, 2:, 1] = float("nan")
    observed = (~torch.isnan(nan_padded)).float()
    reference = build(spec)  # same seed, same weights, NaN padding only
    with torch.no_grad():
        masked = module({"x": torch.nan_to_num(nan_padded, nan=0.0), "x_mask": observed})
        torch.testing.assert_close(masked, encode(reference, nan_padded), atol=1e-5, rtol=1e-5)
        both = module({"x": nan_padded, "x_mask": torch.ones_like(observed)})
        torch.testing.assert_close(both, masked, atol=1e-5, rtol=1e-5)


def test_mask_fields_must_match_their_field_and_are_not_flat_features():
    with pytest.raises(ValueError, match="Mask field 'x_mask'"):
        DeepSet().build_fields({"x": (6, 2), "x_mask": (5, 2)})
    module = MLP(output_dim=2).build_fields({"s": (3,), "s_mask": (3,)})
    assert module.fields_read == ["s", "s_mask"]  # a flat mask is an ordinary feature
    assert module.encoder.block.net[0].in_features == 6
