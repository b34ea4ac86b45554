"""Shared layers: the FiLM-conditioned MLP against the plain residual MLP."""

import pytest
import torch

from sklearn_sbi.networks.layers import MLP, ConditionedMLP


def _copy_into_plain_mlp(conditioned: ConditionedMLP, plain: MLP) -> None:
    with torch.no_grad():
        plain.net[0].weight.copy_(conditioned.first[0].weight)
        plain.net[0].bias.copy_(conditioned.first[0].bias)
        for k, layer in enumerate(conditioned.layers):
            plain.net[2 + k].body[0].weight.copy_(layer.linear.weight)
            plain.net[2 + k].body[0].bias.copy_(layer.linear.bias)
        plain.net[-1].weight.copy_(conditioned.output.weight)
        plain.net[-1].bias.copy_(conditioned.output.bias)


def test_unmodulated_film_mlp_is_the_residual_mlp_of_the_concatenation():
    torch.manual_seed(0)
    conditioned = ConditionedMLP(2, 5, 3, (16, 16, 16))
    plain = MLP(7, 3, (16, 16, 16), residual=True)
    _copy_into_plain_mlp(conditioned, plain)
    x, condition = torch.randn(8, 2), torch.randn(8, 5)
    torch.testing.assert_close(conditioned(x, condition), plain(torch.cat([x, condition], -1)))


def test_the_condition_modulates_the_hidden_layers_once_trained():
    torch.manual_seed(0)
    net = ConditionedMLP(2, 3, 1, (16, 16))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    x, condition = torch.randn(256, 2), torch.randn(256, 3)
    target = (x[:, :1] * condition[:, :1]).detach()  # a product: what modulation expresses
    for _ in range(50):
        loss = ((net(x, condition) - target) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert net.layers[0].modulation.weight.abs().max() > 1e-3
    assert net.layers[0].residual


def test_film_mlp_needs_a_hidden_layer_and_handles_changing_widths():
    with pytest.raises(ValueError, match="hidden width"):
        ConditionedMLP(2, 3, 1, ())
    net = ConditionedMLP(2, 3, 4, (8, 16))
    assert not net.layers[0].residual
    assert net(torch.randn(5, 2), torch.randn(5, 3)).shape == (5, 4)
