#!/usr/bin/env bash
# meson's entry point for the Matrix suite: sets up the venv, then runs
# pytest on tests/matrix against the healthbot binary given.
#
#   tests/matrix/run-tests.sh BUILD/bot/healthbot [pytest args...]
#   HB_MATRIX_TESTS=tests/matrix/load_matrix.py tests/matrix/run-tests.sh ...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
healthbot=$(realpath "$1")
shift
venv=$("$here/setup-venv.sh")
export HEALTHBOT="$healthbot"
export HB_SOURCE_ROOT="$(cd "$here/../.." && pwd)"
cd "$here"
# HB_MATRIX_TESTS: which files (default: every test_*.py here); the load
# test (load_matrix.py) runs only when named, in a Synapse of its own
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@" ${HB_MATRIX_TESTS:-"$here"}
