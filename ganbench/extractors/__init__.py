"""Feature extractors for image metrics, registered with torch-fidelity.

- ``fmnist-cnn``: ganbench's Fashion-MNIST domain classifier, shipped as package
  data (``weights/fmnist_cnn.pt``) and sha256-checked at load.
- ``inception-v3-compat``: torch-fidelity's Inception-v3; weights from a path,
  ``$TORCH_HOME/hub/checkpoints``, or a download.
"""

from ganbench.extractors.core import (
    EXTRACTORS,
    ExtractorSpec,
    LoadedExtractor,
    extract_features,
    load_extractor,
    register_extractor,
    weights_sha256,
)
from ganbench.extractors.errors import MetricError
from ganbench.extractors.train import train_fmnist_extractor

__all__ = [
    "EXTRACTORS",
    "ExtractorSpec",
    "LoadedExtractor",
    "MetricError",
    "extract_features",
    "load_extractor",
    "register_extractor",
    "train_fmnist_extractor",
    "weights_sha256",
]
