#!/usr/bin/env bash
# territorial_geo set-up and entry point.
#   ./run.sh                 run the main job: the Campagnes de l'Artois study -> maps/campagnes-artois/
#   ./run.sh study FILE.toml run another study
#   ./run.sh test            lint, the whole test suite (notebook and browser test included), then
#                            the mutation check of the core (tools/mutation_check.py)
#   ./run.sh test ARGS...    lint, then pytest ARGS only
# Each creates what it needs: the virtualenv (.venv), then the data directory (data/, or
# $TERRITORIAL_GEO_DATA) from the ../shared/data mirror when present, else from the official sources.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
if [ ! -f "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e ".[dev]"
  touch "$VENV/.installed"
fi
TG="$VENV/bin/territorial-geo"
"$TG" --quiet data fetch
cmd=${1:-study}
[ $# -gt 0 ] && shift
case "$cmd" in
  study)
    if [ $# -eq 0 ]; then set -- examples/campagnes-artois.toml; fi
    exec "$TG" study "$@"
    ;;
  test)
    "$VENV/bin/ruff" check src tests benchmarks tools
    if [ $# -gt 0 ]; then
      exec "$VENV/bin/python" -m pytest -q "$@"
    fi
    "$VENV/bin/python" -m pytest -q
    # every listed mutation of the core (routing, zoning, demand) must turn a test red
    exec "$VENV/bin/python" tools/mutation_check.py
    ;;
  *)
    exec "$TG" "$cmd" "$@"
    ;;
esac
