#!/usr/bin/env bash
# The main job on the embedded default: `mmrl demo`, the whole pipeline on a tiny random
# Qwen2.5-VL and built-in synthetic data, on the CPU (no GPU, no model hub):
#
#   data synth (train + held-out test) -> model init-tiny -> eval (base) -> warmup-sft -> eval (SFT)
#     -> grade -> grpo -> eval (RL) -> plot -> before/after table, summary.json, curves.png
#
# RL makes the model measurably better: held-out accuracy rises well above the SFT model's
# (BENCHMARKS.md, "demo"). A few minutes on two CPU cores; `--minutes M` bounds the RL phase on a
# slower machine. Arguments are passed to `mmrl demo` (default output folder runs/demo, or
# $MMRL_DEMO_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec .venv/bin/mmrl demo --out "${MMRL_DEMO_DIR:-runs/demo}" --overwrite "$@"
