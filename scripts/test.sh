#!/usr/bin/env bash
# The whole test suite (slow statistical tests included), on all cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check relsim tests benchmarks
exec .venv/bin/python -m pytest -n auto "$@"
