#!/usr/bin/env bash
# The full validation suite (analytic limits against the published formulas, docking of
# the engines, corner cases); its report lands in docs/validation/ (validation.html,
# validation.md, figures and CSV tables) and the wall time is printed.
# Extra arguments go to `relsim validate`, e.g. `bash scripts/validate.sh --quick`
# (under two minutes on two cores; writes to docs/validation/ all the same).
# RELSIM=path/to/relsim uses another installation instead of .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${RELSIM:-}" ]; then
  bash scripts/setup.sh
  RELSIM=.venv/bin/relsim
fi
start=$(date +%s)
"$RELSIM" validate --out docs/validation "$@"
echo "relsim validate took $(( $(date +%s) - start )) s wall time"
