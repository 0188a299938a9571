#!/usr/bin/env bash
# territorial_geo set-up and entry point.
#   ./run.sh                 run the main job: the Campagnes de l'Artois study -> maps/campagnes-artois/
#   ./run.sh study FILE.toml run another study
#   ./run.sh test            lint, the whole test suite (notebook, browser test and the strict
#                            documentation build included), then the mutation check of the core
#                            (tools/mutation_check.py)
#   ./run.sh test ARGS...    lint, then pytest ARGS only
#   ./run.sh data ...        territorial-geo data fetch|status|manifest ...
# Each creates what it needs: the virtualenv (.venv), then (study and other commands) the data
# directory (data/, or $TERRITORIAL_GEO_DATA) from a mirror when one is found
# ($TERRITORIAL_GEO_MIRROR, else ../shared/data beside the repository), else from the official
# sources; `test` leaves fetching to the test session, which fetches only what the tests read.
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv
# Python >= 3.12 (osrm-bindings, the OSRM engine and test oracle, ships wheels for 3.12 and newer):
# $PYTHON when set, else the first of python3.13, python3.12, python3 that is >= 3.12 (pyenv
# versions included, whether or not they are the global one)
find_python() {
  local c
  for c in ${PYTHON:-} python3.13 python3.12 python3 \
           "$HOME"/.pyenv/versions/3.13*/bin/python3 "$HOME"/.pyenv/versions/3.12*/bin/python3; do
    [ -n "$c" ] || continue
    if "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
      echo "$c"; return 0
    fi
  done
  echo "run.sh: Python >= 3.12 is needed (set PYTHON=/path/to/python3.12)" >&2
  return 1
}
# a virtualenv made by an older run.sh with Python < 3.12 is made again (read from pyvenv.cfg)
venv_ver=$(sed -n 's/^version[_a-z]* *= *\([0-9]*\)\.\([0-9]*\).*/\1 \2/p' "$VENV/pyvenv.cfg" 2>/dev/null | head -1 || true)
if [ -n "$venv_ver" ] && [ "${venv_ver% *}" -eq 3 ] && [ "${venv_ver#* }" -lt 12 ]; then
  echo "run.sh: $VENV uses Python ${venv_ver/ /.} (< 3.12); recreating it" >&2
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  PY=$(find_python)
  "$PY" -m venv "$VENV"
fi
if [ ! -f "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e ".[dev,docs,osrm]"
  touch "$VENV/.installed"
fi
TG="$VENV/bin/territorial-geo"
cmd=${1:-study}
[ $# -gt 0 ] && shift
case "$cmd" in
  test)
    # no blanket fetch: tests/conftest.py fetches, once per session, what the tests read
    "$VENV/bin/ruff" check .  # the whole repository: code, tests, tools, notebooks
    if [ $# -gt 0 ]; then
      exec "$VENV/bin/python" -m pytest -q "$@"
    fi
    "$VENV/bin/python" -m pytest -q
    # every listed mutation of the core (routing, zoning, demand) must turn a test red
    exec "$VENV/bin/python" tools/mutation_check.py
    ;;
  data)
    exec "$TG" data "$@"
    ;;
  study)
    "$TG" --quiet data fetch
    if [ $# -eq 0 ]; then set -- examples/campagnes-artois.toml; fi
    exec "$TG" study "$@"
    ;;
  *)
    "$TG" --quiet data fetch
    exec "$TG" "$cmd" "$@"
    ;;
esac
