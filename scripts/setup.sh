#!/usr/bin/env bash
# Create .venv and install MoE Explorer into it. Safe to run again; it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }
# The CPU build of torch first: a bare "torch" requirement would pull a multi-GB CUDA build.
# A local wheel (find-links) or PyTorch's CPU index provides it; PyPI's own build is the last resort.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    pip install "torch==2.13.0" --extra-index-url https://download.pytorch.org/whl/cpu --timeout 20 \
        || pip install "torch==2.13.0"
fi
pip install -e ".[${EXTRAS:-test}]"
