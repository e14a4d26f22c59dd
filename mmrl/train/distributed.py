"""One training API over a single process or a DeepSpeed ZeRO engine.

``LocalEngine`` (one process: torch AdamW, LambdaLR, gradient clipping) and ``DeepSpeedEngine``
(ZeRO-1/2/3 on many processes or nodes, launched with ``deepspeed`` or ``torchrun``) take the
same calls: ``forward(batch)`` (the model's outputs), ``backward(loss)`` once per micro-batch,
``step()`` once per optimizer update, ``model`` (the callable to run other forwards through, such
as the RL trainer's shared-prefix log-prob pass), ``save_state``/``load_state`` for resume, ``full_state_dict`` for the final
checkpoint. The loss handed to ``backward`` is already normalised over the global batch (a sum
over its tokens divided by their number), so both engines must *sum* gradients over micro-batches
and processes: DeepSpeed's division by the accumulation steps is switched off and its average
over processes is undone.

DeepSpeed configs (``recipes/deepspeed/zero{2,3}.json``) may leave batch sizes, clipping, the
optimizer's hyper-parameters and precision as ``"auto"``; they are filled from the run's flags.
On a machine without GPUs (``DS_ACCELERATOR=cpu``) processes talk through gloo and the optimizer
is torch's AdamW (``torch_adam``), so no oneCCL or compiled Adam is needed.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mmrl.errors import ConfigError
from mmrl.train import checkpoint as ckpt
from mmrl.settings import NON_NEGATIVE, POSITIVE, PROBABILITY, SHARE, setting
from mmrl.train.optim import build_optimizer, build_scheduler, param_groups, warmup_steps_for

AUTO = "auto"


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def dist_info() -> DistInfo:
    """This process's place in a ``torchrun``/``deepspeed`` launch (rank 0 of 1 when launched alone)."""
    env = os.environ
    return DistInfo(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)))


@dataclass(frozen=True)
class OptimSpec:
    """The optimizer (AdamW) and learning-rate schedule of a run, for either engine.

    ``total_steps`` and ``warmup_steps`` count optimizer updates; ``for_updates`` sets them from
    the run's number of updates and ``warmup_ratio``.
    """

    lr: float = setting(1e-5, bound=POSITIVE, help="Peak learning rate (AdamW).")
    scheduler: str = setting("cosine", registry="mmrl.train.optim:SCHEDULES",
                             help="cosine, constant, linear, or FILE.py:FUNCTION.")
    warmup_ratio: float = setting(0.0, bound=SHARE, help="Share of the updates spent warming up linearly.")
    min_lr_ratio: float = setting(0.0, bound=PROBABILITY, help="Final learning rate as a share of the peak.")
    weight_decay: float = setting(0.0, bound=NON_NEGATIVE, help="AdamW weight decay (not on biases and norms).")
    max_grad_norm: float = setting(1.0, bound=NON_NEGATIVE, help="Gradient clipping; 0 turns it off.")
    betas: tuple[float, float] = setting((0.9, 0.999), cli=False, help="AdamW betas.")
    eps: float = setting(1e-8, cli=False, help="AdamW epsilon.")
    total_steps: int = setting(1, cli=False, help="Optimizer updates the schedule spans.")
    warmup_steps: int = setting(0, cli=False, help="Warm-up updates.")

    def for_updates(self, total: int) -> OptimSpec:
        """This spec with the schedule sized for ``total`` optimizer updates."""
        return replace(self, total_steps=total, warmup_steps=warmup_steps_for(total, self.warmup_ratio))

    def scheduler_for(self, optimizer):
        return build_scheduler(optimizer, self.scheduler, self.total_steps, self.warmup_steps, self.min_lr_ratio)


def model_inputs(batch: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in batch.items() if k != "labels"}


