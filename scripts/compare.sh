#!/usr/bin/env bash
# The main job: transactional vs relationship on the default (ecommerce) scenario,
# 20 seeds each; the report lands in reports/ecommerce/report.html (and report.md).
# Extra arguments go to `relsim compare`, e.g. `bash scripts/compare.sh --seeds 5`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/relsim compare scenarios/ecommerce.toml \
  --strategies transactional,relationship --seeds 20 --out reports/ecommerce "$@"
