"""Seeds trained together: runs that differ only by seed, stepped as one.

The members' weights are stacked along a new first dimension (:class:`Stacked`),
each network has one optimiser over the stacked tensors (Adam and RMSProp are
elementwise, so member ``i``'s slice takes exactly its own update), and every
forward pass is ``torch.func.vmap`` over ``functional_call``: the variant's loss
and penalty run per member with their single-run shapes. The summed losses are
differentiated once; the sum's gradient on member ``i``'s slice is its own loss's
gradient. Each member draws from its own random stream (training/streams.py), so
its batches, latents and interpolation weights are its single run's; its weights
match the single run's to rounding (a batched matmul sums in another order).

The trainer (training/trainer.py) drives a group as it drives one run: the
members keep their own ``Run``, budget, state and record, and :meth:`SeedGroup.sync`
copies the stacked weights, optimiser state and streams back into them before
any snapshot, checkpoint or end, so every member's files are in the single-run
format (a member's checkpoint resumes alone, and vice versa).
"""

from __future__ import annotations

import copy
from typing import Optional

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from ganbench.config.run import RunConfig
from ganbench.core.errors import ConfigError
from ganbench.models import batchable_spectral_norm
from ganbench.models.packing import per_slot, running_statistics
from ganbench.training import ema, packs
from ganbench.training.checkpoint import set_rng_state
from ganbench.training.memory import check_memory
from ganbench.training.streams import MemberStreams
from ganbench.training.update import backward_into
from ganbench.variants import make_variant


class Stacked(nn.Module):
    """``n`` modules of one architecture as one: parameter ``name`` of member ``i`` is
    ``params()[name][i]``. Its ``parameters()`` are the stacked tensors, in the members'
    order, so optimisers, weight clipping and the EMA treat it as one module."""

    def __init__(self, modules: list[nn.Module]):
        super().__init__()
        params, buffers = stack_module_state(modules)
        self.size = len(modules)
        self.names, self.buffer_names = list(params), list(buffers)
        # a list: not registered as a submodule
        self.template = [batchable_spectral_norm(copy.deepcopy(modules[0]).to("meta"))]
        for name, value in params.items():
            self.register_parameter(name.replace(".", "__"), nn.Parameter(value))
        for name, value in buffers.items():  # batch norm's statistics: updated in place, per member
            self.register_buffer(name.replace(".", "__"), value)

    def params(self, detach: bool = False) -> dict[str, Tensor]:
        """Stacked parameters and buffers by their names in the members' modules."""
        values = {name: getattr(self, name.replace(".", "__")) for name in self.names + self.buffer_names}
        return {k: v.detach() for k, v in values.items()} if detach else values

    def replace_buffers(self, values: dict[str, Tensor]) -> None:
        """Set stacked buffers to new tensors (not ``copy_``: a pending backward may hold the old)."""
        for name, value in values.items():
            setattr(self, name.replace(".", "__"), value)

    def member_call(self, params: dict[str, Tensor], x: Tensor) -> Tensor:
        """One member's forward (inside ``vmap``, ``params`` are that member's slices)."""
        return functional_call(self.template[0], params, (x,))

    @torch.no_grad()
    def copy_to(self, modules: list[nn.Module]) -> None:
        """Write member ``i``'s slices into ``modules[i]``'s parameters."""
        stacked = self.params()
        for i, module in enumerate(modules):
            for name, value in [*module.named_parameters(), *module.named_buffers()]:
                value.copy_(stacked[name][i])


#: Optimiser state shared by the members (every member has taken the same steps); every other
#: tensor (Adam's moments, RMSProp's average) is per parameter, so per member, even a 0-dim one.
SHARED_STATE = ("step",)


def _per_member(name: str, value) -> bool:
    return torch.is_tensor(value) and name not in SHARED_STATE


def stacked_optimizer_state(optimizers: list[torch.optim.Optimizer]) -> dict:
    """One optimiser state dict for the stacked parameters: per-parameter tensors stacked,
    shared values (:data:`SHARED_STATE`) taken once."""
    dicts = [o.state_dict() for o in optimizers]
    state = {key: {name: torch.stack([d["state"][key][name] for d in dicts]) if _per_member(name, value) else value
                   for name, value in entry.items()} for key, entry in dicts[0]["state"].items()}
    return {"state": state, "param_groups": dicts[0]["param_groups"]}


def member_optimizer_state(optimizer: torch.optim.Optimizer, i: int) -> dict:
    """Member ``i``'s slice of a stacked optimiser's state dict (the inverse of the above)."""
    full = optimizer.state_dict()
    state = {key: {name: value[i].clone() if _per_member(name, value) else value
                   for name, value in entry.items()} for key, entry in full["state"].items()}
    return {"state": state, "param_groups": full["param_groups"]}


