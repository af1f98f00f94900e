"""Shared test settings: one torch thread, no downloads, a private cache.

Set at import time, before any fixture runs, so module-scoped fixtures never
write into the user's ~/.cache/ganbench.
"""

import os
import tempfile

import torch

os.environ.setdefault("GANBENCH_OFFLINE", "1")
os.environ["GANBENCH_CACHE"] = tempfile.mkdtemp(prefix="ganbench-test-cache-")
torch.set_num_threads(1)
