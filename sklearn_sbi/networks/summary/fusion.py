"""FusionEncoder: one encoder per group of fields, outputs fused by a head.

Mirrors :class:`sklearn.compose.ColumnTransformer`: entries are
``(name, encoder, fields)`` and their hyperparameters route as
``name__param`` through ``get_params``/``set_params``, which reuse
scikit-learn's ``_BaseComposition`` machinery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from sklearn.utils import Bunch
from sklearn.utils.metaestimators import _BaseComposition
from torch import nn

from sklearn_sbi.networks.summary.base import (
    FieldsEncoder,
    SummaryNetwork,
    as_field_list,
    mask_field_name,
)

_REMAINDERS = ("passthrough", "drop")
#: Entry names the built module's ``named_encoders`` ModuleDict cannot hold.
_RESERVED_NAMES = frozenset(dir(nn.ModuleDict()))


class FusionModule(nn.Module):
    """The built fusion: named field encoders, concatenated, then an optional head.

    Attributes
    ----------
    named_encoders : nn.ModuleDict
        ``name -> FieldsEncoder`` in the spec's order (dropped entries left out).
    head : nn.Module or None
        Maps the concatenated summaries to the output; None is the identity.
    dropped_fields : list of str
        Fields of entries set to ``"drop"`` (and their ``_mask`` fields):
        consumed and ignored.
    output_dim : int
        Size of the fused summary.

    Examples
    --------
    >>> import torch
    >>> from sklearn_sbi.networks.summary import DeepSet, FusionEncoder
    >>> module = FusionEncoder(
    ...     [("a", DeepSet(summary_dim=2, hidden_dim=8), "x"), ("b", "drop", "z")]
    ... ).build_fields({"x": (5, 1), "z": (5, 1)})
    >>> list(module.named_encoders), module.dropped_fields, module.output_dim
    (['a'], ['z'], 2)
    >>> module({"x": torch.randn(3, 5, 1), "z": torch.randn(3, 5, 1)}).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        encoders: Mapping[str, FieldsEncoder],
        head: nn.Module | None,
        output_dim: int,
        dropped_fields: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.named_encoders = nn.ModuleDict(encoders)
        self.head = head
        self.output_dim = output_dim
        self.dropped_fields = list(dropped_fields)

    @property
    def fields_read(self) -> list[str]:
        """Fields this module consumes (each once, in first-use order)."""
        names = [name for encoder in self.named_encoders.values() for name in encoder.fields_read]
        return list(dict.fromkeys(names + self.dropped_fields))

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        summaries = torch.cat([encoder(batch) for encoder in self.named_encoders.values()], -1)
        return summaries if self.head is None else self.head(summaries, None)


