"""Prototype of ``DeepSet(set_moments=True)`` on slcp (fourth session's runs).

Usage::

    OMP_NUM_THREADS=1 python benchmarks_results/student_t/slcp_moments.py NAME [N_OBSERVATIONS]

With 3 observations (the default) it runs the screening protocol (5,000 draws a side);
with 10 the full protocol. The estimator is ``SLCP().make_estimator("flow_matching",
random_state=0)`` with its ``DeepSet`` swapped for this prototype: each set standardized
by its own mean and standard deviation before a ``DeepSetModule``, whose summary is then
extended by those moments. Writes ``NAME.json`` in the working directory. Today
``SLCP.make_summary_net()`` returns the package's ``DeepSet(set_moments=True)``.
"""

import json
import sys

import torch
from torch import nn

from sklearn_sbi.benchmarks import get_task, run_benchmark
from sklearn_sbi.networks.summary.base import SummaryNetwork
from sklearn_sbi.networks.summary.deep_set import DeepSetModule, masked_mean


class MomentSetModule(nn.Module):
    def __init__(self, input_dim: int, summary_dim: int) -> None:
        super().__init__()
        learned_dim = summary_dim - 2 * input_dim
        self.inner = DeepSetModule(input_dim, learned_dim, 64, 2, ["mean"], "silu", 0.0)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        mean = masked_mean(x, mask)
        sd = torch.sqrt(masked_mean((x - mean[:, None]) ** 2, mask) + 1e-8)
        standardized = (x - mean[:, None]) / sd[:, None]
        return torch.cat([self.inner(standardized, mask), mean, torch.log(sd)], dim=-1)


class MomentSet(SummaryNetwork):
    def __init__(self, summary_dim: int = 16) -> None:
        self.summary_dim = summary_dim

    def build(self, input_dim: int) -> MomentSetModule:
        return MomentSetModule(input_dim, self.summary_dim)


def main() -> None:
    torch.set_num_threads(1)
    name = sys.argv[1]
    n_observations = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    task = get_task("slcp")
    estimator = task.make_estimator("flow_matching", random_state=0)
    estimator.steps[-1][1].set_params(summary_net=MomentSet())
    result = run_benchmark(
        task,
        estimator,
        10_000,
        n_observations=n_observations,
        n_posterior_samples=5_000 if n_observations == 3 else None,
        random_state=0,
    )
    with open(f"{name}.json", "w") as handle:
        json.dump(result, handle, default=str)
    print(name, round(result["c2st_mean"], 4), [round(c, 3) for c in result["c2st"]])


if __name__ == "__main__":
    main()
