#!/usr/bin/env bash
# Runs tests/bench/matrix-e2e.py in the Matrix tests' venv (Synapse):
#   tests/bench/matrix-e2e.sh BUILD/bot/healthbot [--messages N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
healthbot=$(realpath "$1")
shift
venv=$("$here/../matrix/setup-venv.sh")
exec "$venv/bin/python" "$here/matrix-e2e.py" --healthbot "$healthbot" "$@"
