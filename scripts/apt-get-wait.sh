#!/usr/bin/env bash
# apt-get ARGS, waiting (up to 15 min) for another apt-get or dpkg to finish instead of failing at once.
# DPkg::Lock::Timeout makes apt wait for the dpkg lock (install); 'update' takes the package lists' lock, which apt
# does not wait for, so a run refused only because that lock is held is retried.
set -uo pipefail
err=$(mktemp)
trap 'rm -f "$err"' EXIT
for attempt in $(seq 1 180); do
  apt-get -o DPkg::Lock::Timeout=900 "$@" 2>"$err" && exit 0
  status=$?
  grep -q "Could not get lock" "$err" || { cat "$err" >&2; exit "$status"; }
  [ "$attempt" -eq 1 ] && echo "apt-get-wait.sh: another apt-get holds a lock ($(grep -m1 -o 'held by process [0-9]* ([^)]*)' "$err" || echo busy)); waiting" >&2
  sleep 5
done
cat "$err" >&2
exit "$status"
