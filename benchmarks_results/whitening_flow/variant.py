"""Screening (support/screen.py arguments) with the patches of patches.py (VARIANT env).

Usage::

    VARIANT=bins8 OMP_NUM_THREADS=1 python variant.py NAME TASK fm "{}" "{}" [flags]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import patches  # noqa: F401  (applies the VARIANT patches on import)
import screen  # found through the path patches adds

screen.main()
