"""Look inside a model pickled by diag.py, stage by stage.

Usage::

    python inspect_model.py losses TASK NAME.pkl
    python inspect_model.py coordinates TASK NAME.pkl

``losses``: each stage's loss on the training simulations and on 10,000 fresh ones (seed
123): Student-t + Gaussian NLL, the spline's NLL, flow matching's loss (5 fixed noise draws);
recorded in ``losses_tm0_gm0_gl_d4.txt``. ``coordinates``: where the reference posterior's
draws land in the whitened coordinates (the Student-t's ``u``, the spline's ``z``) and the
share beyond +-4; recorded in ``coordinates_tm0_gm0.txt``.
"""

import pickle
import sys

import numpy as np
import torch

from sklearn_sbi.benchmarks import get_task
from sklearn_sbi.networks.inference.base import standard_normal_log_prob


def whitened(posterior, module, X, y):
    """Parameters, context, Student-t ``u`` with its loss, spline ``z`` with its log-det."""
    theta = torch.as_tensor(posterior._standardize_targets(y, posterior._fitted_state()))
    context = posterior._contexts(posterior._inputs(X))
    with torch.no_grad():
        u, fit_loss = module.location_scale.whiten_and_fit(theta, context)
        z, log_det = module.flow.to_latent(u, context)
    return theta, context, u, fit_loss, z, log_det


def losses(task, est, posterior, module):
    for label, seed in (("training", 0), ("fresh", 123)):
        X, y = task.simulate(10_000, random_state=seed)
        for _, step in getattr(est, "steps", [])[:-1]:
            X = step.transform(X)
        _, context, _, fit_loss, z, log_det = whitened(posterior, module, X, y)
        spline = -(standard_normal_log_prob(z) + log_det)
        with torch.no_grad():
            fm = torch.stack(
                [module.inner.loss(z, context, torch.Generator().manual_seed(k)) for k in range(5)]
            ).mean()
        print(label, f"t+gauss {fit_loss.mean():.3f} spline {spline.mean():.3f} fm {fm:.3f}")


def coordinates(task, est, posterior, module):
    X_obs, _ = task.observations
    print("dof", module.location_scale.dof.detach().numpy().round(2))
    for i in range(task.n_observations):
        reference = task.reference_posterior(X_obs[i], 5000, random_state=i)
        inside = posterior._inside_support(reference)
        X = X_obs[i : i + 1].repeat(5000, axis=0)[inside]
        theta, _, u, _, z, _ = whitened(posterior, module, X, reference[inside])
        print(
            i + 1,
            *("theta sd", theta.std(0).numpy().round(2), "u sd", u.std(0).numpy().round(2)),
            f"|u|>4 {(u.abs() > 4).any(1).float().mean():.3f}",
            *("z sd", z.std(0).numpy().round(2)),
            f"|z|>4 {(z.abs() > 4).any(1).float().mean():.3f}",
        )


def main() -> None:
    mode, task_name, path = sys.argv[1:4]
    task = get_task(task_name)
    with open(path, "rb") as handle:
        est = pickle.load(handle)
    posterior = est[-1] if hasattr(est, "steps") else est
    module = posterior.network_.inference
    module.eval()
    {"losses": losses, "coordinates": coordinates}[mode](task, est, posterior, module)


if __name__ == "__main__":
    np.set_printoptions(precision=2)
    main()
