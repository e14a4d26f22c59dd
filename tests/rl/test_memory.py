"""Settings that change memory, not the update: the responses a few rows at a time, gradient
checkpointing. A step with them ends with the weights of a step without (up to float rounding)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mmrl.rl.trainer import train

pytestmark = pytest.mark.slow


def weights(path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(Path(path) / "model.safetensors"))


@pytest.fixture(scope="module")
def plain(tiny_model_dir, parity_file, tmp_path_factory):
    from mmrl.rl.config import GRPOConfig

    out = tmp_path_factory.mktemp("plain") / "rl"
    return weights(train(GRPOConfig.from_flags(model=tiny_model_dir, data=parity_file, out=str(out), batch_size=2, group_size=4,
                                    max_steps=2, max_new_tokens=8, lr=1e-2, reward_workers=0, beta=0.1,
                                    mini_batch_size=1)).out_dir)


@pytest.mark.parametrize("setting", [{"micro_batch_rows": 3}, {"gradient_checkpointing": True},
                                     {"micro_batch_rows": 2, "gradient_checkpointing": True}])
def test_memory_settings_train_the_same_weights(setting, plain, rl_config, tiny_model_dir):
    got = weights(train(rl_config(max_steps=2, beta=0.1, mini_batch_size=1, **setting)).out_dir)
    initial = weights(tiny_model_dir)
    moved = max(float((plain[k] - initial[k]).abs().max()) for k in plain)
    worst = max(float((plain[k] - got[k]).abs().max()) for k in plain)
    assert moved > 1e-3 and worst < 1e-4, (moved, worst)


def test_rows_must_be_positive(rl_config):
    from mmrl.errors import ConfigError

    with pytest.raises(ConfigError, match="--micro-batch-rows"):
        rl_config(micro_batch_rows=0)


def test_deepspeed_counts_a_backward_per_piece_of_rows_and_one_for_the_prompts(rl_config):
    from mmrl.rl.update import backwards_per_update

    cfg = rl_config(batch_size=4, group_size=4, micro_batch_size=1, micro_batch_rows=3)
    assert backwards_per_update(cfg, share=2) == 2 * (2 + 1)  # 2 micro-batches of 4 rows: pieces 3 + 1, prompts
    assert backwards_per_update(rl_config(batch_size=4, micro_batch_size=1), share=2) == 2
