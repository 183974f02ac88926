#!/usr/bin/env bash
# Create .venv (Python >= 3.12) and install relsim with its test tools and the
# browser app; compile the numba kernels; install Debian's chromium for the browser tests when it is
# missing and we are root. Used by scripts/compare.sh and scripts/test.sh;
# safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for candidate in "${PYTHON:-}" python3.12 python3.13 python3 python; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  # pyenv installs that are not on PATH
  for candidate in "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3; do
    if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  echo "relsim needs Python >= 3.12; set PYTHON=/path/to/python3.12" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  python=$(find_python)
  echo "creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
stamp=.venv/.relsim-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[test,app]"
  touch "$stamp"
fi

# numba compiles relsim's kernels at their first call and keeps them in its cache
# (relsim/**/__pycache__); do it here, once after installing and again when the code has
# changed, rather than in the first step of a user's first run (about 25 s of CPU).
compiled=.venv/.relsim-compiled
if [ ! -f "$compiled" ] || [ -n "$(find relsim -name '*.py' -newer "$compiled" -print -quit)" ]; then
  echo "compiling relsim's kernels once (numba; about half a minute)"
  .venv/bin/python -c "from relsim.market.runner import compile_kernels; compile_kernels()"
  # and the browser app's first picture, kept for its first start (relsim.app.read_picture)
  .venv/bin/python -c "from relsim.app import keep_first_picture; keep_first_picture()"
  touch "$compiled"
fi

# The browser tests drive Debian's chromium through Playwright (never a
# browser that Playwright downloads). Without it they fail, loudly.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium for the browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: chromium is not installed and cannot be installed here (not root or no apt-get);" \
         "the browser tests will fail. Install it, or set RELSIM_CHROMIUM=/path/to/chromium." >&2
  fi
fi
