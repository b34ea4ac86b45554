"""Sphinx configuration of the sklearn-sbi documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
API stubs are generated into ``docs/generated/`` (not committed).
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sklearn_sbi

project = "sklearn-sbi"
author = "The sklearn-sbi developers"
copyright = "2025, The sklearn-sbi developers"
version = release = sklearn_sbi.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
]

# No network access at build time: no intersphinx. References to numpy,
# pandas, scikit-learn or torch objects therefore stay plain text, which is
# also why ``nitpicky`` stays off.
nitpicky = False

templates_path = ["_templates"]
exclude_patterns = ["_build", "generated/*.examples", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"

autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
autodoc_member_order = "groupwise"
autodoc_default_options = {"members": True, "inherited-members": False}

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
numpydoc_xref_param_type = False

# ``.. doctest::`` and plain ``>>>`` blocks run under ``sphinx-build -b doctest``.
doctest_global_setup = """
import numpy as np
import torch
torch.set_num_threads(1)
"""

html_theme = "alabaster"
html_static_path = ["_static"]
html_title = f"sklearn-sbi {release}"
html_theme_options = {
    "description": "Amortized Bayesian inference with scikit-learn idioms, on PyTorch.",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
}


def _skip_metadata_requests(app, what, name, obj, skip, options):
    """Hide scikit-learn's generated ``set_*_request`` methods (metadata routing)."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_requests)