class FusionEncoder(_BaseComposition, SummaryNetwork):
    """Encode groups of fields with their own encoders and fuse the summaries.

    Each entry ``(name, encoder, fields)`` reads ``fields`` (one name, or a
    list concatenated on the last axis, e.g. observations and their time
    stamps) and encodes them with ``encoder``, or ignores them if
    ``encoder="drop"``. The summaries are concatenated in the given order and
    passed through ``head``. Hyperparameters route as ``name__param``
    (``set_params(a__summary_dim=8)``; in an estimator
    ``summary_net__a__summary_dim``), and ``set_params(a=...)`` replaces an
    encoder, as in :class:`~sklearn.compose.ColumnTransformer`.

    The built module (stored by the estimator as ``summary_net_``) is a
    :class:`FusionModule`; its ``named_encoders`` gives each built encoder
    by name. The spec's :attr:`named_encoders` gives the encoder specs.

    Parameters
    ----------
    encoders : list of (str, SummaryNetwork or "drop", str or list of str)
        Entry name, encoder spec, and the field(s) it reads.
    head : SummaryNetwork or None, default=None
        Encoder for flat input (e.g. :class:`MLP`) applied to the concatenated
        summaries; None keeps the concatenation.
    remainder : {"passthrough", "drop"}, default="passthrough"
        What the estimator does with flat fields no entry reads: pass them to
        the inference network as direct conditions, or drop them. The fused
        module itself only returns the summary.

    Examples
    --------
    >>> import torch
    >>> from sklearn_sbi.networks.summary import (
    ...     MLP, FusionEncoder, SetTransformer, TimeSeriesTransformer)
    >>> fusion = FusionEncoder(
    ...     [("a", SetTransformer(summary_dim=6, embed_dim=8, num_heads=2), "obs_a"),
    ...      ("b", TimeSeriesTransformer(summary_dim=6, time_axis=-1, embed_dim=8, num_heads=2),
    ...       ["obs_b", "time_b"])],
    ...     head=MLP(widths=(16,), output_dim=6))
    >>> fusion.set_params(a__summary_dim=4).get_params()["a__summary_dim"]
    4
    >>> module = fusion.build_fields({"obs_a": (5, 2), "obs_b": (20, 2), "time_b": (20, 1)})
    >>> batch = {"obs_a": torch.randn(3, 5, 2), "obs_b": torch.randn(3, 20, 2),
    ...          "time_b": torch.rand(3, 20, 1)}
    >>> module(batch).shape
    torch.Size([3, 6])
    >>> module.fields_read
    ['obs_a', 'obs_b', 'time_b']
    """

    def __init__(
        self,
        encoders: Sequence[tuple[str, SummaryNetwork | str, str | Sequence[str]]],
        head: SummaryNetwork | None = None,
        remainder: str = "passthrough",
    ) -> None:
        self.encoders = encoders
        self.head = head
        self.remainder = remainder

    @property
    def _encoders(self) -> Any:
        """``(name, encoder)`` pairs, the view ``_BaseComposition`` routes params through."""
        try:
            return [(name, encoder) for name, encoder, _ in self.encoders]
        except (TypeError, ValueError):
            return self.encoders

    @_encoders.setter
    def _encoders(self, value: Any) -> None:
        try:
            self.encoders = [
                (name, encoder, fields)
                for (name, encoder), (_, _, fields) in zip(value, self.encoders, strict=True)
            ]
        except (TypeError, ValueError):
            self.encoders = value

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters, with each encoder's as ``name__param`` when ``deep``."""
        return self._get_params("_encoders", deep=deep)

    def set_params(self, **params: Any) -> FusionEncoder:
        """Set parameters; ``name=encoder`` replaces an entry's encoder."""
        self._set_params("_encoders", **params)
        return self

    @property
    def named_encoders(self) -> Bunch:
        """The encoder specs by entry name."""
        return Bunch(**dict(self._encoders))

    @property
    def output_dim(self) -> int:
        """Size of the fused summary: the head's output, else the summed encoder outputs."""
        if self.head is not None:
            return self.head.output_dim
        return sum(
            encoder.output_dim for _, encoder, _ in self._checked_entries() if encoder != "drop"
        )

    def build(self, input_dim: int) -> nn.Module:
        raise TypeError(
            "FusionEncoder reads named fields, not one input: call build_fields(field_shapes). "
            "It cannot be an entry of another FusionEncoder."
        )

    def _checked_entries(self) -> list[tuple[str, SummaryNetwork | str, list[str]]]:
        """Validate the hyperparameters; return entries with field lists."""
        entries = self.encoders
        if not isinstance(entries, (list, tuple)) or not all(
            isinstance(entry, tuple) and len(entry) == 3 for entry in entries
        ):
            raise TypeError(
                "FusionEncoder: encoders must be a list of (name, encoder, fields) tuples, "
                f"got {entries!r}."
            )
        names = [name for name, _, _ in entries]
        self._validate_names(names)
        invalid = [
            name
            for name in names
            if not isinstance(name, str) or not name or "." in name or name in _RESERVED_NAMES
        ]
        if invalid:
            raise ValueError(
                f"FusionEncoder: names must be non-empty str without '.' and not attributes of "
                f"torch.nn.ModuleDict (such as 'keys'); got {invalid}."
            )
        self._check_estimators_are_instances(encoder for _, encoder, _ in entries)
        for name, encoder, _ in entries:
            if encoder != "drop" and (
                not isinstance(encoder, SummaryNetwork) or isinstance(encoder, FusionEncoder)
            ):
                raise TypeError(
                    f"FusionEncoder: entry {name!r} needs a summary network spec (e.g. "
                    f"SetTransformer()) or 'drop', got {encoder!r}."
                )
        if all(encoder == "drop" for _, encoder, _ in entries):
            raise ValueError("FusionEncoder: needs at least one entry that is not 'drop'.")
        if self.head is not None and (
            not isinstance(self.head, SummaryNetwork) or self.head.input_rank != 1
        ):
            raise TypeError(
                "FusionEncoder: head must be None or a summary network for flat input such as "
                f"MLP(widths=(64, 64), output_dim=8), got {self.head!r}."
            )
        if self.remainder not in _REMAINDERS:
            raise ValueError(
                f"FusionEncoder: remainder must be one of {_REMAINDERS}, got {self.remainder!r}."
            )
        return [
            (name, encoder, as_field_list(fields, f"FusionEncoder entry {name!r}"))
            for name, encoder, fields in entries
        ]

    def build_fields(
        self,
        field_shapes: Mapping[str, tuple[int, ...]],
        fields: str | Sequence[str] | None = None,
    ) -> FusionModule:
        """Build the :class:`FusionModule` for fields with per-simulation ``field_shapes``."""
        if fields is not None:
            raise TypeError(
                "FusionEncoder chooses the fields of each entry itself; do not pass fields."
            )
        built: dict[str, FieldsEncoder] = {}
        dropped: list[str] = []
        for name, encoder, entry_fields in self._checked_entries():
            if encoder == "drop":
                unknown = [field for field in entry_fields if field not in field_shapes]
                if unknown:
                    raise ValueError(
                        f"FusionEncoder entry {name!r} drops unknown fields {unknown}; known "
                        f"fields are {sorted(field_shapes)}."
                    )
                masks = [mask_field_name(field) for field in entry_fields]
                dropped += entry_fields + [mask for mask in masks if mask in field_shapes]
                continue
            try:
                built[name] = encoder.build_fields(field_shapes, entry_fields)
            except ValueError as error:
                raise ValueError(f"FusionEncoder entry {name!r}: {error}") from error
        concatenated_dim = sum(encoder.output_dim for encoder in built.values())
        if self.head is None:
            return FusionModule(built, None, concatenated_dim, dropped)
        return FusionModule(built, self.head.build(concatenated_dim), self.head.output_dim, dropped)
