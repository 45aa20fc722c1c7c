#!/usr/bin/env bash
# Create .venv and install MoE Explorer into it. Safe to run again; it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }
# The CPU build of torch first: a bare "torch" requirement would pull a multi-GB CUDA build.
# Tried in order: a local wheel (pip's find-links), PyTorch's CPU index, then PyPI for its dependencies.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    pip install --no-index --no-deps "torch==2.13.0" 2>/dev/null \
        || pip install --no-deps "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu --retries 1 \
        || true
    pip install "torch==2.13.0"
fi
pip install -e ".[${EXTRAS:-test}]"