def check_groupable(configs: list[RunConfig], networks: Optional[list[nn.Module]] = None) -> None:
    """Refuse a group whose runs differ by more than seed, or that grouped training cannot train
    (``networks``: one member's generator and critic, checked for what vmap cannot batch)."""
    base = {**configs[0].to_dict(), "seed": None}
    for cfg in configs[1:]:
        other = {**cfg.to_dict(), "seed": None}
        if other != base:
            differ = sorted(k for k in base if base[k] != other.get(k))
            raise ConfigError(f"seeds trained together must differ only by seed; {configs[0].run_id} and "
                              f"{cfg.run_id} differ in {', '.join(differ)}")
    cfg = configs[0]
    unsupported = {"compile": cfg.compile, "autocast_bf16": cfg.autocast_bf16,
                   "budget in seconds": cfg.budget.unit == "seconds"}
    if networks is not None and make_variant(cfg.variant, **cfg.variant_options).double_backward:
        # torch.func.grad through the critic inside vmap refuses what updates its state in place:
        # batch norm's running statistics, spectral norm's power-iteration vectors
        critic = networks[-1]
        unsupported["batch norm in a critic differentiated twice"] = any(
            isinstance(m, nn.modules.batchnorm._BatchNorm) for m in critic.modules())
        unsupported["spectral norm in a critic differentiated twice"] = any(
            ".parametrizations." in name for name, _ in critic.named_parameters())
    reasons = [name for name, bad in unsupported.items() if bad]
    if reasons:
        raise ConfigError(f"{cfg.run_id}: grouped training does not support {', '.join(reasons)}; "
                          "train these seeds one at a time (--group-seeds off)")