class LocalEngine:
    """Training in this process only."""

    steps_in_backward = False  # step() makes the update (DeepSpeed makes it in the last backward)
    loss_scale = 1.0  # what backward multiplies a loss by

    def __init__(self, model, optim: OptimSpec):
        self.module = model
        self.optim = optim
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = build_optimizer(param_groups(self.params, optim.weight_decay), optim.lr, optim.betas, optim.eps)
        self.scheduler = optim.scheduler_for(self.optimizer)
        self.info = DistInfo()

    @property
    def device(self):
        return next(self.module.parameters()).device

    @property
    def model(self):
        """What forwards run through: the module itself in one process."""
        return self.module

    def train(self) -> None:
        self.module.train()

    def forward(self, batch: dict[str, Any]):
        """The model's outputs (``.logits``, ...) for a collated batch; its ``labels`` are not passed."""
        return self.module(**model_inputs(batch), use_cache=False)

    def backward(self, loss) -> None:
        loss.backward()

    def step(self) -> float:
        """Clip, update, advance the schedule; returns the gradient norm before clipping.

        A non-finite gradient norm skips the update (weights, optimizer and schedule unchanged)
        and drops the gradients; the NaN/inf norm is returned so the caller can count it."""
        import math

        import torch

        max_norm = self.optim.max_grad_norm if self.optim.max_grad_norm else float("inf")
        norm = float(torch.nn.utils.clip_grad_norm_(self.params, max_norm))
        if math.isfinite(norm):
            self.optimizer.step()
            self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return norm

    def zero_grad(self) -> None:
        """Drop the gradients gathered since the last step (an update that will not happen)."""
        self.optimizer.zero_grad(set_to_none=True)

    def lr(self) -> float:
        return float(self.scheduler.get_last_lr()[0])

    def all_reduce_sum(self, value: float) -> float:
        return value

    def all_reduce_max(self, value: float) -> float:
        return value

    def all_gather_object(self, obj: Any) -> list[Any]:
        """Every process's ``obj``, in rank order (here: this one's)."""
        return [obj]

    def full_weights(self):
        """A context in which ``module`` holds every weight (for generation); nothing to do here."""
        import contextlib

        return contextlib.nullcontext()

    def barrier(self) -> None:
        return None

    def save_state(self, folder: Path) -> None:
        ckpt.save_local(folder, self.module, self.optimizer, self.scheduler)
        ckpt.save_rng(folder)

    def load_state(self, folder: Path) -> None:
        ckpt.load_local(folder, self.module, self.optimizer, self.scheduler)
        ckpt.load_rng(folder)

    def full_state_dict(self) -> dict[str, Any] | None:
        return None  # the module itself holds the full weights

    def close(self) -> None:
        return None


def cpu_only() -> bool:
    import torch

    return os.environ.get("DS_ACCELERATOR") == "cpu" or not torch.cuda.is_available()


def init_process_group(info: DistInfo) -> None:
    """Start torch.distributed through DeepSpeed: nccl on GPUs, gloo on CPUs."""
    try:
        import deepspeed
    except ImportError:
        raise ConfigError("--deepspeed needs DeepSpeed: pip install 'mmrl[deepspeed]'") from None
    import torch

    if "RANK" not in os.environ:  # launched without torchrun/deepspeed: a group of one
        os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                          MASTER_PORT=str(free_port()))
    if cpu_only():
        os.environ.setdefault("DS_ACCELERATOR", "cpu")
    elif torch.cuda.is_available():
        torch.cuda.set_device(info.local_rank)
    deepspeed.init_distributed(dist_backend="gloo" if cpu_only() else "nccl")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_ds_config(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"DeepSpeed config not found: {path}")
    from mmrl.io.strictjson import read_json_file

    config = read_json_file(path)
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: a DeepSpeed config must be a JSON object")
    return config


def _fill(node: dict[str, Any], key: str, value: Any) -> None:
    if node.get(key, AUTO) == AUTO:
        node[key] = value


