#!/usr/bin/env bash
# One GPU check, ready for whenever a GPU machine is at hand (NOT YET RUN ON A GPU).
#
# Written for one H100 with torch 2.11, transformers 5.17, no vLLM, no DeepSpeed and no package
# registry; under 8 minutes. It runs, on a random model with Qwen2.5-VL-3B's architecture
# (benchmarks/grpo_vs_trl.py random_3b: 7.5 GB of bfloat16 written locally, no hub):
#   1. `mmrl grpo` (hf rollout backend) beside TRL's GRPOTrainer, same data, reward and settings,
#      one warm-up and GPU_CHECK_STEPS timed steps each (benchmarks/grpo_vs_trl.py);
#   2. the rollout benchmark: mmrl's hf backend beside plain model.generate (benchmarks/rollout_bench.py);
# and writes one JSON (GPU_CHECK_OUT, default runs/gpu_check.json) with both tables and the versions.
#
# Without a registry the missing packages come from a wheel folder carried along (at most 64 MiB):
# build it on a machine that reaches the registry with
#   pip download --no-deps -d gpu-wheels trl typer rich shellingham mpmath
# and run `GPU_CHECK_WHEELS=gpu-wheels bash benchmarks/gpu_check.sh` on the GPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${GPU_CHECK_OUT:-runs/gpu_check.json}
WORK=${GPU_CHECK_WORK:-/tmp/mmrl-gpu-check}
STEPS=${GPU_CHECK_STEPS:-2}
IMAGE_TOKENS=${GPU_CHECK_IMAGE_TOKENS:-256}
NEW_TOKENS=${GPU_CHECK_NEW_TOKENS:-64}
mkdir -p "$WORK" "$(dirname "$OUT")"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

if [ -n "${GPU_CHECK_WHEELS:-}" ]; then
  "$PY" -m pip install -q --no-index --find-links "$GPU_CHECK_WHEELS" --no-deps "$GPU_CHECK_WHEELS"/*.whl
fi
"$PY" -m pip install -q --no-index --no-deps --no-build-isolation -e . >&2
"$PY" - <<'PY' >&2
import torch, transformers
assert torch.cuda.is_available(), "gpu_check.sh needs a CUDA GPU"
print(f"gpu_check: {torch.cuda.get_device_name()}, torch {torch.__version__}, transformers {transformers.__version__}")
import trl  # noqa: F401  (the peer; GPU_CHECK_WHEELS brings it)
PY

stage() {  # name, seconds, command...: a stage past its time is killed and reported, the rest still run
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  echo "gpu_check: $name ..." >&2
  if timeout "$limit" "$@" >&2; then echo "{\"stage\": \"$name\", \"rc\": 0, \"seconds\": $((SECONDS - t0))}"
  else echo "{\"stage\": \"$name\", \"rc\": $?, \"seconds\": $((SECONDS - t0))}"; fi
}

MODEL=$WORK/qwen2.5-vl-3b-random
{
  stage model 120 "$PY" -c "
import importlib.util, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location('grpo_vs_trl', 'benchmarks/grpo_vs_trl.py')
m = importlib.util.module_from_spec(spec); sys.modules[spec.name] = m; spec.loader.exec_module(m)
p = Path('$MODEL')
if not (p / 'model.safetensors.index.json').exists() and not (p / 'model.safetensors').exists():
    m.random_3b(p)
"
  stage grpo_vs_trl 240 "$PY" benchmarks/grpo_vs_trl.py --model "$MODEL" --device cuda --dtype bfloat16 \
    --image-tokens "$IMAGE_TOKENS" --new-tokens "$NEW_TOKENS" --steps "$STEPS" --repeats 1 --threads 8 \
    --json "$WORK/grpo_vs_trl.json"
  stage rollout_bench 90 "$PY" benchmarks/rollout_bench.py --model "$MODEL" --device cuda --dtype bfloat16 \
    --image-tokens "$IMAGE_TOKENS" --new-tokens "$NEW_TOKENS" --repeats 2 --json "$WORK/rollout_bench.json"
} > "$WORK/stages.jsonl"

"$PY" - "$WORK" "$OUT" <<'PY'
import json, sys
from pathlib import Path
import torch, transformers
work, out = Path(sys.argv[1]), Path(sys.argv[2])
def read(name):
    p = work / name
    return json.loads(p.read_text()) if p.exists() else None
report = {
    "device": torch.cuda.get_device_name(), "torch": torch.__version__, "transformers": transformers.__version__,
    "stages": [json.loads(line) for line in (work / "stages.jsonl").read_text().splitlines() if line.strip()],
    "grpo_vs_trl": read("grpo_vs_trl.json"), "rollout_bench": read("rollout_bench.json"),
}
out.write_text(json.dumps(report, indent=2))
print(json.dumps(report["stages"]))
print(f"gpu_check: wrote {out}")
sys.exit(0 if all(s["rc"] == 0 for s in report["stages"]) else 1)
PY
