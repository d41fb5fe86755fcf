#!/usr/bin/env bash
# Runs the test suite on lavapipe with the Vulkan validation layer on (tests/conftest.py sets that up).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -q "$@"