def fill_ds_config(config: dict[str, Any], optim: OptimSpec, batch_size: int, grad_accum: int,
                   world_size: int, dtype: str) -> dict[str, Any]:
    """Resolve ``"auto"`` values from the run; explicit values that contradict the run are errors."""
    c = copy.deepcopy(config)
    _fill(c, "train_micro_batch_size_per_gpu", batch_size)
    _fill(c, "gradient_accumulation_steps", grad_accum)
    _fill(c, "train_batch_size", batch_size * grad_accum * world_size)
    _fill(c, "gradient_clipping", optim.max_grad_norm or 0.0)
    want = (batch_size, grad_accum, batch_size * grad_accum * world_size)
    got = (c["train_micro_batch_size_per_gpu"], c["gradient_accumulation_steps"], c["train_batch_size"])
    if tuple(got) != want:
        raise ConfigError(f"DeepSpeed config batch sizes (micro, accumulation, global) = {got} contradict "
                          f"--batch-size/--grad-accum on {world_size} processes = {want}; set them to \"auto\"")
    opt = c.setdefault("optimizer", {"type": "AdamW", "params": {}})
    if str(opt.get("type", "AdamW")).lower() != "adamw":
        raise ConfigError("mmrl trains with AdamW; the DeepSpeed config's optimizer type must be AdamW")
    params = opt.setdefault("params", {})
    for key, value in (("lr", optim.lr), ("betas", list(optim.betas)), ("eps", optim.eps),
                       ("weight_decay", optim.weight_decay)):
        _fill(params, key, value)
    if cpu_only():
        params.setdefault("torch_adam", True)
    if "scheduler" in c:
        raise ConfigError("remove the DeepSpeed config's scheduler: mmrl sets it from --scheduler/--warmup-ratio")
    for key, on in (("bf16", dtype == "bfloat16"), ("fp16", dtype == "float16")):
        node = c.setdefault(key, {"enabled": AUTO})
        _fill(node, "enabled", on)
    c.setdefault("steps_per_print", 1 << 30)
    c.setdefault("wall_clock_breakdown", False)
    return c


