"""The settings every training run shares, SFT and RL alike: where its data comes from (``DataSpec``)
and how the run itself goes (``RunSpec``: output folder, seed, checkpoints, resume, DeepSpeed)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmrl.errors import ConfigError
from mmrl.io.columns import parse_columns
from mmrl.settings import COUNT, SEED, Bound, check, flatten, setting

SPLIT_HELP = ("Split to read of a folder that holds several: a dataset saved with save_to_disk, or a folder of "
              "Parquet files (train-00000-of-00002.parquet, test.parquet, ...).")
COLUMNS_HELP = ("Sample fields taken from other columns: FIELD=COLUMN,... e.g. question=problem,answer=solution "
                "(dotted into a struct: answer=reward_model.ground_truth). Without it a missing field is taken from "
                "its one alias column: question from problem or prompt (a one-turn chat), answer from solution or "
                "reward_model.ground_truth, images from image, source from data_source.")


@dataclass
class DataSpec:
    """The training samples: a JSONL file (or ``-``), Parquet, or a dataset folder."""

    data: str = setting(help="Samples (docs/data-format.md): JSONL ('-' for stdin), Parquet file or folder, or a "
                             "dataset folder (save_to_disk).")
    split: str | None = setting(None, help=SPLIT_HELP)
    columns: dict[str, str] | None = setting(None, parse=parse_columns, cli_type=str, help=COLUMNS_HELP)


@dataclass
class RunSpec:
    """Where a run writes, how it starts and how it can be continued."""

    out: str = setting(help="Folder for the trained model, metrics.jsonl and checkpoints/.")
    seed: int = setting(0, bound=SEED, help="Seed of data order, sampling and initialisation.")
    save_steps: int | None = setting(None, bound=COUNT, help="Write a resumable checkpoint every N steps.")
    save_total_limit: int = setting(2, bound=COUNT, help="Checkpoints to keep.")
    resume: bool = setting(False, help="Continue from the last checkpoint in --out.")
    overwrite: bool = setting(False, help="Start again in an --out that holds a run (removes only what a run "
                                          "writes there).")
    gradient_checkpointing: bool = setting(False, help="Recompute activations in backward.")
    deepspeed: str | None = setting(None, help="DeepSpeed config, e.g. recipes/deepspeed/zero2.json (launch with "
                                               "torchrun or deepspeed).")
    local_rank: int | None = setting(None, flag="--local_rank", aliases=("--local-rank",), hidden=True, bound=Bound(0, integer=True),
                                     help="Set by the deepspeed launcher.")

    def check(self) -> None:
        if self.resume and self.overwrite:
            raise ConfigError("--resume and --overwrite contradict each other: pass one of them")


class TrainingConfig:
    """What the training configs (``GRPOConfig``, ``SFTConfig``) share: every declared value
    checked, the model's and the run's own rules, and the flat view (``{flag key: value}``)."""

    def check(self) -> None:
        check(self)
        self.model.check()  # type: ignore[attr-defined]
        self.run.check()  # type: ignore[attr-defined]

    def to_dict(self) -> dict[str, Any]:
        """Flat ``{flag key: value}``, what ``from_flags`` takes back (written beside the model)."""
        return flatten(self)
