#!/usr/bin/env bash
# Create .venv (if missing) and install sim2real_gan with its test tools into it.
# Works on a fresh machine with nothing but Python >= 3.10.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch is pinned in pyproject.toml to the CPU build; extras add pytest/hypothesis/ruff.
.venv/bin/python -m pip install -q -e ".[test]"
