"""Training runs of the tiny model: the loss falls, only what should train changes, resume is exact."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mmrl.errors import ConfigError
from mmrl.sft import train
from mmrl.sft.trainer import load_spec
from mmrl.train.training_run import seed_everything

pytestmark = pytest.mark.slow


def _initial_params(cfg) -> dict[str, torch.Tensor]:
    """The parameters a run starts from (same seed, so the same LoRA initialisation)."""
    from mmrl.model.loading import load

    seed_everything(cfg.run.seed)
    model = load(load_spec(cfg)).model
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def _changed(before: dict[str, torch.Tensor], model) -> dict[str, bool]:
    return {k: not torch.equal(before[k], v.detach()) for k, v in model.named_parameters()}


def _weights(folder) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(Path(folder) / "model.safetensors"))


def test_loss_falls_on_a_small_synthetic_set(sft_cfg):
    result = train(sft_cfg(max_steps=12, batch_size=4))
    assert len(result.losses) == 12
    assert sum(result.losses[-3:]) / 3 < sum(result.losses[:3]) / 3 - 0.5


def test_metrics_have_one_line_per_step_in_spec_form(sft_cfg):
    cfg = sft_cfg(max_steps=4, warmup_ratio=0.5, scheduler="linear")
    train(cfg)
    lines = [json.loads(x) for x in Path(cfg.run.out, "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [1, 2, 3, 4]
    assert all({"time", "loss", "lr", "tokens_per_s", "grad_norm", "epoch"} <= set(r) for r in lines)
    assert [r["lr"] for r in lines] == pytest.approx([1.5e-3, 3e-3, 3e-3, 1.5e-3])
    assert [r["epoch"] for r in lines] == pytest.approx([2 / 12, 4 / 12, 6 / 12, 8 / 12], abs=1e-4)
    assert all(a["time"] <= b["time"] for a, b in zip(lines, lines[1:]))


def test_lora_changes_only_the_adapters(sft_cfg):
    cfg = sft_cfg(lora=True, lora_r=4, lora_targets="q_proj,v_proj", merge_lora=False)
    before = _initial_params(cfg)
    changed = _changed(before, train(cfg).model)
    lora = {k for k in changed if "lora_" in k}
    assert lora and all(changed[k] for k in lora)
    assert not any(changed[k] for k in changed if k not in lora)


def test_frozen_vision_tower_keeps_its_weights_and_the_projector_still_trains(sft_cfg):
    cfg = sft_cfg(freeze_vision=True)
    before = _initial_params(cfg)
    changed = _changed(before, train(cfg).model)
    tower = {k for k in changed if ".visual." in f".{k}" and ".merger." not in k}
    merger = {k for k in changed if ".merger." in k}
    rest = set(changed) - tower - merger
    assert tower and merger and rest
    assert not any(changed[k] for k in tower)
    assert all(changed[k] for k in merger) and all(changed[k] for k in rest)


def test_frozen_projector_too(sft_cfg):
    cfg = sft_cfg(freeze_vision=True, freeze_projector=True)
    before = _initial_params(cfg)
    changed = _changed(before, train(cfg).model)
    vision = [k for k in changed if ".visual." in f".{k}"]
    assert vision and not any(changed[k] for k in vision)
    assert all(changed[k] for k in changed if k not in vision)


class Interrupt(Exception):
    pass


def _interrupt_at(step):
    def on_step(info):
        if info.step == step:
            raise Interrupt

    return on_step


@pytest.mark.parametrize("overrides", [
    dict(scheduler="cosine", warmup_ratio=0.25),
    dict(lora=True, lora_r=4, lora_dropout=0.3, merge_lora=True),
], ids=["full", "lora-dropout"])
def test_resume_gives_the_same_weights_as_an_unbroken_run(sft_cfg, tmp_path, overrides):
    common = dict(max_steps=4, save_steps=2, **overrides)
    whole = sft_cfg(out=str(tmp_path / "whole"), **common)
    train(whole)
    broken = sft_cfg(out=str(tmp_path / "broken"), **common)
    with pytest.raises(Interrupt):
        train(broken, on_step=_interrupt_at(3))
    result = train(sft_cfg(out=str(tmp_path / "broken"), resume=True, **common))
    assert result.resumed_from == 2
    a, b = _weights(whole.run.out), _weights(broken.run.out)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    steps = [json.loads(x)["step"] for x in Path(broken.run.out, "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]


def test_resume_refuses_a_changed_data_set(sft_cfg, write_jsonl, synth_records):
    cfg = sft_cfg(max_steps=2, save_steps=1)
    with pytest.raises(Interrupt):
        train(cfg, on_step=_interrupt_at(2))
    other = write_jsonl(synth_records[:6], "fewer.jsonl")
    with pytest.raises(ConfigError, match="cannot resume"):
        train(sft_cfg(max_steps=2, save_steps=1, data=other, resume=True))


def test_an_existing_run_is_not_overwritten_silently(sft_cfg):
    train(sft_cfg(max_steps=1))
    with pytest.raises(ConfigError, match="--resume"):
        train(sft_cfg(max_steps=1))
    assert train(sft_cfg(max_steps=1, overwrite=True)).steps == 1


def test_packing_trains_the_same_as_padding(sft_cfg, tmp_path):
    padded = sft_cfg(out=str(tmp_path / "pad"), batch_size=3)
    packed = sft_cfg(out=str(tmp_path / "pack"), batch_size=3, packing=True)
    la, lb = train(padded).losses, train(packed).losses
    assert la == pytest.approx(lb, rel=1e-5)
    a, b = _weights(padded.run.out), _weights(packed.run.out)
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


def test_gradient_checkpointing_trains_the_same(sft_cfg, tmp_path):
    plain = sft_cfg(out=str(tmp_path / "plain"))
    ckpt = sft_cfg(out=str(tmp_path / "gc"), gradient_checkpointing=True)
    checkpointed = train(ckpt)
    base = checkpointed.model.get_base_model() if hasattr(checkpointed.model, "get_base_model") else checkpointed.model
    assert any(getattr(m, "gradient_checkpointing", False) for m in base.modules())
    assert train(plain).losses == pytest.approx(checkpointed.losses, rel=1e-6)
    a, b = _weights(plain.run.out), _weights(ckpt.run.out)
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_lora_checkpoint_loads_as_adapter_or_merged_with_the_same_outputs(sft_cfg, tmp_path, synth_records):
    from mmrl.model.loading import load

    kw = dict(lora=True, lora_r=4)
    adapter = sft_cfg(out=str(tmp_path / "adapter"), merge_lora=False, **kw)
    merged = sft_cfg(out=str(tmp_path / "merged"), merge_lora=True, **kw)
    train(adapter)
    train(merged)
    assert Path(adapter.run.out, "adapter_config.json").is_file() and not Path(adapter.run.out, "model.safetensors").exists()
    assert Path(merged.run.out, "model.safetensors").is_file() and not Path(merged.run.out, "adapter_config.json").exists()
    a, b = load(adapter.run.out), load(merged.run.out)
    ids = a.processor.tokenizer("How many red circles are there?", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert torch.allclose(a.model(input_ids=ids).logits, b.model(input_ids=ids).logits, atol=1e-5)


def test_the_checkpoint_is_read_by_rollout_and_writes_the_trained_format(tiny_model_dir, tmp_path, cli):
    """Cold start end to end: warmup-sft on counting, then `mmrl rollout --model DIR` answers in format."""
    import re

    from mmrl.data.synth import synthesize

    data = tmp_path / "count" / "data.jsonl"
    synthesize(data, task="count", n=16, seed=0, image_size=56)
    out = tmp_path / "cold"
    r = cli("warmup-sft", "--model", tiny_model_dir, "--data", str(data), "--out", str(out), "--max-steps", "80",
            "--batch-size", "8", "--lr", "1e-2", "--scheduler", "constant")
    assert r.exit_code == 0, r.output
    r = cli("rollout", "--model", str(out), "--data", str(data), "--temperature", "0", "--max-new-tokens", "60")
    assert r.exit_code == 0, r.output
    responses = [json.loads(line)["response"] for line in r.stdout.splitlines() if line.strip()]
    assert len(responses) == 16
    pattern = re.compile(r"^<think>[^<]+</think><answer>\d+</answer>$")
    assert all(pattern.match(x) for x in responses), responses


def test_a_loss_that_barely_moved_gets_a_hint_with_settings_that_work():
    from mmrl.sft.trainer import stalled_hint

    hint = stalled_hint([5.6, 5.6, 5.59, 5.6, 5.58] + [5.57] * 5, lr=1e-5)
    assert hint is not None and "--lr 3e-3 --batch-size 8" in hint and "5.594 -> 5.570" in hint


def test_a_loss_that_fell_gets_no_hint():
    from mmrl.sft.trainer import stalled_hint

    assert stalled_hint([5.6] * 5 + [2.0] * 5, lr=3e-3) is None


def test_a_short_run_gets_no_hint():
    from mmrl.sft.trainer import stalled_hint

    assert stalled_hint([5.6, 5.6], lr=1e-5) is None
