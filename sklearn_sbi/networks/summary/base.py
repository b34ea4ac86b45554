"""The contract every summary network (encoder) follows.

A summary network is a hyperparameter-only spec (:class:`SummaryNetwork`, a
scikit-learn ``BaseEstimator``) that builds a torch module at fit time. The
estimator talks to it through :meth:`SummaryNetwork.build_fields`, which
returns a :class:`FieldsEncoder`: a module that reads named fields from a
batch (``dict[str, Tensor]``) and returns one summary vector per simulation.

Sets and time series of different lengths share one array by padding the
short ones with NaN; :func:`padding_mask` turns the NaN rows into a mask that
every encoder honours, so padding never changes a summary. A set or series
field ``name`` may instead come with an explicit mask field ``name_mask``
(as ``NanToNum(mask=True)`` writes: 1 observed, 0 missing, same shape); set
and series encoders then read it as their mask too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import ClassVar

import torch
from sklearn.base import BaseEstimator
from torch import nn

#: What an encoder's input looks like, by the number of per-simulation axes.
_INPUT_KINDS = {
    1: "flat fields (per-simulation shape (n_features,))",
    2: "sets or time series (per-simulation shape (n_elements, n_features))",
}


def padding_mask(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Split NaN padding from a set or series ``x (B, N, F)``.

    A position is padding when any of its features is NaN. Returns ``x`` with
    the padded positions set to 0 (all their features) and a mask ``(B, N)``
    that is True at the valid positions, or None when nothing is padded.
    Flat inputs ``(B, F)`` are returned unchanged with no mask.

    Examples
    --------
    >>> import torch
    >>> from sklearn_sbi.networks.summary import padding_mask
    >>> x = torch.tensor([[[1.0], [2.0], [float("nan")]]])
    >>> filled, mask = padding_mask(x)
    >>> filled.flatten().tolist(), mask.tolist()
    ([1.0, 2.0, 0.0], [[True, True, False]])
    """
    if x.ndim < 3:
        return x, None
    missing = torch.isnan(x).any(dim=-1)
    if not bool(missing.any()):
        return x, None
    return x.masked_fill(missing[..., None], 0.0), ~missing


def mask_field_name(field: str) -> str:
    """Name of the explicit mask field that goes with ``field``."""
    return f"{field}_mask"


