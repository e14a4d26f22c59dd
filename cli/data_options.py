"""The options of every command that reads samples (``--data``): ``--split`` and ``--columns``."""
from __future__ import annotations

import typer

SplitOption = typer.Option(
    None, "--split",
    help="Split to read of a folder that holds several: a dataset saved with save_to_disk, or a folder of "
         "Parquet files (train-00000-of-00002.parquet, test.parquet, ...).",
)
ColumnsOption = typer.Option(
    None, "--columns",
    help="Sample fields taken from other columns: FIELD=COLUMN,... e.g. question=problem,answer=solution "
         "(dotted into a struct: answer=reward_model.ground_truth). Without it a missing field is taken from "
         "its one alias column: question from problem or prompt (a one-turn chat), answer from solution or "
         "reward_model.ground_truth, images from image, source from data_source.",
)
