"""The documentation builds, covers every public name, and every example in it runs.

- ``test_sphinx_build``: ``sphinx-build -W --keep-going -b html docs <tmp>``
  (warnings are errors), then checks that the API pages and figures exist.
- ``test_api_reference_lists_every_public_name``: every name in the ``__all__``
  of a public module has an entry in ``docs/api.rst``.
- ``test_public_docstrings_have_examples``: every public class and function has
  a docstring with an Examples section (``>>>``).
- ``test_user_guide_examples``: the ``>>>`` examples of each ``.rst`` page run
  (as ``doctest.testfile`` does, one namespace per page).
- ``test_docstring_examples``: the docstring examples of every module of
  ``sklearn_sbi`` run, each in a fresh namespace, so that they also work when
  copied into a session (the pytest configuration only collects ``tests/``).
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import io
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import torch

import sklearn_sbi

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
PUBLIC_MODULES = [
    "sklearn_sbi",
    "sklearn_sbi.networks",
    "sklearn_sbi.networks.inference",
    "sklearn_sbi.networks.summary",
    "sklearn_sbi.preprocessing",
    "sklearn_sbi.metrics",
    "sklearn_sbi.plotting",
    "sklearn_sbi.benchmarks",
    "sklearn_sbi.persistence",
]
GUIDE_PAGES = sorted(
    path
    for path in DOCS.rglob("*.rst")
    if not {"_build", "generated", "_templates"} & set(path.relative_to(DOCS).parts)
)


@pytest.fixture
def one_thread():
    """Run torch on one thread and close the figures the examples open."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    plt.close("all")


def public_objects() -> dict[str, object]:
    """``"module.name" -> object`` for every public name, each object once."""
    found: dict[int, tuple[str, object]] = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", None)
        if names is None:
            names = [
                name
                for name, value in vars(module).items()
                if not name.startswith("_") and getattr(value, "__module__", None) == module_name
            ]
        for name in names:
            value = getattr(module, name)
            found.setdefault(id(value), (f"{module_name}.{name}", value))
    return dict(found.values())


def documented_objects(api_page: Path) -> set[int]:
    """Ids of the objects listed in the autosummary tables of ``api_page``."""
    documented = set()
    module = None
    in_table = False
    for line in api_page.read_text().splitlines():
        current = re.match(r"\.\. currentmodule:: (\S+)", line)
        if current:
            module = importlib.import_module(current.group(1))
            continue
        if line.startswith(".. autosummary::"):
            in_table = True
            continue
        if in_table and line.strip() and not line.startswith("   "):
            in_table = False
        entry = re.fullmatch(r"   ([A-Za-z_]\w*)", line)
        if in_table and entry:
            documented.add(id(getattr(module, entry.group(1))))
    return documented


def test_api_reference_lists_every_public_name():
    documented = documented_objects(DOCS / "api.rst")
    missing = [name for name, value in public_objects().items() if id(value) not in documented]
    assert not missing, f"Public names missing from docs/api.rst: {missing}"


def test_public_docstrings_have_examples():
    lacking = [
        name
        for name, value in public_objects().items()
        if (inspect.isclass(value) or inspect.isfunction(value))
        and ">>>" not in (inspect.getdoc(value) or "")
    ]
    assert not lacking, f"Public classes/functions without a runnable Examples section: {lacking}"


@pytest.mark.parametrize("page", GUIDE_PAGES, ids=lambda path: str(path.relative_to(DOCS)))
def test_user_guide_examples(page, one_thread):
    output = io.StringIO()
    parser = doctest.DocTestParser()
    test = parser.get_doctest(page.read_text(), {}, page.name, str(page), 0)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    result = runner.run(test, out=output.write)
    assert result.failed == 0, output.getvalue()
    assert (result.attempted > 0) == (">>>" in page.read_text())


def test_docstring_examples(one_thread):
    finder = doctest.DocTestFinder()
    failures = {}
    attempted = 0
    for info in pkgutil.walk_packages(sklearn_sbi.__path__, "sklearn_sbi."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for test in finder.find(module, globs={}):
            output = io.StringIO()
            result = doctest.DocTestRunner(optionflags=OPTIONS).run(test, out=output.write)
            attempted += result.attempted
            if result.failed:
                failures[test.name] = output.getvalue()
    assert not failures, (
        "Docstring examples fail in: " + ", ".join(failures) + "\n\n" + "\n".join(failures.values())
    )
    assert attempted > 0


def test_sphinx_build(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    html = tmp_path / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    command += ["-d", str(tmp_path / "doctrees"), str(DOCS), str(html)]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    build = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    missing_pages = [
        name for name in public_objects() if not (html / "generated" / f"{name}.html").exists()
    ]
    assert not missing_pages, f"No API page for {missing_pages}"
    figures = {path.name for path in (DOCS / "_static" / "diagnostics").glob("*.png")}
    assert figures and figures <= {path.name for path in (html / "_images").glob("*.png")}
