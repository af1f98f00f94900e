"""Will the run's models fit in memory? Checked before they are built.

A model too large for the machine (``ganbench train ... --width 100000``) used
to end in an allocator traceback, or in the kernel's OOM killer, after the data
was loaded. :func:`check_memory` instead estimates what training needs from the
models built on the ``meta`` device (shapes only, nothing allocated) and raises
a ConfigError naming the size and the memory available.

The estimate, in bytes:

* weights, gradients and optimiser state: ``parameters x element size x
  (2 + states)``, where Adam keeps 2 states per parameter (first and second
  moment) and RMSprop 1;
* activations: the outputs of every leaf module in one generator forward and one
  critic forward of a batch (a meta forward, so free), twice: autograd keeps them
  for the backward pass, and the backward pass makes gradients of the same size.

It is a floor (no allocator overhead, the data, or penalties' double backward),
so a run it refuses could never fit, and one it passes may still be tight.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn

from ganbench.config.run import RunConfig
from ganbench.core.errors import ConfigError
from ganbench.datasets import DatasetInfo
from ganbench.models import build_models
from ganbench.training.device import torch_device
from ganbench.variants import make_variant

#: Tensors the optimiser keeps per parameter.
OPTIMIZER_STATES = {"adam": 2, "rmsprop": 1}
GIB = 2 ** 30


@dataclass(frozen=True)
class MemoryEstimate:
    """What training one run needs, in bytes, and how it splits."""

    parameters: int
    bytes_per_parameter: int   # weights + gradients + optimiser state
    activations: int

    @property
    def total(self) -> int:
        return self.parameters * self.bytes_per_parameter + self.activations


def estimate_memory(config: RunConfig, info: DatasetInfo, optimizer: str = "adam") -> MemoryEstimate:
    """The memory a resolved ``config`` needs to train on data described by ``info``."""
    with torch.device("meta"):
        generator, critic = build_models(info, width=config.width, z_dim=config.z_dim, d_norm=config.d_norm,
                                         config=config)
    parameters = sum(p.numel() for m in (generator, critic) for p in m.parameters())
    element = torch.get_default_dtype().itemsize
    per_parameter = element * (2 + OPTIMIZER_STATES.get(optimizer, 2))
    return MemoryEstimate(parameters, per_parameter, 2 * element * _activation_elements(generator, critic, config))


def _activation_elements(generator: nn.Module, critic: nn.Module, config: RunConfig) -> int:
    """Elements output by every leaf module in one meta forward of each network on a batch."""
    seen = [0]

    def count(_module, _inputs, output):
        if isinstance(output, torch.Tensor):
            seen[0] += output.numel()

    leaves = [m for net in (generator, critic) for m in net.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(count) for m in leaves]
    try:
        with torch.no_grad():
            fake = generator(torch.empty(config.batch_size, config.z_dim, device="meta"))
            critic(torch.cat([fake] * config.pack, dim=1))  # a pack of m samples side by side
    except (RuntimeError, NotImplementedError, TypeError):
        return 0  # a model the meta device cannot run: parameters only (still a floor)
    finally:
        for hook in hooks:
            hook.remove()
    return seen[0]


def available_memory(device: str) -> int:
    """Bytes free for a new allocation on ``device``: the GPU's free memory on CUDA;
    on CPU psutil's ``available`` if installed, else MemAvailable from /proc/meminfo,
    else the free physical pages."""
    if device.startswith("cuda"):  # torch_device first: a device this machine lacks is named as such
        return torch.cuda.mem_get_info(torch_device(device))[0]
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_memory(config: RunConfig, info: DatasetInfo, available: int | None = None,
                 copies: int = 1) -> MemoryEstimate:
    """Raise ConfigError when training the resolved ``config`` (``copies`` of it: a seed group)
    cannot fit in its device's memory (``available`` bytes, default: :func:`available_memory`);
    return the estimate (of one copy)."""
    optimizer = make_variant(config.variant, **config.variant_options).defaults.optimizer
    need = estimate_memory(config, info, optimizer)
    free = available_memory(config.device) if available is None else available
    if need.total * copies > free:
        group = f" x {copies} seeds trained together (--group-seeds off trains them one at a time)" * (copies > 1)
        raise ConfigError(
            f"run {config.run_id}: the generator and critic need about {need.total / GIB:.1f} GiB{group} to train "
            f"({need.parameters:,} parameters x {need.bytes_per_parameter} bytes for weights, gradients and "
            f"{optimizer} state = {need.parameters * need.bytes_per_parameter / GIB:.1f} GiB, plus "
            f"{need.activations / GIB:.1f} GiB of activations at batch {config.batch_size}), but {config.device} "
            f"has {free / GIB:.1f} GiB available; lower --width (or --g-width / --d-width) or --batch-size")
    return need