class SeedGroup:
    """Stacked networks, optimisers, EMA and random streams of ``runs`` (same settings, own seeds).

    ``states`` are the members' global random states after their build or restore."""

    def __init__(self, runs: list, states: list[dict[str, Tensor]]):
        check_groupable([r.config for r in runs], [runs[0].generator, runs[0].critic])
        self.runs, first = runs, runs[0]
        if first.device.type != "meta":  # the stack and every member's activations, before any step
            check_memory(first.config, first.data.info, copies=len(runs))
        self.config, self.variant, self.device = first.config, first.variant, first.device
        self.generator, self.critic = Stacked([r.generator for r in runs]), Stacked([r.critic for r in runs])
        cfg = self.config
        self.opt_g = self.variant.make_optimizer("generator", self.generator.parameters(),
                                                 lr=cfg.lr_g or cfg.lr, betas=cfg.betas_g or cfg.betas)
        self.opt_d = self.variant.make_optimizer("critic", self.critic.parameters(),
                                                 lr=cfg.lr_d or cfg.lr, betas=cfg.betas_d or cfg.betas)
        self.opt_g.load_state_dict(stacked_optimizer_state([r.opt_g for r in runs]))
        self.opt_d.load_state_dict(stacked_optimizer_state([r.opt_d for r in runs]))
        self.g_ema: Optional[ema.GeneratorEma] = None
        if first.g_ema is not None:
            self.g_ema = ema.GeneratorEma(Stacked([r.g_ema.module for r in runs]), first.g_ema.half_life,
                                          first.g_ema.ramp, first.g_ema.per_step)
        self.streams = MemberStreams(states, self.device)
        self.index = torch.arange(len(runs), device=self.device)
        self.slot_stats = running_statistics(self.generator.template[0]) if packs.calls_per_slot(cfg) else None

    def _draw(self, draw) -> Tensor:
        """``draw(run)`` for every member from its own stream, stacked."""
        out = []
        for i, run in enumerate(self.runs):
            with self.streams.member(i):
                out.append(draw(run))
        return torch.stack(out)

    def _generate(self, g_params: dict, z: Tensor) -> tuple[Tensor, dict]:
        """One member's packed fakes from its latents ``z`` (inside ``vmap``), and with per-slot
        calls its averaged running statistics (:func:`ganbench.models.packing.per_slot`)."""
        if self.slot_stats is None:
            return packs.pack_samples(self.generator.member_call(g_params, z), self.config.pack), {}
        running = {name: g_params[name] for name in self.slot_stats}
        return per_slot(lambda x, stats: self.generator.member_call({**g_params, **stats}, x), running, z,
                        self.config.pack)

    def _fakes(self, g_params: dict, z: Tensor) -> Tensor:
        """Every member's packed fakes (batched over members); per-slot statistics kept as a run alone keeps them."""
        fake, stats = vmap(self._generate, randomness="same")(g_params, z)
        self.generator.replace_buffers(stats)
        return fake

    def _d_loss(self, params, real, fake, index):
        with self.streams.batched(index):
            return self.variant.d_loss(lambda x: self.critic.member_call(params, x), real, fake)

    def _g_loss(self, d_params, fake, real, index):
        with self.streams.batched(index):
            return self.variant.g_step_loss(lambda x: self.critic.member_call(d_params, x), fake, lambda: real)

    def _losses(self, loss, *args) -> Tensor:
        """Each member's ``loss`` (one of the above), batched over members."""
        return vmap(loss, randomness="same")(*args, self.index)

    def iteration(self, n_critic: int) -> list[tuple[list[float], float]]:
        """``n_critic`` critic steps then one generator step for every member (the trainer's
        ``train_iteration``, batched), or one simultaneous update (training/update.py);
        each member's (critic losses, generator loss)."""
        if self.config.update == "simultaneous":
            return self._simultaneous()
        d_losses = []
        for _ in range(n_critic):
            real = self._draw(lambda run: run.real_batch())
            z = self._draw(lambda run: run.sample_z())
            with torch.no_grad():
                fake = self._fakes(self.generator.params(detach=True), z)
            self.opt_d.zero_grad(set_to_none=True)
            self.variant.before_d_step(self.critic)
            losses = self._losses(self._d_loss, self.critic.params(), real, fake)
            losses.sum().backward()
            self.opt_d.step()
            self.variant.after_d_step(self.critic)
            d_losses.append(losses.detach())
        z = self._draw(lambda run: run.sample_z())  # latents first, then the real batch, as a run alone
        real = self._draw(lambda run: run.real_batch()) if packs.g_step_draws_real(self.runs[0]) else z
        self.opt_g.zero_grad(set_to_none=True)
        g_loss = self._losses(self._g_loss, self.critic.params(detach=True), self._fakes(self.generator.params(), z),
                              real)
        g_loss.sum().backward()
        g_grad = self._g_grad_square()
        self.opt_g.step()
        return self._values(d_losses, g_loss, g_grad)

    def _simultaneous(self) -> list[tuple[list[float], float]]:
        """Both networks' gradients from one batch and one set of fakes, then both steps
        (:func:`ganbench.training.update.simultaneous_iteration`, batched)."""
        real = self._draw(lambda run: run.real_batch())
        self.variant.before_d_step(self.critic)
        fake = self._fakes(self.generator.params(), self._draw(lambda run: run.sample_z()))
        d_loss = self._losses(self._d_loss, self.critic.params(), real, fake.detach())
        backward_into(d_loss.sum(), self.critic.parameters())
        g_loss = self._losses(self._g_loss, self.critic.params(detach=True), fake, real)
        backward_into(g_loss.sum(), self.generator.parameters())
        g_grad = self._g_grad_square()
        self.opt_d.step()
        self.variant.after_d_step(self.critic)
        self.opt_g.step()
        return self._values([d_loss.detach()], g_loss, g_grad)

    def _g_grad_square(self) -> Tensor:
        """Each member's squared generator gradient norm (the health check's), before the step."""
        grads = [p.grad.reshape(len(self.runs), -1) for p in self.generator.parameters() if p.grad is not None]
        return torch.stack([g.float().square().sum(dim=1) for g in grads]).sum(dim=0)

    def _values(self, d_losses: list[Tensor], g_loss: Tensor, g_grad: Tensor) -> list[tuple[list[float], float]]:
        values = torch.stack([*d_losses, g_loss.detach(), g_grad]).float().T.tolist()  # one device sync
        for run, member in zip(self.runs, values):
            run.g_grad_square = member[-1]
        return [(member[:-2], member[-2]) for member in values]

    def update_ema(self, steps_before: int) -> None:
        if self.g_ema is not None:
            self.g_ema.update(self.generator, steps_before)

    def sync(self) -> list[dict[str, Tensor]]:
        """Copy weights, optimiser state and EMA back into the members' runs; their random states."""
        self.generator.copy_to([r.generator for r in self.runs])
        self.critic.copy_to([r.critic for r in self.runs])
        for i, run in enumerate(self.runs):
            run.opt_g.load_state_dict(member_optimizer_state(self.opt_g, i))
            run.opt_d.load_state_dict(member_optimizer_state(self.opt_d, i))
        if self.g_ema is not None:
            self.g_ema.module.copy_to([r.g_ema.module for r in self.runs])
        return [self.streams.state(i) for i in range(len(self.runs))]


def regroup(members: list, grouped: bool) -> Optional[SeedGroup]:
    """A SeedGroup of the trainer's members when ``grouped`` (even one left of a group, so it goes
    on as in the group), else None with the global stream set to the one member's."""
    if not members:
        return None
    if not grouped:
        set_rng_state(members[0].rng, members[0].run.device)
        return None
    return SeedGroup([m.run for m in members], [m.rng for m in members])


def sync(group: Optional[SeedGroup], members: list) -> None:
    """Copy a group's state back into its members' runs (nothing for a run alone)."""
    if group is not None:
        for m, rng in zip(members, group.sync()):
            m.rng = rng
