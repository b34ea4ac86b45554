"""Draws per second of each inference network's default module, relative to flow matching.

Issue 3 asks for consistency-model sampling at least 10x flow matching's draws/s at
the same widths, and coupling flows at least 5x. This script builds each network
from its default spec (untrained: the cost of a draw does not depend on the
weights) for 2 parameters and 2 conditions, and times ``module.sample`` on one
batch of draws. Variants are interleaved and repeated; the median is reported.

Usage::

    OMP_NUM_THREADS=1 python scripts/sampling_speed.py --json speed.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from sklearn_sbi.networks import ConsistencyModel, CouplingFlow, FlowMatching

WIDTHS = (256, 256, 256, 256, 256)
SPECS = {
    "flow_matching": FlowMatching(),
    "consistency": ConsistencyModel(total_steps=1),
    "affine_coupling": CouplingFlow("affine"),
    "spline_coupling": CouplingFlow("spline"),
    "consistency (FiLM, as flow matching)": ConsistencyModel(total_steps=1, conditioning="film"),
    "flow_matching (concat, as consistency)": FlowMatching(conditioning="concat"),
    "affine_coupling (5x256 conditioners)": CouplingFlow("affine", widths=WIDTHS),
    "spline_coupling (5x256 conditioners)": CouplingFlow("spline", widths=WIDTHS),
}


def seconds_per_draw(module: torch.nn.Module, n_draws: int) -> float:
    context = torch.zeros(n_draws, 2)
    noise = torch.randn(n_draws, module.noise_size, generator=torch.Generator().manual_seed(0))
    start = time.perf_counter()
    with torch.no_grad():
        module.sample(context, noise)
    return (time.perf_counter() - start) / n_draws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=16_384)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None, metavar="PATH")
    args = parser.parse_args()

    torch.manual_seed(0)
    modules = {name: spec.build(2, 2, total_steps=1).eval() for name, spec in SPECS.items()}
    timings: dict[str, list[float]] = {name: [] for name in modules}
    for _ in range(args.repeats):
        for name, module in modules.items():
            timings[name].append(seconds_per_draw(module, args.draws))
    median = {name: statistics.median(values) for name, values in timings.items()}
    reference = median["flow_matching"]
    rows = {
        name: {"draws_per_second": 1.0 / seconds, "vs_flow_matching": reference / seconds}
        for name, seconds in median.items()
    }
    for name, row in rows.items():
        print(
            f"{name:40s} {row['draws_per_second']:>12,.0f} draws/s  "
            f"{row['vs_flow_matching']:6.1f}x flow matching"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"settings": vars(args), "results": rows}, handle, indent=1)


if __name__ == "__main__":
    main()
