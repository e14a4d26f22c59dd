#!/usr/bin/env bash
# Create .venv and install mmrl into it (idempotent; offline-safe: no model hub is contacted).
# torch comes first and pinned, so that nothing later pulls a different (CUDA) build on a CPU box.
# Every package is held to constraints.txt, the exact versions the test suite is green on (what CI
# installs); MMRL_CONSTRAINTS=none installs the newest versions setup.cfg allows instead, and
# MMRL_CONSTRAINTS=FILE another lock. MMRL_VENV names the environment's folder (default .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TORCH_SPEC=${MMRL_TORCH_SPEC:-torch==2.13.0}
VENV=${MMRL_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
CONSTRAINTS=${MMRL_CONSTRAINTS:-constraints.txt}
constrain=()
if [ "$CONSTRAINTS" != none ]; then
  constrain=(-c "$CONSTRAINTS")
fi
stamp="$VENV/.mmrl-installed"
want="$(cat setup.cfg setup.py | sha256sum | cut -c1-16) $TORCH_SPEC ${MMRL_EXTRAS:-test} $CONSTRAINTS"
if [ "$CONSTRAINTS" != none ]; then
  want="$want $(sha256sum < "$CONSTRAINTS" | cut -c1-16)"
fi
# Some machines' pip configuration names index folders that do not exist; pip then warns once
# per package. Those lines say nothing about the install, so they are filtered out.
pip_install() {
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2
}
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setting up $VENV (torch: $TORCH_SPEC, constraints: $CONSTRAINTS) ..." >&2
  pip_install "$TORCH_SPEC"
  if [ "$CONSTRAINTS" = none ]; then
    pip_install --upgrade --upgrade-strategy eager "$TORCH_SPEC" -e ".[${MMRL_EXTRAS:-test}]"  # torch held
  else
    pip_install "${constrain[@]}" -e ".[${MMRL_EXTRAS:-test}]"
  fi
  echo "$want" > "$stamp"
fi
