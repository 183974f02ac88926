#!/usr/bin/env bash
# Lint (ruff), type check (mypy), then the whole test suite (slow statistical
# tests included), on all cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check relsim tests benchmarks examples
# the checked interfaces: both engines against the Population protocol, the
# model against Market, everything in relsim/ (configured in pyproject.toml)
.venv/bin/mypy
exec .venv/bin/python -m pytest -n auto "$@"