class DeepSpeedEngine:
    """Training under DeepSpeed ZeRO; every process runs the same calls."""

    steps_in_backward = True  # the update happens in the backward at the accumulation boundary

    def __init__(self, model, optim: OptimSpec, ds_config: dict[str, Any], info: DistInfo):
        import deepspeed

        self.optim, self.info, self.ds_config = optim, info, ds_config
        groups = param_groups([p for p in model.parameters() if p.requires_grad], optim.weight_decay)
        self.engine, self.optimizer, _, self.scheduler = deepspeed.initialize(
            model=model, model_parameters=groups, config=ds_config, lr_scheduler=optim.scheduler_for,
            dist_init_required=False,
        )
        self.module = self.engine.module
        self.stage = int(ds_config.get("zero_optimization", {}).get("stage", 0))
        self.loss_scale = float(info.world_size)  # backward undoes DeepSpeed's mean over processes
        self.backwards_left: int | None = None  # None: DeepSpeed counts its accumulation steps itself

    @property
    def device(self):
        return self.engine.device

    @property
    def model(self):
        """What forwards run through: the DeepSpeed engine (its hooks gather ZeRO-3 parameters)."""
        return self.engine

    def train(self) -> None:
        self.engine.train()

    def forward(self, batch: dict[str, Any]):
        """The model's outputs (``.logits``, ...) for a collated batch; its ``labels`` are not passed."""
        return self.engine(**model_inputs(batch), use_cache=False)

    def begin_update(self, backwards: int) -> None:
        """The next ``backwards`` calls of ``backward`` make one update: DeepSpeed's accumulation
        boundary is set at the last of them, whatever its ``gradient_accumulation_steps`` (a short
        mini-batch makes fewer backwards; counted by DeepSpeed, its gradient would be applied with
        the next one's and a run's last one never)."""
        if backwards < 1:
            raise ValueError(f"an update needs at least one backward, got {backwards}")
        self.backwards_left = backwards

    def backward(self, loss) -> None:
        if self.backwards_left is not None:
            if self.backwards_left < 1:
                raise RuntimeError("more backward calls than begin_update announced for this update")
            self.backwards_left -= 1
            self.engine.set_gradient_accumulation_boundary(self.backwards_left == 0)
        # Sum over micro-batches (no 1/accumulation) and over processes (undo DeepSpeed's mean).
        self.engine.backward(loss * self.info.world_size, scale_wrt_gas=False)
        self.engine.step()  # DeepSpeed updates only at the accumulation boundary

    def zero_grad(self) -> None:
        self.engine.zero_grad()

    def step(self) -> float:
        """The update already happened in the last ``backward``; returns its gradient norm."""
        if self.backwards_left:
            raise RuntimeError(f"the update ended {self.backwards_left} backward(s) before its announced boundary")
        norm = self.engine.get_global_grad_norm()
        return float(norm) if norm is not None else float("nan")

    def lr(self) -> float:
        return float(self.scheduler.get_last_lr()[0])

    def all_reduce_sum(self, value: float) -> float:
        import torch
        import torch.distributed as dist

        t = torch.tensor([value], dtype=torch.float64)
        dist.all_reduce(t)
        return float(t.item())

    def all_reduce_max(self, value: float) -> float:
        import torch
        import torch.distributed as dist

        t = torch.tensor([value], dtype=torch.float64)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return float(t.item())

    def all_gather_object(self, obj: Any) -> list[Any]:
        """Every process's ``obj`` (picklable), in rank order."""
        import torch.distributed as dist

        out: list[Any] = [None] * self.info.world_size
        dist.all_gather_object(out, obj)
        return out

    def full_weights(self):
        """A context in which ``module`` holds every weight, for generation in this process alone.

        ZeRO-3 partitions the weights and gathers each layer's in a collective at every forward,
        which processes decoding different numbers of steps cannot share. Here every weight is
        gathered once and the gather hooks are lifted until the context ends (as TRL does for
        generation); ZeRO-1/2 keep full weights anyway."""
        import contextlib

        if self.stage != 3:
            return contextlib.nullcontext()
        return _zero3_full_weights(self.engine)

    def barrier(self) -> None:
        import torch.distributed as dist

        dist.barrier()

    def save_state(self, folder: Path) -> None:
        self.engine.save_checkpoint(str(folder), tag="engine")
        ckpt.save_rng(folder, self.info.rank)

    def load_state(self, folder: Path) -> None:
        try:
            path, _ = self.engine.load_checkpoint(str(folder), tag="engine")
        except Exception as e:  # noqa: BLE001 - DeepSpeed reads its own files; any failure means a damaged one
            raise ckpt.DamagedCheckpoint(f"{folder}: DeepSpeed could not read it: {type(e).__name__}: {e}") from None
        if path is None:
            raise ConfigError(f"DeepSpeed could not load the checkpoint in {folder}")
        ckpt.load_rng(folder, self.info.rank)

    def full_state_dict(self) -> dict[str, Any] | None:
        """All weights gathered on the main process (ZeRO-3 partitions them); None elsewhere."""
        if self.stage == 3:
            sd = self.engine._zero3_consolidated_16bit_state_dict()
            return sd if self.info.is_main else None
        return None

    def close(self) -> None:
        """Release the engine, then leave the process group together: a process that exits with
        gloo's threads still live can abort at interpreter exit ("terminate called without an
        active exception", seen once in a two-process grpo run)."""
        import torch.distributed as dist

        self.engine.destroy()
        if dist.is_available() and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


def _zero3_offload(engine):
    optimizer = engine.optimizer
    return optimizer.parameter_offload if hasattr(optimizer, "parameter_offload") else optimizer


def _zero3_full_weights(engine):
    import contextlib

    import deepspeed

    @contextlib.contextmanager
    def gathered():
        offload = _zero3_offload(engine)
        with deepspeed.zero.GatheredParameters(list(engine.module.parameters()), modifier_rank=None):
            for param in engine.module.parameters():
                param.ds_active_sub_modules.clear()
            for hook in offload.forward_hooks + offload.backward_hooks:
                hook.remove()
            offload.forward_hooks, offload.backward_hooks = [], []
            try:
                yield
            finally:
                coordinator = getattr(offload, "param_coordinator", None)
                if coordinator is not None and not coordinator.is_invalid_trace():
                    coordinator._invalidate_trace()
                offload._register_deepspeed_module(offload.module)

    return gathered()
