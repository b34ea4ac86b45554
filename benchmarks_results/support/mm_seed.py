"""multimodal_gaussian full protocol for one conditioning and one seed (third session).

Usage::

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks_results/support/mm_seed.py {film,concat} SEED

The seed sets the simulations, the initialisation, the draws and the classifier; the 10
observations are the task's. Writes ``mm_<conditioning>_seed<SEED>.json``.
"""

import json
import sys

import torch

from sklearn_sbi.benchmarks import get_task, run_benchmark
from sklearn_sbi.networks import FlowMatching


def main() -> None:
    torch.set_num_threads(1)
    conditioning, seed = sys.argv[1], int(sys.argv[2])
    task = get_task("multimodal_gaussian")
    estimator = task.make_estimator(
        FlowMatching(conditioning=conditioning), batch_size=256, random_state=seed
    )
    result = run_benchmark(task, estimator, 10_000, random_state=seed)
    with open(f"mm_{conditioning}_seed{seed}.json", "w") as handle:
        json.dump(result, handle, default=str)
    print(conditioning, seed, round(result["c2st_mean"], 4), [round(c, 3) for c in result["c2st"]])


if __name__ == "__main__":
    main()
