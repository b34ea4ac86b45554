"""Test-wide settings: headless plotting and one torch thread.

The test networks are tiny, where extra intra-op threads cost more in
synchronisation than they give; one thread also keeps timings stable when the
two CI cores are shared with a worker process.
"""

import matplotlib
import torch

matplotlib.use("Agg")
torch.set_num_threads(1)
