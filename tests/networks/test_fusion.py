"""FusionEncoder: parameter routing, field handling, shapes, errors and pickling."""

from __future__ import annotations

import pickle

import pytest
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import ParameterGrid

from sklearn_sbi.networks.summary import (
    MLP,
    DeepSet,
    FusionEncoder,
    FusionModule,
    SetTransformer,
    TimeSeriesTransformer,
)

# The walkthrough's fields (per simulation), plus a flat field left to the estimator.
FIELD_SHAPES = {
    "observables_a": (5, 2),
    "observables_b": (20, 2),
    "time_b": (20, 1),
    "n_obs": (1,),
}


def walkthrough_fusion(head=True):
    return FusionEncoder(
        [
            ("a", SetTransformer(summary_dim=6, embed_dim=8, num_heads=2), "observables_a"),
            (
                "b",
                TimeSeriesTransformer(summary_dim=6, time_axis=-1, embed_dim=8, num_heads=2),
                ["observables_b", "time_b"],
            ),
        ],
        head=MLP(widths=(16,), output_dim=6) if head else None,
    )


def walkthrough_batch(n=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return {
        "observables_a": torch.randn(n, 5, 2, generator=generator),
        "observables_b": torch.randn(n, 20, 2, generator=generator).cumsum(dim=1),
        "time_b": torch.linspace(0, 1, 20).expand(n, 20)[..., None].clone(),
        "n_obs": torch.ones(n, 1),
    }


def build(spec, field_shapes=FIELD_SHAPES, seed=0):
    torch.manual_seed(seed)
    return spec.build_fields(field_shapes).eval()


class Holder(BaseEstimator):
    """Stands in for an estimator with a ``summary_net`` parameter."""

    def __init__(self, summary_net=None):
        self.summary_net = summary_net


def test_get_params_exposes_entries_and_their_params():
    fusion = walkthrough_fusion()
    params = fusion.get_params(deep=True)
    assert {"encoders", "head", "remainder", "a", "b"} <= set(params)
    assert params["a__summary_dim"] == 6
    assert params["b__time_axis"] == -1
    assert params["head__widths"] == (16,)
    assert set(fusion.get_params(deep=False)) == {"encoders", "head", "remainder"}
    assert fusion.named_encoders.b is params["b"]


def test_set_params_routes_and_replaces_entries():
    fusion = walkthrough_fusion()
    fusion.set_params(a__summary_dim=8, head__output_dim=3, remainder="drop")
    assert fusion.named_encoders.a.summary_dim == 8
    assert fusion.output_dim == 3
    assert fusion.remainder == "drop"
    replacement = DeepSet(summary_dim=2, hidden_dim=4)
    fusion.set_params(a=replacement, head=None)
    name, encoder, fields = fusion.encoders[0]
    assert (name, encoder, fields) == ("a", replacement, "observables_a")
    assert fusion.output_dim == 2 + 6


def test_nested_routing_from_an_estimator_parameter_grid():
    holder = Holder(summary_net=walkthrough_fusion())
    assert "summary_net__a__summary_dim" in holder.get_params(deep=True)
    seen = []
    for params in ParameterGrid({"summary_net__a__summary_dim": [4, 8]}):
        candidate = clone(holder).set_params(**params)
        seen.append(candidate.summary_net.named_encoders.a.summary_dim)
    assert seen == [4, 8]
    assert holder.summary_net.named_encoders.a.summary_dim == 6  # clones, not the original


def test_clone_copies_every_entry():
    fusion = walkthrough_fusion()
    copied = clone(fusion)
    assert copied.named_encoders.a is not fusion.named_encoders.a
    assert copied.head is not fusion.head
    assert [entry[2] for entry in copied.encoders] == ["observables_a", ["observables_b", "time_b"]]
    keys = fusion.get_params(deep=True).keys()
    scalar_params = {k: v for k, v in fusion.get_params().items() if "__" in k}
    assert keys == copied.get_params(deep=True).keys()
    assert {k: copied.get_params()[k] for k in scalar_params} == scalar_params


def test_walkthrough_shapes_and_fields_read():
    module = build(walkthrough_fusion())
    assert isinstance(module, FusionModule)
    assert module.fields_read == ["observables_a", "observables_b", "time_b"]  # n_obs passes
    assert module.named_encoders["a"].encoder.embed.in_features == 2
    # input_b is (20, 3): two observables plus the time stamp, embedded separately.
    assert module.named_encoders["b"].encoder.embed.in_features == 2
    out = module(walkthrough_batch())
    assert out.shape == (4, 6) == (4, module.output_dim)


def test_without_head_outputs_are_concatenated_in_entry_order():
    module = build(walkthrough_fusion(head=False))
    batch = walkthrough_batch()
    with torch.no_grad():
        fused = module(batch)
        parts = [module.named_encoders[name](batch) for name in ("a", "b")]
    assert module.output_dim == 12
    torch.testing.assert_close(fused, torch.cat(parts, dim=-1), atol=0, rtol=0)
    assert (parts[0] - parts[1]).abs().max() > 1e-4


def test_fields_are_concatenated_in_the_listed_order():
    series = TimeSeriesTransformer(summary_dim=3, time_axis=-1, embed_dim=8, num_heads=2)
    time_last = FusionEncoder([("b", series, ["observables_b", "time_b"])])
    time_first = FusionEncoder(
        [("b", clone(series).set_params(time_axis=0), ["time_b", "observables_b"])]
    )
    last, first = build(time_last), build(time_first)
    first.load_state_dict(last.state_dict())
    batch = walkthrough_batch()
    with torch.no_grad():
        torch.testing.assert_close(first(batch), last(batch))
        swapped = {**batch, "time_b": batch["observables_b"][..., :1]}
        assert (last(swapped) - last(batch)).abs().max() > 1e-4


def test_series_padded_in_one_field_only_keeps_its_summary():
    module = build(walkthrough_fusion())
    batch = walkthrough_batch()
    shapes = {**FIELD_SHAPES, "observables_b": (25, 2), "time_b": (25, 1)}
    longer = build(walkthrough_fusion(), shapes)
    padding = torch.full((4, 5, 2), float("nan"))
    padded = {
        **batch,
        "observables_b": torch.cat([batch["observables_b"], padding], dim=1),
        "time_b": torch.linspace(0, 1.25, 25).expand(4, 25)[..., None].clone(),
    }
    padded["time_b"][:, :20] = batch["time_b"]
    with torch.no_grad():
        torch.testing.assert_close(longer(padded), module(batch), atol=1e-5, rtol=1e-5)


def test_drop_entries_consume_their_fields():
    fusion = walkthrough_fusion(head=False).set_params(b="drop")
    module = build(fusion)
    assert list(module.named_encoders) == ["a"]
    assert module.fields_read == ["observables_a", "observables_b", "time_b"]
    assert module(walkthrough_batch()).shape == (4, 6) == (4, fusion.output_dim)


def test_pickle_round_trip_of_spec_and_module():
    fusion = walkthrough_fusion()
    restored_spec = pickle.loads(pickle.dumps(fusion))
    assert restored_spec.get_params()["b__time_axis"] == -1
    module = build(fusion)
    restored = pickle.loads(pickle.dumps(module))
    batch = walkthrough_batch()
    with torch.no_grad():
        torch.testing.assert_close(restored(batch), module(batch), atol=0, rtol=0)


def entry(name="a", encoder=None, fields="observables_a"):
    return (name, DeepSet(summary_dim=2, hidden_dim=4) if encoder is None else encoder, fields)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"encoders": [entry(fields="observables_c")]},
            ValueError,
            r"entry 'a'.*unknown fields \['observables_c'\]; known fields are \['n_obs', ",
        ),
        (
            {"encoders": [entry(fields=["observables_a", "time_b"])]},
            ValueError,
            "cannot be concatenated on the last axis",
        ),
        ({"encoders": [entry(), entry()]}, ValueError, "not unique"),
        ({"encoders": [entry(name="a__b")]}, ValueError, "must not contain __"),
        ({"encoders": [entry(name="head")]}, ValueError, "conflict with constructor"),
        ({"encoders": [entry(name="a.b")]}, ValueError, "without '.'"),
        ({"encoders": [entry(name="keys")]}, ValueError, r"got \['keys'\]"),
        ({"encoders": [entry(encoder=DeepSet)]}, TypeError, "instance"),
        ({"encoders": [entry(encoder="passthrough")]}, TypeError, "summary network spec"),
        ({"encoders": [("a", DeepSet())]}, TypeError, r"\(name, encoder, fields\)"),
        ({"encoders": [entry(encoder="drop")]}, ValueError, "at least one entry"),
        ({"encoders": [entry(fields=[])]}, TypeError, "non-empty list of field names"),
        ({"encoders": [entry()], "head": SetTransformer()}, TypeError, "head must be"),
        ({"encoders": [entry()], "remainder": "keep"}, ValueError, "remainder must be one of"),
        (
            {"encoders": [entry(encoder=walkthrough_fusion())]},
            TypeError,
            "summary network spec",
        ),
        ({"encoders": [entry(encoder=MLP())]}, ValueError, "MLP encodes flat fields"),
    ],
)
def test_invalid_specs_fail_at_build_with_clear_messages(kwargs, error, message):
    with pytest.raises(error, match=message):
        FusionEncoder(**kwargs).build_fields(FIELD_SHAPES)


def test_fields_cannot_be_imposed_on_a_fusion():
    with pytest.raises(TypeError, match="do not pass fields"):
        walkthrough_fusion().build_fields(FIELD_SHAPES, ["observables_a"])
    with pytest.raises(TypeError, match="call build_fields"):
        walkthrough_fusion().build(3)


def test_entries_consume_explicit_mask_fields_even_when_dropped():
    shapes = {**FIELD_SHAPES, "observables_a_mask": (5, 2)}
    module = build(walkthrough_fusion(), shapes)
    assert module.fields_read == ["observables_a", "observables_a_mask", "observables_b", "time_b"]
    dropped = build(walkthrough_fusion(head=False).set_params(a="drop"), shapes)
    assert list(dropped.named_encoders) == ["b"]
    assert {"observables_a", "observables_a_mask"} <= set(dropped.fields_read)
