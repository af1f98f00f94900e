"""Datasets: generated mixtures, and real loaders on small files in the true
on-disk formats (IDX .gz, CIFAR-10 pickles) that the tests write themselves."""

import gzip
import pickle
import struct

import numpy as np
import pytest
import torch

from ganbench.core.errors import DatasetError, UnknownNameError
from ganbench.datasets import idx, load_dataset, to_model_space, to_uint8
from ganbench.datasets.mixtures import grid_centers, ring_centers


def write_idx(path, array: np.ndarray, gz=True):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if gz else payload)


def write_mnist_like(directory, n_train=30, n_test=20, seed=0):
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        write_idx(directory / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(directory / f"{split}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    return directory


def test_ring8_has_eight_distinct_modes_on_the_unit_circle():
    centers = ring_centers()
    assert len(torch.unique(centers.round(decimals=4), dim=0)) == 8  # not the linspace bug's 7
    assert torch.allclose(centers.norm(dim=1), torch.ones(8))
    split = load_dataset("ring8")
    assert split.data.shape == (100_000, 2) and split.info.num_modes == 8
    dist = (split.data - centers[split.labels]).norm(dim=1)
    assert dist.std() < 0.02 and set(split.labels.tolist()) == set(range(8))


def test_grid25_and_splits_differ():
    assert set(map(tuple, grid_centers().tolist())) == {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    train, test = load_dataset("grid25", "train"), load_dataset("grid25", "test")
    assert train.info.std == 0.05 and not torch.equal(train.data[:10], test.data[:10])
    assert torch.equal(train.data[:10], load_dataset("grid25", "train").data[:10])  # deterministic


def test_idx_user_directory_is_used_first(tmp_path):
    write_mnist_like(tmp_path / "fm")
    split = load_dataset("fashion-mnist", "train", data_dir=tmp_path / "fm")
    assert split.data.shape == (30, 1, 28, 28) and split.data.dtype == torch.uint8
    assert split.labels.tolist() == [i % 10 for i in range(30)]
    assert len(load_dataset("mnist", "test", data_dir=tmp_path / "fm")) == 20


def test_idx_uncompressed_and_torchvision_layout(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "t10k-images-idx3-ubyte", np.zeros((5, 28, 28)), gz=False)
    write_idx(raw / "t10k-labels-idx1-ubyte", np.arange(5), gz=False)
    assert len(load_dataset("mnist", "test", data_dir=tmp_path)) == 5


def test_truncated_and_corrupt_idx_name_the_file(tmp_path):
    d = write_mnist_like(tmp_path / "fm")
    images = d / "train-images-idx3-ubyte.gz"
    payload = gzip.decompress(images.read_bytes())
    images.write_bytes(gzip.compress(payload[:-100]))
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte.gz.*truncated"):
        load_dataset("fashion-mnist", "train", data_dir=d)
    images.write_bytes(images.read_bytes()[:50])  # a cut-off gzip stream
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte.gz"):
        load_dataset("fashion-mnist", "train", data_dir=d)
    images.write_bytes(gzip.compress(b"\x00\x00\x0d\x03" + payload[4:]))  # float32 type code
    with pytest.raises(DatasetError, match="magic"):
        load_dataset("fashion-mnist", "train", data_dir=d)


def test_missing_fashion_mnist_names_all_three_sources(tmp_path, monkeypatch):
    monkeypatch.setitem(idx.SOURCES, "fashion-mnist", (str(tmp_path / "debian"), "FashionMNIST", "dataset-fashion-mnist"))
    (tmp_path / "empty").mkdir()  # exists but lacks the files (a directory that does not exist is a ConfigError)
    with pytest.raises(DatasetError) as info:
        load_dataset("fashion-mnist", "train", data_dir=tmp_path / "empty")
    message = str(info.value)
    assert "1. user directory" in message and "2. Debian package" in message and "apt-get install dataset-fashion-mnist" in message
    assert "3. download" in message and "GANBENCH_OFFLINE" in message


def test_stacked_mnist_composes_three_digits(tmp_path):
    d = write_mnist_like(tmp_path / "m", n_train=40)
    base = load_dataset("mnist", "train", data_dir=d)
    stacked = load_dataset("stacked-mnist", "train", data_dir=d)
    assert stacked.data.shape == (40, 3, 28, 28) and stacked.info.num_modes == 1000
    for i in range(5):
        mode = stacked.labels[i].item()
        for c, digit in enumerate((mode // 100, mode // 10 % 10, mode % 10)):
            matches = [j for j in range(40) if torch.equal(base.data[j, 0], stacked.data[i, c])]
            assert matches and base.labels[matches[0]].item() == digit
    assert torch.equal(stacked.data, load_dataset("stacked-mnist", "train", data_dir=d).data)


def write_cifar(directory, n=8):
    folder = directory / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "labels": list(range(n))}
        with open(folder / name, "wb") as fh:
            pickle.dump(batch, fh)
    return folder


def test_cifar10_pickle_batches(tmp_path):
    folder = write_cifar(tmp_path)
    train = load_dataset("cifar10", "train", data_dir=tmp_path)
    assert train.data.shape == (40, 3, 32, 32) and train.data.dtype == torch.uint8
    with open(folder / "test_batch", "rb") as fh:
        raw = pickle.load(fh)
    test = load_dataset("cifar10", "test", data_dir=tmp_path)
    assert torch.equal(test.data[1].flatten(), torch.from_numpy(raw["data"][1]))  # channel-major layout
    (folder / "data_batch_3").write_bytes(b"\x80\x04garbage")
    with pytest.raises(DatasetError, match="data_batch_3"):
        load_dataset("cifar10", "train", data_dir=tmp_path)


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(UnknownNameError, match="valid datasets: cifar10, fashion-mnist"):
        load_dataset("fmnist")


def test_model_space_round_trip():
    images = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16)
    x = to_model_space(images)
    assert x.min() == -1 and x.max() == 1
    assert torch.equal(to_uint8(x), images)
