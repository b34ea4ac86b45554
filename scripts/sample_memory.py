"""Peak extra memory of ``AmortizedPosterior.sample`` against its ``batch_size``.

Trains a tiny 2-parameter estimator once, then, in a fresh subprocess per
setting, draws ``n_samples`` posterior samples for ``n_obs`` observations and
reports the peak resident memory reached during the call minus the memory
before it and minus the returned array: the working memory of sampling,
which should grow with ``batch_size`` and not with the output size.

The peak comes from the kernel's high-water mark (``VmHWM``, the value
``resource.getrusage(...).ru_maxrss`` reports), reset just before the call by
writing ``5`` to ``/proc/self/clear_refs`` (Linux).

Usage::

    OMP_NUM_THREADS=1 python scripts/sample_memory.py [--n-obs 1000] [--n-samples 10000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

MB = 2**20
BATCH_SIZES = (1_024, 4_096, 16_384, 65_536, 262_144)


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure(path: str, n_obs: int, n_samples: int, batch_size: int) -> None:
    """Child process: load the estimator, sample once, print MB and seconds."""
    import numpy as np

    from sklearn_sbi.persistence import load_estimator

    estimator = load_estimator(path)
    X = np.random.default_rng(1).normal(size=(n_obs, 2))
    estimator.sample(X[:2], 10, random_state=0, batch_size=batch_size)  # warm up
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset the peak (VmHWM) to the current RSS
    before = _status_kib("VmRSS") * 1024
    start = time.perf_counter()
    draws = estimator.sample(X, n_samples, random_state=0, batch_size=batch_size)
    seconds = time.perf_counter() - start
    peak = _status_kib("VmHWM") * 1024
    print(f"{(peak - before - draws.nbytes) / MB:.1f} {draws.nbytes / MB:.1f} {seconds:.2f}")


def train(path: str) -> None:
    """Fit a tiny 2-parameter estimator and save it to ``path``."""
    import numpy as np

    from sklearn_sbi import AmortizedPosterior

    rng = np.random.default_rng(0)
    theta = rng.normal(size=(2000, 2))
    x = theta + 0.3 * rng.normal(size=theta.shape)
    estimator = AmortizedPosterior("affine_coupling", max_epochs=2, random_state=0)
    estimator.set_params(inference_net__widths=(32, 32)).fit(x, theta)
    estimator.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-obs", type=int, default=1_000)
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES))
    parser.add_argument("--child", nargs=2, metavar=("PATH", "BATCH_SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args.child[0], args.n_obs, args.n_samples, int(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "tiny.safetensors")
        train(path)
        print(f"sample(X, {args.n_samples}) for {args.n_obs} observations, 2 parameters")
        print(f"{'batch_size':>10} {'peak extra MB':>14} {'output MB':>10} {'seconds':>8}")
        for batch_size in args.batch_sizes:
            command = [sys.executable, __file__, "--child", path, str(batch_size)]
            command += ["--n-obs", str(args.n_obs), "--n-samples", str(args.n_samples)]
            extra, output, seconds = subprocess.run(
                command, check=True, capture_output=True, text=True
            ).stdout.split()
            print(f"{batch_size:>10} {extra:>14} {output:>10} {seconds:>8}")


if __name__ == "__main__":
    main()
