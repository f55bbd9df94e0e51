#!/usr/bin/env bash
# meson's entry point for the Matrix suite: sets up the venv, then runs
# pytest on tests/matrix against the healthbot binary given.
#
#   tests/matrix/run-tests.sh BUILD/bot/healthbot [pytest args...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
healthbot=$(realpath "$1")
shift
venv=$("$here/setup-venv.sh")
export HEALTHBOT="$healthbot"
export HB_SOURCE_ROOT="$(cd "$here/../.." && pwd)"
cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@" "$here"
