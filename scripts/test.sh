#!/usr/bin/env bash
# Set up (first time only) and run every check: lint, format, and the whole pytest suite,
# including the real-browser tests (Debian's chromium is installed when it is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${EXTRAS-test,ray}" bash scripts/setup.sh  # the suite runs a real local Ray
if [ ! -x /usr/bin/chromium ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest "$@"
