"""The fixed, seeded recipe that produces the shipped ``fmnist-cnn`` weights.

Recipe (kept small so it runs in a few minutes on ONE CPU thread):
Fashion-MNIST train split (60k), inputs mapped to [-1, 1], no augmentation;
Adam (lr 1e-3, default betas, Kingma & Ba 2015) with cosine decay to 0 over
all steps (Loshchilov & Hutter 2017); batch 128; 5 epochs; cross-entropy;
dropout 0.3 before the last layer; ``torch.manual_seed(seed)`` for the
initialisation and a separate seeded generator for the shuffling order.
Test accuracy is measured on the 10k test split and written, with the recipe
and the weights' sha256, to a JSON card next to the weights.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from ganbench.extractors.fmnist_cnn import FmnistCNN, sha256_file, to_input

RECIPE = {
    "dataset": "fashion-mnist",
    "optimizer": "Adam",
    "lr": 1e-3,
    "schedule": "cosine to 0 over all steps",
    "batch_size": 128,
    "loss": "cross-entropy",
    "augmentation": "none",
    "dropout": 0.3,
    "threads": 1,
}


def _atomic_write_bytes(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; weights are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


@torch.no_grad()
def accuracy(net: FmnistCNN, images: torch.Tensor, labels: torch.Tensor, batch: int = 1000) -> float:
    """Top-1 accuracy of ``net`` on uint8 images [N, 1, 28, 28]."""
    net.eval()
    correct = sum(
        (net(to_input(images[i : i + batch])).argmax(1) == labels[i : i + batch]).sum().item()
        for i in range(0, len(images), batch)
    )
    return correct / len(images)


def _train_epochs(net, images, labels, *, seed, epochs, batch_size, lr, progress) -> None:
    order = torch.Generator().manual_seed(seed)
    steps_per_epoch = (len(images) + batch_size - 1) // batch_size
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(images), generator=order)
        batches = tqdm(range(0, len(images), batch_size), desc=f"epoch {epoch + 1}/{epochs}", disable=not progress)
        for start in batches:
            idx = perm[start : start + batch_size]
            loss = F.cross_entropy(net(to_input(images[idx])), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()


def train_fmnist_extractor(
    out_path: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
    epochs: int = 5,
    batch_size: int = 128,
    lr: float = 1e-3,
    progress: bool = True,
) -> dict:
    """Train ``fmnist-cnn`` with the fixed recipe; write weights and a JSON card.

    Writes ``out_path`` (a state dict, loadable with ``weights_only=True``) and
    ``out_path`` with suffix ``.json`` (recipe, test accuracy, sha256, time),
    both atomically. Uses one torch thread for the run, as the recipe states,
    and restores the previous setting. Returns the card.
    """
    from ganbench.datasets import load_dataset

    out_path = Path(out_path)
    train, test = load_dataset("fashion-mnist", "train", data_dir), load_dataset("fashion-mnist", "test", data_dir)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        net = FmnistCNN()
        start = time.perf_counter()
        _train_epochs(net, train.data, train.labels, seed=seed, epochs=epochs,
                      batch_size=batch_size, lr=lr, progress=progress)
        seconds = time.perf_counter() - start
        test_acc = accuracy(net, test.data, test.labels)
    finally:
        torch.set_num_threads(threads)
    _atomic_write_bytes(out_path, lambda fh: torch.save(net.state_dict(), fh))
    card = {
        "extractor": "fmnist-cnn",
        "weights": out_path.name,
        "sha256": sha256_file(out_path),
        "recipe": {**RECIPE, "lr": lr, "batch_size": batch_size, "epochs": epochs, "seed": seed},
        "test_accuracy": round(test_acc, 4),
        "train_seconds": round(seconds, 1),
        "torch": torch.__version__,
        "parameters": sum(p.numel() for p in net.parameters()),
    }
    text = json.dumps(card, indent=2, sort_keys=True) + "\n"
    _atomic_write_bytes(out_path.with_suffix(".json"), lambda fh: fh.write(text.encode()))
    return card
