"""Smoke test of the runnable examples: each runs with ``--quick`` and writes its figures.

Each example runs in its own interpreter (as a user would run it), with torch
limited to one thread, and must exit 0 and write non-empty PNG files into the
``--out`` directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

EXPECTED_FIGURES = {
    "two_moons.py": ["two_moons_posterior.png"],
    "two_moons_comparison.py": ["two_moons_comparison.png"],
    "multimodal.py": ["loss.png", "recovery.png", "calibration_ecdf.png"],
    "tuning.py": ["tuning_scores.png"],
    "pandas_workflow.py": ["pandas_posterior_lines.png"],
    "bounded_parameters.py": ["bounded_pairplot.png"],
}


@pytest.mark.parametrize("script", sorted(EXPECTED_FIGURES))
def test_example_runs_quick_and_writes_figures(script: str, tmp_path: Path) -> None:
    out = tmp_path / "outputs"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / script), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    for name in EXPECTED_FIGURES[script]:
        path = out / name
        assert path.is_file(), f"{script} did not write {name}; wrote {sorted(os.listdir(out))}"
        assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{name} is not a PNG file"
