#!/usr/bin/env bash
# Create .venv and install MoE Explorer into it (EXTRAS: the optional dependencies, "test" unless set).
# Runs pip only when something is missing, pyproject.toml changed since the last set-up, or extras are
# asked for that the last set-up did not install; so a second launch is quick.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
extras=${EXTRAS-test}
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=.venv/.moe-explorer-setup
project=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(head -1 "$stamp")" = "$project" ] \
    && { [ -z "$extras" ] || [ "$(sed -n 2p "$stamp")" = "$extras" ]; } \
    && .venv/bin/python -c "import torch, moe_core, moe_explorer_app, streamlit" 2>/dev/null; then
    exit 0
fi
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }
# The CPU build of torch first: a bare "torch" requirement would pull a multi-GB CUDA build.
# Tried in order: a local wheel (pip's find-links), PyTorch's CPU index, then PyPI for its dependencies.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    pip install --no-index --no-deps "torch==2.13.0" 2>/dev/null \
        || pip install --no-deps "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu --retries 1 \
        || true
    pip install "torch==2.13.0"
fi
pip install -e ".${extras:+[$extras]}"
printf '%s\n%s\n' "$project" "$extras" > "$stamp"
