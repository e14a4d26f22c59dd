"""Training checkpoints: everything a resumed run needs to take the same steps as an unbroken one.

A checkpoint is a folder ``OUT/checkpoints/step-N`` holding the trainable weights, the
optimizer and scheduler states, every random generator (Python, NumPy, torch, CUDA; one file per
process) and ``trainer_state.json`` with the step (the data position: batches are a pure
function of the step, see ``mmrl.sft.schedule``), elapsed time and a fingerprint of the data.
It is written under a temporary name and renamed when complete, so a crash while saving never
leaves a checkpoint that ``--resume`` would pick up half-written. Files are read back without
unpickling code (``weights_only=True``): a checkpoint folder is data, and a planted pickle must
not run. A file that cannot be read raises ``DamagedCheckpoint``, so a resumed run can fall back
to the checkpoint before.
"""
from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

from mmrl.errors import ConfigError

CHECKPOINTS = "checkpoints"
STATE_FILE = "trainer_state.json"
WEIGHTS_FILE = "trainable.safetensors"
OPTIM_FILE = "optimizer.pt"
_STEP_DIR = re.compile(r"^step-(\d+)$")


class DamagedCheckpoint(ConfigError):
    """A checkpoint file that is missing, cut short or not what mmrl writes."""


def _damaged(path: Path | str, e: BaseException) -> DamagedCheckpoint:
    text = str(e).strip().splitlines()
    return DamagedCheckpoint(f"{path}: cannot be read as a checkpoint file: {type(e).__name__}"
                             + (f": {text[0][:300]}" if text else ""))


def checkpoint_root(out_dir: str | Path) -> Path:
    return Path(out_dir) / CHECKPOINTS


def step_dir(out_dir: str | Path, step: int) -> Path:
    return checkpoint_root(out_dir) / f"step-{step}"


def staging_dir(out_dir: str | Path, step: int) -> Path:
    return checkpoint_root(out_dir) / f".tmp-step-{step}"


def list_checkpoints(out_dir: str | Path) -> list[tuple[int, Path]]:
    """Complete checkpoints, oldest first."""
    root = checkpoint_root(out_dir)
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        m = _STEP_DIR.match(p.name)
        if m and p.is_dir() and (p / STATE_FILE).is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    found = list_checkpoints(out_dir)
    return found[-1][1] if found else None


def finalize(out_dir: str | Path, step: int, state: dict[str, Any]) -> Path:
    """Write the trainer state into the staging folder and rename it to its final name."""
    tmp, final = staging_dir(out_dir, step), step_dir(out_dir, step)
    (tmp / STATE_FILE).write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    return final


def prune(out_dir: str | Path, keep: int | None) -> None:
    """Delete all but the newest ``keep`` checkpoints (and any left-over staging folders)."""
    root = checkpoint_root(out_dir)
    if root.is_dir():
        for p in root.glob(".tmp-step-*"):
            shutil.rmtree(p, ignore_errors=True)
    if keep is None:
        return
    for _, path in list_checkpoints(out_dir)[:-keep]:
        shutil.rmtree(path, ignore_errors=True)


def read_state(path: str | Path) -> dict[str, Any]:
    file = Path(path) / STATE_FILE
    try:
        state = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(state, dict) or not isinstance(state.get("step"), int) \
                or not isinstance(state.get("time"), (int, float)):
            raise ValueError("no integer 'step' and number 'time'")
    except (OSError, ValueError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise _damaged(file, e) from None
    return state


def capture_rng() -> dict[str, Any]:
    """The state of every random generator training draws from."""
    import numpy as np
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_rng(folder: str | Path, rank: int = 0) -> None:
    """The random state as tensors and numbers only, so that it loads with ``weights_only=True``."""
    import torch

    state = capture_rng()
    kind, keys, pos, has_gauss, cached = state["numpy"]
    state["numpy"] = (kind, torch.from_numpy(keys.astype("int64")), int(pos), int(has_gauss), float(cached))
    torch.save(state, Path(folder) / f"rng_state_{rank}.pt")


def load_rng(folder: str | Path, rank: int = 0) -> None:
    import numpy as np
    import torch

    path = Path(folder) / f"rng_state_{rank}.pt"
    if not path.is_file():
        raise DamagedCheckpoint(f"checkpoint {folder} has no random state for process {rank} "
                                "(was it written with a different number of processes?)")
    try:
        state = torch.load(path, weights_only=True)
        kind, keys, pos, has_gauss, cached = state["numpy"]
        state["numpy"] = (kind, np.asarray(keys.numpy(), dtype=np.uint32), pos, has_gauss, cached)
        restore_rng(state)
    except Exception as e:  # noqa: BLE001 - whatever the file holds, it is not a usable random state
        raise _damaged(path, e) from None


def trainable_state(model) -> dict[str, Any]:
    """The parameters that training changes (all of them in full fine-tuning, adapters with LoRA)."""
    return {name: p.detach().cpu().contiguous() for name, p in model.named_parameters() if p.requires_grad}


def save_local(folder: str | Path, model, optimizer, scheduler) -> None:
    """Single-process training state: trainable weights, optimizer and scheduler."""
    import torch
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(trainable_state(model), str(folder / WEIGHTS_FILE))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, folder / OPTIM_FILE)


def load_local(folder: str | Path, model, optimizer, scheduler) -> None:
    import torch
    from safetensors.torch import load_file

    folder = Path(folder)
    try:
        weights = load_file(str(folder / WEIGHTS_FILE))
    except Exception as e:  # noqa: BLE001 - missing, cut short, not safetensors
        raise _damaged(folder / WEIGHTS_FILE, e) from None
    params = dict(model.named_parameters())
    missing = [k for k, p in params.items() if p.requires_grad and k not in weights]
    unknown = [k for k in weights if k not in params]
    if missing or unknown:
        raise ConfigError(f"checkpoint {folder} does not match the model being trained "
                          f"(missing {missing[:3]}, unknown {unknown[:3]}); use the same --model, --lora "
                          "and freezing flags as the interrupted run")
    with torch.no_grad():
        for k, v in weights.items():
            params[k].copy_(v.to(params[k].device, params[k].dtype))
    try:
        state = torch.load(folder / OPTIM_FILE, weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
    except Exception as e:  # noqa: BLE001 - missing, cut short, a foreign pickle
        raise _damaged(folder / OPTIM_FILE, e) from None
