"""Benchmark tasks with exact (or verified) reference posteriors, and their runner.

Each task simulates data, holds 10 fixed observations with the parameters
that generated them, and samples the reference posterior of any observation.
:func:`run_benchmark` trains an estimator on a task and scores it with C2ST;
``python -m sklearn_sbi.benchmarks --task two_moons --net flow_matching``
does the same from the command line.
"""

from sklearn_sbi.benchmarks._runner import format_report, run_benchmark
from sklearn_sbi.benchmarks._task import Task
from sklearn_sbi.benchmarks.gaussian_linear import GaussianLinear
from sklearn_sbi.benchmarks.gaussian_mixture import GaussianMixture
from sklearn_sbi.benchmarks.multimodal_gaussian import MultimodalGaussian
from sklearn_sbi.benchmarks.slcp import SLCP
from sklearn_sbi.benchmarks.two_moons import TwoMoons

TASKS: dict[str, type[Task]] = {
    task.name: task
    for task in (GaussianLinear, TwoMoons, GaussianMixture, SLCP, MultimodalGaussian)
}


def get_task(name: str) -> Task:
    """Return a benchmark task by name.

    Parameters
    ----------
    name : str
        One of ``"gaussian_linear"``, ``"two_moons"``, ``"gaussian_mixture"``,
        ``"slcp"``, ``"multimodal_gaussian"``.

    Returns
    -------
    Task

    Examples
    --------
    >>> from sklearn_sbi.benchmarks import get_task
    >>> get_task("two_moons").param_names
    ['theta[0]', 'theta[1]']
    """
    try:
        return TASKS[name]()
    except KeyError:
        raise ValueError(f"Unknown task {name!r}; choose one of {sorted(TASKS)}.") from None


__all__ = [
    "SLCP",
    "TASKS",
    "GaussianLinear",
    "GaussianMixture",
    "MultimodalGaussian",
    "Task",
    "TwoMoons",
    "format_report",
    "get_task",
    "run_benchmark",
]
