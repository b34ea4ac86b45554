"""Full benchmark protocol for one task with extra estimator keywords (fourth session).

Usage::

    OMP_NUM_THREADS=1 python benchmarks_results/student_t/full_kw.py NAME TASK NET "EST_KW"

Runs ``run_benchmark(task, task.make_estimator(NET, random_state=0, **EST_KW), 10_000,
random_state=0)`` on all 10 observations and writes ``NAME.json`` in the working
directory, e.g. ``full_gm_vf0 gaussian_mixture flow_matching "{'validation_fraction': 0.0}"``.
"""

import ast
import json
import sys

import torch

from sklearn_sbi.benchmarks import get_task, run_benchmark


def main() -> None:
    torch.set_num_threads(1)
    name, task_name, net = sys.argv[1:4]
    extra = ast.literal_eval(sys.argv[4]) if len(sys.argv) > 4 else {}
    task = get_task(task_name)
    estimator = task.make_estimator(net, random_state=0, **extra)
    result = run_benchmark(task, estimator, 10_000, random_state=0)
    result.update(name=name, est_kw=repr(extra))
    with open(f"{name}.json", "w") as handle:
        json.dump(result, handle, default=str)
    print(name, round(result["c2st_mean"], 4), [round(c, 3) for c in result["c2st"]])


if __name__ == "__main__":
    main()
