#!/usr/bin/env bash
# Installs the real Metis 1.5.0 for the end-to-end tests, into its own Python 3.12 venv.
#
# Metis is not on PyPI (the PyPI name `metis` is another project) and needs Python >= 3.12,
# while this project runs on 3.11: so it gets a venv of its own, built with the project's
# pinned uv from the released sdist in this folder (arm/metis at ad7c127e, Apache-2.0,
# license inside) and the pinned, hashed dependencies in requirements.txt.
#
# Idempotent and cached: the venv records what it was built from and is rebuilt only when
# the sdist, requirements.txt or this script change. Prints the path of the `metis` command.
#
# Environment: METIS_VENV (default: tools/metis/.venv, ignored by git), METIS_PYTHON (a
# Python >= 3.12; default: the first found among python3.12..python3.14 on PATH and pyenv's).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
uv="$root/.tools/bin/uv"
sdist="$here/metis-1.5.0.tar.gz"
sdist_sha256="9b09b9f23c66035d938c210f1dcc1b635248178a7d566c7a4e98a7dcaaf92fd8"
venv="${METIS_VENV:-$here/.venv}"

if [ ! -x "$uv" ]; then
  echo "missing $uv: create it first (python3 -m venv .tools && .tools/bin/pip install uv==0.13.9)" >&2
  exit 1
fi

stamp="$(cat "$sdist" "$here/requirements.txt" "$0" | sha256sum | cut -d' ' -f1)"
if [ -x "$venv/bin/metis" ] && [ "$(cat "$venv/.metis-llm-stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$venv/bin/metis"
  exit 0
fi

echo "$sdist_sha256  $sdist" | sha256sum --check --quiet -

is_312_or_newer() {
  "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1
}

find_python() {
  local candidate
  if [ -n "${METIS_PYTHON:-}" ]; then
    echo "$METIS_PYTHON"
    return
  fi
  for candidate in python3.12 python3.13 python3.14; do
    if command -v "$candidate" >/dev/null && is_312_or_newer "$candidate"; then
      command -v "$candidate"
      return
    fi
  done
  if command -v pyenv >/dev/null; then
    for candidate in "$(pyenv root)"/versions/3.1[2-9]*/bin/python3; do
      if [ -x "$candidate" ] && is_312_or_newer "$candidate"; then
        echo "$candidate"
        return
      fi
    done
  fi
  echo "no Python >= 3.12 found for Metis: install one, or set METIS_PYTHON" >&2
  exit 1
}

python="$(find_python)"
started=$SECONDS
rm -rf "$venv"
"$uv" venv --quiet --python "$python" --no-python-downloads "$venv"
"$uv" pip install --quiet --python "$venv/bin/python" --require-hashes -r "$here/requirements.txt"
"$uv" pip install --quiet --python "$venv/bin/python" --no-deps "$sdist"
echo "$stamp" >"$venv/.metis-llm-stamp"
echo "installed Metis 1.5.0 into $venv in $((SECONDS - started)) s" >&2
echo "$venv/bin/metis"
