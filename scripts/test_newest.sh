#!/usr/bin/env bash
# CI's second job: the newest versions setup.cfg admits (no lock; torch held), in .venv-newest,
# running the tests that touch library internals: model and processor loading, the tiny model,
# KV caches and the shared prefix, transformers serve, DeepSpeed, checkpoints. The next
# transformers/peft/DeepSpeed release that breaks mmrl is seen the day it lands.
set -euo pipefail
cd "$(dirname "$0")/.."
export MMRL_VENV=.venv-newest MMRL_CONSTRAINTS=none
bash scripts/setup_env.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
.venv-newest/bin/python -m pip list --disable-pip-version-check 2>/dev/null \
  | grep -Ei '^(torch|transformers|peft|deepspeed|datasets|tokenizers|accelerate) ' >&2 || true
INTERNALS=(
  tests/foundation/test_tiny_model.py tests/foundation/test_versions.py tests/foundation/test_images.py
  tests/rollout tests/rl/test_trainer.py tests/rl/test_deepspeed.py tests/rl/test_memory.py tests/rl/test_step_parts.py
  tests/sft/test_train.py tests/sft/test_deepspeed.py tests/sft/test_checkpoint_metrics.py
  tests/adversarial/test_checkpoint_cases.py
)
exec .venv-newest/bin/python -m pytest -q "${INTERNALS[@]}" "$@"
