"""What a training run keeps on disk: its output folder, resumable checkpoints, and the final
Hugging Face checkpoint that ``--model OUT`` loads in every other command.

The folder refuses to mix two runs; ``--overwrite`` removes only what a run writes there. Every
process writes its part of a checkpoint into a staging folder that the main process renames
when complete; a resumed run starts from the newest checkpoint that can be read. The final model
is staged too, so a full disk never leaves a half-written model behind.
"""
from __future__ import annotations

import fnmatch
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmrl.console import log
from mmrl.errors import ConfigError, MmrlError
from mmrl.train import checkpoint as ckpt
from mmrl.train.distributed import DistInfo

METRICS_FILE = "metrics.jsonl"
FINAL_STAGING = ".final.tmp"  # the final model is written here, then moved into OUT


class RunError(MmrlError):
    """A run that cannot go on: the disk is full, a step's every reward was an error."""


def prepare_out_dir(out: str | Path, resume: bool, overwrite: bool, info: DistInfo,
                    metrics_file: str = METRICS_FILE, writes: Iterable[str] = ()) -> Path:
    """Create ``out``; refuse one that holds another run unless resuming or overwriting (which
    first removes what a run writes there: ``writes``, the metrics and the checkpoints)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a folder")
    has_run = (out / metrics_file).exists() or ckpt.checkpoint_root(out).exists()
    if has_run and not resume and not overwrite:
        raise ConfigError(f"{out} already holds a training run; pass --resume to continue it "
                          "or --overwrite to start again")
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        if overwrite and not resume:
            remove_written(out, (metrics_file, ckpt.CHECKPOINTS, FINAL_STAGING, *writes))
    return out


def remove_written(out: Path, names: Iterable[str]) -> None:
    """Delete what a run writes in ``out`` (names or ``fnmatch`` patterns), nothing else: an
    ``--overwrite`` run must not leave the previous run's model beside its own partial metrics."""
    for item in list(out.iterdir()):
        if any(fnmatch.fnmatch(item.name, pattern) for pattern in names):
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item)
            else:
                item.unlink()


def save_checkpoint(engine, out: Path, step: int, state: dict[str, Any], keep: int | None) -> Path:
    """Every process writes its part into a staging folder; the main one renames it when all are done."""
    staging = ckpt.staging_dir(out, step)
    try:
        if engine.info.is_main:
            staging.mkdir(parents=True, exist_ok=True)
        engine.barrier()
        engine.save_state(staging)
        engine.barrier()
        final = ckpt.step_dir(out, step)
        if engine.info.is_main:
            final = ckpt.finalize(out, step, state)
            ckpt.prune(out, keep)
    except OSError as e:  # a full disk: the half-written staging folder goes, the earlier checkpoints stay
        shutil.rmtree(staging, ignore_errors=True)
        raise RunError(f"cannot write the checkpoint of step {step} into {ckpt.checkpoint_root(out)}: "
                       f"{e.strerror or e}; the earlier checkpoints there are intact (free space, then --resume)") \
            from None
    engine.barrier()
    return final


@dataclass
class Resumed:
    """Where a run starts: step 0, or the step, elapsed time and state of its last checkpoint."""

    step: int = 0
    elapsed: float = 0.0
    state: dict[str, Any] | None = None
    path: Path | None = None

    @property
    def resumed_from(self) -> int | None:
        return self.step if self.path is not None else None


def resume_point(out: Path, engine, must_match: dict[str, Any]) -> Resumed:
    """Load the engine from the newest usable checkpoint in ``out`` (or start at 0 when there is none).

    ``must_match`` holds what must equal the interrupted run's state (data fingerprint, total
    steps, ...): resuming a different run would silently train on other batches. A damaged
    checkpoint (a file cut short by a full disk, a foreign pickle) is passed over with a notice
    for the one before it; when none is usable the run refuses, naming each damaged file.
    """
    found = ckpt.list_checkpoints(out)
    if not found:
        log.info("no checkpoint in %s: starting from the beginning", out)
        return Resumed()
    damaged: list[str] = []
    for _, path in reversed(found):
        try:
            state = ckpt.read_state(path)
            differ = [k for k, v in must_match.items() if state.get(k) != v]
            if differ:
                raise ConfigError(f"cannot resume from {path}: {', '.join(differ)} differ from the interrupted run "
                                  "(same data, batch size, seed and number of steps are needed)")
            engine.load_state(path)
        except ckpt.DamagedCheckpoint as e:
            damaged.append(str(e))
            log.warning("%s; trying the checkpoint before it", e)
            continue
        if damaged:
            log.warning("resuming from %s, the newest checkpoint that could be read", path)
        return Resumed(int(state["step"]), float(state["time"]), state, path)
    raise ConfigError(f"--resume: no checkpoint in {ckpt.checkpoint_root(out)} can be read:\n" + "\n".join(damaged))


def save_pretrained(model, processor, out: Path, merge_lora: bool = False) -> None:
    """The final checkpoint: model (or LoRA adapter, or the merged model) and processor in ``out``.

    Written into a staging folder first and moved into ``out`` file by file once complete, so a
    full disk or a crash mid-save leaves no half-written ``model.safetensors`` to fail a later load.
    """
    if merge_lora and hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    out = Path(out)
    staging = out / FINAL_STAGING
    shutil.rmtree(staging, ignore_errors=True)
    try:
        model.save_pretrained(staging)
        processor.save_pretrained(staging)
        for item in sorted(staging.iterdir()):
            os.replace(item, out / item.name)
    except OSError as e:
        raise RunError(f"cannot write the final model into {out}: {e.strerror or e}; nothing of it was kept there "
                       f"(checkpoints under {ckpt.checkpoint_root(out)}, if any, are intact: free space and "
                       "--resume)") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def save_trained(engine, spec, processor, out: Path, merge_lora: bool = False) -> bool:
    """Every process: gather the trained weights (ZeRO-3 partitions them); the main one writes the
    Hugging Face checkpoint to ``out``, rebuilding the model from ``spec`` on the CPU where the
    weights were gathered. True on the process that wrote it."""
    from dataclasses import replace

    from mmrl.model.loading import load

    full = engine.full_state_dict()
    engine.barrier()
    if not engine.info.is_main:
        return False
    model = engine.module
    if full is not None:
        model = load(replace(spec, device="cpu")).model
        model.load_state_dict(full, strict=False)
    save_pretrained(model, processor, out, merge_lora=merge_lora)
    return True
