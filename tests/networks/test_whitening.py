"""The whitening spline flow in front of flow matching and consistency models, and the
Gaussian fitted beside it."""

from __future__ import annotations

import torch
from scipy import stats

from sklearn_sbi.networks.inference import CouplingFlow, FlowMatching
from sklearn_sbi.networks.inference._whitening import (
    _MAX_LOG_SCALE,
    ConditionalGaussian,
    WhitenedModule,
)

MIXING = torch.tensor([[0.8, -0.3], [0.2, 0.5]])
SCALES = torch.tensor([0.4, 0.25])


def _linear_gaussian(generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    context = torch.randn(256, 2, generator=generator)
    return context @ MIXING.T + SCALES * torch.randn(256, 2, generator=generator), context


def _bimodal(generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """theta = c +- 1 (+ noise 0.1) for c ~ U(-1, 1): two modes around the context."""
    context = 2 * torch.rand(256, 1, generator=generator) - 1
    sign = 2 * (torch.rand(256, 1, generator=generator) < 0.5).float() - 1
    return context + sign + 0.1 * torch.randn(256, 1, generator=generator), context


def _fit(parameters, loss, simulate, steps: int = 1500) -> None:
    """Minimize ``loss(theta, context)`` by Adam on fresh batches from ``simulate``."""
    optimizer = torch.optim.Adam(parameters, lr=3e-3)
    generator = torch.Generator().manual_seed(1)
    for _ in range(steps):
        batch_loss = loss(*simulate(generator))
        optimizer.zero_grad()
        batch_loss.backward()
        optimizer.step()


def _gradients(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.grad.clone() for n, p in module.named_parameters() if p.grad is not None}


def test_the_gaussians_loss_is_its_negative_log_density():
    torch.manual_seed(0)
    gaussian = ConditionalGaussian(2, 3, (8,))
    with torch.no_grad():
        for parameter in gaussian.net.parameters():
            parameter.add_(0.3 * torch.randn(parameter.shape))
        theta, context = torch.randn(5, 2), torch.randn(5, 3)
        mean, raw_log_scale = gaussian.net(context).chunk(2, dim=-1)
        log_scale = _MAX_LOG_SCALE * torch.tanh(raw_log_scale / _MAX_LOG_SCALE)
        torch.testing.assert_close(gaussian(context), (mean, log_scale))
        expected = -torch.distributions.Normal(mean, torch.exp(log_scale)).log_prob(theta).sum(1)
        torch.testing.assert_close(gaussian.negative_log_likelihood(theta, context), expected)


def test_the_gaussian_learns_a_linear_gaussian_posterior():
    torch.manual_seed(0)
    gaussian = ConditionalGaussian(2, 2, (32,))
    _fit(
        gaussian.parameters(),
        lambda *b: gaussian.negative_log_likelihood(*b).mean(),
        _linear_gaussian,
    )
    context = torch.tensor([[0.5, -1.0], [-1.2, 0.3]])
    with torch.no_grad():
        mean, log_scale = gaussian(context)
    assert (mean - context @ MIXING.T).abs().max() < 0.05
    assert (torch.exp(log_scale) / SCALES - 1).abs().max() < 0.1


def test_each_part_learns_from_its_own_loss_only():
    torch.manual_seed(0)
    module = FlowMatching(widths=(16,), whitening_widths=(8,), whitening_depth=1).build(2, 2)
    generator = torch.Generator().manual_seed(1)
    theta = torch.randn(64, 2, generator=generator)
    context = torch.randn(64, 2, generator=generator)
    module.train()
    module.loss(theta, context)  # the activation normalization's first batch
    for parameter in [*module.gaussian.parameters(), *module.flow.parameters()]:
        parameter.data.add_(0.3 * torch.randn(parameter.shape, generator=generator))
    module.loss(theta, context, torch.Generator().manual_seed(2)).backward()
    total = _gradients(module)
    module.zero_grad()
    # The Gaussian and the flow from their likelihoods of the parameters, flow matching
    # from its loss on the flow's latent, which it receives without a gradient path back.
    module.gaussian.negative_log_likelihood(theta, context).mean().backward()
    module.flow.loss(theta, context).backward()
    z = module.flow.to_latent(theta, context)[0].detach()
    module.inner.loss(z, context, torch.Generator().manual_seed(2)).backward()
    separate = _gradients(module)
    assert total.keys() == separate.keys()
    assert any(k.startswith("flow.") for k in total) and any(
        k.startswith("gaussian.") for k in total
    )
    for name, gradient in total.items():
        torch.testing.assert_close(gradient, separate[name], msg=name)


def test_the_gaussian_only_trains_the_context():
    torch.manual_seed(0)
    module = FlowMatching(widths=(16,), whitening_widths=(8,), whitening_depth=1).build(2, 3)
    module.eval()
    context, noise, theta = torch.randn(6, 3), torch.randn(6, 2), torch.randn(6, 2)
    with torch.no_grad():
        draws, density = module.sample(context, noise), module.log_prob(theta, context)
        for parameter in module.gaussian.parameters():
            parameter.add_(torch.randn(parameter.shape))
        torch.testing.assert_close(module.sample(context, noise), draws)
        torch.testing.assert_close(module.log_prob(theta, context), density)
    context.requires_grad_(True)
    module.gaussian.negative_log_likelihood(theta, context).sum().backward()
    assert context.grad.abs().sum() > 0


def test_densities_carry_the_flows_jacobian_and_sampling_inverts_it():
    torch.manual_seed(0)
    inner = CouplingFlow("affine", depth=1, widths=(8,)).build(2, 3)
    module = WhitenedModule(inner, (8,), 2)
    for parameter in module.parameters():
        parameter.data.add_(0.2 * torch.randn(parameter.shape))
    module.eval()
    context, noise = torch.randn(6, 3), torch.randn(6, 2)
    with torch.no_grad():
        theta = module.sample(context, noise)
        z, log_det = module.flow.to_latent(theta, context)
        torch.testing.assert_close(z, inner.sample(context, noise), atol=1e-5, rtol=1e-5)
        expected = inner.log_prob(z, context) + log_det
        torch.testing.assert_close(module.log_prob(theta, context), expected)
        assert log_det.abs().min() > 1e-3  # the flow is not the identity here


def test_the_pretrained_flow_gaussianizes_a_bimodal_posterior():
    torch.manual_seed(0)
    inner = CouplingFlow("affine", depth=1, widths=(8,)).build(1, 1)
    module = WhitenedModule(inner, (32,), 2)
    module.train()
    _fit(module.parameters(), module.pretraining_loss, _bimodal)
    generator = torch.Generator().manual_seed(5)
    batches = [_bimodal(generator) for _ in range(8)]
    theta, context = (torch.cat(parts) for parts in zip(*batches, strict=True))
    module.eval()
    with torch.no_grad():
        z, _ = module.flow.to_latent(theta, context)
    # Kolmogorov-Smirnov distance to N(0, 1), 2,048 draws.
    assert stats.kstest((theta - context).ravel().numpy(), "norm").statistic > 0.2
    assert stats.kstest(z.ravel().numpy(), "norm").statistic < 0.06
