"""A local Dask cluster as the joblib backend, for the parallel tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import joblib
import pytest


@contextmanager
def dask_cluster(*, processes: bool) -> Iterator[None]:
    """Run the body with joblib on a local Dask cluster of 2 one-thread workers.

    ``processes=False`` keeps the workers in this process (over TCP, so data is
    still serialized). Skips the calling test when ``distributed`` is not installed.
    """
    distributed = pytest.importorskip("distributed")
    in_process = {} if processes else {"protocol": "tcp"}
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=processes,
            host="127.0.0.1",
            dashboard_address=None,
            **in_process,
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        yield
