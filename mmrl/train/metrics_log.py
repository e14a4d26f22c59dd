"""Per-step metrics as SPEC.md section 5 JSONL (``{"step", "time", ...}``), optionally TensorBoard too.

Each line is appended and flushed as soon as its step ends, so a crashed run keeps its curve.
A resumed run first drops the lines of steps after its checkpoint (they will be redone), so the
file always reads as one run. ``time`` is seconds of training since the run began, counted
across resumes.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from mmrl.errors import ConfigError, DataError
from mmrl.io.jsonl import JsonlWriter, read_complete_prefix, write_jsonl


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; a diverged loss shows as null
    return value


class MetricsLog:
    """Append-only metrics of a run at ``path``; ``resume_step`` keeps the lines up to that step."""

    def __init__(self, path: str | Path, resume_step: int | None = None, tensorboard_dir: str | Path | None = None,
                 wandb_run: Any = None):
        self.path = Path(path)
        self._wandb = wandb_run
        keep = resume_step is not None and self.path.exists()
        if keep:
            cut_to_step(self.path, resume_step)
        self._writer = JsonlWriter(self.path, mode="append", keep_existing=keep)
        self._tb = open_tensorboard(tensorboard_dir) if tensorboard_dir is not None else None

    def log(self, step: int, time: float, **values: Any) -> dict[str, Any]:
        record = {"step": int(step), "time": round(float(time), 4), **{k: _clean(v) for k, v in values.items()}}
        self._writer.write(record)
        if self._tb is not None:
            for k, v in values.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                    self._tb.add_scalar(k, v, step)
            self._tb.flush()
        if self._wandb is not None:
            self._wandb.log({k: v for k, v in record.items() if k != "step" and v is not None}, step=int(step))
        return record

    def close(self) -> None:
        self._writer.close()
        if self._tb is not None:
            self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def cut_to_step(path: str | Path, step: int) -> None:
    """Keep the lines of a step log (metrics, samples) up to ``step``: a resumed run redoes the
    steps after its checkpoint, and a line cut short by the crash is dropped, not left to break
    the file. A line without an integer ``step`` is not one mmrl wrote: refused, naming the file."""
    path = Path(path)
    if not path.exists():
        return
    records, _ = read_complete_prefix(path)
    for n, r in enumerate(records, start=1):
        if not isinstance(r.get("step"), int) or isinstance(r.get("step"), bool):
            raise DataError(str(path), None, f"record {n} has no integer `step`, so it is not a line of this run's "
                                             "log; move the file away to resume")
    write_jsonl(path, [r for r in records if r["step"] <= step])


def open_tensorboard(log_dir: str | Path):
    """A TensorBoard writer; a clear error when the ``tensorboard`` package is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError("--tensorboard needs the tensorboard package: pip install tensorboard") from None
    return SummaryWriter(log_dir=str(log_dir))


def open_wandb(out_dir: str | Path, config: dict[str, Any], resume: bool = False):
    """A Weights & Biases run in ``out_dir``; offline (synced later with ``wandb sync``) unless
    ``WANDB_MODE`` says otherwise or ``WANDB_API_KEY`` is set, so a machine without network works."""
    import os

    try:
        import wandb
    except ImportError:
        raise ConfigError("--report-to wandb needs the wandb package: pip install wandb") from None
    mode = os.environ.get("WANDB_MODE") or ("online" if os.environ.get("WANDB_API_KEY") else "offline")
    return wandb.init(project=os.environ.get("WANDB_PROJECT", "mmrl"), dir=str(out_dir), config=config, mode=mode,
                      resume="allow" if resume else None)


def check_reporter(name: str) -> None:
    """Fail at start-up, not after the model loaded, when ``--report-to NAME`` cannot work here."""
    import importlib.util

    package = {"tensorboard": "tensorboard", "wandb": "wandb"}.get(name)
    if package is not None and importlib.util.find_spec(package) is None:
        raise ConfigError(f"--report-to {name} needs the {package} package: pip install {package}")
