#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs and starts what the tests need, runs every test project,
# and ends with one line "N passed, N failed" (CI reads that line, not dotnet's own summary).
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Services for tests with real parts (broker, storage, Prometheus) are set up here once such tests exist;
# scripts/containers.sh does it (podman serving the Docker API, images built from Debian packages).
if [ -x scripts/containers.sh ]; then
  scripts/containers.sh || { echo "container set-up failed"; echo "0 passed, 1 failed"; exit 1; }
  # shellcheck disable=SC1091
  [ -f /run/fdr-containers.env ] && . /run/fdr-containers.env
fi

# Headless Chromium renders report.html in the reporting tests.
scripts/browser.sh || { echo "browser set-up failed"; echo "0 passed, 1 failed"; exit 1; }

dotnet build FdrHarness.sln -c Release 2>&1 | tail -n 3
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

dotnet test FdrHarness.sln -c Release --no-build 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Sum the per-assembly summaries: "Passed!  - Failed:     0, Passed:    94, Skipped:     0, Total:    94".
read -r passed failed skipped < <(awk '
  /(Passed|Failed)!  - Failed:/ {
    gsub(",", ""); for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1)
    }
  }
  END { print p+0, f+0, s+0 }' "$log")

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi   # a crashed test host counts as a failure
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$status" -eq 0 ]
