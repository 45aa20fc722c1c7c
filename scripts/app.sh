#!/usr/bin/env bash
# Set up (first time, or after pyproject.toml changed) and start the app: http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${EXTRAS-}" bash scripts/setup.sh
exec .venv/bin/streamlit run app "$@"
