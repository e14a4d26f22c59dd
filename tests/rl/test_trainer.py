"""The GRPO trainer on the tiny model: one step end to end, the monitoring, the guards, resume."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import torch

from mmrl.errors import DataError
from mmrl.rl.trainer import train

pytestmark = pytest.mark.slow


def weights(path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(Path(path) / "model.safetensors"))


def metrics(out) -> list[dict]:
    return [json.loads(line) for line in (Path(out) / "metrics.jsonl").read_text().splitlines()]


def test_one_step_scores_computes_advantages_and_changes_the_weights(rl_config, tiny_model_dir):
    seen = []
    result = train(rl_config(), on_step=seen.append)
    batch = seen[0].batch
    assert batch.rewards.shape == (8,) and batch.advantages.shape == (8,)
    assert torch.isfinite(batch.advantages).all()
    assert torch.isfinite(torch.tensor(result.history[0]["loss"]))
    before, after = weights(tiny_model_dir), weights(result.out_dir)
    assert any(not torch.equal(before[k], after[k]) for k in before), "the update changed no weight"


def test_every_step_writes_the_monitoring_metrics(rl_config):
    result = train(rl_config(max_steps=2))
    rows = metrics(result.out_dir)
    assert [r["step"] for r in rows] == [1, 2]
    for key in ("loss", "reward/mean", "accuracy/mean", "response_len/mean", "kl", "clip_frac", "entropy",
                "valid_group_frac", "oversample_ratio", "reflection_rate", "time/rollout", "time/reward",
                "time/logprob", "time/update", "tokens_per_s", "lr", "skipped_updates"):
        assert key in rows[0], key
    assert any(k.startswith("reward/synth/") and k.endswith("/mean") for k in rows[0])
    assert any(k.startswith("accuracy/synth/") for k in rows[0])


def test_samples_are_kept_every_k_steps(rl_config):
    result = train(rl_config(max_steps=2, sample_steps=1))
    kept = [json.loads(x) for x in (Path(result.out_dir) / "samples.jsonl").read_text().splitlines()]
    assert {r["step"] for r in kept} == {1, 2} and all("response" in r and "rewards" in r for r in kept)


def test_the_final_model_loads_as_a_model(rl_config):
    from mmrl.model.loading import load

    result = train(rl_config())
    assert load(result.out_dir).model is not None


def test_a_non_finite_loss_skips_the_update_and_counts_it(rl_config, tiny_model_dir, monkeypatch):
    import mmrl.rl.update as update

    real = update.policy_loss

    def nan_loss(*args, **kwargs):
        loss, stats = real(*args, **kwargs)
        return loss * float("nan"), stats

    monkeypatch.setattr(update, "policy_loss", nan_loss)
    result = train(rl_config(max_steps=2))
    assert result.skipped_updates == 2 and metrics(result.out_dir)[-1]["skipped_updates"] == 2
    before, after = weights(tiny_model_dir), weights(result.out_dir)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_bad_data_fails_with_its_line_before_any_model_loads(rl_config, tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text(json.dumps({"id": "a", "question": "q", "answer": "1"}) + "\n"
                    + json.dumps({"id": "b", "question": "q", "answer": "1", "reward": {"verifier": "nope"}}) + "\n")
    with pytest.raises(DataError, match=r"bad\.jsonl:2: reward\.verifier"):
        train(rl_config(data=str(data), model=str(tmp_path / "no-such-model")))


def test_a_crashed_run_resumes_to_the_same_weights_and_metrics(rl_config, tmp_path):
    straight = train(rl_config(max_steps=3, out=str(tmp_path / "a")))

    class Crash(Exception):
        pass

    def crash_at_3(report):
        if report.step == 3:
            raise Crash

    with pytest.raises(Crash):
        train(rl_config(max_steps=3, save_steps=2, out=str(tmp_path / "b")), on_step=crash_at_3)
    resumed = train(rl_config(max_steps=3, save_steps=2, out=str(tmp_path / "b"), resume=True))
    assert resumed.resumed_from == 2
    a, b = weights(straight.out_dir), weights(resumed.out_dir)
    assert all(torch.equal(a[k], b[k]) for k in a)
    drop = ("time", "tokens_per_s")
    strip = lambda rows: [{k: v for k, v in r.items() if k not in drop and not k.startswith("time/")} for r in rows]  # noqa: E731
    assert strip(metrics(resumed.out_dir)) == strip(metrics(straight.out_dir))


def test_sigterm_finishes_the_step_and_leaves_a_resumable_checkpoint(rl_config):
    def terminate(report):
        if report.step == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    result = train(rl_config(max_steps=3), on_step=terminate)
    assert result.interrupted == "SIGTERM" and result.steps == 1
    assert (Path(result.out_dir) / "checkpoints" / "step-1").is_dir()
    assert not (Path(result.out_dir) / "model.safetensors").exists()
    assert train(rl_config(max_steps=3, resume=True)).steps == 3


def test_a_kl_run_loads_a_reference_and_reports_kl(rl_config):
    result = train(rl_config(max_steps=2, beta=0.1))
    rows = metrics(result.out_dir)
    assert rows[0]["kl"] == pytest.approx(0.0, abs=1e-6)  # step 1: the policy is still the reference
    assert rows[1]["kl"] > 0


def test_lora_trains_adapters_and_saves_a_merged_model(rl_config, tiny_model_dir):
    result = train(rl_config(lora=True, lora_r=4, beta=0.1, max_steps=2))
    before, after = weights(tiny_model_dir), weights(result.out_dir)
    assert set(before) == set(after)
    assert any(not torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("reporter", ["tensorboard", "wandb"])
def test_a_missing_reporter_fails_before_the_model_loads(reporter, rl_config, tmp_path):
    import importlib.util

    from mmrl.errors import ConfigError

    if importlib.util.find_spec(reporter) is not None:
        pytest.skip(f"{reporter} is installed here")
    with pytest.raises(ConfigError, match=f"pip install {reporter}"):
        train(rl_config(report_to=reporter, model=str(tmp_path / "no-such-model")))


def test_eval_steps_score_the_held_out_set_greedily(rl_config, parity_file):
    result = train(rl_config(max_steps=2, eval_data=parity_file, eval_steps=2, eval_max_new_tokens=4))
    rows = metrics(result.out_dir)
    assert "eval/reward/mean" not in rows[0]
    assert "eval/reward/mean" in rows[1] and "eval/accuracy/mean" in rows[1]
    assert rows[1]["eval/response_len/max"] <= 4


def test_grpo_trains_on_parquet_with_mapped_columns(rl_config, tmp_path):
    from tests.formats import sample_rows, write_parquet

    rows = [{**{k: v for k, v in r.items() if k != "question"}, "query": r["question"],
             "reward": {"verifier": "test_parity", "weights": {"accuracy": 1.0}}} for r in sample_rows(4)]
    data = write_parquet(tmp_path / "train.parquet", rows)
    result = train(rl_config(data=str(data), columns={"question": "query"}, max_steps=1))
    assert result.steps == 1 and metrics(result.out_dir)[0]["groups_drawn"] == 2


def test_the_schedule_spans_every_update_of_the_run(rl_config):
    """Two updates a step (mini-batch 1 of 2): a linear schedule sized in steps would reach 0
    halfway; sized in updates, the lr falls step by step and is above 0 before the last step."""
    result = train(rl_config(max_steps=4, mini_batch_size=1, scheduler="linear"))
    lrs = [row["lr"] for row in result.history]
    assert all(a > b for a, b in zip(lrs, lrs[1:])), lrs
    assert lrs[-2] > 0, lrs


def test_the_policy_trains_without_dropout(rl_config):
    """Old log-probs come from a frozen pass (eval mode) and the update runs in train mode: dropout
    active in one and not the other would read as a policy change in the ratio."""
    import torch

    result = train(rl_config(max_steps=1, lora=True, lora_r=4, lora_dropout=0.5, merge_lora=False))
    drops = [m for m in result.model.modules() if isinstance(m, torch.nn.Dropout)]
    assert drops and all(m.p == 0.0 for m in drops)



def test_a_second_epoch_of_a_run_sees_its_ratio_move_and_clipped(rl_config):
    """The trainer stores the old log-probs when a step makes several updates: the second epoch's
    ratio leaves 1 and the clip catches it (without them the ratio would be 1 in every epoch)."""
    row = train(rl_config(max_steps=1, ppo_epochs=2, lr=5e-2)).history[0]
    assert abs(row["ratio_mean"] - 1.0) > 1e-4 and row["clip_frac"] > 0.0, row


def test_a_run_makes_its_better_responses_likelier(rl_config, tiny_model_dir):
    """The direction of a whole step: the responses with a positive advantage gain log-probability
    against those with a negative one, under the trained model versus the starting one."""
    from mmrl.model.loading import load
    from mmrl.rl.advantages import compute_advantages
    from mmrl.rl.update import frozen_logprobs
    from mmrl.rollout.backends.hf import HFBackend

    seen = []
    result = train(rl_config(max_steps=1, lr=1e-2, merge_lora=False), on_step=seen.append)
    batch = seen[0].batch
    base = load(tiny_model_dir)
    encode = HFBackend(base).encode
    before = frozen_logprobs(base.model, encode, batch, 1.0, 0, micro=2)
    after = frozen_logprobs(result.model, encode, batch, 1.0, 0, micro=2)
    change = ((after - before) * batch.loss_mask).sum(1)
    better = compute_advantages("drgrpo", batch.rewards, batch.group_ids)  # reward above its group's mean
    assert better.abs().sum() > 0 and (change * better).sum() > 0, (change, better)


def test_a_lora_run_at_beta_zero_monitors_its_kl_to_the_base_model(rl_config):
    """--monitor-kl auto: with LoRA the reference costs no weights (the adapters off), so a beta 0
    run reports its drift; the loss has no KL term."""
    rows = metrics(train(rl_config(lora=True, lora_r=4, max_steps=2, beta=0.0)).out_dir)
    assert rows[0]["kl"] == pytest.approx(0.0, abs=1e-6) and rows[1]["kl"] > 0
    assert rows[1]["loss"] == pytest.approx(rows[1]["pg_loss"], abs=1e-6)


def test_a_kl_in_reward_run_reports_the_penalty_and_trains_no_kl_term(rl_config):
    rows = metrics(train(rl_config(max_steps=2, beta=0.5, kl_in_reward=True, lr=5e-2)).out_dir)
    assert rows[0]["reward/kl_penalty"] == pytest.approx(0.0, abs=1e-6)  # step 1: the policy is the reference
    assert rows[1]["reward/kl_penalty"] > 0 and rows[1]["kl"] > 0
    assert rows[1]["loss"] == pytest.approx(rows[1]["pg_loss"], abs=1e-6)
