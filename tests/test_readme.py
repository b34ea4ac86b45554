"""The README's quickstart runs as written."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_starts_with_the_two_commands():
    bash = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert bash[0].strip().endswith("python examples/two_moons.py")
    ci = (README.parent / ".ci" / "run").read_text()
    assert bash[1].strip() in ci


def test_quickstart_runs(capsys):
    (quickstart,) = _python_blocks()
    namespace: dict = {}
    exec(compile(quickstart, str(README), "exec"), namespace)
    assert namespace["draws"].shape == (3, 1000, 2)
    report = namespace["diagnostics_report"](
        namespace["posterior"], namespace["X"][:100], namespace["y"][:100], n_samples=200
    )
    assert list(report.index) == ["mu", "sigma"]
    # The trained posterior is informative: it contracts well inside the prior.
    assert (report["posterior_contraction"] > 0.25).all()
    assert np.isfinite(report.drop(columns="verdict").to_numpy(dtype=float)).all()
    assert "verdict" in capsys.readouterr().out
