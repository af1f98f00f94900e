"""Datasets behind one API: ``load_dataset(name, split, data_dir) -> DataSplit``."""

from ganbench.core.plugins import attach, ensure_loaded
from ganbench.datasets import cifar, idx, imagefolder, mixtures, stacked  # noqa: F401  (registration)
from ganbench.datasets.base import (
    DATASETS,
    DatasetInfo,
    DataSplit,
    load_dataset,
    register_dataset,
    to_model_space,
    to_uint8,
)

DATASETS.loader = ensure_loaded  # datasets from outside the package, on first lookup
attach("dataset", DATASETS, lambda name, loader: DATASETS.register(name)(loader))

__all__ = ["DATASETS", "DataSplit", "DatasetInfo", "load_dataset", "register_dataset", "to_model_space", "to_uint8"]
