#!/usr/bin/env bash
# Creates (once) the virtualenv the Matrix tests run in: Synapse from PyPI,
# pytest, requests and matrix-nio[e2e] (the patient's encrypting client).
# Prints the venv's path on stdout.
#
#   tests/matrix/setup-venv.sh [DIR]
#
# DIR defaults to $HB_MATRIX_VENV, else ~/.cache/healthbot/matrix-venv, so
# every build directory (gcc, ASan) shares one install. The venv is rebuilt
# when requirements.txt or the interpreter changes.
#
# The interpreter is Debian's /usr/bin/python3 (scripts/deps.sh installs
# it) rather than whatever python3 comes first on PATH: Debian builds it
# with profile-guided optimisation, and Synapse under it spends about a
# quarter less CPU per event than under a plain source build such as
# pyenv's (BENCHMARKS.md, "Matrix end to end"), which shortens every
# Matrix test. $HB_MATRIX_PYTHON overrides it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${1:-${HB_MATRIX_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/healthbot/matrix-venv}}
req="$here/requirements.txt"
python=${HB_MATRIX_PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=python3
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1) $python"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
	echo "$venv"
	exit 0
fi
mkdir -p "$(dirname "$venv")"
# one installer at a time: the gcc and ASan test runs may start together
exec 9>"$venv.lock"
flock 9
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
	echo "$venv"
	exit 0
fi
rm -rf "$venv"
echo "setting up the Matrix test venv in $venv (Synapse from PyPI)" >&2
"$python" -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >&2 || true
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
echo "$want" >"$stamp"
echo "$venv"
