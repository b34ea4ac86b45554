"""Test-wide settings: headless plotting, small thread pools, fixed seeds."""

import matplotlib

matplotlib.use("Agg")
