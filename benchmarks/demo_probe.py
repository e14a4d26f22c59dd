"""Can a demo model tell the colours apart at all? Linear probes on its features, per stage.

For a folder written by ``mmrl demo`` (its data and its base / SFT / RL models), fits a linear
classifier (multinomial logistic regression, L-BFGS, a little L2) from the model's features to the
shape's colour on the first N training samples and reports its accuracy on the held-out samples:

- ``vision``: the vision tower's output (after the merger) averaged over the image tokens;
- ``lm``: the language model's last hidden state at the point where the colour is written
  (the prompt, then ``<think>The shape is``).

A probe near 100% while the model's own answers sit at chance says the information is there and
the policy has not learned to read it out; a probe near 25% would say the images or the tower
cannot carry it. Chance is 25%.

    python benchmarks/demo_probe.py runs/demo-seeds/seed-3 [--stages base,sft] [--n-train 256]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

COLOURS = ("red", "green", "blue", "yellow")
MODEL_DIRS = {"base": "model-base", "sft": "model-sft", "rl": "model-rl"}
DECISION = "<think>The shape is"


@torch.no_grad()
def features(model_dir: Path, items) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(pooled vision features, LM state at the decision point, colour labels) of ``items``."""
    from mmrl.model.loading import ModelSpec, load
    from mmrl.rollout.backends.hf import HFBackend
    from mmrl.rollout.prompts import PromptBuilder, PromptConfig, templated_text

    loaded = load(ModelSpec(str(model_dir)))
    model = loaded.model.eval()
    backend = HFBackend(loaded)
    builder = PromptBuilder(PromptConfig(), processor=loaded.processor, context_length=backend.context_length)
    loaded.tokenizer.padding_side = "left"
    pooled, hidden, labels = [], [], []
    for start in range(0, len(items), 16):
        chunk = items[start:start + 16]
        prompts = [builder.build(it) for it in chunk]
        inputs = loaded.processor(text=[templated_text(p, loaded.processor) + DECISION for p in prompts],
                                  images=[im for p in prompts for im in p.images], return_tensors="pt", padding=True)
        out = model(**inputs, output_hidden_states=True)
        hidden.append(out.hidden_states[-1][:, -1, :].float())
        feats = model.model.get_image_features(inputs["pixel_values"], inputs["image_grid_thw"])
        feats = feats.pooler_output if hasattr(feats, "pooler_output") else feats
        pooled.append(torch.stack([f.float().mean(0) for f in feats]))
        labels += [COLOURS.index(it.record["answer"]) for it in chunk]
    return torch.cat(pooled), torch.cat(hidden), torch.tensor(labels)


def probe_accuracy(x_train, y_train, x_test, y_test, l2: float = 1e-3) -> float:
    """Held-out accuracy of a linear classifier fitted on standardised features."""
    mu, sd = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = (x_train - mu) / sd, (x_test - mu) / sd
    w = torch.zeros(x_train.shape[1], len(COLOURS), requires_grad=True)
    b = torch.zeros(len(COLOURS), requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=300, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(x_train @ w + b, y_train) + l2 * (w ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float(((x_test @ w + b).argmax(1) == y_test).float().mean())


def main() -> None:
    from mmrl.rewards import RewardConfig
    from mmrl.rl.data import load_samples

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("demo_dir", type=Path)
    parser.add_argument("--stages", default="base,sft")
    parser.add_argument("--n-train", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(1)
    train = load_samples(str(args.demo_dir / "data" / "train.jsonl"), RewardConfig(workers=0))[:args.n_train]
    test = load_samples(str(args.demo_dir / "data" / "test.jsonl"), RewardConfig(workers=0))
    print(f"| stage | vision probe | LM probe (at the colour) | train / held-out n | CPU s |\n|---|---:|---:|---:|---:|")
    for stage in args.stages.split(","):
        t0 = time.process_time()
        model_dir = args.demo_dir / MODEL_DIRS[stage]
        v_train, h_train, y_train = features(model_dir, train)
        v_test, h_test, y_test = features(model_dir, test)
        row = {"vision": probe_accuracy(v_train, y_train, v_test, y_test),
               "lm": probe_accuracy(h_train, y_train, h_test, y_test)}
        print(f"| {stage} | {100 * row['vision']:.1f}% | {100 * row['lm']:.1f}% | {len(train)} / {len(test)} | "
              f"{time.process_time() - t0:.0f} |", flush=True)
        print(json.dumps({"stage": stage, **row}), file=__import__("sys").stderr)


if __name__ == "__main__":
    main()
