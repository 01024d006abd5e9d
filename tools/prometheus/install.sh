#!/usr/bin/env bash
# Unpacks Debian's Prometheus, promtool and node_exporter for the tests, without installing
# them: `apt-get download` fetches the packages (no root needed once apt's lists exist) and
# `dpkg-deb -x` unpacks them into this folder. Nothing is installed system-wide, no
# `prometheus` user is created and no service starts (the package's postinst would enable
# prometheus.service and, where invoke-rc.d allows it, start it on 0.0.0.0:9090).
#
# Idempotent and cached: unpacked once per clone into tools/prometheus/.root (ignored by
# git), again only when this script changes. Prints the folder holding the binaries.
#
# Environment: PROMETHEUS_ROOT (default: tools/prometheus/.root).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="${PROMETHEUS_ROOT:-$here/.root}"
packages=(prometheus prometheus-node-exporter)
bin="$root/usr/bin"

stamp="$(sha256sum "$0" | cut -d' ' -f1)"
if [ -x "$bin/prometheus" ] && [ -x "$bin/promtool" ] && [ -x "$bin/prometheus-node-exporter" ] \
  && [ "$(cat "$root/.metis-llm-stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$bin"
  exit 0
fi

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

started=$SECONDS
debs="$(mktemp -d)"
trap 'rm -rf "$debs"' EXIT
if ! (cd "$debs" && apt-get download -q "${packages[@]}" >&2 2>/dev/null); then
  # No package lists yet (a fresh machine): fetch them once, then download again.
  as_root apt-get update -q >&2
  (cd "$debs" && apt-get download -q "${packages[@]}" >&2)
fi
rm -rf "$root"
mkdir -p "$root"
for deb in "$debs"/*.deb; do
  dpkg-deb -x "$deb" "$root"
done
echo "$stamp" >"$root/.metis-llm-stamp"
echo "unpacked $(cd "$debs" && ls) into $root in $((SECONDS - started)) s" >&2
echo "$bin"
