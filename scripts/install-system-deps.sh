#!/usr/bin/env bash
# Installs what the test suite needs beyond Python: PostgreSQL server binaries (the tests start their own
# throwaway server), Node.js with npm (the Node SDK contract tests; tests/support/node.py runs `npm ci`),
# Debian's chromium (the web console tests in tests/browser) and podman with debootstrap (the container
# image test in tests/contract/test_container.py).
# Does nothing when everything is present; needs root (or sudo) otherwise.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# Headless Chromium for the console browser tests (driven by playwright; never `playwright install`).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The container image test: podman builds and runs the image on a base made here with debootstrap.
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
command -v newuidmap >/dev/null 2>&1 || missing+=(uidmap)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1; then
  sudo="sudo"
else
  echo "install-system-deps: missing ${missing[*]} and no root access; those test suites will be skipped" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi

echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
