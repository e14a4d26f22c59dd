#!/usr/bin/env bash
# The main job on the embedded default: the longest real pipeline of this build, end to end,
# on a tiny random Qwen2.5-VL and the built-in synthetic data set (no GPU, no model hub).
#
#   synthetic data -> tiny model -> warm-up SFT -> rollout -> reward -> grade -> eval -> compare
#
# About 4 minutes on 2 CPU cores. A tiny random model learns the answer format from SFT (format
# reward 0 -> ~1 on held-out prompts); accuracy on the tasks is what online RL (mmrl grpo) is for.
#
# Everything lands under runs/demo/ (or $MMRL_DEMO_DIR); each step's metrics/summary is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
MMRL=.venv/bin/mmrl
R=${MMRL_DEMO_DIR:-runs/demo}
STEPS=${MMRL_DEMO_STEPS:-300}
rm -rf "$R"
mkdir -p "$R"
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "1/8 synthetic data: 192 training and 48 test samples over six verifiable tasks"
$MMRL data synth --task mix --n 192 --seed 0 --image-size 56 -o "$R/data/train.jsonl"
$MMRL data synth --task mix --n 48 --seed 1 --image-size 56 -o "$R/data/test.jsonl"
$MMRL data validate "$R/data/train.jsonl" "$R/data/test.jsonl"

step "2/8 a tiny random Qwen2.5-VL (config only, tokenizer trained here)"
$MMRL model init-tiny "$R/model-base" --size s --seed 0

step "3/8 warm-up SFT: teach the <think>...</think><answer>...</answer> format ($STEPS steps)"
$MMRL warmup-sft --model "$R/model-base" --data "$R/data/train.jsonl" --out "$R/model-sft" \
  --max-steps "$STEPS" --lr 3e-3 --batch-size 8 --scheduler cosine --warmup-ratio 0.05

step "4/8 rollout: 4 draws per training prompt from the SFT model"
$MMRL rollout --model "$R/model-sft" --data "$R/data/train.jsonl" -n 4 --max-new-tokens 96 \
  --temperature 1.0 --seed 0 -o "$R/rollouts.jsonl"

step "5/8 reward: per-sample verifiers (number, exact, math, choice, iou, map) + format + style"
$MMRL reward "$R/rollouts.jsonl" -o "$R/scored.jsonl"

step "6/8 grade: pass@k and difficulty; keep prompts neither always nor never solved (MM-Eureka)"
$MMRL grade "$R/scored.jsonl" --k 1,2,4 --keep 0.01:0.99 --dropped "$R/graded-dropped.jsonl" \
  -o "$R/graded.jsonl"

step "7/8 eval: the base and the SFT model on the held-out synthetic test set (greedy)"
$MMRL eval spec --model "$R/model-base" --data "$R/data/test.jsonl" --max-new-tokens 96 -o "$R/eval-base"
$MMRL eval spec --model "$R/model-sft" --data "$R/data/test.jsonl" --max-new-tokens 96 -o "$R/eval-sft"

step "8/8 compare: accuracy per task, then the held-out answers' rewards (format is what SFT teaches)"
$MMRL eval compare "$R/eval-base" "$R/eval-sft"
$MMRL reward "$R/eval-base/predictions.jsonl" -o "$R/eval-base/scored.jsonl"
$MMRL reward "$R/eval-sft/predictions.jsonl" -o "$R/eval-sft/scored.jsonl"
echo "demo outputs in $R" >&2
