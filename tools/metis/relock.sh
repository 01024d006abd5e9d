#!/usr/bin/env bash
# Pins Metis's dependencies for the test environment: requirements.txt, with hashes, resolved
# from the pyproject.toml inside the Metis sdist for Python 3.12 on x86_64 Linux (as CI runs).
# Run it after replacing the sdist; tools/metis/install.sh installs from the result.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
uv="$here/../../.tools/bin/uv"
sdist="$here/metis-1.5.0.tar.gz"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -xzf "$sdist" -C "$work" --strip-components=1 metis-1.5.0/pyproject.toml
cd "$work"
"$uv" pip compile pyproject.toml --quiet \
  --python-version 3.12 --python-platform x86_64-unknown-linux-gnu --generate-hashes \
  --custom-compile-command "tools/metis/relock.sh" -o "$here/requirements.txt"
