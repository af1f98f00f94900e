"""MNIST-format datasets (IDX files): ``fashion-mnist`` and ``mnist``.

Search order for the files (first directory holding all four wins):
1. the user's directory: ``--data-dir`` / ``$GANBENCH_DATA_DIR`` (files directly
   in it, in ``<dir>/<name>/``, or in torchvision's ``<dir>/<Class>/raw/``);
2. Debian's packages (``apt-get install dataset-fashion-mnist``), under
   ``/usr/share/datasets/<name>``;
3. a torchvision download into ``$GANBENCH_CACHE`` when online.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ganbench.core.errors import DatasetError
from ganbench.datasets.base import DatasetInfo, DataSplit, cache_dir, downloads_allowed, found_in, register_dataset

STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SOURCES = {
    # name: (Debian package dir, torchvision class name, Debian package name)
    "fashion-mnist": ("/usr/share/datasets/fashion-mnist", "FashionMNIST", "dataset-fashion-mnist"),
    "mnist": ("/usr/share/datasets/mnist", "MNIST", None),
}
IDX_UBYTE = 0x08  # IDX type code for unsigned bytes (LeCun's format spec)


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped), validating header and size."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DatasetError(f"{path}: cannot read ({exc}); the file is truncated or corrupt, delete and re-fetch it") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != IDX_UBYTE:
        raise DatasetError(f"{path}: not an unsigned-byte IDX file (bad magic number); delete and re-fetch it")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path}: IDX header is truncated; delete and re-fetch it")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise DatasetError(
            f"{path}: holds {len(raw)} bytes, its header promises {expected} (dims {dims}); "
            "the file is truncated or corrupt, delete and re-fetch it"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _find(directory: Path, stem: str) -> Optional[Path]:
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _locate(directory: Path, split: str) -> Optional[tuple[Path, Path]]:
    found = tuple(_find(directory, stem) for stem in STEMS[split])
    return found if all(found) else None  # type: ignore[return-value]


def _download(name: str, root: Path) -> Path:
    import torchvision

    cls = getattr(torchvision.datasets, SOURCES[name][1])
    cls(str(root), train=True, download=True)
    cls(str(root), train=False, download=True)
    return root / SOURCES[name][1] / "raw"


def locate_files(name: str, split: str, data_dir: Optional[Path]) -> tuple[tuple[Path, Path], str, list[str]]:
    """Find (images, labels) for a split following the documented search order;
    also returns the place they were found and the places tried before it."""
    debian_dir, tv_class, debian_pkg = SOURCES[name]
    tried = []
    if data_dir is not None:
        for directory in (data_dir, data_dir / name, data_dir / tv_class / "raw"):
            if found := _locate(directory, split):
                return found, "user directory (--data-dir / GANBENCH_DATA_DIR)", tried
        tried.append(f"1. user directory {data_dir} (--data-dir / GANBENCH_DATA_DIR): no {STEMS[split][0]}[.gz]")
    else:
        tried.append("1. user directory: none given (pass --data-dir or set GANBENCH_DATA_DIR)")
    if found := _locate(Path(debian_dir), split):
        return found, f"Debian package files under {debian_dir}", tried
    hint = f" (apt-get install {debian_pkg})" if debian_pkg else ""
    tried.append(f"2. Debian package files under {debian_dir}: not found{hint}")
    download_root = cache_dir() / "datasets"
    downloaded = f"download cache {download_root}"
    if found := _locate(download_root / tv_class / "raw", split):
        return found, downloaded, tried
    if downloads_allowed():
        try:
            if found := _locate(_download(name, download_root), split):
                return found, downloaded, tried
            tried.append(f"3. download into {download_root}: finished but files are missing")
        except Exception as exc:  # any network failure: report it with the rest
            tried.append(f"3. download into {download_root}: failed ({type(exc).__name__}: {exc})")
    else:
        tried.append("3. download: disabled by GANBENCH_OFFLINE=1")
    raise DatasetError(f"{name} {split} split not found. Tried:\n  " + "\n  ".join(tried))


def load_idx_split(name: str, split: str, data_dir: Optional[Path]) -> DataSplit:
    """Images as uint8 [N, 1, 28, 28] and int64 labels, checked for consistency."""
    (image_path, label_path), place, tried = locate_files(name, split, data_dir)
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DatasetError(
            f"{image_path} / {label_path}: shapes {images.shape} and {labels.shape} do not form a labelled "
            "image set; delete and re-fetch them"
        )
    data = torch.from_numpy(images.copy()).unsqueeze(1)
    info = DatasetInfo(name=name, kind="images", shape=tuple(data.shape[1:]), num_modes=10)
    source = found_in(name, split, place, [image_path, label_path], tried)
    return DataSplit(data, torch.from_numpy(labels.astype(np.int64)), info, source)


@register_dataset("fashion-mnist")
def load_fashion_mnist(split: str, data_dir: Optional[Path] = None) -> DataSplit:
    """Fashion-MNIST (Xiao et al. 2017): 28x28 grey, 10 classes, 60k/10k."""
    return load_idx_split("fashion-mnist", split, data_dir)


@register_dataset("mnist")
def load_mnist(split: str, data_dir: Optional[Path] = None) -> DataSplit:
    """MNIST (LeCun et al. 1998): 28x28 grey, 10 classes, 60k/10k."""
    return load_idx_split("mnist", split, data_dir)
