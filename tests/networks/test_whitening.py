"""The conditional whitening in front of flow matching and consistency models."""

from __future__ import annotations

import math

import torch

from sklearn_sbi.networks.inference import CouplingFlow, FlowMatching
from sklearn_sbi.networks.inference._whitening import ConditionalGaussian, WhitenedModule

MIXING = torch.tensor([[0.8, -0.3], [0.2, 0.5]])
SCALES = torch.tensor([0.4, 0.25])


def negative_log_likelihood(gaussian, theta, context):
    mean, log_scale = gaussian(context)
    u = (theta - mean) * torch.exp(-log_scale)
    return (0.5 * (u**2).sum(dim=1) + log_scale.sum(dim=1)).mean() + math.log(2 * math.pi)


def test_a_fresh_whitening_is_the_identity():
    torch.manual_seed(0)
    inner = CouplingFlow("affine", depth=1, widths=(8,)).build(2, 3)
    module = WhitenedModule(inner, (8,))
    context, noise = torch.randn(6, 3), torch.randn(6, 2)
    with torch.no_grad():
        mean, log_scale = module.gaussian(context)
        torch.testing.assert_close(mean, torch.zeros(6, 2))
        torch.testing.assert_close(log_scale, torch.zeros(6, 2))
        torch.testing.assert_close(module.sample(context, noise), inner.sample(context, noise))
        theta = torch.randn(6, 2)
        torch.testing.assert_close(module.log_prob(theta, context), inner.log_prob(theta, context))


def test_the_flow_loss_sends_no_gradient_into_the_gaussian():
    torch.manual_seed(0)
    module = FlowMatching(widths=(16,), whitening_widths=(8,)).build(2, 2)
    generator = torch.Generator().manual_seed(1)
    theta = torch.randn(64, 2, generator=generator)
    context = torch.randn(64, 2, generator=generator)
    for parameter in module.gaussian.parameters():  # off the identity start
        parameter.data.add_(0.3 * torch.randn(parameter.shape, generator=generator))
    module.loss(theta, context, torch.Generator().manual_seed(2)).backward()
    total = [p.grad.clone() for p in module.gaussian.parameters()]
    module.zero_grad()
    negative_log_likelihood(module.gaussian, theta, context).backward()
    for with_flow, gaussian_only in zip(total, module.gaussian.parameters(), strict=True):
        torch.testing.assert_close(with_flow, gaussian_only.grad)


def test_the_gaussian_learns_a_linear_gaussian_posterior():
    torch.manual_seed(0)
    gaussian = ConditionalGaussian(2, 2, (32,))
    optimizer = torch.optim.Adam(gaussian.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(1)
    for _ in range(1500):
        context = torch.randn(256, 2, generator=generator)
        theta = context @ MIXING.T + SCALES * torch.randn(256, 2, generator=generator)
        loss = negative_log_likelihood(gaussian, theta, context)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    context = torch.tensor([[0.5, -1.0], [-1.2, 0.3]])
    with torch.no_grad():
        mean, log_scale = gaussian(context)
    assert (mean - context @ MIXING.T).abs().max() < 0.05
    assert (torch.exp(log_scale) / SCALES - 1).abs().max() < 0.05
