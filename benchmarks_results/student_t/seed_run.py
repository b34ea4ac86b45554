"""Full benchmark protocol for one task and network at another seed (fourth session).

Usage::

    OMP_NUM_THREADS=1 python benchmarks_results/student_t/seed_run.py TASK NET SEED

The seed sets the simulations, the initialisation, the draws and the classifier (as
``support/mm_seed.py`` does for multimodal_gaussian); the 10 observations are the task's.
Writes ``seed_<TASK>_<NET>_<SEED>.json`` in the working directory.
"""

import json
import sys

import torch

from sklearn_sbi.benchmarks import get_task, run_benchmark


def main() -> None:
    torch.set_num_threads(1)
    task_name, net, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    task = get_task(task_name)
    estimator = task.make_estimator(net, random_state=seed)
    result = run_benchmark(task, estimator, 10_000, random_state=seed)
    with open(f"seed_{task_name}_{net}_{seed}.json", "w") as handle:
        json.dump(result, handle, default=str)
    scores = [round(c, 3) for c in result["c2st"]]
    print(task_name, net, seed, round(result["c2st_mean"], 4), scores)


if __name__ == "__main__":
    main()
