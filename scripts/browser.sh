#!/usr/bin/env bash
# Headless Chromium for the report's rendering test (tests/FdrHarness.Reporting.Tests). Debian's package; idempotent, quiet.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
# Another apt-get may be running: wait for it instead of failing.
apt=$(dirname "$0")/apt-get-wait.sh
"$apt" update -qq >/dev/null
"$apt" install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
[ -x /usr/bin/chromium ] || { echo "scripts/browser.sh: chromium did not install" >&2; exit 1; }