def apply_mask_fields(
    x: torch.Tensor, mask: torch.Tensor | None, mask_values: Sequence[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Combine ``mask`` with explicit masks ``(B, N, k)`` (1 observed, 0 missing).

    A position stays valid only if every entry of every mask is observed;
    the other positions of ``x`` are set to 0.
    """
    observed = (torch.cat(list(mask_values), dim=-1) > 0.5).all(dim=-1)
    valid = observed if mask is None else mask & observed
    return x.masked_fill(~valid[..., None], 0.0), valid


class FieldsEncoder(nn.Module):
    """Reads ``fields`` from a batch, concatenates them on the last axis and encodes them.

    Parameters
    ----------
    encoder : nn.Module
        Called as ``encoder(x, mask)`` with ``x (B, ..., F)`` and ``mask``
        ``(B, N)`` (True = valid) or None; returns ``(B, output_dim)``.
    fields : sequence of str
        The fields it reads, concatenated in this order.
    output_dim : int
        Size of the summary vector.
    mask_fields : sequence of str, default=()
        Explicit mask fields (1 observed, 0 missing) combined with the NaN
        padding mask.

    Examples
    --------
    Specs build it with :meth:`SummaryNetwork.build_fields`:

    >>> import torch
    >>> from sklearn_sbi.networks.summary import DeepSet, FieldsEncoder
    >>> spec = DeepSet(summary_dim=4, hidden_dim=8)
    >>> encoder = spec.build_fields({"obs": (5, 1), "time": (5, 1)}, ["obs", "time"])
    >>> isinstance(encoder, FieldsEncoder), encoder.fields_read
    (True, ['obs', 'time'])
    >>> encoder({"obs": torch.randn(3, 5, 1), "time": torch.rand(3, 5, 1)}).shape
    torch.Size([3, 4])
    """

    def __init__(
        self,
        encoder: nn.Module,
        fields: Sequence[str],
        output_dim: int,
        mask_fields: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.fields = list(fields)
        self.output_dim = output_dim
        self.mask_fields = list(mask_fields)

    @property
    def fields_read(self) -> list[str]:
        """Names of the fields this module consumes (data fields, then mask fields)."""
        return list(dict.fromkeys([*self.fields, *self.mask_fields]))

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        parts = [batch[name] for name in self.fields]
        x = parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)
        x, mask = padding_mask(x)
        if self.mask_fields:
            x, mask = apply_mask_fields(x, mask, [batch[name] for name in self.mask_fields])
        return self.encoder(x, mask)


def as_field_list(fields: str | Sequence[str], owner: str) -> list[str]:
    """Normalize one field name or a sequence of names to a non-empty list of str."""
    names = [fields] if isinstance(fields, str) else list(fields)
    if not names or not all(isinstance(name, str) for name in names):
        raise TypeError(
            f"{owner}: fields must be a field name or a non-empty list of field names, "
            f"got {fields!r}."
        )
    return names


def concatenated_shape(
    field_shapes: Mapping[str, tuple[int, ...]], fields: Sequence[str]
) -> tuple[int, ...]:
    """Per-simulation shape of ``fields`` concatenated on the last axis.

    Raises a ValueError naming the known fields when one is unknown, and one
    showing the shapes when the axes before the last disagree.
    """
    unknown = [name for name in fields if name not in field_shapes]
    if unknown:
        raise ValueError(
            f"Summary network asks for unknown fields {unknown}; known fields are "
            f"{sorted(field_shapes)}."
        )
    leading = {tuple(field_shapes[name][:-1]) for name in fields}
    if len(leading) > 1:
        shapes = {name: tuple(field_shapes[name]) for name in fields}
        raise ValueError(
            f"Fields {list(fields)} cannot be concatenated on the last axis: their shapes "
            f"(per simulation) differ before it: {shapes}. Give each its own encoder in a "
            "FusionEncoder instead."
        )
    return (*leading.pop(), sum(field_shapes[name][-1] for name in fields))


def check_int(value: object, name: str, owner: str, minimum: int = 1) -> int:
    """Return ``value`` if it is an int >= ``minimum``, else raise a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an int >= {minimum}, got {value!r}.")
    return value


class SummaryNetwork(BaseEstimator, ABC):
    """Hyperparameter-only spec of an encoder mapping one input to a fixed-size vector.

    Subclasses define ``__init__`` with keyword hyperparameters (stored as
    is), :meth:`build`, and the class variable ``input_rank``: the number of
    per-simulation axes they encode (1 for flat vectors, 2 for sets and time
    series). The summary size is the ``summary_dim`` hyperparameter unless a
    subclass overrides :attr:`output_dim`.

    Examples
    --------
    A custom set encoder: mean pooling over the valid elements, then a linear map.

    >>> import torch
    >>> from torch import nn
    >>> from sklearn_sbi.networks.summary import SummaryNetwork
    >>> class MeanPoolModule(nn.Module):
    ...     def __init__(self, input_dim, summary_dim):
    ...         super().__init__()
    ...         self.linear = nn.Linear(input_dim, summary_dim)
    ...     def forward(self, x, mask=None):
    ...         weights = torch.ones(x.shape[:2]) if mask is None else mask.float()
    ...         pooled = (x * weights[..., None]).sum(1) / weights.sum(1, keepdim=True)
    ...         return self.linear(pooled)
    >>> class MeanPool(SummaryNetwork):
    ...     def __init__(self, summary_dim=2):
    ...         self.summary_dim = summary_dim
    ...     def build(self, input_dim):
    ...         return MeanPoolModule(input_dim, self.summary_dim)
    >>> encoder = MeanPool(summary_dim=3).build_fields({"draws": (5, 2)})
    >>> encoder({"draws": torch.randn(4, 5, 2)}).shape
    torch.Size([4, 3])
    """

    input_rank: ClassVar[int] = 2

    @abstractmethod
    def build(self, input_dim: int) -> nn.Module:
        """Build ``module(x, mask) -> (B, output_dim)`` for inputs with ``input_dim`` features.

        ``x`` is ``(B, N, input_dim)`` for sets and series (``(B, input_dim)``
        for flat inputs) and ``mask`` is ``(B, N)``, True at valid positions,
        or None.
        """

    @property
    def output_dim(self) -> int:
        """Size of the summary vector."""
        return self.summary_dim

    def default_fields(self, field_shapes: Mapping[str, tuple[int, ...]]) -> list[str]:
        """Fields a stand-alone encoder reads: every field of its ``input_rank``.

        Explicit mask fields of set/series fields are left out (they are
        read as masks, see :meth:`mask_fields`).
        """
        masks = set(self.mask_fields(field_shapes, list(field_shapes)))
        return [
            name
            for name, shape in field_shapes.items()
            if len(shape) == self.input_rank and name not in masks
        ]

    def mask_fields(
        self, field_shapes: Mapping[str, tuple[int, ...]], fields: Sequence[str]
    ) -> list[str]:
        """Explicit mask fields (``name_mask``) present for ``fields``; none for flat input.

        A mask field must have the per-simulation shape of its field up to
        the last axis.
        """
        if self.input_rank == 1:
            return []
        found = []
        for name in fields:
            mask_name = mask_field_name(name)
            if mask_name not in field_shapes or len(field_shapes[name]) != 2:
                continue
            if tuple(field_shapes[mask_name][:-1]) != tuple(field_shapes[name][:-1]):
                raise ValueError(
                    f"Mask field {mask_name!r} has per-simulation shape "
                    f"{field_shapes[mask_name]}, which does not match {name!r} "
                    f"{field_shapes[name]} before the last axis."
                )
            found.append(mask_name)
        return found

    def build_fields(
        self,
        field_shapes: Mapping[str, tuple[int, ...]],
        fields: str | Sequence[str] | None = None,
    ) -> FieldsEncoder:
        """Build a :class:`FieldsEncoder` over ``fields`` (default: :meth:`default_fields`).

        ``field_shapes`` maps each field of X to its per-simulation shape.
        """
        owner = type(self).__name__
        if fields is None:
            fields = self.default_fields(field_shapes)
            if not fields:
                raise ValueError(
                    f"{owner} encodes {_INPUT_KINDS[self.input_rank]} but X has none; its "
                    f"fields have shapes {dict(field_shapes)}."
                )
        fields = as_field_list(fields, owner)
        shape = concatenated_shape(field_shapes, fields)
        if len(shape) != self.input_rank:
            hint = (
                "Use DeepSet or SetTransformer for sets and TimeSeriesTransformer or "
                "TimeSeriesNetwork for time series."
                if self.input_rank == 1
                else "Use MLP for flat fields."
            )
            raise ValueError(
                f"{owner} encodes {_INPUT_KINDS[self.input_rank]}; fields {fields} have "
                f"per-simulation shape {shape}. {hint}"
            )
        return FieldsEncoder(
            self.build(shape[-1]),
            fields,
            self.output_dim,
            self.mask_fields(field_shapes, fields),
        )
