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
PY=${PYTHON:-python3}
VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
if [ ! -f "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e ".[dev,docs]"
  touch "$VENV/.installed"
fi
TG="$VENV/bin/territorial-geo"
cmd=${1:-study}
[ $# -gt 0 ] && shift
case "$cmd" in
  test)
    # no blanket fetch: tests/conftest.py fetches, once per session, what the tests read
    "$VENV/bin/ruff" check src tests benchmarks tools
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
