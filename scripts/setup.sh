#!/usr/bin/env bash
# Create .venv with Python 3.13, install requirements.txt into it and the project itself
# (editable: tests, scripts and Ray workers import it from anywhere). Skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
find_python() {
  for cand in "${PYTHON:-}" python3.13 "$HOME/.pyenv/versions/$(cat .python-version)/bin/python"; do
    if [ -n "$cand" ] && command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  echo "setup: Python 3.13 not found (gym-super-mario-bros 9 needs it); install it or set PYTHON=/path/to/python3.13" >&2
  return 1
}
if [ ! -x .venv/bin/python ]; then
  py=$(find_python)
  echo "setup: creating .venv with $py"
  "$py" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing requirements.txt into .venv (torch is large: a few minutes the first time)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt
  .venv/bin/python -m pip install --quiet --no-deps -e .
  echo "$want" > "$stamp"
fi
